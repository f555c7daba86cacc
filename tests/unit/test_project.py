"""The project's own wiring: one table schema everywhere, one dependency list."""
import re
import tomllib
from pathlib import Path

from chalicelib.store import schema
from infra.template import template

ROOT = Path(__file__).resolve().parents[2]


def _names(specs):
    return {re.split(r"[<>=\[ ]", s.strip(), maxsplit=1)[0].lower() for s in specs if s.strip()}


def test_the_deployed_table_has_exactly_the_codes_keys_and_indexes():
    props = template()["Resources"]["UplineTable"]["Properties"]
    assert props["KeySchema"] == schema.KEY_SCHEMA
    assert props["AttributeDefinitions"] == schema.ATTRIBUTE_DEFINITIONS
    assert props["GlobalSecondaryIndexes"] == schema.GLOBAL_SECONDARY_INDEXES
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["TimeToLiveSpecification"]["AttributeName"] == schema.TTL_ATTRIBUTE


def test_lambda_requirements_match_the_projects_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _names(project["dependencies"]) - {"chalice"}  # chalice vendors its own runtime
    lines = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert _names(lines) == runtime


def test_no_module_under_domain_imports_boto3_or_reads_the_environment():
    for path in (ROOT / "chalicelib/domain").glob("*.py"):
        imports = [ln for ln in path.read_text().splitlines() if ln.startswith(("import ", "from "))]
        assert not [ln for ln in imports if re.search(r"\b(boto3|botocore|os)\b", ln)], path
