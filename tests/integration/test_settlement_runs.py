"""Exactly-once settlement under at-least-once triggers: double runs, concurrent runs, a crash after
every single write, and the SQS fan-out path, all ending in the same batch and the same bytes."""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.services import partners as partner_svc
from chalicelib.services.settlement.batches import show
from chalicelib.services.settlement.bonuses import apply_ranks
from chalicelib.services.settlement.close import close_period, run_daily
from chalicelib.services.settlement.deps import Deps, plan_for
from chalicelib.services.settlement.exports import verify_exports
from chalicelib.services.settlement.shards import settle_shard
from chalicelib.store.dynamo import Table
from chalicelib.store.files import FolderFiles
from chalicelib.store.repositories import Repositories
from chalicelib.store.schema import create_table
from chalicelib.store.settlement import SettlementStore
from chalicelib.store.uow import UnitOfWork
from tests.support.settlement import AFTER_AUG_LOCK, Clock, Settling

UTC = timezone.utc
PERIOD = "2026-08"
EXPORT_FILES = ("summary.csv", "detail.csv", "export.json")


class Crash(Exception):
    """The process died right after a write reached the database."""


class CrashAfter:
    """A DynamoDB client that dies after its n-th successful write."""
    WRITES = {"put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"}

    def __init__(self, client, n: int | None):
        self._client, self.n, self.writes = client, n, 0

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name not in self.WRITES:
            return attr

        def call(*args, **kwargs):
            result = attr(*args, **kwargs)
            self.writes += 1
            if self.writes == self.n:
                raise Crash(f"after write {self.n}")
            return result
        return call


def uow_on(client) -> UnitOfWork:
    return UnitOfWork(Repositories(Table(client, os.environ["UPLINE_TABLE"])))


def deps_on(client, folder, **kw) -> Deps:
    s = bootstrap.settings()
    kw.setdefault("shard_threads", s.settlement_threads)
    return Deps(uow=uow_on(client), files=FolderFiles(folder), cal=s.calendar, tree=s.tree_rules,
                    payout_provider=s.payout_provider, **kw)


def snapshot(client) -> list[dict]:
    items, kwargs = [], {"TableName": os.environ["UPLINE_TABLE"], "ConsistentRead": True}
    while True:
        resp = client.scan(**kwargs)
        items += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def restore(client, items: list[dict]) -> None:
    name = os.environ["UPLINE_TABLE"]
    client.delete_table(TableName=name)
    create_table(client, name)
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]})


def money_items(client) -> list[dict]:
    """What settlement decided: entries (and the sale postings beside them in the partners' ledger
    partitions), lines, carried balances, shards and the batch's figures."""
    keep = []
    for raw in snapshot(client):
        sk = raw["SK"]["S"]
        if raw["PK"]["S"].startswith("LEDGER#") or sk.startswith(("LINE#", "CARRY#", "SHARD#")) or sk == "BATCH":
            item = {k: v for k, v in raw.items() if k not in ("finished_at",)}
            keep.append(item)
    return sorted(keep, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def exports(folder) -> dict[str, bytes]:
    return {name: (folder / "exports" / PERIOD / name).read_bytes() for name in EXPORT_FILES}


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, tzinfo=UTC))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


def busy_august(p: Settling) -> None:
    """A few partners and orders, a refund, a target, and a balance too small to pay."""
    p.worked_program()
    p.enrol("EEE", "AAA")
    p.sell("o1", 6_200_000)
    p.sell("o2", 1_000_000, code="CCC", customer="c2")
    p.sell("o3", 30_000, code="EEE", customer="c3")
    p.give_back("o1", "r1", 200_000)
    p.set_target("DDD", PERIOD, 4_000_000)
    p.clock.t = AFTER_AUG_LOCK


@pytest.fixture
def august(api, clock, moto_client):
    busy_august(Settling(api, clock))
    return snapshot(moto_client)


def test_running_settlement_twice_changes_nothing_the_second_time(august, moto_client, tmp_path):
    d = deps_on(moto_client, tmp_path)
    first = close_period(d, PERIOD, AFTER_AUG_LOCK, "system")
    after_first, files_first = money_items(moto_client), exports(tmp_path)
    second = close_period(d, PERIOD, AFTER_AUG_LOCK, "someone-else")
    assert second == first and first["status"] == "draft"
    assert money_items(moto_client) == after_first and exports(tmp_path) == files_first
    assert run_daily(d, AFTER_AUG_LOCK) == []  # nothing left to settle
    assert verify_exports(d, PERIOD) == {"summary": True, "detail": True, "json": True}


def test_a_crash_after_any_write_then_a_rerun_ends_in_the_same_batch(august, moto_client, tmp_path):
    clean = CrashAfter(moto_client, None)
    close_period(deps_on(clean, tmp_path / "ref"), PERIOD, AFTER_AUG_LOCK, "system")
    reference, reference_files = money_items(moto_client), exports(tmp_path / "ref")
    assert clean.writes >= 15  # batch, period, bonuses, ranks, 8 shards, lines, finalize: every step is crashed after
    for n in range(1, clean.writes + 1):
        restore(moto_client, august)
        folder = tmp_path / f"crash{n}"
        with pytest.raises(Crash):
            close_period(deps_on(CrashAfter(moto_client, n), folder), PERIOD, AFTER_AUG_LOCK, "system")
        close_period(deps_on(moto_client, folder), PERIOD, AFTER_AUG_LOCK, "system")
        assert money_items(moto_client) == reference, f"crash after write {n}"
        assert exports(folder) == reference_files, f"crash after write {n}"


def test_the_sqs_fan_out_path_produces_byte_identical_exports(august, api, moto_client, tmp_path, monkeypatch):
    close_period(deps_on(moto_client, tmp_path / "inline"), PERIOD, AFTER_AUG_LOCK, "system:schedule")
    inline, inline_files = money_items(moto_client), exports(tmp_path / "inline")

    restore(moto_client, august)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="upline-settlement")["QueueUrl"]
    monkeypatch.setenv("UPLINE_SETTLEMENT_QUEUE_URL", url)
    monkeypatch.setenv("UPLINE_EXPORT_DIR", str(tmp_path / "fanout"))
    bootstrap.settings.cache_clear()
    bootstrap.use_files(None)
    api.lambda_.invoke("settle_daily", api.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert json.loads(api.http.get("/health").body)["ok"]
    delivered = 0
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            break
        for m in msgs:  # each delivered twice, as SQS may
            for _ in range(2):
                api.lambda_.invoke("settlement_worker", api.events.generate_sqs_event(
                    message_bodies=[m["Body"]], queue_name="upline-settlement"))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            delivered += 1
    assert delivered == 8
    assert money_items(moto_client) == inline
    assert exports(tmp_path / "fanout") == inline_files


@pytest.mark.integration
def test_concurrent_runs_on_dynamodb_local_settle_once(api_local, clock, local_client, tmp_path):
    busy_august(Settling(api_local, clock))
    runs = [deps_on(local_client, tmp_path / f"run{i}", shard_threads=4) for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda d: _settle_or_busy(d), runs))
    assert any(r == "draft" for r in results), results
    d = deps_on(local_client, tmp_path / "final")
    batch = close_period(d, PERIOD, AFTER_AUG_LOCK, "system")
    assert batch["status"] == "draft" and batch["reconciliation"]["ok"]
    lines = show(d, PERIOD)["lines"]
    assert len({(ln["partner_id"], ln["currency"]) for ln in lines}) == len(lines)
    bonuses = sorted(i["entry_id"]["S"] for i in money_items(local_client) if _is_bonus(i))
    assert bonuses == ["bonus#2026-08#overachievement#P-DDD", "bonus#2026-08#threshold#P-CCC",
                       "bonus#2026-08#threshold#P-DDD"]
    written = [p for p in tmp_path.iterdir() if (p / "exports" / PERIOD / "summary.csv").exists()]
    assert len({(p / "exports" / PERIOD / "summary.csv").read_bytes() for p in written}) == 1


def _is_bonus(raw: dict) -> bool:
    return raw["PK"]["S"].startswith("LEDGER#") and raw.get("kind", {}).get("S") == "bonus"


def _settle_or_busy(d: Deps) -> str:
    from chalicelib.domain.errors import ConcurrentUpdate, Conflict

    try:
        return close_period(d, PERIOD, AFTER_AUG_LOCK, "system")["status"]
    except (ConcurrentUpdate, Conflict) as e:
        return f"busy: {e}"


def test_lines_and_bonuses_written_in_batches_fall_back_one_by_one_when_some_are_already_there(moto_client):
    from chalicelib.domain.ledger import BONUS, Entry
    from chalicelib.domain.settlement import Line
    from chalicelib.store.settlement import NewLine

    store = SettlementStore(Table(moto_client, os.environ["UPLINE_TABLE"]))
    new = [NewLine(Line(PERIOD, f"P-{i}", "USD", 100, 0, 0, 0, 1, 0, 0, 100), 0, f"P{i}", "bank_transfer", None)
           for i in range(30)]
    assert store.write_lines([new[3]]) == [True]
    assert store.write_lines(new) == [i != 3 for i in range(30)]
    assert store.write_lines(new) == [False] * 30
    assert len(list(store.lines(PERIOD))) == 30
    at = datetime(2026, 8, 31, tzinfo=UTC)
    bonuses = [Entry(f"bonus#{PERIOD}#threshold#P-{i}", BONUS, f"P-{i % 7}", "b", 0, 10, "USD", 1, 0, at, at,
                     period=PERIOD, settles_in=PERIOD) for i in range(45)]
    assert store.table.write(store.ledger.new(bonuses[41])) is True
    store.write_bonuses(bonuses)
    store.write_bonuses(bonuses)
    written = [i for i in snapshot(moto_client) if _is_bonus(i)]
    assert len(written) == 45
    assert sum(int(i["amount_minor"]["N"]) for i in written) == 45 * 10


def test_a_shard_waits_until_the_index_shows_every_bonus_then_refuses(august, moto_client, tmp_path, monkeypatch):
    from chalicelib.domain.errors import Conflict

    d = deps_on(moto_client, tmp_path, fanout=lambda period, shard: None)
    close_period(d, PERIOD, AFTER_AUG_LOCK, "system")  # bonuses written, shards handed out
    counts = d.uow.settlement.period(PERIOD)["bonus_counts"]
    shard = next(int(s) for s, n in counts.items() if n)
    seen = []
    monkeypatch.setattr(d, "sleep", seen.append)  # the shard waits through Deps.sleep
    # An index lagging behind:
    monkeypatch.setattr(d.uow.settlement, "bonus_entries_visible", lambda period, shard: 0)
    with pytest.raises(Conflict) as lagging:
        settle_shard(d, PERIOD, shard)
    assert lagging.value.code == "index_lagging" and len(seen) == 6
    assert not d.uow.settlement.shard_done(PERIOD, shard) and not list(d.uow.settlement.lines(PERIOD))
    monkeypatch.undo()
    settle_shard(d, PERIOD, shard)  # once the index catches up, the shard settles
    assert d.uow.settlement.shard_done(PERIOD, shard)


def test_a_rank_set_at_close_changes_only_the_rank_and_only_from_what_it_was(august, moto_client):
    """Ranks and statuses are scheduled on the partner's own item (domain/standing.py): a rank set
    at close while an admin schedules a status keeps that status, and a change written from a
    schedule someone else has moved since is refused (the writer reads again)."""
    from chalicelib.domain.errors import ConcurrentUpdate
    from chalicelib.domain.standing import schedule_change

    uow, rules, now = uow_on(moto_client), bootstrap.settings().tree_rules, AFTER_AUG_LOCK
    stale = uow.partners.get("P-DDD")
    partner_svc.set_status(uow, "P-DDD", "terminated", None, now, rules)  # an admin acts while settlement runs
    ddd = partner_svc.set_rank(uow, "P-DDD", "gold", now, rules)
    in_effect = ddd.standing(now + rules.fence)
    assert (in_effect.status, in_effect.rank) == ("terminated", "gold")
    assert ddd.standing(now).rank == stale.standing(now).rank  # not before the fence
    uow.add(uow.partners.schedule(stale, schedule_change(stale.schedule, now, rules.fence, rank="silver")))
    with pytest.raises(ConcurrentUpdate):  # written from what it was, which someone else moved
        uow.commit()
    assert uow_on(moto_client).partners.get("P-DDD").schedule == ddd.schedule


def test_a_rank_earned_at_close_is_scheduled_once_however_often_the_step_runs(api, clock, moto_client, tmp_path):
    """A rerun of the ranks step (after a crash, or a racing run) finds the rank already scheduled."""
    from datetime import timedelta

    from tests.support.settlement import BONUS_PLAN

    p = Settling(api, clock)
    p.worked_program({**BONUS_PLAN, "bonus": {**BONUS_PLAN["bonus"],
                                              "ranks": [{"rank": "gold", "min_personal_minor": 5_000_000}]}})
    p.sell("o1", 6_200_000)
    clock.t = AFTER_AUG_LOCK
    before = uow_on(moto_client).partners.get("P-DDD").schedule
    d = deps_on(moto_client, tmp_path)
    assert close_period(d, PERIOD, AFTER_AUG_LOCK, "system")["status"] == "draft"
    for later in (AFTER_AUG_LOCK, AFTER_AUG_LOCK + timedelta(hours=1)):
        apply_ranks(d, PERIOD, plan_for(d.uow, d.cal, PERIOD), later)
    after = uow_on(moto_client).partners.get("P-DDD").schedule
    assert after[:len(before)] == before and len(after) == len(before) + 1
    fence = bootstrap.settings().tree_rules.fence
    assert after[-1].rank == "gold" and after[-1].since >= AFTER_AUG_LOCK + fence
