"""Outbound webhooks' pure rules and their address checks: event ids, the mapping from stream records,
the retry schedule, the SSRF rule, and the signature a receiver verifies."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain import outbound as rules
from chalicelib.domain.ledger import Entry
from chalicelib.security import verify_webhook
from chalicelib.services.outbound import signed_headers
from chalicelib.store.dynamo import encode
from chalicelib.store.ledger import entry_item
from chalicelib.store.outbound import BatchMoved, Delivery, stream_events
from chalicelib.webhook_io import RefusedDestination, checked_url

UTC = timezone.utc
T = datetime(2026, 8, 10, 12, tzinfo=UTC)


def record(pk: str, sk: str, item: dict, event: str = "INSERT") -> dict:
    return {"event_name": event, "keys": encode({"PK": pk, "SK": sk}), "new_image": encode({"PK": pk, "SK": sk, **item}),
            "sequence_number": "1"}


def entry(kind: str = "commission", entry_id: str = "o1#L1", **kw) -> Entry:
    return Entry(entry_id, kind, "P-D", "o1", 1, kw.pop("amount_minor", 1000), "USD", 1, 1000, T, T,
                 period="2026-08", settles_in="2026-08", **kw)


def test_an_event_id_depends_only_on_the_type_and_what_it_reports():
    assert rules.event_id("commission.created", "o1#L1") == rules.event_id("commission.created", "o1#L1")
    assert rules.event_id("commission.created", "o1#L1") != rules.event_id("commission.reversed", "o1#L1")
    assert rules.delivery_id("evt_a", "whe_1") != rules.delivery_id("evt_a", "whe_2")


def test_a_ledger_entry_seen_twice_on_the_stream_is_one_event():
    item = entry_item(entry())
    events = stream_events([record("LEDGER#P-D#01", "k", item), record("LEDGER#P-D#01", "k", item)])
    assert [e.type for e in events] == ["commission.created"]
    assert events[0].data["amount_minor"] == 1000 and events[0].data["held"] is False


def test_a_reversal_is_commission_reversed_and_a_bonus_is_no_event():
    rev = entry("reversal", "o1#R#r1#L1", amount_minor=-200, reverses="o1#L1", refund_id="r1")
    bonus = entry("bonus", "bonus#2026-08#threshold#P-D")
    found = stream_events([record("LEDGER#P-D#01", "a", entry_item(rev)), record("LEDGER#P-D#01", "b", entry_item(bonus))])
    assert [(e.type, e.data["reverses"]) for e in found] == [("commission.reversed", "o1#L1")]


def test_holds_enrolments_tier_changes_and_payout_failures_are_events_and_other_writes_are_not():
    found = stream_events([
        record("ORDER#o9", "HOLD", {"order_id": "o9", "partner_id": "P-D", "reasons": ["self_referral"],
                                    "held_at": "2026-08-10T12:00:00+00:00", "amount_minor": 5, "currency": "USD"}),
        record("PARTNER#P-A", "PROFILE", {"partner_id": "P-A", "code": "AAA", "created_at": "x",
                                          "schedule": [{"at": "x", "st": "active", "rk": "r", "sp": None}]}),
        record("MEMBER#m1", "PROFILE", {"tier": "gold", "tier_since": "t2", "created_at": "t1"}, "MODIFY"),
        record("MEMBER#m2", "PROFILE", {"tier": "normal", "tier_since": "t1", "created_at": "t1"}),  # sign-up
        record("BATCH#2026-08", "LINE#P-D#USD", {"period": "2026-08", "partner_id": "P-D", "currency": "USD",
                                                 "payout_minor": 700, "payout_status": "failed",
                                                 "failure_reason": "closed account", "failed_at": "t3"}, "MODIFY"),
        record("BATCH#2026-08", "BATCH", {"period": "2026-08", "status": "approved", "approved_at": "t4"}, "MODIFY"),
        record("BATCH#2026-08", "BATCH", {"period": "2026-08", "status": "draft"}, "MODIFY"),
        record("ORDER#o9", "ORDER", {"order_id": "o9"}),
        {"event_name": "REMOVE", "keys": encode({"PK": "ORDER#o9", "SK": "HOLD"}), "new_image": None,
         "sequence_number": "2"},
    ])
    kinds = [f.type if not isinstance(f, BatchMoved) else f"batch:{f.status}" for f in found]
    assert kinds == ["order.held", "partner.enrolled", "member.tier_changed", "payout.failed", "batch:approved"]


def test_a_batch_approved_or_paid_is_one_event_per_payout_and_a_failed_payout_is_never_paid():
    lines = [rules.PayoutLine("2026-08", "P-D", "USD", "pay-d", 700),
             rules.PayoutLine("2026-08", "P-C", "USD", "pay-c", 300, failed=True),
             rules.PayoutLine("2026-08", "P-B", "USD", "pay-b", 0)]
    assert [e.data["payout_id"] for e in rules.payout_events("approved", "t", lines)] == ["pay-d", "pay-c"]
    assert [e.data["payout_id"] for e in rules.payout_events("paid", "t", lines)] == ["pay-d"]
    assert rules.payout_events("draft", "t", lines) == []


def test_the_backoff_doubles_from_thirty_seconds_and_is_capped_at_four_hours():
    assert [rules.retry_delay(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert rules.retry_delay(30) == timedelta(hours=4)


def test_a_failing_delivery_is_tried_for_at_least_the_window_and_then_given_up():
    window, now, n, tries = timedelta(hours=24), T, 0, [T]
    while True:
        n += 1
        nxt = rules.next_attempt(n, T, now, window)
        if nxt is None:
            break
        now = nxt
        tries.append(now)
    assert tries[-1] - T >= window and n < 30
    assert rules.queue_delay(T, T + timedelta(hours=3)) == 900 and rules.queue_delay(T, T - timedelta(1)) == 0


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1",
                                     "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::", "not-an-ip"])
def test_private_loopback_link_local_and_reserved_addresses_are_refused(address):
    assert rules.refused_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert not rules.refused_address(address)


def resolver(*addresses: str):
    def resolve(host, port, type=0):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]
    return resolve


def test_a_host_is_refused_when_any_address_it_resolves_to_is_private():
    assert checked_url("https://Hooks.Example.com/a", False, resolver("93.184.216.34")) == "https://hooks.example.com/a"
    with pytest.raises(RefusedDestination):
        checked_url("https://hooks.example.com/a", False, resolver("93.184.216.34", "10.0.0.1"))


def test_a_host_that_does_not_resolve_is_refused():
    def fails(*a, **kw):
        raise socket.gaierror("no such host")
    with pytest.raises(RefusedDestination) as e:
        checked_url("https://nowhere.example/", False, fails)
    assert e.value.code == "unresolvable_host"


def test_credentials_and_plain_http_are_refused_outside_the_local_stage():
    for url in ("http://hooks.example.com/", "https://u:p@hooks.example.com/", "ftp://hooks.example.com/"):
        with pytest.raises(RefusedDestination):
            checked_url(url, False, resolver("93.184.216.34"))
    assert checked_url("http://127.0.0.1:8080/x", True) == "http://127.0.0.1:8080/x"


def test_a_delivery_is_signed_as_the_inbound_webhook_is_verified():
    event = rules.Event("evt_1", "commission.created", "t", {"amount_minor": 5})
    d = Delivery("dlv_1", "whe_1", "evt_1", event.type, event.body().decode(), "pending", 0, T, T, T)
    headers = signed_headers("whsec_s", d, T)
    verify_webhook(["whsec_s"], headers["X-Upline-Timestamp"], headers["X-Upline-Signature"], event.body(),
                   int(T.timestamp()))
    assert headers["X-Upline-Event-Id"] == "evt_1"
