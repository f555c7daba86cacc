"""One bad date must not stop order intake: times are validated at every edge by one type, and a
stored record that cannot be read is skipped, logged, counted and listed instead of taking down
every path that reads it."""
from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from chalicelib import bootstrap, observability
from chalicelib.store import keys
from chalicelib.store.readable import METRIC
from tests.support.helpers import auth, dumps
from tests.support.members import PROGRAM, Clock, Members

BAD_TIMES = ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
             "1999-12-31T23:59:59Z", "3000-01-01T00:00:00Z", "2999-12-31T23:00:00-05:00", "2026-01-01T00:00:00"]


@pytest.fixture
def m(api, monkeypatch):
    members = Members(api, Clock(monkeypatch))
    members.publish_plan()
    members.enrol("AAA")
    return members


@pytest.fixture
def counted(monkeypatch):
    """The StoredRecordUnreadable metrics emitted during the test."""
    seen: list[str] = []
    original = observability.metrics.add_metric

    def add_metric(name, unit, value, *a, **kw):
        if name == METRIC:
            seen.append(name)
        return original(name=name, unit=unit, value=value, *a, **kw)

    monkeypatch.setattr(observability.metrics, "add_metric", add_metric)
    return seen


def still_working(m: Members, n: int) -> None:
    """Order intake, member sign-up, reward reads and the admin lists all answer."""
    r = m.order(f"o-{n}", 5_000, referral_code="AAA", at=m.clock.at)
    assert r.status_code == 201, r.body
    assert json.loads(r.body)["commissions"], r.body
    m.register(f"friend{n}", "host")
    assert m.buy(f"friend{n}", f"fo-{n}", 5_000, referral_code="AAA").status_code == 201
    m.rewards("host")
    m.tier("host")
    assert m.c.get("/admin/reward-programs", headers=auth("admin")).status_code == 200
    assert m.c.get("/admin/plans", headers=auth("admin")).status_code == 200


@pytest.mark.parametrize("when", BAD_TIMES)
def test_a_reward_program_dated_outside_2000_to_2999_is_refused_and_order_intake_continues(m, when):
    m.register("host")
    r = m.c.post("/admin/reward-programs", headers=auth("admin"), body=dumps({**PROGRAM, "effective_from": when}))
    assert r.status_code == 400, r.body
    assert json.loads(r.body)["error"]["code"] == "invalid_request"
    still_working(m, 1)
    assert m.publish_rewards(effective_from="2026-01-01T00:00:00+14:00")["version"] == 1


@pytest.mark.parametrize("when", BAD_TIMES)
def test_orders_and_refunds_dated_outside_2000_to_2999_are_refused(m, when):
    body = json.loads(m.order_body("o-x", 5_000, referral_code="AAA"))
    r = m.post("/webhooks/orders", dumps({**body, "ordered_at": when}))
    assert r.status_code == 400, r.body


def _takes_a_time(schema) -> bool:
    if isinstance(schema, dict):
        return schema.get("format") == "date-time" or any(_takes_a_time(v) for k, v in schema.items() if k != "$defs")
    if isinstance(schema, list):
        return any(_takes_a_time(v) for v in schema)
    return False


def _models() -> list[type[BaseModel]]:
    import app  # noqa: F401  (every blueprint, job and schema module)
    import chalicelib.api.member_schemas  # noqa: F401
    import chalicelib.config  # noqa: F401

    out, todo = [], list(BaseModel.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("chalicelib."):
            out.append(cls)
    return out


def _errors_at(model: type[BaseModel], name: str, value: str) -> list[str]:
    try:
        model.model_validate({name: value})
    except ValidationError as e:
        return [err["msg"] for err in e.errors() if err["loc"][:1] == (name,)]
    return []


def test_every_model_that_takes_a_time_uses_the_one_validated_time_type():
    """Found by what each model does, not by a list: every field of every pydantic model in
    chalicelib (request bodies, queue messages, settings) whose schema is a date-time refuses year
    0001 with the rule's message and takes a plausible time."""
    fields = []
    for model in _models():
        properties = model.model_json_schema().get("properties", {})
        for name, info in model.model_fields.items():
            if not _takes_a_time(properties.get(info.alias or name, {})):
                continue
            fields.append(f"{model.__name__}.{name}")
            assert any("between the years 2000 and 2999" in msg
                       for msg in _errors_at(model, name, "0001-01-01T00:00:00+14:00")), (model, name)
            assert _errors_at(model, name, "2026-08-01T00:00:00+08:00") == [], (model, name)
            assert _errors_at(model, name, "2026-08-01T00:00:00") != [], (model, name)  # an offset is required
    assert {"OrderIn.ordered_at", "RefundIn.refunded_at", "PlanIn.effective_from",
            "RewardProgramIn.effective_from"} <= set(fields)


def corrupt_reward_program(version: int = 2) -> None:
    """What the bug wrote: a version whose time nothing could read back, beside a good one."""
    table = bootstrap.repository().table
    doc = json.dumps({"version": version, "effective_from": "1-01-01T00:00:00.000000Z"})
    table.update(keys.reward_programs(), "SET versions = list_append(if_not_exists(versions, :e), :new)",
                 values={":e": [], ":new": [doc, "{not json"]})
    table.put(keys.reward_program_version(version), {"doc": doc, "created_by": "bug", "created_at": "x"})


def test_a_corrupt_reward_program_in_the_table_stops_no_order_sign_up_or_reward_read(m, counted):
    m.publish_rewards()
    m.register("host")
    corrupt_reward_program()
    still_working(m, 1)
    listed = json.loads(m.c.get("/admin/reward-programs", headers=auth("admin")).body)
    assert [p["version"] for p in listed["programs"]] == [1]
    assert [u["key"] for u in listed["unreadable"]] == ["PROGRAM/REWARDS[1]", "PROGRAM/REWARDS[2]"]
    assert counted  # the metric the operator alarms on
    # Repairable through the API: the corrected program is the next version after everything stored.
    fixed = m.publish_rewards(effective_from="2026-01-01T00:00:00Z", holding_days=7)
    assert fixed["version"] == 4
    still_working(m, 2)
    listed = json.loads(m.c.get("/admin/reward-programs", headers=auth("admin")).body)
    assert [p["version"] for p in listed["programs"]] == [1, 4]


def test_the_daily_member_job_runs_past_a_corrupt_reward_program(m):
    from chalicelib.services import member_settle
    from chalicelib.store.members import MemberStore

    m.register("host")
    corrupt_reward_program()
    assert isinstance(member_settle.daily(MemberStore(bootstrap.repository().table), m.clock.at), dict)


def test_a_corrupt_plan_version_is_skipped_and_a_corrected_plan_can_be_published(m, counted):
    table = bootstrap.repository().table
    table.update(keys.plans(), "SET versions = list_append(versions, :new)",
                 values={":new": [{"version": 2, "effective_from": "1-01-01T00:00:00.000000Z", "levels_bps": [1]}]})
    m.register("host")
    still_working(m, 1)
    listed = json.loads(m.c.get("/admin/plans", headers=auth("admin")).body)
    assert [p["version"] for p in listed["plans"]] == [1]
    assert [u["key"] for u in listed["unreadable"]] == ["PROGRAM/PLANS[1]"]
    assert counted
    r = m.c.post("/admin/plans", headers=auth("admin"),
                 body=dumps({"levels_bps": [900], "effective_from": "2026-01-01T00:00:00Z"}))
    assert r.status_code == 201 and json.loads(r.body)["version"] == 3, r.body
    order = json.loads(m.order("o-after", 10_000, referral_code="AAA", at=m.clock.at).body)
    assert order["plan_version"] == 3 and order["commissions"][0]["amount_minor"] == 900


def test_a_buyers_unreadable_member_record_does_not_stop_the_order_or_its_commission(m, counted):
    view = m.register("buyer")
    table = bootstrap.repository().table
    table.update(keys.member(view["member_id"]), "SET created_at = :bad", values={":bad": "1-01-01"})
    r = m.buy("buyer", "o-buyer", 5_000, referral_code="AAA")
    assert r.status_code == 201, r.body
    body = json.loads(r.body)
    assert body["commissions"] and body.get("member") is None
    assert counted
    assert m.refund_of("o-buyer", "r-1", 1_000).status_code == 201
