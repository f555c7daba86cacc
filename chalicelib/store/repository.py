"""The repository: domain objects in, domain objects out. Items are shaped here and nowhere else."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator, Mapping

from ..domain.attribution import BindingRef, ClickRef
from ..domain.errors import AlreadyExists
from ..domain.ledger import COMMISSION, Entry
from ..domain.links import CodeRef, LinkLimits
from ..domain.orders import RecordedOrder, RecordedRefund
from ..domain.partners import Partner
from ..domain.periods import OPEN
from ..domain.bonuses import BonusRules, RankRule, Tier
from ..domain.plans import DEFAULT_MIN_PAYOUT_MINOR, Plan
from ..domain.settlement import shard_of
from ..domain.tree import Node
from ..lru import LRU
from . import keys, schema
from .dynamo import Op, Table
from .keys import Key
from .readable import Versions, read_versions

COUNTER_PREFIXES = ("credited_", "reversed_", "sales_")
# Referral codes a warm process keeps resolved (a code never changes once written). Bounded: a
# program with a million links must not fill the function's memory; a kept code is ~0.5 KB, so
# this is ~5 MB, far more than the links one instance sees clicked between two deploys.
CODE_CACHE_SIZE = 10_000


def iso(dt: datetime) -> str:
    """Fixed-width UTC timestamps, so they sort as strings. The year is padded here, not by
    strftime's %Y (which writes year 1 as "1" on Linux, a time parse_iso then cannot read)."""
    try:
        u = dt.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{dt.isoformat()} is outside the years a stored time can hold") from None
    if u.year >= 1000:
        return u.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{u.year:04d}" + u.strftime("-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


# ---- item <-> domain ------------------------------------------------------------------------

def _upline_item(upline: Iterable[Node]) -> list[dict[str, str]]:
    return [{"id": n.partner_id, "st": n.status, "rk": n.rank} for n in upline]


def _partner_from(item: dict[str, Any]) -> Partner:
    counters = {k: v for k, v in item.items() if k.startswith(COUNTER_PREFIXES) or k == "attributed_orders"}
    return Partner(
        partner_id=item["partner_id"], code=item["code"], name=item.get("name", ""),
        sponsor_id=item.get("sponsor_id"),
        upline=tuple(Node(u["id"], u["st"], u["rk"]) for u in item.get("upline", [])),
        status=item["status"], rank=item["rank"], tree_version=item.get("tree_version", 0),
        customer_hash=item.get("customer_hash"),
        created_at=parse_iso(item["created_at"]) if item.get("created_at") else None,
        counters=counters,
    )


def entry_item(e: Entry) -> dict[str, Any]:
    return {
        "entry_id": e.entry_id, "kind": e.kind, "partner_id": e.partner_id, "order_id": e.order_id,
        "level": e.level, "amount_minor": e.amount_minor, "currency": e.currency,
        "plan_version": e.plan_version, "rate_bps": e.rate_bps, "occurred_at": iso(e.occurred_at),
        "payable_at": iso(e.payable_at), "reverses": e.reverses, "refund_id": e.refund_id,
        "period": e.period, "settles_in": e.settles_in,
        "trace": json.dumps(e.trace, sort_keys=True) if e.trace is not None else None,
        schema.GSI1PK: keys.partner_ledger_index(e.partner_id),
        schema.GSI1SK: f"{iso(e.occurred_at)}#{e.entry_id}",
        schema.GSI2PK: keys.settle_index(e.settles_in, shard_of(e.partner_id, keys.SHARDS)),
        schema.GSI2SK: f"{e.partner_id}#{e.entry_id}",
    }


def entry_from(item: dict[str, Any]) -> Entry:
    return Entry(
        entry_id=item["entry_id"], kind=item["kind"], partner_id=item["partner_id"], order_id=item["order_id"],
        level=item["level"], amount_minor=item["amount_minor"], currency=item["currency"],
        plan_version=item["plan_version"], rate_bps=item["rate_bps"],
        occurred_at=parse_iso(item["occurred_at"]), payable_at=parse_iso(item["payable_at"]),
        reverses=item.get("reverses"), refund_id=item.get("refund_id"),
        period=item.get("period", ""), settles_in=item.get("settles_in", ""),
        trace=json.loads(item["trace"]) if item.get("trace") else None,
    )


def _plan_item(p: Plan) -> dict[str, Any]:
    return {
        "version": p.version, "effective_from": iso(p.effective_from), "levels_bps": list(p.levels_bps),
        "cap_bps": p.cap_bps, "holding_days": p.holding_days, "min_payout_minor": p.min_payout_minor,
        "rank_overrides": {r: {str(lvl): bps for lvl, bps in o.items()} for r, o in p.rank_overrides.items()},
        "bonus": json.dumps(bonus_rules_dict(p.bonus), sort_keys=True) if p.bonus else None,
    }


def bonus_rules_dict(b: BonusRules) -> dict[str, Any]:
    return {
        "currency": b.currency, "basis": b.basis, "team_levels": b.team_levels,
        "ladder": [{"threshold_minor": t.threshold_minor, "flat_minor": t.flat_minor, "rate_bps": t.rate_bps}
                   for t in b.ladder],
        "overachievement_bps": b.overachievement_bps, "overachievement_cap_minor": b.overachievement_cap_minor,
        "default_targets": dict(b.default_targets),
        "ranks": [{"rank": r.rank, "min_personal_minor": r.min_personal_minor, "min_team_minor": r.min_team_minor}
                  for r in b.ranks],
    }


def bonus_rules_from(d: dict[str, Any]) -> BonusRules:
    return BonusRules(
        currency=d["currency"], basis=d.get("basis", "personal"), team_levels=d.get("team_levels", 0),
        ladder=tuple(Tier(t["threshold_minor"], t.get("flat_minor"), t.get("rate_bps")) for t in d.get("ladder", [])),
        overachievement_bps=d.get("overachievement_bps", 0),
        overachievement_cap_minor=d.get("overachievement_cap_minor"),
        default_targets=dict(d.get("default_targets", {})),
        ranks=tuple(RankRule(r["rank"], r.get("min_personal_minor", 0), r.get("min_team_minor", 0))
                    for r in d.get("ranks", [])),
    )


def _plan_from(item: dict[str, Any]) -> Plan:
    return Plan(
        version=item["version"], effective_from=parse_iso(item["effective_from"]),
        levels_bps=tuple(item["levels_bps"]), cap_bps=item.get("cap_bps"),
        rank_overrides={r: {int(lvl): bps for lvl, bps in o.items()} for r, o in item.get("rank_overrides", {}).items()},
        holding_days=item.get("holding_days", 30),
        min_payout_minor=item.get("min_payout_minor", DEFAULT_MIN_PAYOUT_MINOR),
        bonus=bonus_rules_from(json.loads(item["bonus"])) if item.get("bonus") else None,
    )


def plan_versions_from(item: dict[str, Any] | None) -> Versions[Plan]:
    """Every stored plan version that can be read; one that cannot is skipped and reported."""
    return read_versions("/".join(keys.plans()), (item or {}).get("versions", []), _plan_from)


def _code_from(item: dict[str, Any]) -> CodeRef:
    return CodeRef(item["code"], item["kind"], item["partner_id"], item.get("destination"))


def _order_from(item: dict[str, Any]) -> RecordedOrder:
    ordered_at = parse_iso(item["ordered_at"])
    payable_at = ordered_at + timedelta(days=item.get("holding_days", 0))
    entries = tuple(
        Entry(ln["entry_id"], COMMISSION, ln["partner_id"], item["order_id"], ln["level"], ln["amount_minor"],
              item["currency"], item["plan_version"], ln["rate_bps"], ordered_at, payable_at,
              period=item.get("period", ""), settles_in=item.get("settles_in", ""))
        for ln in item.get("lines", [])
    )
    result = json.loads(item["result"])
    return RecordedOrder(item["order_id"], item["fingerprint"], item["amount_minor"], item["currency"], ordered_at,
                         item.get("refunded_minor", 0), entries, result,
                         attributed_to=item.get("attributed_to"), period=item.get("period", ""))


@dataclass(frozen=True)
class OrderContext:
    """Everything an order needs that can be read before its partner is known: one batch read."""
    order: RecordedOrder | None
    click: ClickRef | None
    code: CodeRef | None
    binding: BindingRef | None
    plans: list[Plan]
    extra: dict[Key, dict[str, Any]] = field(default_factory=dict)  # items other areas asked for (members)
    # The partner named in advance (partner_hint), read in the same batch; None if not asked or absent.
    partner: Partner | None = None
    buyer_partners: frozenset[str] = frozenset()  # partners whose identity matches the buyer's


class Repository:
    def __init__(self, table: Table, code_cache_size: int = CODE_CACHE_SIZE):
        self.table = table
        # Lets a click skip its read and an order name the partner in its first batch read.
        self._codes: LRU[str, CodeRef] = LRU(code_cache_size)

    # ---- plans ----------------------------------------------------------------------------
    def plans(self) -> list[Plan]:
        return self.plan_versions().items

    def plan_versions(self) -> Versions[Plan]:
        return plan_versions_from(self.table.get(keys.plans()))

    def publish_plan(self, plan: Plan, created_by: str, now: datetime) -> None:
        """Append a version; the condition on the version count makes concurrent publishes take turns."""
        existing = plan.version - 1
        self.table.transact([
            Op.put_new(keys.plan_version(plan.version), {**_plan_item(plan), "created_by": created_by,
                                                         "created_at": iso(now)}),
            Op.update(keys.plans(), "SET versions = list_append(if_not_exists(versions, :empty), :new)",
                      values={":empty": [], ":new": [_plan_item(plan)], ":n": existing},
                      condition="attribute_not_exists(versions) OR size(versions) = :n"),
        ])

    # ---- codes, links and clicks --------------------------------------------------------------
    def resolve_code(self, code: str) -> CodeRef | None:
        code = code.upper()
        ref = self._codes.get(code)
        if ref is not None:
            return ref
        item = self.table.get(keys.code(code), consistent=False)
        if item is None:
            return None  # unknown codes are not kept: a scan of made-up codes costs no memory
        return self._codes.put(code, _code_from(item))

    def cached_code(self, code: str | None) -> CodeRef | None:
        """A code this process has already resolved, without reading anything."""
        return self._codes.get(code.upper()) if code else None

    def create_link(self, ref: CodeRef, now: datetime, limits: LinkLimits) -> None:
        """The code, and the partner's two link counters moved only if both are under their limits,
        in one transaction: a refused or repeated link counts nothing. Raises AlreadyExists if the
        code is taken, ConcurrentUpdate if a limit was reached (`link_counts` says which)."""
        self.table.transact([
            Op.put_new(keys.code(ref.code), {
                "code": ref.code, "kind": ref.kind, "partner_id": ref.partner_id, "destination": ref.destination,
                "created_at": iso(now),
                schema.GSI1PK: keys.partner_links_index(ref.partner_id), schema.GSI1SK: f"{iso(now)}#{ref.code}",
            }),
            Op.update(keys.link_count(ref.partner_id), "ADD links :one", values={":one": 1, ":max": limits.total},
                      condition="attribute_not_exists(links) OR links < :max"),
            self.window_hit_op("link", ref.partner_id, limits.per_window, limits.window_seconds, now),
        ])

    def link_counts(self, partner_id: str, limits: LinkLimits, now: datetime) -> tuple[int, int]:
        """(links created in all, links created in the current window)."""
        total, window = keys.link_count(partner_id), keys.rate("link", partner_id, limits.window(now))
        found = self.table.batch_get([total, window])
        return int(found.get(total, {}).get("links", 0)), int(found.get(window, {}).get("hits", 0))

    @staticmethod
    def window_hit_op(scope: str, subject: str, limit: int, window_seconds: int, now: datetime) -> dict[str, Any]:
        """One hit on a fixed-window counter (TTL'd) as a transaction action: refused once `limit`
        hits are counted in the window, written only if the guarded change is."""
        window = int(now.timestamp()) // window_seconds
        return Op.update(keys.rate(scope, subject, window), "ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)",
                         names={"#ttl": schema.TTL_ATTRIBUTE},
                         values={":one": 1, ":limit": limit, ":ttl": (window + 2) * window_seconds},
                         condition="attribute_not_exists(hits) OR hits < :limit")

    def links_of(self, partner_id: str, limit: int = 100) -> list[dict[str, Any]]:
        return [
            {"code": i["code"], "destination": i.get("destination"), "created_at": i["created_at"]}
            for i in self.table.query(keys.partner_links_index(partner_id), index=schema.GSI1, forward=False,
                                      limit=limit)
        ]

    def record_click(self, click_id: str, ref: CodeRef, ip_hash: str, ua_hash: str, now: datetime,
                     ttl: timedelta, limit: int | None = None) -> bool:
        """The click as ONE conditional UpdateItem that also counts it. `click_id` is derived from
        (visitor, link, window), so a repeat within the window lands on the same item: it is
        de-duplicated (the first click's time and id stay) and counted; once `limit` hits are
        counted the condition fails and nothing is written (returns False)."""
        names = {f"#{a}": a for a in ("click_id", "code", "partner_id", "clicked_at", "ip_hash", "ua_hash")}
        names.update({"#ttl": schema.TTL_ATTRIBUTE, "#g1pk": schema.GSI1PK, "#g1sk": schema.GSI1SK})
        sets = ", ".join(f"{n} = if_not_exists({n}, :{n[1:]})" for n in names)
        values = {":click_id": click_id, ":code": ref.code, ":partner_id": ref.partner_id,
                  ":clicked_at": iso(now), ":ip_hash": ip_hash, ":ua_hash": ua_hash,
                  ":ttl": epoch(now + ttl), ":g1pk": keys.partner_clicks_index(ref.partner_id),
                  ":g1sk": f"{iso(now)}#{click_id}", ":one": 1, ":last": iso(now)}
        condition = None
        if limit is not None:
            values[":limit"] = limit
            condition = "attribute_not_exists(hits) OR hits < :limit"
        return self.table.update(keys.click(click_id), f"ADD hits :one SET {sets}, last_at = :last",
                                 names=names, values=values, condition=condition)

    def click_count(self, partner_id: str, start: datetime, end: datetime) -> int:
        """Clicks on a partner's links in [start, end), counted page by page."""
        return sum(1 for _ in self.table.query(keys.partner_clicks_index(partner_id), index=schema.GSI1,
                                               sk_between=(iso(start), iso(end - timedelta(microseconds=1)) + "~"),
                                               projection="PK"))

    def clicks_of(self, partner_id: str, limit: int = 100) -> list[dict[str, Any]]:
        return [
            {"click_id": i["click_id"], "code": i["code"], "clicked_at": i["clicked_at"]}
            for i in self.table.query(keys.partner_clicks_index(partner_id), index=schema.GSI1, forward=False,
                                      limit=limit)
        ]

    # ---- partners and the tree -------------------------------------------------------------
    def get_partner(self, partner_id: str) -> Partner | None:
        item = self.table.get(keys.partner(partner_id))
        return _partner_from(item) if item else None

    def partner_status(self, partner_id: str) -> str | None:
        """The partner's status as stored now (a consistent read of one attribute), None if there is
        no such partner: what its own token may do follows from it (api/access.STANDING)."""
        item = self.table.get(keys.partner(partner_id), attrs=("status",))
        return item.get("status") if item else None

    def member_exists(self, member_id: str) -> bool:
        return self.table.get(keys.member(member_id), attrs=(schema.PK,)) is not None

    def get_partners(self, partner_ids: Iterable[str]) -> dict[str, Partner]:
        found = self.table.batch_get(keys.partner(p) for p in partner_ids)
        return {item["partner_id"]: _partner_from(item) for item in found.values()}

    def ledger_between(self, partner_id: str, start: datetime, end: datetime) -> Iterator[Entry]:
        """A partner's entries that occurred in [start, end), oldest first."""
        for item in self.table.query(keys.partner_ledger_index(partner_id), index=schema.GSI1,
                                     sk_between=(iso(start), iso(end - timedelta(microseconds=1)) + "~")):
            yield entry_from(item)

    def all_partners(self) -> Iterator[Partner]:
        """Every partner, oldest first, page by page."""
        for item in self.table.query(keys.PARTNERS_INDEX, index=schema.GSI1):
            yield _partner_from(item)

    def partner_fingerprint(self, partner_id: str) -> str | None:
        item = self.table.get(keys.partner(partner_id))
        return item.get("fingerprint") if item else None

    def enrol_partner(self, p: Partner, fingerprint: str, sponsor: Partner | None,
                      identities: tuple[str, ...] = (), extra_ops: Iterable[dict[str, Any]] = ()) -> None:
        ops = [
            Op.put_new(keys.partner(p.partner_id), {
                "partner_id": p.partner_id, "code": p.code, "name": p.name, "sponsor_id": p.sponsor_id,
                "status": p.status, "rank": p.rank, "tree_version": 0, "customer_hash": p.customer_hash,
                "upline": _upline_item(p.upline), "created_at": iso(p.created_at), "fingerprint": fingerprint,
                schema.GSI1PK: keys.PARTNERS_INDEX, schema.GSI1SK: f"{iso(p.created_at)}#{p.partner_id}",
            }),
            Op.put_new(keys.code(p.code), {"code": p.code, "kind": "partner", "partner_id": p.partner_id,
                                           "created_at": iso(p.created_at)}),
            *self._edge_puts(p.partner_id, p.code, p.name, p.upline, start_level=1),
            *(Op.put(keys.identity(h), {"partner_id": p.partner_id}) for h in dict.fromkeys(identities)),
            *extra_ops,  # e.g. the sign-up rate counter (api/guard.py)
        ]
        if sponsor is not None:
            # The sponsor's upline must still be the one copied; a concurrent move retries this.
            ops.append(Op.check(keys.partner(sponsor.partner_id), "tree_version = :v",
                                values={":v": sponsor.tree_version}))
        self.table.transact(ops)

    def _edge_puts(self, partner_id: str, code: str, name: str, ancestors: Iterable[Node], start_level: int):
        return [
            Op.put(keys.downline_edge(a.partner_id, level, partner_id),
                   {"partner_id": partner_id, "code": code, "name": name, "level": level})
            for level, a in enumerate(ancestors, start=start_level)
        ]

    def downline(self, partner_id: str, level: int | None = None) -> Iterator[dict[str, Any]]:
        prefix = keys.downline_level_prefix(level) if level else keys.DOWNLINE_PREFIX
        return self.table.query(keys.partner(partner_id)[0], prefix)

    def rewrite_upline(self, p: Partner, new_upline: tuple[Node, ...], keep_levels: int,
                       sponsor_id: str | None = None) -> None:
        """Replace the part of `p`'s upline above its first `keep_levels` ancestors, with its
        downline edges, in one transaction. Re-running it with the same arguments changes nothing."""
        old_above = p.upline[keep_levels:]
        new_above = new_upline[keep_levels:]
        ops: list[dict[str, Any]] = [
            Op.delete(keys.downline_edge(a.partner_id, lvl, p.partner_id))
            for lvl, a in enumerate(old_above, start=keep_levels + 1)
            if lvl - keep_levels - 1 >= len(new_above) or new_above[lvl - keep_levels - 1].partner_id != a.partner_id
        ]
        ops += self._edge_puts(p.partner_id, p.code, p.name, new_above, start_level=keep_levels + 1)
        expression = "SET upline = :u, tree_version = tree_version + :one"
        values: dict[str, Any] = {":u": _upline_item(new_upline), ":one": 1, ":v": p.tree_version}
        if sponsor_id is not None:
            expression += ", sponsor_id = :s"
            values[":s"] = sponsor_id
        ops.append(Op.update(keys.partner(p.partner_id), expression, values=values, condition="tree_version = :v"))
        self.table.transact(ops)

    def set_status(self, partner_id: str, status: str, rank: str) -> None:
        self.table.update(keys.partner(partner_id), "SET #st = :s, #rk = :r",
                          names={"#st": "status", "#rk": "rank"}, values={":s": status, ":r": rank})

    def set_rank(self, partner_id: str, rank: str, previous: str) -> bool:
        """Change only the rank, and only from `previous` (or if it is already `rank`): a status an
        admin set meanwhile is never overwritten. False when someone else changed the rank."""
        return self.table.update(keys.partner(partner_id), "SET #rk = :r", names={"#rk": "rank"},
                                 values={":r": rank, ":p": previous}, condition="#rk IN (:p, :r)")

    def refresh_upline_node(self, descendant_id: str, level: int, node: Node) -> bool:
        """Copy an ancestor's status and rank into one descendant's upline snapshot."""
        return self.table.update(
            keys.partner(descendant_id),
            f"SET upline[{level - 1}].st = :s, upline[{level - 1}].rk = :r, tree_version = tree_version + :one",
            values={":s": node.status, ":r": node.rank, ":one": 1, ":id": node.partner_id},
            condition=f"upline[{level - 1}].id = :id",
        )

    # ---- orders --------------------------------------------------------------------------
    def order_context(self, order_id: str, click_id: str | None, code: str | None,
                      customer_hash: str, identity_hashes: tuple[str, ...] = (),
                      partner_hint: str | None = None, extra_keys: Iterable[Key] = ()) -> OrderContext:
        """Everything an order needs that can be named before its partner is known, in one batch
        read: the order (idempotency), click, code, binding, plans, the buyer's identity hashes
        (fraud: is the buyer a partner?), the partner a click id names, and other areas' items."""
        extra_keys = list(extra_keys)
        wanted = [keys.order(order_id), keys.binding(customer_hash), keys.plans(),
                  *(keys.identity(h) for h in identity_hashes), *extra_keys]
        if click_id:
            wanted.append(keys.click(click_id))
        if partner_hint:
            wanted.append(keys.partner(partner_hint))
        cached_code = self._codes.get(code.upper()) if code else None
        if code and cached_code is None:
            wanted.append(keys.code(code))
        found = self.table.batch_get(wanted)
        order = found.get(keys.order(order_id))
        click = found.get(keys.click(click_id)) if click_id else None
        code_item = found.get(keys.code(code)) if code and cached_code is None else None
        if code_item:
            cached_code = self._codes.put(code.upper(), _code_from(code_item))
        binding = found.get(keys.binding(customer_hash))
        partner = found.get(keys.partner(partner_hint)) if partner_hint else None
        return OrderContext(
            order=_order_from(order) if order else None,
            click=ClickRef(click["click_id"], click["partner_id"], parse_iso(click["clicked_at"])) if click else None,
            code=cached_code,
            binding=BindingRef(binding["partner_id"],
                               parse_iso(binding["bound_until"]) if binding.get("bound_until") else None)
            if binding else None,
            plans=plan_versions_from(found.get(keys.plans())).items,
            extra={k: found[k] for k in extra_keys if k in found},
            partner=_partner_from(partner) if partner else None,
            buyer_partners=frozenset(found[keys.identity(h)]["partner_id"] for h in identity_hashes
                                     if keys.identity(h) in found),
        )

    def commit_order(self, *, order_item: dict[str, Any], entries: list[Entry], customer_hash: str,
                     new_binding: BindingRef | None, binding_at: datetime | None,
                     partner_updates: dict[str, dict[str, int]], checked: list[Node],
                     attributed: Partner | None, volume: tuple[str, int] | None = None,
                     hold: dict[str, Any] | None = None, extra_ops: Iterable[dict[str, Any]] = (),
                     read_through: Mapping[str, int] | None = None) -> None:
        """The order, its entries, the customer's binding, the partners' counters, the attributed
        partner's period volume, a fraud hold if any and other areas' writes for the order
        (members): one transaction, which also checks the order's period is still open.

        `partner_updates` maps partner id -> counter -> amount to add; every partner in `checked`
        must still have the status and rank the commission was computed with. `volume` is
        (partner id, amount) to add to that partner's sales in the order's period. `read_through`
        maps the ancestors whose own upline snapshots extended the chain past the attributed
        partner's to the tree_version they were read at; like the attributed partner's, it must hold.
        """
        order_id = order_item["order_id"]
        period = order_item["period"]
        ops = [Op.put_new(keys.order(order_id), order_item), self._period_open_check(period)]
        if volume is not None:
            ops.append(self._volume_update(volume[0], period, f"sales_{order_item['currency']}", volume[1]))
        if new_binding is not None:
            ops.append(Op.put(
                keys.binding(customer_hash),
                {"partner_id": new_binding.partner_id,
                 "bound_until": iso(new_binding.bound_until) if new_binding.bound_until else None,
                 "order_id": order_id},
                condition="attribute_not_exists(PK) OR (attribute_exists(bound_until) AND bound_until <= :at)",
                values={":at": iso(binding_at)},
            ))
        ops += [Op.put_new(keys.entry(e.partner_id, e.entry_id), entry_item(e)) for e in entries]
        if hold is not None:  # the order's commissions wait for review (services/holds.py)
            ops.append(Op.put(keys.hold(order_id), hold))
        versions = dict(read_through or {})
        if attributed is not None:
            versions[attributed.partner_id] = attributed.tree_version
        for node in checked:
            condition = "#st = :s AND #rk = :r"
            values: dict[str, Any] = {":s": node.status, ":r": node.rank}
            if node.partner_id in versions:
                condition += " AND tree_version = :v"
                values[":v"] = versions.pop(node.partner_id)
            names = {"#st": "status", "#rk": "rank"}
            counters = partner_updates.get(node.partner_id)
            if counters:
                adds = []
                for i, (name, amount) in enumerate(sorted(counters.items())):
                    names[f"#c{i}"] = name
                    values[f":c{i}"] = amount
                    adds.append(f"#c{i} :c{i}")
                ops.append(Op.update(keys.partner(node.partner_id), "ADD " + ", ".join(adds), names=names,
                                     values=values, condition=condition))
            else:
                ops.append(Op.check(keys.partner(node.partner_id), condition, names=names, values=values))
        if checked:  # a snapshot read but not otherwise checked (one transaction may name an item once)
            ops += [Op.check(keys.partner(pid), "tree_version = :v", values={":v": v})
                    for pid, v in sorted(versions.items())]
        ops += list(extra_ops)  # other areas' writes for this order (members), in the same transaction
        self.table.transact(ops)

    @staticmethod
    def _period_open_check(period: str) -> dict[str, Any]:
        """Entries may land in a period only until settlement starts closing it."""
        return Op.check(keys.period(period), "attribute_not_exists(PK) OR #st = :open",
                        names={"#st": "status"}, values={":open": OPEN})

    @staticmethod
    def _volume_update(partner_id: str, period: str, counter: str, amount: int) -> dict[str, Any]:
        return Op.update(
            keys.partner_period(partner_id, period),
            "ADD #c :a SET #pid = :p, #per = :per, #g2pk = :g, #g2sk = :p",
            names={"#c": counter, "#pid": "partner_id", "#per": "period", "#g2pk": schema.GSI2PK,
                   "#g2sk": schema.GSI2SK},
            values={":a": amount, ":p": partner_id, ":per": period,
                    ":g": keys.volume_index(period, shard_of(partner_id, keys.SHARDS))},
        )

    @staticmethod
    def order_item(order_id: str, fingerprint: str, amount_minor: int, currency: str, ordered_at: datetime,
                   customer_hash: str, plan: Plan | None, entries: list[Entry], result: dict[str, Any],
                   created_at: datetime, period: str, attributed_to: str | None) -> dict[str, Any]:
        return {
            "order_id": order_id, "fingerprint": fingerprint, "amount_minor": amount_minor, "currency": currency,
            "ordered_at": iso(ordered_at), "customer_hash": customer_hash, "period": period,
            "settles_in": entries[0].settles_in if entries else None, "attributed_to": attributed_to,
            "plan_version": plan.version if plan else 0, "holding_days": plan.holding_days if plan else 0,
            "refunded_minor": 0, "created_at": iso(created_at),
            "lines": [{"entry_id": e.entry_id, "partner_id": e.partner_id, "level": e.level,
                       "amount_minor": e.amount_minor, "rate_bps": e.rate_bps} for e in entries],
            "result": json.dumps(result, sort_keys=True),
        }

    def period_status(self, period: str) -> str:
        item = self.table.get(keys.period(period))
        return item["status"] if item else OPEN

    def refund_context(self, order_id: str, refund_id: str) -> tuple[RecordedOrder | None, RecordedRefund | None]:
        found = self.table.batch_get([keys.order(order_id), keys.refund(order_id, refund_id)])
        order = found.get(keys.order(order_id))
        refund = found.get(keys.refund(order_id, refund_id))
        return (
            _order_from(order) if order else None,
            RecordedRefund(order_id, refund_id, refund["fingerprint"], json.loads(refund["result"])) if refund else None,
        )

    def commit_refund(self, order: RecordedOrder, refund_id: str, fingerprint: str, amount_minor: int,
                      entries: list[Entry], result: dict[str, Any], now: datetime, period: str,
                      extra_ops: Iterable[dict[str, Any]] = ()) -> None:
        """The refund record, its reversing entries, the order's refunded total, the partners'
        counters, the attributed partner's refunded volume in `period` and other areas' writes
        (members), in one transaction. The refunded total moves only from the value it was read
        at, so two refunds racing cannot together reverse more than the order earned."""
        ops = [
            Op.put_new(keys.refund(order.order_id, refund_id), {
                "order_id": order.order_id, "refund_id": refund_id, "fingerprint": fingerprint,
                "amount_minor": amount_minor, "created_at": iso(now), "result": json.dumps(result, sort_keys=True),
            }),
            Op.update(keys.order(order.order_id), "SET refunded_minor = :new",
                      values={":new": order.refunded_minor + amount_minor, ":old": order.refunded_minor},
                      condition="refunded_minor = :old"),
            self._period_open_check(period),
        ]
        if order.attributed_to:
            ops.append(self._volume_update(order.attributed_to, period, f"refunds_{order.currency}", amount_minor))
        ops += [Op.put_new(keys.entry(e.partner_id, e.entry_id), entry_item(e)) for e in entries]
        by_partner: dict[tuple[str, str], int] = {}
        for e in entries:
            by_partner[(e.partner_id, e.currency)] = by_partner.get((e.partner_id, e.currency), 0) - e.amount_minor
        for (partner_id, currency), amount in sorted(by_partner.items()):
            ops.append(Op.update(keys.partner(partner_id), "ADD #c :a", names={"#c": f"reversed_{currency}"},
                                 values={":a": amount}))
        ops += list(extra_ops)  # other areas' writes for this refund (members), in the same transaction
        self.table.transact(ops)

    # ---- the ledger ------------------------------------------------------------------------
    def ledger(self, partner_id: str) -> Iterator[Entry]:
        """A partner's entries, oldest first, streamed page by page."""
        for item in self.table.query(keys.partner_ledger_index(partner_id), index=schema.GSI1):
            yield entry_from(item)
