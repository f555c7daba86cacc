"""The deploy stages (dev, prod) carry values only CloudFormation can fill in (${AWS::AccountId})
and UPLINE_SECRETS_PATH, which sends the settings to SSM for their secrets. Chalice's test client
applies a stage's environment and defaults to "dev", so every test client must name the empty
"test" stage."""
from __future__ import annotations

import json
import re
from pathlib import Path

from infra.stage import ROOT


def test_the_test_stage_adds_no_environment():
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    assert stages["test"].get("environment_variables", {}) == {}


def test_every_chalice_test_client_runs_as_the_test_stage():
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        if path.resolve() == Path(__file__).resolve():
            continue
        for call in re.findall(r"\bClient\((.*)", path.read_text()):
            if 'stage_name="test"' not in call:
                offenders.append(f"{path.relative_to(ROOT)}: Client({call}")
    assert offenders == [], "use Client(app, stage_name=\"test\")"
