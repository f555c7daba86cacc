"""A seeded simulation of the whole pipeline against the reference model.

From a seed: a random history of enrolments, moves, status changes, link clicks, orders, partial and
full refunds, duplicate and late re-deliveries of the same request, plan changes, clock advances
across period locks, scheduled settlement runs (twice, and again after a crash half-way), approvals
by a second finance user, payouts marked paid or failed. Requests go through the services and, for
a share of them, through the HTTP layer (chalice.test.Client). Every database call may fail (see
faults.py); a request that fails is delivered again, as the shop, the scheduler and SQS would, and
the last delivery runs without faults. After every step the stored table is compared with the
reference model and the invariants are checked. Nothing reads the wall clock or unseeded randomness,
so a seed replays identically.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from boto3.dynamodb.types import TypeDeserializer

from chalicelib import bootstrap
from chalicelib.api.http import fingerprint
from chalicelib.api.schemas import EnrolPartner, OrderIn, RefundIn
from chalicelib.auth import Principal
from chalicelib.domain.attribution import AttributionRules
from chalicelib.domain.errors import ConcurrentUpdate, DomainError, NotFound
from chalicelib.domain.orders import OrderCommand, RefundCommand
from chalicelib.security import keyed_hash
from chalicelib.services import bounces
from chalicelib.services import links as links_svc
from chalicelib.services import orders as orders_svc
from chalicelib.services import partners as partners_svc
from chalicelib.services import plans as plans_svc
from chalicelib.services.projection import project
from chalicelib.services.settlement import approval
from chalicelib.services.settlement.close import close_period, run_daily
from chalicelib.services.settlement.deps import Deps
from chalicelib.services.settlement.exports import verify_exports
from chalicelib.store import dynamo
from chalicelib.store.dynamo import Retry, Table
from chalicelib.store.ledger import is_entry
from chalicelib.store.repositories import Repositories
from chalicelib.store.stats import TOTAL
from chalicelib.store.uow import UnitOfWork
from tests.simulation import reference as refm
from tests.simulation.faults import Crash, FaultyClient
from tests.simulation.invariants import FINISHED, check, check_projection
from tests.support.helpers import auth, dumps, signed_headers

UTC = timezone.utc
START = datetime(2026, 1, 27, tzinfo=UTC)  # a few days before January locks (5 February)
FIRST_PLAN = datetime(2026, 1, 1, tzinfo=UTC)
DELIVERIES = 6  # the last one runs without faults
FINANCE = Principal(subject="finance-2", role="finance")
CHECKER = Principal(subject="finance-3", role="finance")  # confirms what finance-2 reports
LEVELS = [[1000, 500, 200], [800, 400], [1500, 1000, 500, 250], [300], [2500, 2500, 2500]]
_de = TypeDeserializer()


class MemoryFiles:
    """Export files kept in memory (the FileStore protocol)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, source, content_type: str) -> None:
        source.seek(0)
        self.files[key] = source.read()

    def get(self, key: str) -> bytes:
        if key not in self.files:
            raise NotFound(f"no export {key}")
        return self.files[key]

    def url(self, key: str, seconds: int) -> None:
        return None


class SeededSecrets:
    """Stands in for the `secrets` module in the links service: link codes and click ids from the seed."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def token_hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(2 * n))

    def token_urlsafe(self, n: int) -> str:
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


@dataclass
class Outcome:
    status: int  # 200/201 done (replayed/created), or the refusal's 4xx
    code: str | None = None
    body: Any = None


class Mismatch(AssertionError):
    pass


class Simulation:
    def __init__(self, seed: int, client: Any, table_name: str, http: Any = None, steps: int = 40,
                 fault_rate: float = 0.05, http_share: float = 0.35, start: datetime = START):
        self.seed, self.steps, self.http, self.http_share = seed, steps, http, http_share
        self.rng = random.Random(seed)
        self.raw = client
        self.faults = FaultyClient(client, random.Random(seed * 7919 + 1), fault_rate)
        self.fault_rate = fault_rate
        self.sleeps: list[float] = []
        self.table = Table(self.faults, table_name,
                           Retry(sleep=self.sleeps.append, rng=random.Random(seed * 31 + 7)))
        # One set of repositories (and their caches) for the process, as bootstrap builds it; both
        # the services called here and the HTTP handlers go through it.
        self.repos = Repositories(self.table)
        self.files = MemoryFiles()
        self.ref = refm.Reference()
        self.now = start
        self.step = 0
        self.log: list[str] = []
        self.seen: dict = {}
        self.partners: list[str] = []  # codes
        self.link_of: dict[str, str] = {}
        self.click_ids: list[str] = []
        self.sent: list[tuple[str, tuple]] = []  # past order/refund requests, for late re-deliveries
        self.deliveries = 0
        self.redeliveries = 0
        self.touched_settlement = False  # exports are regenerated after any step that touches a batch
        s = bootstrap.settings()
        self.settings = s
        self.rules = AttributionRules(s.attribution_window, s.lifetime_binding)
        self.tree = s.tree_rules
        self.secrets = SeededSecrets(random.Random(seed * 13 + 5))
        # The table's stream as the projector sees it: the inserts into ledger partitions, in order.
        self.stream: list[dict[str, Any]] = []
        self.streamed: set[tuple[str, str]] = set()
        self.projected = 0  # how much of the stream the projector has taken in
        self.stream_rng = random.Random(seed * 17 + 3)  # batches of its own: the history stays the same

    # ---- wiring -----------------------------------------------------------------------------
    def uow(self) -> UnitOfWork:
        """A fresh unit of work for one delivery, as bootstrap.uow() hands one to each request."""
        return UnitOfWork(self.repos)

    def deps(self) -> Deps:
        return Deps(uow=self.uow(), files=self.files, cal=self.settings.calendar, tree=self.tree)

    def run(self) -> "Simulation":
        links_secrets, links_svc.secrets = links_svc.secrets, self.secrets
        now_before = bootstrap.now
        bootstrap.use_repositories(self.repos)
        bootstrap.now = lambda: self.now
        try:
            self._setup()
            for self.step in range(1, self.steps + 1):
                self._one_step()
                self.compare()
            self.final_checks()
        except Exception as e:
            raise AssertionError(f"seed {self.seed} failed at step {self.step}: {type(e).__name__}: {e}\n"
                                 "  history (last 25):\n    " + "\n    ".join(self.log[-25:])) from e
        finally:
            links_svc.secrets = links_secrets
            bootstrap.now = now_before
            bootstrap.use_table(None)
        return self

    # ---- delivery: at-least-once, through the service or HTTP --------------------------------
    def deliver(self, what: str, call: Callable[[bool], Outcome], retry_codes: tuple[str, ...] = ("busy",),
                via_http: bool | None = None) -> Outcome:
        """Deliver a request until it gets an answer that is not a failure of ours; the last
        delivery runs without faults. `call(via_http)` returns an Outcome or raises."""
        if via_http is None:
            via_http = self.http is not None and self.rng.random() < self.http_share
        for attempt in range(DELIVERIES):
            self.deliveries += 1
            self.redeliveries += attempt > 0
            self.faults.rate = self.fault_rate if attempt < DELIVERIES - 1 else 0.0
            try:
                out = call(via_http)
            except DomainError as e:
                out = Outcome(e.status, e.code)
            except (Crash, dynamo.ClientError, *dynamo.TRANSIENT) as e:
                self.log.append(f"      delivery {attempt + 1} of {what} failed: {type(e).__name__}")
                continue
            finally:
                self.faults.rate = self.fault_rate
            if out.status >= 500 or out.code in retry_codes:
                self.log.append(f"      delivery {attempt + 1} of {what} answered {out.status} {out.code}")
                continue
            return out
        raise Mismatch(f"{what} never got through in {DELIVERIES} deliveries")

    def _http(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Outcome:
        r = getattr(self.http.http, method)(path, headers=headers, body=body)
        data = json.loads(r.body) if r.body else None
        code = data["error"]["code"] if r.status_code >= 400 and data and "error" in data else None
        return Outcome(r.status_code, code, data)

    # ---- the history ------------------------------------------------------------------------
    def _setup(self) -> None:
        self._publish(FIRST_PLAN)
        for _ in range(self.rng.randint(2, 5)):
            self.enrol()

    def _one_step(self) -> None:
        actions: list[tuple[int, Callable[[], None]]] = [
            (8 if len(self.partners) < 14 else 0, self.enrol), (30, self.order), (12, self.refund),
            (8, self.redeliver), (6, self.click), (4, self.move), (5, self.status), (2, self.plan_change),
            (14, self.tick), (8, self.jump), (8, self.settle), (4, self.approve), (3, self.mark_paid),
            (3, self.mark_failed),
        ]
        pick = self.rng.choices([a for _, a in actions], weights=[w for w, _ in actions])[0]
        pick()

    def note(self, text: str) -> None:
        self.log.append(f"step {self.step} @ {self.now:%Y-%m-%d %H:%M}: {text}")

    def _publish(self, effective_from: datetime) -> None:
        levels = self.rng.choice(LEVELS)
        cap = self.rng.choice([None, 1000, 1500, 2000]) if sum(levels) <= 10000 else self.rng.choice([1000, 2000])
        holding = self.rng.choice([0, 7, 30])
        min_payout = self.rng.choice([0, 1_000, 5_000])
        self.note(f"publish plan {levels} cap {cap} holding {holding} min {min_payout} from {effective_from:%Y-%m-%d}")
        out = self.deliver("plan", lambda _: self._publish_once(levels, cap, holding, min_payout, effective_from))
        self.ref.publish(effective_from, levels, cap, holding, min_payout)
        assert out.status == 201, out

    def _publish_once(self, levels, cap, holding, min_payout, effective_from) -> Outcome:
        plans_svc.publish(self.uow(), levels_bps=levels, cap_bps=cap, rank_overrides={}, holding_days=holding,
                          effective_from=effective_from, created_by="admin-user", max_depth=self.settings.max_depth,
                          now=self.now, min_payout_minor=min_payout)
        return Outcome(201)

    def enrol(self) -> None:
        code = f"PT{len(self.partners):03d}"
        sponsor = self.rng.choice(self.partners) if self.partners and self.rng.random() < 0.85 else None
        self.note(f"enrol {code} under {sponsor}")
        body = {"name": code.title(), "code": code, **({"sponsor_code": sponsor} if sponsor else {})}

        def once(via_http: bool) -> Outcome:
            if via_http:
                return self._http("post", "/partners", dumps(body), auth("admin"))
            _, created = partners_svc.enrol(self.uow(), name=code.title(), code=code, sponsor_code=sponsor,
                                            customer_hash=None, fingerprint=fingerprint(EnrolPartner(**body)),
                                            max_depth=self.settings.max_depth, now=self.now)
            return Outcome(201 if created else 200)
        out = self.deliver(f"enrol {code}", once)
        if out.status not in (200, 201):
            raise Mismatch(f"enrol {code} refused: {out}")
        self.ref.enrol(f"P-{code}", f"P-{sponsor}" if sponsor else None)
        self.partners.append(code)
        if self.rng.random() < 0.15:  # the admin's browser sends it again
            again = self.deliver(f"enrol {code} again", once)
            if again.status != 200:
                raise Mismatch(f"a repeated enrolment of {code} answered {again}")

    def click(self) -> None:
        if not self.partners:
            return
        code = self.rng.choice(self.partners)
        if code not in self.link_of:
            ref = self.deliver(f"link for {code}", lambda _: Outcome(201, body=links_svc.create_link(
                self.uow(), f"P-{code}", "https://shop.example.com/p", None, frozenset(self.settings.allowed_domains),
                self.now, self.settings.link_limits))).body
            self.link_of[code] = ref.code
        out = self.deliver(f"click {code}", lambda _: Outcome(302, body=links_svc.follow(
            self.uow(), self.link_of[code], "iphash", "uahash", "https://shop.example.com", self.now,
            self.settings.click_ttl)))
        click_id = out.body[1]
        self.ref.click(click_id, f"P-{code}", self.now)
        self.click_ids.append(click_id)
        self.note(f"click on {code}'s link: {click_id}")

    def move(self) -> None:
        if len(self.partners) < 2:
            return
        code, sponsor = self.rng.sample(self.partners, 2)
        if self.rng.random() < 0.15:
            sponsor = code
        self.note(f"move {code} under {sponsor}")
        try:
            self.ref.move(f"P-{code}", f"P-{sponsor}", self.now)
            expected = 200
        except refm.Refused as r:
            expected = r.status
        out = self.deliver(f"move {code}", lambda _: Outcome(200, body=partners_svc.move(
            self.uow(), f"P-{code}", sponsor, self.now, self.tree)))
        if out.status != expected:
            raise Mismatch(f"move {code} under {sponsor}: expected {expected}, got {out}")

    def status(self) -> None:
        if not self.partners:
            return
        code = self.rng.choice(self.partners)
        status = self.rng.choice(["active", "active", "inactive"])
        self.note(f"{code} becomes {status}")
        self.deliver(f"status {code}", lambda _: Outcome(200, body=partners_svc.set_status(
            self.uow(), f"P-{code}", status, None, self.now, self.tree)))
        self.ref.set_status(f"P-{code}", status, self.now)

    def plan_change(self) -> None:
        self._publish(self.now + timedelta(days=self.rng.randint(0, 6), hours=self.rng.randint(0, 23)))

    def tick(self) -> None:
        self.now += timedelta(hours=self.rng.randint(1, 72), minutes=self.rng.randint(0, 59))
        self.note("clock moves on")

    def jump(self) -> None:
        self.now += timedelta(days=self.rng.randint(5, 25))
        self.note("clock jumps")

    # ---- orders and refunds ----------------------------------------------------------------
    def order(self, args: tuple | None = None) -> None:
        if args is None:
            n = len(self.ref.orders) + len(self.sent)
            order_id = f"o{n}"
            if self.ref.orders and self.rng.random() < 0.05:
                order_id = self.rng.choice(sorted(self.ref.orders))  # an id reused with another body
            customer = f"c{self.rng.randrange(6)}"
            amount = self.rng.choice([self.rng.randint(1, 120), self.rng.randint(100, 100_000),
                                      self.rng.randint(100_000, 5_000_000)])
            currency = "EUR" if self.rng.random() < 0.2 else "USD"
            lag = self.rng.choice([timedelta(0), timedelta(minutes=self.rng.randint(1, 4000)),
                                   timedelta(days=self.rng.randint(0, 20), minutes=self.rng.randint(0, 600))])
            ordered_at = (self.now - lag).replace(microsecond=0)
            r = self.rng.random()
            code = click_id = None
            if r < 0.45 and self.partners:
                code = self.rng.choice(self.partners)
            elif r < 0.7 and self.click_ids:
                click_id = self.rng.choice(self.click_ids) if self.rng.random() < 0.9 else "c_unknown"
            args = (order_id, customer, amount, currency, ordered_at, click_id, code)
        order_id, customer, amount, currency, ordered_at, click_id, code = args
        self.sent.append(("order", args))
        self.note(f"order {order_id} {amount} {currency} at {ordered_at:%Y-%m-%d %H:%M} by {customer} "
                  f"code={code} click={click_id}")
        try:
            created, o = self.ref.order(order_id, customer, amount, currency, ordered_at, click_id,
                                        f"P-{code}" if code else None, self.now)
            expected = Outcome(201 if created else 200, body=sorted(
                (e.entry_id, e.partner, e.amount) for e in o.entries))
        except refm.Refused as r:
            expected = Outcome(r.status, r.code)
        body = {"order_id": order_id, "customer_id": customer, "amount_minor": amount, "currency": currency,
                "ordered_at": ordered_at.isoformat(), **({"click_id": click_id} if click_id else {}),
                **({"referral_code": code} if code else {})}

        def once(via_http: bool) -> Outcome:
            if via_http:
                raw = dumps(body)
                out = self._http("post", "/webhooks/orders", raw, signed_headers(raw, at=int(self.now.timestamp())))
            else:
                req = OrderIn(**body)
                cmd = OrderCommand(order_id=order_id, customer_hash=keyed_hash(self.settings.hash_pepper, customer),
                                   amount_minor=amount, currency=currency, ordered_at=req.ordered_at,
                                   fingerprint=fingerprint(req), click_id=click_id, referral_code=code)
                res = orders_svc.attribute_order(self.uow(), cmd, self.rules, self.now, self.settings.calendar,
                                                  self.settings.fraud_rules, tree=self.tree)
                out = Outcome(201 if res.created else 200, body=res.result)
            if out.status < 300:
                out.body = sorted((c["entry_id"], c["partner_id"], c["amount_minor"])
                                  for c in out.body["commissions"])
            return out
        self._expect(f"order {order_id}", expected, once)

    def refund(self, args: tuple | None = None) -> None:
        if args is None:
            if not self.ref.orders:
                return
            order_id = self.rng.choice(sorted(self.ref.orders)) if self.rng.random() < 0.95 else "o_unknown"
            o = self.ref.orders.get(order_id)
            remaining = o.amount - o.refunded if o else 100
            r = self.rng.random()
            amount = remaining if r < 0.35 else (remaining + self.rng.randint(1, 50) if r < 0.45 else
                                                 self.rng.randint(1, max(1, remaining)))
            refunded_at = (self.now - timedelta(minutes=self.rng.randint(0, 3000))).replace(microsecond=0)
            refund_id = f"r{len(self.sent)}"
            currency = o.currency if o else "USD"
            args = (order_id, refund_id, amount, currency, refunded_at)
        order_id, refund_id, amount, currency, refunded_at = args
        self.sent.append(("refund", args))
        self.note(f"refund {refund_id} of {order_id}: {amount} at {refunded_at:%Y-%m-%d %H:%M}")
        if amount <= 0:
            return
        try:
            created, reversals = self.ref.refund(order_id, refund_id, amount, refunded_at, self.now)
            expected = Outcome(201 if created else 200, body=sorted(
                (e.entry_id, e.partner, e.amount) for e in reversals))
        except refm.Refused as r:
            expected = Outcome(r.status, r.code)
        body = {"order_id": order_id, "refund_id": refund_id, "amount_minor": amount, "currency": currency,
                "refunded_at": refunded_at.isoformat()}

        def once(via_http: bool) -> Outcome:
            if via_http:
                raw = dumps(body)
                out = self._http("post", "/webhooks/refunds", raw, signed_headers(raw, at=int(self.now.timestamp())))
            else:
                req = RefundIn(**body)
                cmd = RefundCommand(order_id=order_id, refund_id=refund_id, amount_minor=amount, currency=currency,
                                    refunded_at=req.refunded_at, fingerprint=fingerprint(req))
                res = orders_svc.refund_order(self.uow(), cmd, self.now, self.settings.calendar)
                out = Outcome(201 if res.created else 200, body=res.result)
            if out.status < 300:
                out.body = sorted((r["entry_id"], r["partner_id"], r["amount_minor"]) for r in out.body["reversals"])
            return out
        self._expect(f"refund {refund_id}", expected, once)

    def _expect(self, what: str, expected: Outcome, once: Callable[[bool], Outcome]) -> None:
        injected = sum(self.faults.injected.values())
        deliveries = self.deliveries
        out = self.deliver(what, once)
        clean = self.deliveries == deliveries + 1 and sum(self.faults.injected.values()) == injected
        # A reply lost after the write: the retry finds it written and answers as a replay (200).
        same_status = out.status == expected.status or (not clean and {out.status, expected.status} == {200, 201})
        if not same_status or out.code != expected.code or (out.status < 300 and out.body != expected.body):
            raise Mismatch(f"{what}: expected {expected}, got {out}")
        if out.status < 300 and self.rng.random() < 0.15:  # the shop's retry crosses our answer
            again = self.deliver(what + " (duplicate)", once)
            if again.status != 200 or again.body != expected.body:
                raise Mismatch(f"{what} delivered twice answered {again}, expected a replay of {expected}")

    def redeliver(self) -> None:
        if not self.sent:
            return
        kind, args = self.rng.choice(self.sent)
        self.note(f"late re-delivery of {kind} {args[0]}/{args[1]}")
        (self.order if kind == "order" else self.refund)(args)

    # ---- settlement and finance --------------------------------------------------------------
    def settle(self) -> None:
        self.touched_settlement = True
        crash = self.rng.random() < 0.35
        if crash:
            self.faults.crash_after = self.faults.writes + self.rng.randint(1, 60)
        self.note(f"scheduled settlement run{' (crashes mid-way)' if crash else ''}")
        done = self.ref.run_daily(self.now)
        self.deliver("settlement run", lambda _: Outcome(200, body=run_daily(self.deps(), self.now)))
        self.faults.crash_after = None
        if self.ref.batches and self.rng.random() < 0.4:  # the schedule fires twice
            period = self.rng.choice(sorted(self.ref.batches))
            self.note(f"settlement of {period} runs again")
            self.deliver("settlement again", lambda _: Outcome(200, body=close_period(
                self.deps(), period, self.now, "system:schedule")))
        if done:
            self.note(f"settled {done}")

    def _some_batch(self) -> str | None:
        if not self.ref.batches:
            return None
        return self.rng.choice(sorted(self.ref.batches))

    def _finance(self, what: str, ref_call: Callable[[], None], call: Callable[[], Any]) -> None:
        self.touched_settlement = True
        try:
            ref_call()
            expected = 200
        except refm.Refused as r:
            expected = r.status
        out = self.deliver(what, lambda _: Outcome(200, body=call()))
        if out.status != expected:
            raise Mismatch(f"{what}: expected {expected}, got {out}")

    def approve(self) -> None:
        p = self._some_batch()
        if p:
            self.note(f"finance-2 approves {p}")
            self._finance(f"approve {p}", lambda: self.ref.approve(p),
                          lambda: approval.approve(self.deps(), p, FINANCE, self.now))

    def mark_paid(self) -> None:
        p = self._some_batch()
        if p:
            self.note(f"finance-2 marks {p} paid")
            self._finance(f"mark paid {p}", lambda: self.ref.mark_paid(p),
                          lambda: approval.mark_paid(self.deps(), p, FINANCE, self.now))

    def mark_failed(self) -> None:
        paying = sorted(k for k, ln in self.ref.lines.items() if ln["payout_minor"] > 0)
        if not paying:
            return
        p, pid, cur = self.rng.choice(paying)
        self.note(f"payout {p} {pid} {cur} bounces: finance-2 reports it")
        self._finance(f"report bounce {p} {pid}", lambda: self.ref.report_bounce(p, pid, cur),
                      lambda: bounces.report(self.deps(), p, pid, cur, "account closed", FINANCE, self.now))
        if self.rng.random() < 0.2:  # the reporter tries to confirm it too: refused (maker-checker)
            self._finance(f"self-confirm bounce {p} {pid}", lambda: self.ref.confirm_bounce(p, pid, cur, self.now,
                                                                                           by_reporter=True),
                          lambda: bounces.confirm(self.deps(), p, pid, cur, FINANCE, self.now))
        if self.rng.random() < 0.8:
            self.note(f"finance-3 confirms the bounce of {p} {pid} {cur}")
            self._finance(f"confirm bounce {p} {pid}", lambda: self.ref.confirm_bounce(p, pid, cur, self.now),
                          lambda: bounces.confirm(self.deps(), p, pid, cur, CHECKER, self.now))

    # ---- comparison ---------------------------------------------------------------------------
    def snapshot(self) -> list[dict[str, Any]]:
        items, kwargs = [], {"TableName": self.table.name, "ConsistentRead": True}
        while True:
            resp = self.raw.scan(**kwargs)
            items += [{k: dynamo._plain(_de.deserialize(v)) for k, v in i.items()} for i in resp["Items"]]
            self._stream_from(resp["Items"])
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _stream_from(self, raw_items: list[dict[str, Any]]) -> None:
        """New items in ledger partitions become stream records (INSERT, NEW_IMAGE), numbered in the
        order they are first seen."""
        for raw in sorted(raw_items, key=lambda i: (i["PK"]["S"], i["SK"]["S"])):
            key = (raw["PK"]["S"], raw["SK"]["S"])
            if not key[0].startswith("LEDGER#") or key in self.streamed:
                continue
            self.streamed.add(key)
            self.stream.append({"event_name": "INSERT", "keys": {"PK": raw["PK"], "SK": raw["SK"]},
                                "new_image": raw, "sequence_number": str(len(self.stream) + 1)})

    def drain(self) -> None:
        """The stream consumer (services/projection.py) takes the new records in, in batches of any
        size, through the faulty edge. Delivery is at least once: a failed batch comes again whole,
        and now and then a batch overlaps records already taken in."""
        while self.projected < len(self.stream):
            end = min(len(self.stream), self.projected + self.stream_rng.randint(1, 25))
            start = self.projected
            if start and self.stream_rng.random() < 0.25:
                start = self.stream_rng.randrange(max(0, start - 30), start)
            batch = self.stream[start:end]

            def once(_: bool) -> Outcome:
                try:
                    project(self.uow(), batch)
                except ConcurrentUpdate:
                    return Outcome(503, "busy")
                return Outcome(200)
            self.deliver(f"stream records {start + 1}..{end}", once, via_http=False)
            self.projected = end

    def check_projection(self, items: list[dict[str, Any]]) -> None:
        """Once the stream is drained, every partner's figures are its ledger's, each record counted once."""
        ledger = [i for i in items if i["PK"].startswith("LEDGER#")]
        wanted = {(i.get("partner_id") or i["sale_partner"], TOTAL) for i in ledger}
        wanted |= {(i["sale_partner"], i["sale_period"]) for i in ledger if "sale_partner" in i}
        clean = Repositories(Table(self.raw, self.table.name)).stats  # read past the faulty edge
        figures = {k: f.figures for k, f in clean.get_many(sorted(wanted)).items()}
        check_projection(ledger, figures, TOTAL)

    def compare(self) -> None:
        items = self.snapshot()
        check(items, self.seen)
        self.drain()
        self.check_projection(items)
        entries = {i["entry_id"]: (i["partner_id"], i["kind"], i["amount_minor"], i["currency"], i["period"],
                                   i["settles_in"]) for i in items if i["PK"].startswith("LEDGER#") and is_entry(i)}
        expected = {e.entry_id: (e.partner, e.kind, e.amount, e.currency, e.period, e.settles_in)
                    for e in self.ref.entries.values()}
        if entries != expected:
            diff = {k: (expected.get(k), entries.get(k)) for k in set(entries) | set(expected)
                    if entries.get(k) != expected.get(k)}
            raise Mismatch(f"ledger differs from the model (model, stored): {diff}")
        lines = {(i["period"], i["partner_id"], i["currency"]): {
            "entries_minor": i["commissions_minor"] + i["bonuses_minor"] + i["clawbacks_minor"]
            + i["adjustments_minor"], "entry_count": i["entry_count"], "carried_in_minor": i["carried_in_minor"],
            "payout_minor": i["payout_minor"], "carried_out_minor": i["carried_out_minor"]}
            for i in items if i["PK"].startswith("BATCH#") and i["SK"].startswith("LINE#")}
        if lines != self.ref.lines:
            diff = {k: (self.ref.lines.get(k), lines.get(k)) for k in set(lines) | set(self.ref.lines)
                    if lines.get(k) != self.ref.lines.get(k)}
            raise Mismatch(f"batch lines differ from the model (model, stored): {diff}")
        batches = {i["period"]: i["status"] for i in items if i["SK"] == "BATCH"}
        if batches != self.ref.batches:
            raise Mismatch(f"batches {batches} != model {self.ref.batches}")
        carries = {(i["partner_id"], i["currency"]): i["amount_minor"] for i in items if i["SK"].startswith("CARRY#")}
        if carries != self.ref.carries:
            raise Mismatch(f"carried balances {carries} != model {self.ref.carries}")
        orders = {i["order_id"]: i["refunded_minor"] for i in items if i["SK"] == "ORDER"}
        if orders != {k: o.refunded for k, o in self.ref.orders.items()}:
            raise Mismatch("orders or their refunded totals differ from the model")
        plans = [i for i in items if i["PK"] == "PROGRAM" and i["SK"].startswith("PLAN#")]
        if len(plans) != len(self.ref.plans):
            raise Mismatch(f"{len(plans)} plan versions stored, {len(self.ref.plans)} published")
        if self.touched_settlement:
            self.check_exports()
            self.touched_settlement = False

    def check_exports(self) -> None:
        clean = Table(self.raw, self.table.name)  # the checker reads past the faulty edge
        d = Deps(uow=UnitOfWork(Repositories(clean)), files=self.files, cal=self.settings.calendar,
                            tree=self.tree)
        for period, status in sorted(self.ref.batches.items()):
            if status in FINISHED:
                verdict = verify_exports(d, period)
                if not all(verdict.values()):
                    raise Mismatch(f"exports of {period} regenerate differently: {verdict}")

    def final_checks(self) -> None:
        self.check_exports()
        for delay in self.sleeps:
            if not 0 <= delay <= 1.0:
                raise Mismatch(f"a backoff of {delay}s is outside the jittered cap")

    def summary(self) -> dict[str, Any]:
        return {"seed": self.seed, "steps": self.steps, "orders": len(self.ref.orders),
                "refunds": len(self.ref.refunds), "entries": len(self.ref.entries), "batches": len(self.ref.batches),
                "db_calls": self.faults.calls, "faults": dict(self.faults.injected), "retries": len(self.sleeps),
                "redeliveries": self.redeliveries}
