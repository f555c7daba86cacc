"""DynamoDB for issue 9: fixed-window abuse counters, the audit log, and fraud holds."""
from __future__ import annotations

import json
import secrets
import time
from datetime import datetime
from typing import Any, Iterator

from ..domain import audit as audit_rules
from ..domain.audit import canonical
from ..domain.errors import Conflict, NotFound
from ..domain.ledger import Entry
from . import keys, schema
from .dynamo import Op, Table
from ..domain.orders import RecordedOrder
from .repository import Repository, _order_from, entry_item, iso

class SecurityStore:
    def __init__(self, table: Table):
        self.table = table

    # ---- fixed-window limits -------------------------------------------------------------------
    def hit(self, scope: str, subject_hash: str, limit: int, window_seconds: int, now: datetime) -> bool:
        """Count one hit in the current window; False once `limit` hits were already counted. One
        conditional UpdateItem (ADD), so it holds across Lambda instances; the item expires by TTL."""
        window = int(now.timestamp()) // window_seconds
        return self.table.update(
            keys.rate(scope, subject_hash, window), "ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)",
            names={"#ttl": schema.TTL_ATTRIBUTE},
            values={":one": 1, ":limit": limit, ":ttl": (window + 2) * window_seconds},
            condition="attribute_not_exists(hits) OR hits < :limit")

    def hit_op(self, scope: str, subject_hash: str, limit: int, window_seconds: int, now: datetime) -> dict[str, Any]:
        """The same count as a transaction action, so it is written only if the guarded change is."""
        return Repository.window_hit_op(scope, subject_hash, limit, window_seconds, now)

    def hits(self, scope: str, subject_hash: str, window_seconds: int, now: datetime) -> int:
        item = self.table.get(keys.rate(scope, subject_hash, int(now.timestamp()) // window_seconds))
        return int(item["hits"]) if item else 0

    # ---- audit ---------------------------------------------------------------------------------
    @staticmethod
    def audit_op(actor: str, role: str, action: str, target: str, before: Any, after: Any, at: datetime,
                 request_id: str | None = None) -> dict[str, Any]:
        """An audit record as a transaction action, put only if absent: records are never changed.
        Its sort key orders records by the action's time, then by when they were written."""
        audit_id = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        return Op.put_new(keys.audit(at.date().isoformat(), f"{iso(at)}#{audit_id}"), {
            "audit_id": audit_id, "request_id": request_id, "actor": actor, "role": role, "action": action, "target": target,
            "at": iso(at), "before": canonical(before), "after": canonical(after),
            "outcome": audit_rules.outcome(action, before, after),
        })

    def audit(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.table.transact([self.audit_op(*args, **kwargs)])
        except Conflict:  # the same request's record is already there
            pass

    def audit_day(self, day: str, limit: int = 500) -> list[dict[str, Any]]:
        return [{**{k: i[k] for k in ("audit_id", "actor", "role", "action", "target", "at")},
                 "outcome": i.get("outcome", audit_rules.CHANGED),  # records written before outcomes were kept
                 "before": json.loads(i["before"]), "after": json.loads(i["after"])}
                for i in self.table.query(f"{keys.AUDIT_PREFIX}{day}", limit=limit)]

    # ---- fraud holds ---------------------------------------------------------------------------
    def holds(self, limit: int = 500) -> Iterator[dict[str, Any]]:
        for item in self.table.query(keys.HOLDS_PK, limit=limit):
            yield {k: item.get(k) for k in ("order_id", "partner_id", "reasons", "held_at", "status",
                                             "amount_minor", "currency", "released_at", "released_by",
                                             "rejected_at", "rejected_by")}

    def release(self, order: dict[str, Any], hold: dict[str, Any], entries: list[Entry], hold_period: str,
                settles_in: str, actor: str, now: datetime, audit: dict[str, Any]) -> None:
        """The release entries (new, append-only), the order's settles_in set to where they settle
        (so later refunds claw back normally) and its partner's volume, the hold marked released and
        the audit record: one transaction, conditional on the order still being held with the
        refunded total read, and on the release period being open."""
        partner_id, period = hold["partner_id"], hold_period
        ops = [
            Op.update(keys.order(order["order_id"]),
                      "SET settles_in = :s, released_at = :at, released_by = :by, attributed_to = :p",
                      values={":s": settles_in, ":at": iso(now), ":by": actor, ":held": keys.HOLD_MARKER,
                              ":r": order.get("refunded_minor", 0), ":p": partner_id},
                      condition="settles_in = :held AND refunded_minor = :r AND attribute_not_exists(rejected_at)"),
            Repository._period_open_check(period),
            Op.update(keys.hold(order["order_id"]), "SET #st = :rel, released_at = :at, released_by = :by",
                      names={"#st": "status"}, values={":rel": "released", ":at": iso(now), ":by": actor}),
            *[Op.put_new(keys.entry(e.partner_id, e.entry_id), entry_item(e)) for e in entries],
            audit,
        ]
        # Its sales now count towards the partner's volume, in the period of the release (what is
        # left after refunds so far; later refunds take theirs off as for any order).
        left = order["amount_minor"] - order.get("refunded_minor", 0)
        if left > 0:
            ops.append(Repository._volume_update(partner_id, period, f"sales_{order['currency']}", left))
        self.table.transact(ops)

    def hold(self, order_id: str) -> dict[str, Any] | None:
        return self.table.get(keys.hold(order_id))

    def held_order(self, order_id: str) -> tuple[dict[str, Any], RecordedOrder]:
        item = self.table.get(keys.order(order_id))
        if item is None:
            raise NotFound(f"no order {order_id}", code="unknown_order")
        return item, _order_from(item)

    def reject(self, order_id: str, actor: str, now: datetime, audit: dict[str, Any]) -> bool:
        try:
            self.table.transact([
                Op.update(keys.order(order_id), "SET rejected_at = :at, rejected_by = :by",
                          values={":at": iso(now), ":by": actor, ":held": keys.HOLD_MARKER},
                          condition="settles_in = :held AND attribute_not_exists(rejected_at)"),
                Op.update(keys.hold(order_id), "SET #st = :rej, rejected_at = :at, rejected_by = :by",
                          names={"#st": "status"}, values={":rej": "rejected", ":at": iso(now), ":by": actor,
                                                           ":held": "held"}, condition="#st = :held"),
                audit])
            return True
        except Conflict:
            return False
