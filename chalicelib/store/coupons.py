"""Partners' coupon codes (code items of kind `coupon` in the one code namespace), how many a partner
made itself, and the leak watch: distinct customers per code and window, and the flags for review."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain.attribution import COUPON as COUPON_SOURCE
from ..domain.links import COUPON, CodeRef
from . import keys, schema
from .dynamo import plain_value
from .items import epoch, iso, parse_iso
from .ops import Absent, Put, Update, lt, put_new


@dataclass(frozen=True)
class CouponView:
    code: str
    partner_id: str
    created_at: str
    created_by: str


@dataclass(frozen=True)
class CouponFlag:
    code: str
    partner_id: str
    window: str
    customers: int
    flagged_at: str


class CouponRepo:
    def __init__(self, table: Any):
        self.table = table

    # ---- codes -----------------------------------------------------------------------------
    def new(self, ref: CodeRef, actor: str, now: datetime) -> Put:
        assert ref.kind == COUPON
        return put_new(
            keys.code(ref.code),
            {
                "code": ref.code,
                "kind": COUPON,
                "partner_id": ref.partner_id,
                "created_at": iso(now),
                "created_by": actor,
                "upline": list(ref.upline_hint),
                schema.GSI1PK: keys.partner_coupons_index(ref.partner_id),
                schema.GSI1SK: f"{iso(now)}#{ref.code}",
            },
        )

    def counted(self, partner_id: str, limit: int) -> Update:
        """One more code the partner made itself, unless it has made `limit` (in the code's transaction)."""
        return Update(keys.coupon_count(partner_id), add={"coupons": 1}, when=Absent("coupons") | lt("coupons", limit))

    def count_of(self, partner_id: str) -> int:
        item = self.table.get(keys.coupon_count(partner_id))
        return int(item["coupons"]) if item else 0

    def of_partner(self, partner_id: str, limit: int = 100) -> list[CouponView]:
        return [
            CouponView(i["code"], i["partner_id"], i["created_at"], i.get("created_by", ""))
            for i in self.table.query(
                keys.partner_coupons_index(partner_id), index=schema.GSI1, forward=False, limit=limit
            )
        ]

    # ---- the leak watch --------------------------------------------------------------------
    def used(self, code: str, window: str, customer_hashes: Iterable[str], expires: datetime) -> Update:
        """Add customers to the code's window (a set: a redelivered record adds nobody twice). Not
        once the code is flagged: the set stops growing there."""
        return Update(
            keys.coupon_use(code, window),
            add={"customers": set(customer_hashes)},
            set_if_absent={"code": code.upper(), "window": window, schema.TTL_ATTRIBUTE: epoch(expires)},
            when=Absent("flagged_at"),
        )

    def customers_in(self, code: str, window: str) -> int:
        item = self.table.get(keys.coupon_use(code, window))
        return len(item.get("customers") or ()) if item else 0

    def flag(self, code: str, partner_id: str, window: str, customers: int, now: datetime) -> list[Put | Update]:
        """The code flagged for review, once (a second flag of the same code is no change)."""
        return [
            put_new(
                keys.coupon_flag(code),
                {
                    "code": code.upper(),
                    "partner_id": partner_id,
                    "window": window,
                    "customers": customers,
                    "flagged_at": iso(now),
                    schema.GSI1PK: keys.COUPON_FLAGS_INDEX,
                    schema.GSI1SK: f"{iso(now)}#{code.upper()}",
                },
            ),
            Update(keys.coupon_use(code, window), set={"flagged_at": iso(now)}),
        ]

    def stop_counting(self, code: str, window: str, now: datetime) -> Update:
        return Update(keys.coupon_use(code, window), set={"flagged_at": iso(now)})

    def flagged(self, limit: int = 200) -> list[CouponFlag]:
        return [
            CouponFlag(i["code"], i["partner_id"], i["window"], int(i["customers"]), i["flagged_at"])
            for i in self.table.query(keys.COUPON_FLAGS_INDEX, index=schema.GSI1, forward=False, limit=limit)
        ]


USE_KEEP = timedelta(days=2)  # a window's customers are kept a little past the window, then expire


@dataclass(frozen=True)
class CouponUse:
    code: str
    partner_id: str
    customer_hash: str
    ordered_at: datetime


def coupon_uses(records: Iterable[dict[str, Any]]) -> list[CouponUse]:
    """New orders attributed by a coupon code, among raw stream records ({"event_name", "keys",
    "new_image", ...}, as store/stats.ledger_changes takes them)."""
    out = []
    for r in records:
        if r.get("event_name") != "INSERT" or not r.get("new_image"):
            continue
        key = {k: plain_value(v) for k, v in r["keys"].items()}
        if not (str(key.get("PK", "")).startswith("ORDER#") and key.get("SK") == "ORDER"):
            continue
        item = {k: plain_value(v) for k, v in r["new_image"].items()}
        try:
            found = json.loads(item.get("result") or "{}").get("attribution") or {}
            if found.get("source") == COUPON_SOURCE and found.get("coupon_code") and item.get("customer_hash"):
                out.append(
                    CouponUse(
                        found["coupon_code"], found["partner_id"], item["customer_hash"], parse_iso(item["ordered_at"])
                    )
                )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # one unreadable order never stops the watch
    return out
