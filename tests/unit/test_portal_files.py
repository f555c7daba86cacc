"""The portal's static files: both languages in every catalogue, and docs/portal.md's screenshots."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "chalicelib" / "web" / "js" / "i18n"
ROLES = ("partner", "member", "finance", "admin")
READ = """import {readdirSync} from 'fs';
const dir = process.argv[1], out = {};
for (const f of readdirSync(dir)) out[f] = (await import(dir + '/' + f)).default;
console.log(JSON.stringify(out));"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_every_key_of_every_catalogue_has_both_languages_and_no_key_is_defined_twice():
    run = subprocess.run(["node", "--input-type=module", "-e", READ, str(I18N)], capture_output=True, text=True,
                         check=True)
    cats = json.loads(run.stdout)
    assert set(cats) >= {f"{r}.js" for r in ROLES} | {"common.js"}
    for name, cat in cats.items():
        assert set(cat) == {"en", "zh"}, name
        # err_<code>: a localized server message; English shows the server's own message, so en may lack one
        labels = {lang: {k for k in cat[lang] if not k.startswith("err_")} for lang in cat}
        assert labels["en"] == labels["zh"], (name, sorted(labels["en"] ^ labels["zh"]))
        assert set(cat["en"]) <= set(cat["zh"]), name
        assert all(v.strip() for v in cat["zh"].values()), name
    # a key in two catalogues must mean the same there (core.addCatalogue keeps the last one loaded)
    for lang in ("en", "zh"):
        seen: dict[str, tuple[str, str]] = {}
        for name, cat in sorted(cats.items()):
            for key, value in cat[lang].items():
                if key in seen:
                    assert seen[key][1] == value, (lang, key, seen[key][0], name)
                seen[key] = (name, value)


def test_the_portal_doc_links_a_screenshot_of_each_role_in_each_language_and_each_exists():
    doc = (ROOT / "docs" / "portal.md").read_text()
    links = re.findall(r"\]\((img/portal/[^)]+)\)", doc)
    for role in ROLES:
        for lang in ("en", "zh"):
            assert f"img/portal/{role}-{lang}.png" in links, (role, lang)
    for link in links:
        assert (ROOT / "docs" / link).is_file(), link
