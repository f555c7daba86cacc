"""The rewards ledger under random histories: the balance is the sum of the ledger, a redemption
never takes more than is available, expired lots are never used, and settling twice adds nothing."""
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import rewards as rw
from chalicelib.domain.errors import Unprocessable

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)

steps = st.lists(st.one_of(
    st.tuples(st.just("invite"), st.integers(1, 900), st.booleans()),  # amount, refunded later?
    st.tuples(st.just("redeem"), st.integers(1, 1500), st.just(False)),
    st.tuples(st.just("wait"), st.integers(1, 40), st.just(False)),  # days
), max_size=25)


def _settle(member, rewards, entries, now):
    new, _ = rw.due_entries(member, rewards, entries, 10_000, now)
    return [*entries, *new]


@settings(max_examples=300, deadline=None)
@given(steps, st.integers(1, 90), st.integers(0, 30))
def test_random_histories_never_overdraw_and_the_balance_is_the_ledger(history, expiry_days, holding_days):
    now, rewards, entries, redeemed = T0, [], [], {}
    for i, (what, n, flag) in enumerate(history):
        if what == "invite":
            rewards.append(rw.AdvocateReward(f"adv#{i}", "M", f"F{i}", f"o{i}", rw.POINTS, n, now,
                                             now + timedelta(days=holding_days), 1, 99, 99, expiry_days,
                                             refunded_at=now + timedelta(days=holding_days + 1) if flag else None))
        elif what == "wait":
            now += timedelta(days=n)
        else:
            entries = _settle("M", [r for r in rewards if r.refunded_at is None or r.refunded_at <= now]
                              + [r.__class__(**{**r.__dict__, "refunded_at": None})
                                 for r in rewards if r.refunded_at and r.refunded_at > now], entries, now)
            can = rw.available(entries, rw.POINTS, now)
            rid = f"r{i}"
            try:
                e = rw.redeem_entry("M", rid, rw.POINTS, n, now, entries)
            except Unprocessable:
                assert n > can
                continue
            assert n <= can
            ls = rw.lots(entries, rw.POINTS)
            assert all(ls.expires_at[lot] > now and take <= ls.remaining[lot] for lot, take in e.allocations)
            assert sum(t for _, t in e.allocations) == n
            entries = [*entries, e]
            assert rw.available(entries, rw.POINTS, now) == can - n
            redeemed[rid] = e
        settled = _settle("M", [], entries, now)
        assert _settle("M", [], settled, now) == settled  # settling again adds nothing
        assert rw.balance(settled, rw.POINTS) == sum(x.amount for x in settled if x.unit == rw.POINTS)
        assert rw.available(settled, rw.POINTS, now) >= 0
        assert rw.balance(settled, rw.POINTS) >= -sum(r.base_amount for r in rewards)


def test_fifo_by_expiry_takes_the_lot_that_expires_first():
    a = rw.earn_entry("M", "a", rw.POINTS, 100, T0, expiry_days=90)
    b = rw.earn_entry("M", "b", rw.POINTS, 100, T0 + timedelta(days=1), expiry_days=10)
    e = rw.redeem_entry("M", "r", rw.POINTS, 150, T0 + timedelta(days=2), [a, b])
    assert e.allocations == (("earn#b", 100), ("earn#a", 50))


def test_an_expired_lot_cannot_be_redeemed_and_its_rest_is_written_off():
    a = rw.earn_entry("M", "a", rw.POINTS, 100, T0, expiry_days=30)
    later = T0 + timedelta(days=30)
    assert rw.available([a], rw.POINTS, later) == 0
    new, _ = rw.due_entries("M", [], [a], 10_000, later)
    assert [(x.kind, x.amount, x.lot) for x in new] == [("expire", -100, "earn#a")]


def test_a_clawback_after_the_points_expired_unused_takes_nothing_back():
    r = rw.AdvocateReward("adv#F", "M", "F", "o", rw.POINTS, 100, T0, T0 + timedelta(days=10), 1, 9, 9, 5,
                          refunded_at=T0 + timedelta(days=20))
    entries, _ = rw.due_entries("M", [r], [], 10_000, T0 + timedelta(days=16))  # earned, then expired
    more, _ = rw.due_entries("M", [r], entries, 10_000, T0 + timedelta(days=21))
    assert rw.balance([*entries, *more], rw.POINTS) == 0 and all(x.kind != "clawback" for x in more)


def test_the_tier_multiplier_scales_the_advocate_reward_when_it_is_earned():
    r = rw.AdvocateReward("adv#F", "M", "F", "o", rw.POINTS, 333, T0, T0, 1, 9, 9, 5)
    new, _ = rw.due_entries("M", [r], [], 15_000, T0)
    assert new[0].amount == 499  # 333 x 1.5, rounded down
