"""Outbound webhooks: endpoints an admin registers, the events read off the table's stream, and
their delivery, at least once, signed as Upline's inbound webhooks are.

    stream batch --fan_out--> one delivery item per (event, endpoint), put if absent --> queue
    queue message --deliver--> claim the next attempt --> POST --> delivered | retry later | dead

Every step is safe to run twice: a stream batch seen again finds its deliveries made; a message
seen twice finds its attempt claimed (or the delivery finished) and does nothing; a worker that
dies after claiming leaves the message to come back, and the next copy claims the next attempt.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..domain import outbound as rules
from ..domain.errors import Conflict, NotFound
from ..domain.outbound import DEAD, DELIVERED, PENDING, Event
from ..security import sign
from ..store.items import iso
from ..store.outbound import BatchMoved, Delivery, Endpoint, as_claimed, stream_events
from ..store.uow import UnitOfWork

ACTIVE, DISABLED = "active", "disabled"
# The headers each delivery carries (the signature pair is the inbound scheme's, security.py).
SIGNATURE, TIMESTAMP = "X-Upline-Signature", "X-Upline-Timestamp"
EVENT_ID, EVENT_TYPE, DELIVERY_ID = "X-Upline-Event-Id", "X-Upline-Event-Type", "X-Upline-Delivery-Id"


class Queue(Protocol):
    def send(self, delivery_id: str, delay_seconds: int = 0) -> None: ...


class Attempted(Protocol):
    """What a sender reports of one attempt (read-only: webhook_io.Attempt is a frozen dataclass)."""

    @property
    def status_code(self) -> int: ...
    @property
    def error(self) -> str: ...
    @property
    def ms(self) -> int: ...
    @property
    def ok(self) -> bool: ...


Sender = Callable[[str, dict[str, str], bytes], Attempted]


@dataclass(frozen=True)
class DeliveryRules:
    retry_window: timedelta  # how long a delivery is retried before it is dead (at least 24 h)
    lease: timedelta  # how long a claimed attempt keeps another copy of its message waiting


# ---- endpoints ------------------------------------------------------------------------------------
def endpoint_view(ep: Endpoint, with_secret: bool = False) -> dict[str, Any]:
    view = {
        "endpoint_id": ep.endpoint_id,
        "url": ep.url,
        "events": list(ep.events),
        "status": ep.status,
        "description": ep.description,
        "created_at": iso(ep.created_at),
        "created_by": ep.created_by,
    }
    if with_secret:
        view["secret"] = ep.secret
    return view


def register(
    uow: UnitOfWork,
    url: str,
    events: Iterable[str],
    description: str,
    by: str,
    now: datetime,
    check: Callable[[str], str],
) -> tuple[Endpoint, bool]:
    """An endpoint for `events` at `url` (checked by `check`, which answers its canonical form or
    refuses it). The same URL again with the same events answers the endpoint already registered
    (a retried request); with other events it is refused. A disabled one is enabled again, with a
    new secret. Returns (endpoint, whether it changed)."""
    href = check(url)
    wanted = tuple(sorted(set(events)))
    eid = rules.endpoint_id(href)
    for _ in range(3):
        existing = uow.webhooks.endpoint(eid)
        if existing is not None and existing.status == ACTIVE:
            if tuple(sorted(existing.events)) == wanted:
                return existing, False
            raise Conflict("this URL is registered with other events; disable it first", code="endpoint_exists")
        secret = "whsec_" + secrets.token_urlsafe(32)
        if existing is None:
            ep = Endpoint(eid, href, wanted, secret, ACTIVE, now, by, description)
            if uow.write(uow.webhooks.new_endpoint(ep)):
                return ep, True
        elif uow.write(uow.webhooks.reactivate(existing, wanted, secret, by, now)):
            return Endpoint(
                eid,
                existing.url,
                wanted,
                secret,
                ACTIVE,
                existing.created_at,
                existing.created_by,
                existing.description,
            ), True
    raise Conflict("the endpoint kept changing; try again", code="endpoint_changed")


def endpoints(uow: UnitOfWork) -> list[Endpoint]:
    return uow.webhooks.endpoints()


def disable(uow: UnitOfWork, endpoint_id: str, by: str, now: datetime) -> tuple[Endpoint, Endpoint]:
    """No more deliveries to this endpoint (its log stays). Returns (before, after)."""
    before = uow.webhooks.endpoint(endpoint_id)
    if before is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}", code="unknown_endpoint")
    if before.status == ACTIVE:
        uow.write(uow.webhooks.disable(endpoint_id, by, now))
    after = uow.webhooks.endpoint(endpoint_id)
    assert after is not None
    return before, after


# ---- events off the stream ------------------------------------------------------------------------
def events_of(uow: UnitOfWork, records: Iterable[dict[str, Any]], wanted_types: set[str]) -> list[Event]:
    """The events the stream records carry (a batch's payouts read from its lines)."""
    out: list[Event] = []
    for found in stream_events(records):
        if isinstance(found, BatchMoved):
            kind = rules.PAYOUT_APPROVED if found.status == "approved" else rules.PAYOUT_PAID
            if kind in wanted_types:
                out += rules.payout_events(found.status, found.at, uow.webhooks.payout_lines(found.period))
        elif found.type in wanted_types:
            out.append(found)
    return out


def fan_out(uow: UnitOfWork, records: Iterable[dict[str, Any]], queue: Queue, now: datetime) -> int:
    """A batch of stream records in: a delivery for each event and each active endpoint that wants
    it, queued. Returns how many deliveries were made (0 for a batch seen before)."""
    active = [ep for ep in uow.webhooks.endpoints() if ep.status == ACTIVE]
    if not active:
        return 0
    events = events_of(uow, records, {t for ep in active for t in ep.events})
    wanted = {
        rules.delivery_id(e.event_id, ep.endpoint_id): (e, ep) for e in events for ep in active if e.type in ep.events
    }
    if not wanted:
        return 0
    existing = uow.webhooks.deliveries(wanted)  # a batch seen before: read (cheap) rather than write
    made = 0
    for did, (e, ep) in wanted.items():
        d = existing.get(did)
        if d is None:
            new = Delivery(did, ep.endpoint_id, e.event_id, e.type, e.body().decode(), PENDING, 0, now, now, now)
            if uow.write(uow.webhooks.new_delivery(new)):
                made += 1
                queue.send(did)
                continue
            d = uow.webhooks.delivery(did)
        if d is not None and d.status == PENDING and d.attempts == 0:
            queue.send(did)  # made before, perhaps never queued (a crash between the put and the send)
    return made


# ---- delivery -------------------------------------------------------------------------------------
def signed_headers(secret: str, d: Delivery, now: datetime) -> dict[str, str]:
    ts = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        "User-Agent": "Upline-Webhooks/1",
        TIMESTAMP: ts,
        SIGNATURE: sign(secret, ts, d.body.encode()),
        EVENT_ID: d.event_id,
        EVENT_TYPE: d.event_type,
        DELIVERY_ID: d.delivery_id,
    }


def deliver(uow: UnitOfWork, delivery_id: str, send: Sender, queue: Queue, now: datetime, how: DeliveryRules) -> str:
    """One queued message: make the delivery's next attempt if it is due, else put the message back
    until it is. Returns what became of it (delivered, pending, dead, waiting, done, taken)."""
    d = uow.webhooks.delivery(delivery_id)
    if d is None or d.status != PENDING:
        return "done"  # finished already (a copy of a message that did its work)
    if d.next_at > now:
        queue.send(delivery_id, rules.queue_delay(now, d.next_at))  # a long wait hops through the queue
        return "waiting"
    lease = now + how.lease
    if not uow.write(uow.webhooks.claim_attempt(d, lease)):
        return "taken"  # another copy of the message claimed this attempt
    claimed = as_claimed(d, lease)
    ep = uow.webhooks.endpoint(d.endpoint_id)
    entry: dict[str, Any] = {"attempt": claimed.attempts, "at": iso(now)}
    if ep is None or ep.status != ACTIVE:
        uow.write(
            uow.webhooks.record_attempt(
                claimed, {**entry, "status_code": 0, "error": "endpoint disabled", "ms": 0}, DEAD, None
            )
        )
        return DEAD
    result = send(ep.url, signed_headers(ep.secret, d, now), d.body.encode())
    entry.update(status_code=result.status_code, error=result.error, ms=result.ms)
    next_at: datetime | None = None
    if result.ok:
        status = DELIVERED
    else:
        next_at = rules.next_attempt(claimed.attempts, d.first_at, now, how.retry_window)
        status = PENDING if next_at is not None else DEAD
    if not uow.write(uow.webhooks.record_attempt(claimed, entry, status, next_at)):
        return "taken"  # the lease ran out and another copy took the next attempt
    if next_at is not None:
        queue.send(delivery_id, rules.queue_delay(now, next_at))
    return status


# ---- the log and replays --------------------------------------------------------------------------
def delivery_view(d: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": d.delivery_id,
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "created_at": iso(d.created_at),
        "next_at": iso(d.next_at) if d.status == PENDING else None,
        "replays": d.replays,
        "event": json.loads(d.body),
        "log": [dict(e) for e in d.log],
    }


def log(uow: UnitOfWork, endpoint_id: str, status: str | None = None, limit: int = 100) -> list[Delivery]:
    if uow.webhooks.endpoint(endpoint_id) is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}", code="unknown_endpoint")
    return uow.webhooks.log_of(endpoint_id, limit, status)


def replay(uow: UnitOfWork, delivery_id: str, by: str, queue: Queue, now: datetime) -> tuple[Delivery, bool]:
    """A dead delivery queued again, with a new retry window. A delivery already pending again (a
    retried replay) is left as it is; a delivered one is refused. Returns (delivery, changed)."""
    for _ in range(3):
        d = uow.webhooks.delivery(delivery_id)
        if d is None:
            raise NotFound(f"no delivery {delivery_id}", code="unknown_delivery")
        if d.status == PENDING:
            return d, False
        if d.status == DELIVERED:
            raise Conflict("this delivery was delivered; only a dead one is replayed", code="not_dead")
        if uow.write(uow.webhooks.replay(d, by, now)):
            queue.send(delivery_id)
            after = uow.webhooks.delivery(delivery_id)
            assert after is not None
            return after, True
    raise Conflict("the delivery kept changing; try again", code="delivery_changed")
