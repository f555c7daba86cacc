"""Outbound webhooks in the table: the changes on the table's stream that are events, the endpoints
admins registered, and one delivery item per (event, endpoint) with its attempts (the delivery log).

Nothing here is written by an order's transaction: events are read off the stream after the change
committed, and each delivery is its own item, put if absent (a second sighting of an event finds
its delivery made), moved from the attempt count it was read at (two workers holding the same
message cannot both claim one attempt).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..domain import outbound as rules
from ..domain.outbound import DEAD, DELIVERED, PENDING, Event, PayoutLine
from ..domain.settlement import APPROVED, FAILED, PAID, payout_id, shard_of
from ..observability import logger
from . import keys, ops, schema
from .dynamo import plain_value
from .items import iso, parse_iso
from .ledger import entry_from, is_entry
from .ops import Update, eq, put_new

LOG_LIMIT = 50  # attempts kept on a delivery (the first ones and the latest ones matter; a replay adds more)


@dataclass(frozen=True)
class BatchMoved:
    """A settlement batch reached `status` (approved or paid): its payouts' events need its lines."""

    period: str
    status: str
    at: str


WATCHED = ("LEDGER#", "ORDER#", "PARTNER#", "MEMBER#", "BATCH#")  # the partitions events come from


def _image(r: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(PK, SK, the item) of a record that may be an event; None for any other. Only the watched
    partitions are decoded, and an attribute that cannot be decoded is left out (boto3 reads an
    empty map in a stream image as `{}`, which is no DynamoDB value): one odd item never stops the
    batch, and no event reads such an attribute."""
    if r.get("event_name") not in ("INSERT", "MODIFY") or not r.get("new_image"):
        return None
    pk, sk = plain_value(r["keys"][schema.PK]), plain_value(r["keys"][schema.SK])
    if not str(pk).startswith(WATCHED):
        return None
    item = {}
    for k, v in r["new_image"].items():
        try:
            item[k] = plain_value(v)
        except (TypeError, ValueError):
            continue
    return pk, sk, item


def stream_events(records: Iterable[dict[str, Any]]) -> list[Event | BatchMoved]:
    """The events among raw stream records ({"event_name", "keys", "new_image", ...}), each once,
    in the order given. Only a write that committed reaches the stream, so only those are events."""
    out: dict[str, Event | BatchMoved] = {}
    for r in records:
        seen = _image(r)
        if seen is None:
            continue
        try:
            found = _event_of(*seen, new=r["event_name"] == "INSERT")
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            # An item without what its event needs (written before a field existed, or damaged):
            # said in the log and skipped, so the batch — and every other event in it — goes on.
            logger.warning(
                "stream record skipped: not readable as an event",
                extra={"pk": seen[0], "sk": seen[1], "error": repr(e)},
            )
            continue
        if found is not None:
            out.setdefault(
                found.event_id if isinstance(found, Event) else f"batch|{found.period}|{found.status}", found
            )
    return list(out.values())


def _event_of(pk: str, sk: str, item: dict[str, Any], *, new: bool) -> Event | BatchMoved | None:
    found: Event | BatchMoved | None = None
    if pk.startswith("LEDGER#") and new and is_entry(item):
        found = rules.entry_event(entry_from(item))
    elif pk.startswith("ORDER#") and sk == "HOLD" and new:
        found = rules.hold_event(
            item["order_id"],
            item["partner_id"],
            item.get("reasons") or [],
            int(item.get("amount_minor") or 0),
            item.get("currency", ""),
            item["held_at"],
        )
    elif pk.startswith("PARTNER#") and sk == keys.PROFILE and new and "partner_id" in item:
        schedule = item.get("schedule") or [{}]
        found = rules.enrolled_event(
            item["partner_id"],
            item.get("code", ""),
            schedule[0].get("sp") or item.get("sponsor_id"),
            item.get("created_at", ""),
        )
    elif (
        pk.startswith("MEMBER#")
        and sk == keys.MEMBER_PROFILE
        and item.get("tier_since")
        and item["tier_since"] != item.get("created_at")
    ):  # set at sign-up: no change
        found = rules.tier_event(pk[len("MEMBER#") :], item.get("tier", ""), item["tier_since"])
    elif pk.startswith("BATCH#") and sk == "BATCH" and item.get("status") in (APPROVED, PAID):
        found = BatchMoved(item["period"], item["status"], item.get(f"{item['status']}_at", ""))
    elif pk.startswith("BATCH#") and sk.startswith(keys.LINE_PREFIX) and item.get("payout_status") == FAILED:
        found = rules.payout_failed_event(payout_line(item), item.get("failure_reason", ""), item.get("failed_at", ""))
    return found


def payout_line(item: dict[str, Any]) -> PayoutLine:
    return PayoutLine(
        item["period"],
        item["partner_id"],
        item["currency"],
        payout_id(item["period"], item["partner_id"], item["currency"]),
        int(item["payout_minor"]),
        item.get("payout_status") == FAILED,
    )


# ---- endpoints and deliveries ---------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    status: str  # active | disabled
    created_at: datetime
    created_by: str
    description: str = ""


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    body: str
    status: str
    attempts: int
    created_at: datetime
    first_at: datetime  # the retry window runs from here (a replay starts a new one)
    next_at: datetime
    log: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    replays: int = 0


def _endpoint_from(item: dict[str, Any]) -> Endpoint:
    return Endpoint(
        item["endpoint_id"],
        item["url"],
        tuple(item.get("events") or ()),
        item["secret"],
        item["status"],
        parse_iso(item["created_at"]),
        item.get("created_by", ""),
        item.get("description", ""),
    )


def _delivery_from(item: dict[str, Any]) -> Delivery:
    return Delivery(
        item["delivery_id"],
        item["endpoint_id"],
        item["event_id"],
        item["event_type"],
        item["body"],
        item["status"],
        int(item["attempts"]),
        parse_iso(item["created_at"]),
        parse_iso(item["first_at"]),
        parse_iso(item["next_at"]),
        tuple(item.get("log") or ()),
        int(item.get("replays") or 0),
    )


def _log_sub(delivery_id: str) -> int:
    return shard_of(delivery_id, keys.WEBHOOK_LOG_SUBS)


class WebhookRepo:
    def __init__(self, table: Any):
        self.table = table

    # ---- endpoints --------------------------------------------------------------------------
    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        item = self.table.get(keys.webhook_endpoint(endpoint_id))
        return _endpoint_from(item) if item else None

    def endpoints(self) -> list[Endpoint]:
        """Every endpoint, oldest first (a handful: one index partition is enough)."""
        return [_endpoint_from(i) for i in self.table.query(keys.WEBHOOK_ENDPOINTS_INDEX, index=schema.GSI1)]

    def new_endpoint(self, ep: Endpoint) -> ops.Put:
        return put_new(
            keys.webhook_endpoint(ep.endpoint_id),
            {
                "endpoint_id": ep.endpoint_id,
                "url": ep.url,
                "events": list(ep.events),
                "secret": ep.secret,
                "status": ep.status,
                "created_at": iso(ep.created_at),
                "created_by": ep.created_by,
                "description": ep.description,
                schema.GSI1PK: keys.WEBHOOK_ENDPOINTS_INDEX,
                schema.GSI1SK: f"{iso(ep.created_at)}#{ep.endpoint_id}",
            },
        )

    def reactivate(self, ep: Endpoint, events: tuple[str, ...], secret: str, by: str, now: datetime) -> Update:
        """A disabled endpoint registered again: active, with the events asked for and a new secret."""
        return Update(
            keys.webhook_endpoint(ep.endpoint_id),
            set={
                "status": "active",
                "events": list(events),
                "secret": secret,
                "enabled_by": by,
                "enabled_at": iso(now),
            },
            when=eq("status", "disabled"),
        )

    def disable(self, endpoint_id: str, by: str, now: datetime) -> Update:
        return Update(
            keys.webhook_endpoint(endpoint_id),
            set={"status": "disabled", "disabled_by": by, "disabled_at": iso(now)},
            when=eq("status", "active"),
        )

    # ---- deliveries -------------------------------------------------------------------------
    def delivery(self, delivery_id: str) -> Delivery | None:
        item = self.table.get(keys.webhook_delivery(delivery_id))
        return _delivery_from(item) if item else None

    def deliveries(self, delivery_ids: Iterable[str]) -> dict[str, Delivery]:
        found = self.table.batch_get(keys.webhook_delivery(i) for i in dict.fromkeys(delivery_ids))
        return {i["delivery_id"]: _delivery_from(i) for i in found.values()}

    def new_delivery(self, d: Delivery) -> ops.Put:
        return put_new(
            keys.webhook_delivery(d.delivery_id),
            {
                "delivery_id": d.delivery_id,
                "endpoint_id": d.endpoint_id,
                "event_id": d.event_id,
                "event_type": d.event_type,
                "body": d.body,
                "status": d.status,
                "attempts": d.attempts,
                "created_at": iso(d.created_at),
                "first_at": iso(d.first_at),
                "next_at": iso(d.next_at),
                "log": [],
                "replays": 0,
                schema.GSI1PK: keys.webhook_log_index(d.endpoint_id, _log_sub(d.delivery_id)),
                schema.GSI1SK: f"{iso(d.created_at)}#{d.delivery_id}",
            },
        )

    def claim_attempt(self, d: Delivery, lease_until: datetime) -> Update:
        """Take the next attempt: only from the count read, while pending. Until `lease_until` a copy
        of the same message that arrives meanwhile waits instead of sending too."""
        return Update(
            keys.webhook_delivery(d.delivery_id),
            set={"attempts": d.attempts + 1, "next_at": iso(lease_until)},
            when=eq("status", PENDING) & eq("attempts", d.attempts),
        )

    def record_attempt(self, d: Delivery, entry: dict[str, Any], status: str, next_at: datetime | None) -> Update:
        """The claimed attempt's outcome (d is the delivery as claimed): delivered, dead, or pending
        until `next_at`; appended to its log."""
        sets: dict[str, Any] = {"status": status, "last": entry}
        if next_at is not None:
            sets["next_at"] = iso(next_at)
        log = list(d.log)
        if len(log) >= LOG_LIMIT:  # keep the first attempts and the most recent ones
            log = log[: LOG_LIMIT // 2] + log[-(LOG_LIMIT // 2 - 1) :]
        sets["log"] = [*log, entry]
        return Update(
            keys.webhook_delivery(d.delivery_id), set=sets, when=eq("status", PENDING) & eq("attempts", d.attempts)
        )

    def replay(self, d: Delivery, by: str, now: datetime) -> Update:
        """A dead delivery goes back to the queue, with a new retry window from now."""
        return Update(
            keys.webhook_delivery(d.delivery_id),
            set={
                "status": PENDING,
                "first_at": iso(now),
                "next_at": iso(now),
                "replayed_by": by,
                "replayed_at": iso(now),
            },
            add={"replays": 1},
            when=eq("status", DEAD) & eq("replays", d.replays),
        )

    def payout_lines(self, period: str) -> list[PayoutLine]:
        """A batch's payouts, for the events of its approval or payment."""
        return [
            payout_line(i)
            for i in self.table.query(keys.batch(period)[0], keys.LINE_PREFIX, consistent=True, page_size=500)
        ]

    def log_of(self, endpoint_id: str, limit: int = 100, status: str | None = None) -> list[Delivery]:
        """An endpoint's deliveries, newest first, from every partition of its log."""
        streams = [
            self.table.query(keys.webhook_log_index(endpoint_id, sub), index=schema.GSI1, forward=False, limit=limit)
            for sub in range(keys.WEBHOOK_LOG_SUBS)
        ]
        out = []
        for item in heapq.merge(*streams, key=lambda i: i[schema.GSI1SK], reverse=True):
            d = _delivery_from(item)
            if status is None or d.status == status:
                out.append(d)
                if len(out) >= limit:
                    break
        return out


def as_claimed(d: Delivery, lease_until: datetime) -> Delivery:
    return replace(d, attempts=d.attempts + 1, next_at=lease_until)


def body_of(event: Event) -> str:
    return event.body().decode()


__all__ = [
    "DEAD",
    "DELIVERED",
    "PENDING",
    "BatchMoved",
    "Delivery",
    "Endpoint",
    "WebhookRepo",
    "as_claimed",
    "payout_line",
    "stream_events",
]
