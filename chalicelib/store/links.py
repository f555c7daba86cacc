"""Codes (partner codes and link codes share one namespace), links and clicks."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain.links import CodeRef
from ..domain.settlement import shard_of
from ..lru import LRU
from . import keys, schema
from .items import epoch, iso
from .ops import Absent, Put, Update, lt, put_new

CODE_CACHE_SIZE = 10_000  # ~0.5 KB a code: ~5 MB, far more than one instance sees clicked between deploys
# A partner's clicks are indexed over this many partitions: a viral link stays under 1,000 writes/s each.
CLICK_SUBS = 32


@dataclass(frozen=True)
class LinkView:
    code: str
    destination: str | None
    created_at: str


@dataclass(frozen=True)
class ClickView:
    click_id: str
    code: str
    clicked_at: str


def code_from(item: dict[str, Any]) -> CodeRef:
    return CodeRef(
        item["code"], item["kind"], item["partner_id"], item.get("destination"), tuple(item.get("upline") or ())
    )


class LinkRepo:
    def __init__(self, table: Any, cache_size: int = CODE_CACHE_SIZE):
        self.table = table
        self._codes: LRU[str, CodeRef] = LRU(cache_size)  # codes never change once written

    # ---- codes -----------------------------------------------------------------------------
    def resolve(self, code: str) -> CodeRef | None:
        code = code.upper()
        ref = self._codes.get(code)
        if ref is not None:
            return ref
        item = self.table.get(keys.code(code), consistent=False)
        if item is None:
            return None
        ref = code_from(item)
        self._codes.put(code, ref)
        return ref

    def cached(self, code: str | None) -> CodeRef | None:
        """A code this process has already resolved, without reading anything."""
        return self._codes.get(code.upper()) if code else None

    def remember(self, ref: CodeRef) -> None:
        self._codes.put(ref.code.upper(), ref)

    def new(self, ref: CodeRef, now: datetime) -> Put:
        return put_new(
            keys.code(ref.code),
            {
                "code": ref.code,
                "kind": ref.kind,
                "partner_id": ref.partner_id,
                "destination": ref.destination,
                "created_at": iso(now),
                "upline": list(ref.upline_hint),
                schema.GSI1PK: keys.partner_links_index(ref.partner_id),
                schema.GSI1SK: f"{iso(now)}#{ref.code}",
            },
        )

    def counted(self, partner_id: str, total: int) -> Update:
        """One more link of the partner's, unless it has `total` already (with the link, in one
        transaction: a refused or repeated link counts nothing)."""
        return Update(keys.link_count(partner_id), add={"links": 1}, when=Absent("links") | lt("links", total))

    def count_of(self, partner_id: str) -> int:
        item = self.table.get(keys.link_count(partner_id))
        return int(item["links"]) if item else 0

    def new_partner_code(
        self, partner_id: str, code: str, created_at: datetime, upline_hint: tuple[str, ...] = ()
    ) -> Put:
        return put_new(
            keys.code(code),
            {
                "code": code,
                "kind": "partner",
                "partner_id": partner_id,
                "created_at": iso(created_at),
                "upline": list(upline_hint),
            },
        )

    def of_partner(self, partner_id: str, limit: int = 100) -> list[LinkView]:
        return [
            LinkView(i["code"], i.get("destination"), i["created_at"])
            for i in self.table.query(
                keys.partner_links_index(partner_id), index=schema.GSI1, forward=False, limit=limit
            )
        ]

    # ---- clicks ----------------------------------------------------------------------------
    def click(
        self,
        click_id: str,
        ref: CodeRef,
        ip_hash: str,
        ua_hash: str,
        now: datetime,
        ttl: timedelta,
        limit: int | None = None,
    ) -> Update:
        """The click as ONE conditional update that also counts it. `click_id` is derived from
        (visitor, link, window), so a repeat within the window lands on the same item: it is
        de-duplicated (the first click's time and id stay) and counted; once `limit` hits are counted
        the condition fails and nothing is written."""
        first = {
            "click_id": click_id,
            "code": ref.code,
            "partner_id": ref.partner_id,
            "clicked_at": iso(now),
            "ip_hash": ip_hash,
            "ua_hash": ua_hash,
            schema.TTL_ATTRIBUTE: epoch(now + ttl),
            schema.GSI1PK: keys.partner_clicks_index(ref.partner_id, shard_of(click_id, CLICK_SUBS)),
            schema.GSI1SK: f"{iso(now)}#{click_id}",
        }
        when = (Absent("hits") | lt("hits", limit)) if limit is not None else None
        return Update(keys.click(click_id), set={"last_at": iso(now)}, set_if_absent=first, add={"hits": 1}, when=when)

    def _clicks(self, partner_id: str, **kw: Any) -> Iterator[dict[str, Any]]:
        """A partner's clicks from every partition of its click index, merged by time."""
        forward = kw.get("forward", True)
        streams = [
            self.table.query(keys.partner_clicks_index(partner_id, sub), index=schema.GSI1, **kw)
            for sub in range(CLICK_SUBS)
        ]
        return heapq.merge(*streams, key=lambda i: i[schema.GSI1SK], reverse=not forward)

    def click_count(self, partner_id: str, start: datetime, end: datetime) -> int:
        """Clicks on a partner's links in [start, end), counted page by page."""
        between = (iso(start), iso(end - timedelta(microseconds=1)) + "~")
        return sum(1 for _ in self._clicks(partner_id, sk_between=between, projection=[schema.GSI1SK]))

    def clicks_of(self, partner_id: str, limit: int = 100) -> list[ClickView]:
        """The partner's latest clicks, newest first."""
        return [
            ClickView(i["click_id"], i["code"], i["clicked_at"])
            for i in itertools.islice(self._clicks(partner_id, forward=False, limit=limit), limit)
        ]
