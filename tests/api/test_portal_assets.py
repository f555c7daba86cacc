"""The portal's files: every file under chalicelib/web is served at /app/assets/<its path> with its
content type and the page CSP, and no other name reaches the disk."""
from __future__ import annotations

from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "chalicelib" / "web"
NODE = Path(__file__).resolve().parents[2] / "node_modules"
KINDS = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}


def served_files() -> list[Path]:
    return sorted(p for p in WEB.rglob("*") if p.is_file() and p.name != "index.html")


def test_every_file_of_the_portal_is_served_at_its_path_with_its_type_and_the_csp(api):
    files = served_files()
    assert any(p.relative_to(WEB).parts[:2] == ("js", "pages") for p in files)  # nested folders are walked
    for p in files:
        rel = p.relative_to(WEB).as_posix()
        r = api.http.get(f"/app/assets/{rel}")
        assert r.status_code == 200, rel
        assert r.headers["Content-Type"].startswith(KINDS[p.suffix]), rel
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.body == p.read_bytes(), rel


@pytest.mark.parametrize("name", [
    "../portal.py", "..%2Fportal.py", "js/../../api/portal.py", "js/%2E%2E/app.css", "index.html",
    "js/pages/nothing.js", "%2Fetc%2Fpasswd", "js/pages/../../app.css", "..", "js/..",
])
def test_a_name_outside_the_walked_files_is_not_found(api, name):
    r = api.http.get(f"/app/assets/{name}")
    assert r.status_code == 404, (name, r.body)


def test_the_page_loads_the_entry_module_and_no_inline_script(api):
    html = api.http.get("/app").body.decode()
    assert '<script type="module" src="/app/assets/js/main.js"></script>' in html
    assert "<script>" not in html


@pytest.mark.skipif(not (NODE / "uplot").exists(), reason="node_modules not installed")
@pytest.mark.parametrize("name", ["uPlot.iife.min.js", "uPlot.min.css"])
def test_the_committed_charting_library_is_the_installed_npm_version(name):
    assert (WEB / "vendor" / name).read_bytes() == (NODE / "uplot" / "dist" / name).read_bytes(), (
        f"chalicelib/web/vendor/{name} differs from node_modules: copy it again after an uplot upgrade")
    assert (WEB / "vendor" / "uPlot.LICENSE.txt").read_bytes() == (NODE / "uplot" / "LICENSE").read_bytes()
