"""Codes (partner codes and link codes share one namespace), links and clicks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain.links import CodeRef
from . import keys, schema
from .lru import LRU
from .ops import Absent, Put, Update, lt, put_new
from .repository import _code_from, epoch, iso

CODE_CACHE_SIZE = 50_000  # a code ref is ~300 bytes: the cache stays under ~15 MB however many links


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
        ref = _code_from(item)
        self._codes.put(code, ref)
        return ref

    def cached(self, code: str | None) -> CodeRef | None:
        """A code this process has already resolved, without reading anything."""
        return self._codes.get(code.upper()) if code else None

    def remember(self, ref: CodeRef) -> None:
        self._codes.put(ref.code.upper(), ref)

    def new(self, ref: CodeRef, now: datetime) -> Put:
        return put_new(keys.code(ref.code), {
            "code": ref.code, "kind": ref.kind, "partner_id": ref.partner_id, "destination": ref.destination,
            "created_at": iso(now),
            schema.GSI1PK: keys.partner_links_index(ref.partner_id), schema.GSI1SK: f"{iso(now)}#{ref.code}",
        })

    def new_partner_code(self, partner_id: str, code: str, created_at: datetime) -> Put:
        return put_new(keys.code(code), {"code": code, "kind": "partner", "partner_id": partner_id,
                                         "created_at": iso(created_at)})

    def of_partner(self, partner_id: str, limit: int = 100) -> list[LinkView]:
        return [LinkView(i["code"], i.get("destination"), i["created_at"])
                for i in self.table.query(keys.partner_links_index(partner_id), index=schema.GSI1, forward=False,
                                          limit=limit)]

    # ---- clicks ----------------------------------------------------------------------------
    def click(self, click_id: str, ref: CodeRef, ip_hash: str, ua_hash: str, now: datetime, ttl: timedelta,
              limit: int | None = None) -> Update:
        """The click as ONE conditional update that also counts it. `click_id` is derived from
        (visitor, link, window), so a repeat within the window lands on the same item: it is
        de-duplicated (the first click's time and id stay) and counted; once `limit` hits are counted
        the condition fails and nothing is written."""
        first = {"click_id": click_id, "code": ref.code, "partner_id": ref.partner_id, "clicked_at": iso(now),
                 "ip_hash": ip_hash, "ua_hash": ua_hash, schema.TTL_ATTRIBUTE: epoch(now + ttl),
                 schema.GSI1PK: keys.partner_clicks_index(ref.partner_id), schema.GSI1SK: f"{iso(now)}#{click_id}"}
        when = (Absent("hits") | lt("hits", limit)) if limit is not None else None
        return Update(keys.click(click_id), set={"last_at": iso(now)}, set_if_absent=first, add={"hits": 1},
                      when=when)

    def click_count(self, partner_id: str, start: datetime, end: datetime) -> int:
        """Clicks on a partner's links in [start, end), counted page by page."""
        return sum(1 for _ in self.table.query(keys.partner_clicks_index(partner_id), index=schema.GSI1,
                                               sk_between=(iso(start), iso(end - timedelta(microseconds=1)) + "~"),
                                               projection=["PK"]))

    def clicks_of(self, partner_id: str, limit: int = 100) -> list[ClickView]:
        return [ClickView(i["click_id"], i["code"], i["clicked_at"])
                for i in self.table.query(keys.partner_clicks_index(partner_id), index=schema.GSI1, forward=False,
                                          limit=limit)]
