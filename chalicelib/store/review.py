"""Review and abuse control: fixed-window limits, the audit log, and orders held for fraud review."""

from __future__ import annotations

import heapq
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import audit as audit_rules
from ..domain.audit import canonical
from ..domain.ledger import HOLD
from . import keys, ops, schema
from .items import iso
from .ops import Put, Update, eq, put_new


@dataclass(frozen=True)
class AuditRecord:
    actor: str
    role: str
    action: str
    target: str
    before: Any
    after: Any
    at: datetime
    request_id: str | None = None


AUDIT_SCAN_BUDGET = 2_000  # audit records read at most for one page of a filtered audit log


def _audit_view(i: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: i[k] for k in ("audit_id", "actor", "role", "action", "target", "at")},
        "outcome": i.get("outcome", audit_rules.CHANGED),  # records written before outcomes were kept
        "before": json.loads(i["before"]),
        "after": json.loads(i["after"]),
    }


class ReviewRepo:
    def __init__(self, table: Any):
        self.table = table

    # ---- fixed-window limits -------------------------------------------------------------------
    def hits(self, scope: str, subject_hash: str, window_seconds: int, now: datetime) -> int:
        item = self.table.get(keys.rate(scope, subject_hash, int(now.timestamp()) // window_seconds))
        return int(item["hits"]) if item else 0

    def hit(self, scope: str, subject_hash: str, limit: int, window_seconds: int, now: datetime) -> Update:
        """Count one hit in the current window, unless `limit` hits were already counted. Committed
        inside the guarded change's transaction, it is counted only if that change is written."""
        window = int(now.timestamp()) // window_seconds
        return Update(
            keys.rate(scope, subject_hash, window),
            add={"hits": 1},
            set_if_absent={schema.TTL_ATTRIBUTE: (window + 2) * window_seconds},
            when=ops.Absent("hits") | ops.lt("hits", limit),
        )

    # ---- audit ---------------------------------------------------------------------------------
    def audit(self, r: AuditRecord) -> Put:
        """An audit record, put only if absent: records are never changed. Its sort key orders
        records by the action's time, then by when they were written."""
        audit_id = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        return put_new(
            keys.audit(r.at.date().isoformat(), f"{iso(r.at)}#{audit_id}"),
            {
                "audit_id": audit_id,
                "request_id": r.request_id,
                "actor": r.actor,
                "role": r.role,
                "action": r.action,
                "target": r.target,
                "at": iso(r.at),
                "before": canonical(r.before),
                "after": canonical(r.after),
                "outcome": audit_rules.outcome(r.action, r.before, r.after),
            },
        )

    def audit_day(self, day: str, limit: int = 500) -> list[dict[str, Any]]:
        return [_audit_view(i) for i in self.table.query(f"{keys.AUDIT_PREFIX}{day}", limit=limit)]

    def audit_page(
        self,
        day: str,
        keep: Callable[[dict[str, Any]], bool],
        limit: int,
        after: str | None = None,
        budget: int = AUDIT_SCAN_BUDGET,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` of a day's records that `keep` accepts, oldest first, from the one after
        sort key `after`; and the sort key to go on from (None: the day has no more). At most
        `budget` records are read per page, so a rare filter over a busy day answers in bounded
        time with fewer records and a place to go on from."""
        pk = f"{keys.AUDIT_PREFIX}{day}"
        # Sort keys are `<time>#<id>` and times start with a digit: "~" sorts after every one.
        items = (
            self.table.query(pk, sk_between=(after + " ", "~"), page_size=100)
            if after
            else self.table.query(pk, page_size=100)
        )
        found: list[dict[str, Any]] = []
        last: str | None = None
        for read, item in enumerate(items, start=1):
            if keep(item):
                if len(found) == limit:  # one more exists: go on after the last one returned
                    return found, last
                found.append(_audit_view(item))
            last = item[schema.SK]
            if read >= budget:
                return found, last
        return found, None

    # ---- fraud holds ---------------------------------------------------------------------------
    def holds(self, limit: int = 500) -> list[dict[str, Any]]:
        """The most recent holds, newest first, from every partition of the queue."""
        streams = [
            self.table.query(keys.holds_index(sub), index=schema.GSI1, forward=False, limit=limit)
            for sub in range(keys.HOLD_SUBS)
        ]
        items = heapq.merge(*streams, key=lambda i: i[schema.GSI1SK], reverse=True)
        return [
            {
                k: item.get(k)
                for k in (
                    "order_id",
                    "partner_id",
                    "reasons",
                    "held_at",
                    "status",
                    "amount_minor",
                    "currency",
                    "released_at",
                    "released_by",
                    "rejected_at",
                    "rejected_by",
                    "review_reason",
                )
            }
            for item in itertools.islice(items, limit)
        ]

    def hold(self, order_id: str) -> dict[str, Any] | None:
        return self.table.get(keys.hold(order_id))

    def release(
        self,
        order_id: str,
        refunded_minor: int,
        settles_in: str,
        partner_id: str,
        actor: str,
        now: datetime,
        reason: str | None = None,
    ) -> list[ops.TransactOp]:
        """The order settles normally from now on, conditional on it still being held with the
        refunded total read; the hold is marked released."""
        return [
            Update(
                keys.order(order_id),
                set={
                    "settles_in": settles_in,
                    "released_at": iso(now),
                    "released_by": actor,
                    "attributed_to": partner_id,
                },
                when=eq("settles_in", HOLD) & eq("refunded_minor", refunded_minor) & ops.Absent("rejected_at"),
            ),
            Update(
                keys.hold(order_id),
                set={
                    "status": "released",
                    "released_at": iso(now),
                    "released_by": actor,
                    **({"review_reason": reason} if reason else {}),
                },
            ),
        ]

    def reject(self, order_id: str, actor: str, now: datetime, reason: str) -> list[ops.TransactOp]:
        return [
            Update(
                keys.order(order_id),
                set={"rejected_at": iso(now), "rejected_by": actor},
                when=eq("settles_in", HOLD) & ops.Absent("rejected_at"),
            ),
            Update(
                keys.hold(order_id),
                set={"status": "rejected", "rejected_at": iso(now), "rejected_by": actor, "review_reason": reason},
                when=eq("status", "held"),
            ),
        ]
