"""cfn-lint on the packaged template of each stage: what CI can check without an AWS account."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("cfn-lint")
    return subprocess.run([str(exe), "--format", "parseable", "--", str(path)], capture_output=True, text=True)


def errors(result: subprocess.CompletedProcess) -> list[str]:
    """cfn-lint's exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational."""
    assert result.returncode & 1 == 0, result.stderr  # 1 = cfn-lint itself failed
    return [ln for ln in result.stdout.splitlines() if ":E" in ln] if result.returncode & 2 else []


def test_cfn_lint_finds_no_errors_in_the_packaged_template(packaged):
    result = cfn_lint(packaged.path)
    assert errors(result) == [], result.stdout


def test_cfn_lint_reports_a_template_that_refers_to_a_missing_resource(packaged_stages, tmp_path):
    broken = json.loads(packaged_stages["dev"].path.read_text())
    del broken["Resources"]["SettlementDeadLetterQueue"]   # the redrive policy and an alarm still point at it
    path = tmp_path / "sam.json"
    path.write_text(json.dumps(broken))
    assert any("SettlementDeadLetterQueue" in ln for ln in errors(cfn_lint(path)))
