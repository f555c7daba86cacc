"""E-mail aliases (`mia+1@`, `m.i.a@gmail.com`) are the same person everywhere an e-mail is hashed:
a member inviting itself, a partner buying through its own downline, a partner's enrolled identity."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.domain import fraud
from chalicelib.store.files import FolderFiles
from tests.support.members import Clock as MemberClock, Members
from tests.support.settlement import Clock, Settling

PLAN = {"levels_bps": [1000, 500, 200], "cap_bps": 2000, "holding_days": 10, "min_payout_minor": 100,
        "effective_from": "2026-08-01T00:00:00Z"}
ALIASES = ["mia+1@gmail.com", "m.i.a@gmail.com", "M.I.A+shop@googlemail.com", " Mia@GMAIL.com "]


@pytest.fixture
def m(api, monkeypatch):
    members = Members(api, MemberClock(monkeypatch))
    members.publish_plan()
    members.publish_rewards()
    return members


@pytest.mark.parametrize("alias", ALIASES)
def test_a_self_invite_under_an_alias_of_the_inviters_email_is_refused(m, alias):
    m.register("mia", email="mia@gmail.com")
    sock = m.register("sock", invite_from="mia", email=alias)
    refused = sock["signup"]["friend_reward"]
    assert refused["status"] == "refused" and refused["code"] == "self_invite_email", sock
    assert sock["invited_by"] is None


def test_a_friend_with_a_different_mailbox_at_the_same_provider_is_still_invited(m):
    m.register("mia", email="mia@gmail.com")
    friend = m.register("max", invite_from="mia", email="max+1@gmail.com")
    assert friend["signup"]["friend_reward"]["status"] == "granted"


@pytest.fixture
def ring(api, monkeypatch, tmp_path):
    clock = Clock(datetime(2026, 8, 10, 12, tzinfo=timezone.utc))
    monkeypatch.setattr(bootstrap, "now", clock)
    bootstrap.use_files(FolderFiles(tmp_path / "exports"))
    s = Settling(api, clock)
    s.publish_plan(PLAN)
    s.enrol("AAA", email="M.I.A+partner@googlemail.com")  # the partner enrols under one alias
    s.enrol("BBB", "AAA")
    s.enrol("DDD", "BBB")
    return s


@pytest.mark.parametrize("alias", ALIASES)
def test_an_order_by_a_partner_up_the_chain_under_an_alias_of_its_email_is_held(ring, alias):
    r = ring.order("o-ring", 200_000, customer="someone-else", referral_code="DDD", at=ring.clock.t, email=alias)
    assert r.status_code == 201, r.body
    body = json.loads(r.body)
    assert body["status"] == "held" and body["hold"] == [fraud.RING]


def test_an_order_by_someone_else_at_the_same_provider_is_not_held(ring):
    r = ring.order("o-other", 200_000, customer="someone-else", referral_code="DDD", at=ring.clock.t,
                   email="max@gmail.com")
    assert json.loads(r.body)["status"] == "attributed", r.body
