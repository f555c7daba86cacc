"""The backup and restore drill: a settled, approved and partly failed program is backed up to S3 and
to a folder, restored into an empty table, reconciles to the minor unit and regenerates identical
exports; a damaged backup or a table that is not empty is refused before anything is written."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.auth import Principal
from chalicelib.domain.errors import Conflict, Unprocessable
from chalicelib.services import backup as svc
from chalicelib.services import bounces
from chalicelib.services.settlement.approval import approve
from chalicelib.services.settlement.batches import show
from chalicelib.services.settlement.close import close_period
from chalicelib.services.settlement.deps import Deps
from chalicelib.services.settlement.exports import verify_exports
from chalicelib.store.dynamo import Table
from chalicelib.store.files import FolderFiles, S3Files
from chalicelib.store.repositories import Repositories
from chalicelib.store.schema import create_table
from chalicelib.store.uow import UnitOfWork
from tests.integration.test_settlement_runs import PERIOD, busy_august, snapshot
from tests.support.settlement import AFTER_AUG_LOCK, Clock, Settling

UTC = timezone.utc
RESTORED = "upline-restored"


@pytest.fixture
def settled(api, moto_client, tmp_path, monkeypatch):
    """August settled, approved by a second person, one payout bounced, September under way."""
    clock = Clock(datetime(2026, 8, 10, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", clock)
    monkeypatch.setenv("UPLINE_EXPORT_DIR", str(tmp_path / "exports"))
    bootstrap.use_files(None)
    p = Settling(api, clock)
    busy_august(p)
    d = bootstrap.settlement(fan_out=False)
    close_period(d, PERIOD, AFTER_AUG_LOCK, "system:schedule")
    finance = Principal(subject="finance-2", role="finance")
    approve(d, PERIOD, finance, AFTER_AUG_LOCK)
    paid = [ln for ln in show(d, PERIOD)["lines"] if ln["payout_minor"] > 0]
    bounces.report(d, PERIOD, paid[0]["partner_id"], "USD", "account closed", finance, AFTER_AUG_LOCK)
    bounces.confirm(d, PERIOD, paid[0]["partner_id"], "USD", Principal(subject="finance-3", role="finance"),
                    AFTER_AUG_LOCK)
    p.sell("s1", 250_000)
    return d


def restored_deps(client, files) -> Deps:
    table = Table(client, RESTORED)
    return Deps(uow=UnitOfWork(Repositories(table)), files=files, cal=bootstrap.settings().calendar)


def test_a_backup_in_s3_restores_into_an_empty_table_that_reconciles_and_regenerates_the_exports(
        settled, moto_client, tmp_path):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="upline-backups")
    store = S3Files(s3, "upline-backups")
    source = Table(moto_client, os.environ["UPLINE_TABLE"])
    manifest = svc.backup(source, store, "drill/one", AFTER_AUG_LOCK)
    assert manifest["items"] == len(snapshot(moto_client)) and manifest["kinds"]["ENTRY"] > 0
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="upline-backups")["Contents"])
    assert keys == ["drill/one/items-00000.jsonl", "drill/one/manifest.json"]

    create_table(moto_client, RESTORED)
    report = svc.restore(Table(moto_client, RESTORED), store, "drill/one")
    assert report["items"] == manifest["items"]
    # Every item, byte for byte in DynamoDB's typed form, and the figures to the minor unit.
    original = sorted(snapshot(moto_client), key=lambda i: (i["PK"]["S"], i["SK"]["S"]))
    os.environ["UPLINE_TABLE"], before = RESTORED, os.environ["UPLINE_TABLE"]
    try:
        copy = sorted(snapshot(moto_client), key=lambda i: (i["PK"]["S"], i["SK"]["S"]))
    finally:
        os.environ["UPLINE_TABLE"] = before
    assert copy == original
    assert svc.reconcile(Table(moto_client, RESTORED)) == svc.reconcile(source) == manifest["figures"]
    ledger = manifest["figures"]["ledger"]
    assert sum(v[0] for k, v in ledger.items() if k.endswith("/USD")) > 0
    # The restored table rebuilds the batch's exports with the checksums recorded at settlement.
    assert verify_exports(restored_deps(moto_client, settled.files), PERIOD) == \
        {"summary": True, "detail": True, "json": True}


def test_a_damaged_backup_is_refused_and_nothing_is_written(settled, moto_client, tmp_path):
    folder = FolderFiles(tmp_path / "backups")
    svc.backup(Table(moto_client, os.environ["UPLINE_TABLE"]), folder, "b1", AFTER_AUG_LOCK)
    data = tmp_path / "backups" / "b1" / "items-00000.jsonl"
    original = data.read_bytes()
    data.write_bytes(original.replace(b'"amount_minor":{"N":"', b'"amount_minor":{"N":"1', 1))
    assert data.read_bytes() != original
    create_table(moto_client, RESTORED)
    with pytest.raises(Unprocessable) as refused:
        svc.restore(Table(moto_client, RESTORED), folder, "b1")
    assert refused.value.code == "backup_corrupt"
    assert moto_client.scan(TableName=RESTORED)["Count"] == 0


def test_a_restore_into_a_table_that_is_not_empty_is_refused(settled, moto_client, tmp_path):
    folder = FolderFiles(tmp_path / "backups")
    svc.backup(Table(moto_client, os.environ["UPLINE_TABLE"]), folder, "b1", AFTER_AUG_LOCK)
    with pytest.raises(Conflict) as refused:
        svc.restore(Table(moto_client, os.environ["UPLINE_TABLE"]), folder, "b1")
    assert refused.value.code == "table_not_empty"


def test_the_operator_commands_back_up_to_a_folder_and_restore_into_a_new_table(settled, moto_client, tmp_path, cli):
    made = cli("--aws", "--stage", "test", "backup", "--to", str(tmp_path / "backups"), "--name", "nightly",
               "--as", "carol")
    assert made.code == 0, made.err
    assert json.loads(made.out)["items"] > 0 and (tmp_path / "backups" / "nightly" / "manifest.json").exists()
    restored = cli("--aws", "--stage", "test", "restore", "--from", str(tmp_path / "backups" / "nightly"),
                   "--table", RESTORED, "--as", "carol")
    assert restored.code == 0, restored.err
    assert json.loads(restored.out) == {"table": RESTORED, "items": json.loads(made.out)["items"], "files": 1,
                                        "reconciled": True}
    again = cli("--aws", "--stage", "test", "restore", "--from", str(tmp_path / "backups" / "nightly"),
                "--table", RESTORED, "--as", "carol")
    assert again.code == 2 and again.err.count("\n") == 1 and "table_not_empty" in again.err
