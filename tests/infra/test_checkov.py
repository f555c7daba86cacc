"""checkov (the infrastructure scanner, from its own venv) on every stage's packaged template.

Each check we do not follow is recorded in infra/.checkov.yaml with its reason. checkov runs once on
all stages without those skips; the test then holds the failures against the record both ways: a
failure not recorded fails the suite, and so does a recorded skip that no longer fails anywhere.
"""
from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict

import pytest
import yaml

from infra.stage import DEPLOYABLE_STAGES, ROOT

CONFIG = ROOT / "infra" / ".checkov.yaml"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def recorded_skips() -> dict[str, str]:
    """check id -> the reason written beside it in infra/.checkov.yaml."""
    lines = CONFIG.read_text().splitlines()
    start = lines.index("skip-check:")
    out = {}
    for line in lines[start + 1:]:
        if not line.startswith("  - "):
            break
        m = re.fullmatch(r"  - (CKV2?_[A-Z]+_\d+)\s*(?:#\s*(.*))?", line)
        assert m, f"not a check id with a reason: {line!r}"
        out[m.group(1)] = (m.group(2) or "").strip()
    assert set(out) == set(yaml.safe_load(CONFIG.read_text())["skip-check"])  # the YAML reads what we read
    return out


@pytest.fixture(scope="session")
def checkov_failures(packaged_stages, tmp_path_factory) -> dict[str, dict[str, list[str]]]:
    """stage -> check id -> the resources failing it, with no check skipped."""
    if not CHECKOV.exists():
        pytest.fail("checkov runs from its own venv, .venv-checkov: `make setup` makes it")
    config = yaml.safe_load(CONFIG.read_text())
    del config["skip-check"]
    config["quiet"] = False
    unskipped = tmp_path_factory.mktemp("checkov") / "checkov.yaml"
    unskipped.write_text(yaml.safe_dump(config))
    files = {str(p.path.resolve()): stage for stage, p in packaged_stages.items()}
    # One process for all stages: loading checkov costs as much as scanning a template.
    run = subprocess.run([str(CHECKOV), "--config-file", str(unskipped), "--output", "json",
                          *[arg for f in files for arg in ("--file", f)]],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode in (0, 1), run.stderr[-3000:]  # 1: some check failed
    report = json.loads(run.stdout)
    assert report["check_type"] == "cloudformation"
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] > 50 and report["summary"]["passed"] > 100  # it really scanned
    failures: dict[str, dict[str, list[str]]] = {stage: defaultdict(list) for stage in DEPLOYABLE_STAGES}
    for check in report["results"]["failed_checks"]:
        failures[files[check["file_abs_path"]]][check["check_id"]].append(check["resource"])
    return failures


def test_every_check_we_do_not_follow_is_recorded_with_its_reason():
    for check, reason in recorded_skips().items():
        assert len(reason.split()) >= 8, f"{check}: say why it is not followed"


@pytest.mark.parametrize("stage", DEPLOYABLE_STAGES)
def test_checkov_finds_nothing_in_the_packaged_template_but_the_recorded_exceptions(checkov_failures, stage):
    unrecorded = {check: resources for check, resources in checkov_failures[stage].items()
                  if check not in recorded_skips()}
    assert unrecorded == {}, "fix these, or record them with a reason in infra/.checkov.yaml"


def test_no_recorded_exception_outlives_the_failure_it_excuses(checkov_failures):
    failing = {check for by_check in checkov_failures.values() for check in by_check}
    assert set(recorded_skips()) - failing == set(), "remove these skips from infra/.checkov.yaml"
