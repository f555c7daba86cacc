"""The project's own wiring: one table schema everywhere, one dependency list, one seam to the table."""
import ast
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


# ---- the unit of work's seam (issue 13) -------------------------------------------------------------
# Services and handlers go through the unit of work and its repositories: they never import the
# modules that know keys, the table's schema, DynamoDB or the shape of a write, never touch the table,
# and never read a raw item or build an op dict.
STORE_INTERNALS = {"keys", "schema", "dynamo", "ops"}
# The table itself, and the older stores whose methods take and hand out raw items and op dicts
# (`bootstrap.repository()`, settlement's `Deps.repo` and `Deps.store`, the handlers' `store()` getters).
RAW_ATTRIBUTES = {"table", "batch_get", "get_item", "put_item", "update_item", "transact", "transact_write_items",
                  "repository", "repo", "store"}
OLD_STORES = {"Repository", "SettlementStore", "SecurityStore", "MemberStore", "Table", "Op"}
RAW_NAMES = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "Put", "Update", "Delete", "ConditionCheck",
             "ConditionExpression", "UpdateExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"}
# The modules allowed past the seam; this list only shrinks (a module that follows the rule must
# leave it, see the test below).
NOT_YET_ON_THE_UNIT_OF_WORK = {
    # A backup is the table's raw items written out and read back, by design: it alone handles them.
    "chalicelib/services/backup.py",
}


def _seam_breaches(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")
            named = {a.name for a in node.names}
            if module[-1:] and module[-1] in STORE_INTERNALS and "store" in module:
                out.append(f"line {node.lineno}: imports store.{module[-1]}")
            elif module[-1:] == ["store"] and named & STORE_INTERNALS:
                out.append(f"line {node.lineno}: imports store.{', store.'.join(sorted(named & STORE_INTERNALS))}")
            elif "store" in module and named & OLD_STORES:
                out.append(f"line {node.lineno}: imports {', '.join(sorted(named & OLD_STORES))}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if "store" in parts and parts[-1] in STORE_INTERNALS:
                    out.append(f"line {node.lineno}: imports {a.name}")
        elif isinstance(node, ast.Attribute) and node.attr in RAW_ATTRIBUTES:
            out.append(f"line {node.lineno}: touches .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in RAW_ATTRIBUTES:
            out.append(f"line {node.lineno}: calls {node.func.id}()")
        elif isinstance(node, ast.Constant) and node.value in RAW_NAMES:
            out.append(f"line {node.lineno}: names {node.value!r} (a raw item or an op dict)")
    return out


def _seam_modules() -> list[Path]:
    return sorted([*(ROOT / "chalicelib/services").rglob("*.py"), *(ROOT / "chalicelib/api").glob("*.py")])


def test_services_and_handlers_reach_the_table_only_through_the_unit_of_work():
    breaches = {str(p.relative_to(ROOT)): b for p in _seam_modules()
                if str(p.relative_to(ROOT)) not in NOT_YET_ON_THE_UNIT_OF_WORK and (b := _seam_breaches(p))}
    assert breaches == {}


def test_a_module_on_the_unit_of_work_leaves_the_list_of_those_not_yet_on_it():
    following = {str(p.relative_to(ROOT)) for p in _seam_modules() if not _seam_breaches(p)}
    assert following & NOT_YET_ON_THE_UNIT_OF_WORK == set()
    assert NOT_YET_ON_THE_UNIT_OF_WORK <= {str(p.relative_to(ROOT)) for p in _seam_modules()}
