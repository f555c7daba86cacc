"""Finance's review console, read side: an order with every entry it produced, a partner's periods,
a period's ledger paged, a batch's payout list (filter, sort, search, paging), its totals and its
comparison with the previous period, the preview with the reason a period is blocked, the periods
finance may pick from, and the exports checked again. The rules are domain/finance_review.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ...domain import finance_review as fr
from ...domain.errors import InvalidInput, NotFound
from ...domain.ledger import HOLD, Entry
from ...domain.periods import next_period, previous_period
from ...domain.settlement import Line, shard_of
from ...store.files import sha256
from ...store.ledger import position
from ...store.settlement import SHARDS
from .batches import batch, line_view
from .close import _first_period
from .deps import Deps
from .exports import EXPORTS, build_exports, export_key
from .preview import dry_run

LEDGER_PAGE = 100
PAYOUT_PAGE = 50


def entry_view(e: Entry) -> dict[str, Any]:
    """One ledger entry with its trace: who, at which level, at what rate, under which plan and rule."""
    return {
        "entry_id": e.entry_id,
        "kind": e.kind,
        "partner_id": e.partner_id,
        "order_id": e.order_id,
        "level": e.level,
        "currency": e.currency,
        "amount_minor": e.amount_minor,
        "rate_bps": e.rate_bps,
        "plan_version": e.plan_version,
        "rule": _rule_of(e),
        "occurred_at": e.occurred_at.isoformat(),
        "payable_at": e.payable_at.isoformat(),
        "period": e.period,
        "settles_in": e.settles_in,
        "held": e.settles_in == HOLD,
        "reverses": e.reverses,
        "refund_id": e.refund_id,
        "trace": e.trace,
    }


def _rule_of(e: Entry) -> str:
    """The plan rule an entry applies, in words."""
    if e.kind == "bonus":
        t = e.trace or {}
        rule = f"plan v{e.plan_version}: {t.get('kind') or 'bonus'} bonus on {t.get('basis', 'personal')} volume"
        if t.get("tier_threshold_minor") is not None:
            rule += f", tier from {t['tier_threshold_minor']}"
        if t.get("target_minor") is not None:
            rule += f", target {t['target_minor']} at {t.get('rate_bps')} bps"
        return rule
    if e.level:
        return f"plan v{e.plan_version}: level {e.level} at {e.rate_bps} bps"
    return e.kind


# ---- 1. an order and every entry it produced --------------------------------------------------
def order_view(d: Deps, order_id: str, now: datetime) -> dict[str, Any]:
    """The order as recorded (with its refunds, hold and disputes) and every ledger entry it
    produced across partners: commissions by level, reversals and clawbacks, held and released copies."""
    found = d.uow.orders.history(order_id)
    item = found["order"]
    if item is None:
        raise NotFound(f"no order {order_id}", code="unknown_order")
    partners = [ln["partner_id"] for ln in item.get("lines") or []]
    first = item.get("period") or d.cal.period_of(datetime.fromisoformat(item["ordered_at"]))
    # The latest period any of its entries can settle in: one recorded by now, payable a holding period later.
    last = d.cal.settles_in(d.cal.period_of(now), now + timedelta(days=int(item.get("holding_days") or 0)))
    entries = d.uow.ledger.of_order(order_id, partners, [*fr.periods_between(first, last), HOLD])
    return {
        "order": {
            k: item.get(k)
            for k in (
                "order_id",
                "amount_minor",
                "currency",
                "ordered_at",
                "period",
                "settles_in",
                "attributed_to",
                "plan_version",
                "holding_days",
                "refunded_minor",
                "rejected_at",
                "released_at",
                "dispute_open",
            )
        },
        "refunds": [{k: r.get(k) for k in ("refund_id", "amount_minor", "created_at")} for r in found["refunds"]],
        "hold": {k: found["hold"].get(k) for k in ("status", "reasons", "held_at")} if found["hold"] else None,
        "disputes": [
            {k: x.get(k) for k in ("dispute_id", "status", "held_at", "closed_at")} for x in found["disputes"]
        ],
        "entries": [entry_view(e) for e in entries],
        "totals": _sum_by(entries, lambda e: (e.partner_id, e.currency)),
    }


def _sum_by(entries: list[Entry], key) -> list[dict[str, Any]]:
    acc: dict[tuple[str, str], int] = {}
    for e in entries:
        acc[key(e)] = acc.get(key(e), 0) + e.amount_minor
    return [{"partner_id": p, "currency": c, "amount_minor": v} for (p, c), v in sorted(acc.items())]


# ---- 2. a partner's periods -------------------------------------------------------------------
def partner_periods(d: Deps, partner_id: str) -> dict[str, Any]:
    """Per period: the partner's volume (as projected) and its settlement lines (carried in and out,
    payout); and the balance it carries now, per currency."""
    if d.uow.partners.get_many({partner_id}).get(partner_id) is None:
        raise NotFound(f"no partner {partner_id}", code="unknown_partner")
    volumes, carries = d.uow.settlement.partner_periods(partner_id)
    lines: dict[str, list[dict[str, Any]]] = {}
    for line, details in d.uow.settlement.lines_of_partner(partner_id):
        lines.setdefault(line.period, []).append(line_view(line, details))
    periods = sorted(volumes.keys() | lines.keys(), reverse=True)
    return {
        "partner_id": partner_id,
        "carried": sorted(carries, key=lambda c: c["currency"]),
        "periods": [{"period": p, "volume_minor": volumes.get(p, {}), "lines": lines.get(p, [])} for p in periods],
    }


# ---- 3. a period's ledger, paged --------------------------------------------------------------
def period_ledger(
    d: Deps,
    period: str,
    *,
    partner_id: str | None,
    kind: str | None,
    currency: str | None,
    cursor: str | None,
    limit: int = LEDGER_PAGE,
) -> dict[str, Any]:
    """The entries settlement pays in `period` (the same index the close reads), shard by shard,
    ordered by partner; filtered by partner (one shard, one key range), kind and currency."""
    query = [partner_id, kind, currency]
    state = fr.decode_cursor(cursor) or {"s": 0, "a": None, "q": query}
    if state.get("q") != query or not isinstance(state.get("s"), int):
        raise InvalidInput("the cursor belongs to another query", code="invalid_cursor")
    shards = [fr_shard(partner_id)] if partner_id else list(range(SHARDS))
    out: list[Entry] = []
    shard_at = state["s"] if state["s"] in shards else shards[0]
    after = state["a"]
    for shard in shards[shards.index(shard_at) :]:
        for e in d.uow.ledger.settle_page(period, shard, after, partner_id):
            if (kind and e.kind != kind) or (currency and e.currency != currency):
                continue
            out.append(e)
            if len(out) > limit:
                break
        if len(out) > limit:
            break
        after = None
    more = len(out) > limit
    out = out[:limit]
    nxt = None
    if more:
        last = out[-1]
        nxt = fr.encode_cursor({"s": fr_shard(last.partner_id), "a": position(last), "q": query})
    return {"period": period, "entries": [entry_view(e) for e in out], "next": nxt}


def fr_shard(partner_id: str) -> int:
    return shard_of(partner_id, SHARDS)


# ---- 4. the payout list -----------------------------------------------------------------------
def _lines(d: Deps, period: str) -> list[tuple[Line, dict[str, Any]]]:
    return list(d.uow.settlement.lines(period))


def comparison(d: Deps, period: str, threshold_bps: int, threshold_minor: int) -> fr.Comparison:
    current = [ln for ln, _ in _lines(d, period)]
    previous = [ln for ln, _ in _lines(d, previous_period(period))]
    return fr.compare(current, previous, threshold_bps, threshold_minor)


def payout_list(
    d: Deps,
    period: str,
    q: fr.PayoutQuery,
    cursor: str | None,
    threshold_bps: int,
    threshold_minor: int,
    limit: int = PAYOUT_PAGE,
) -> dict[str, Any]:
    """One page of a batch's payout lines, filtered, searched and sorted on the server. In the
    batch's own order with no filter, a page is one query of `limit` lines (and one batch read of
    the previous period's lines for those partners); any other order or filter reads every line."""
    found = batch(d, period)
    if q == fr.PayoutQuery():
        return _key_order_page(d, period, found, cursor, threshold_bps, threshold_minor, limit)
    lines = _lines(d, period)
    previous = [ln for ln, _ in _lines(d, previous_period(period))]
    flagged = fr.compare([ln for ln, _ in lines], previous, threshold_bps, threshold_minor).flagged_keys()
    rows = []
    for line, details in lines:
        row = line_view(line, details)
        row["status"] = fr.line_status(
            line.payout_minor, found["status"], details.get("payout_status"), details.get("bounce_status")
        )
        row["flagged"] = (line.partner_id, line.currency) in flagged
        rows.append(row)
    state = fr.decode_cursor(cursor) or {"o": 0, "q": q.fingerprint()}
    if state.get("q") != q.fingerprint() or not isinstance(state.get("o"), int) or state["o"] < 0:
        raise InvalidInput("the cursor belongs to another query", code="invalid_cursor")
    kept = fr.select(rows, q)
    chunk, nxt = fr.page(kept, state["o"], limit)
    return {
        "period": period,
        "batch_status": found["status"],
        "total": len(kept),
        "lines": chunk,
        "next": fr.encode_cursor({"o": nxt, "q": q.fingerprint()}) if nxt is not None else None,
    }


def _key_order_page(
    d: Deps,
    period: str,
    found: dict[str, Any],
    cursor: str | None,
    threshold_bps: int,
    threshold_minor: int,
    limit: int,
) -> dict[str, Any]:
    q = fr.PayoutQuery()
    state = fr.decode_cursor(cursor) or {"k": None, "q": q.fingerprint()}
    if state.get("q") != q.fingerprint() or "k" not in state or not isinstance(state["k"], (str, type(None))):
        raise InvalidInput("the cursor belongs to another query", code="invalid_cursor")
    page = d.uow.settlement.lines_page(period, state["k"], limit + 1)
    more = len(page) > limit
    page = page[:limit]
    pairs = [(ln.partner_id, ln.currency) for ln, _ in page]
    previous = list(d.uow.settlement.lines_at(previous_period(period), pairs).values())
    flagged = fr.compare([ln for ln, _ in page], previous, threshold_bps, threshold_minor).flagged_keys()
    # A partner missing from this batch is no row of it, so the page's comparison flags the same rows
    # as the whole batch's would.
    rows = []
    for line, details in page:
        row = line_view(line, details)
        row["status"] = fr.line_status(
            line.payout_minor, found["status"], details.get("payout_status"), details.get("bounce_status")
        )
        row["flagged"] = (line.partner_id, line.currency) in flagged
        rows.append(row)
    control = found.get("control") or {}
    last = f"{page[-1][0].partner_id}#{page[-1][0].currency}" if page else None
    return {
        "period": period,
        "batch_status": found["status"],
        "total": sum(int(c.get("lines", 0)) for c in control.values()) if control else None,
        "lines": rows,
        "next": fr.encode_cursor({"k": last, "q": q.fingerprint()}) if more else None,
    }


# ---- 6. comparison with the previous period ----------------------------------------------------
def compare_view(d: Deps, period: str, threshold_bps: int, threshold_minor: int) -> dict[str, Any]:
    batch(d, period)
    c = comparison(d, period, threshold_bps, threshold_minor)
    return {
        "period": period,
        "previous": previous_period(period),
        "threshold": {"bps": threshold_bps, "minor": threshold_minor},
        "changes": [x.as_dict() for x in c.changes],
        "new": [x.as_dict() for x in c.new],
        "missing": [x.as_dict() for x in c.missing],
        "largest": [x.as_dict() for x in c.largest],
        "flagged": [x.as_dict() for x in c.flagged],
    }


# ---- 7. the preview and the periods list ------------------------------------------------------
def blocked(d: Deps, period: str, now: datetime) -> fr.Blocked | None:
    return fr.blocked_reason(
        period,
        now,
        settles_from=d.cal.settles_from(period),
        first_period=_first_period(d),
        settled_through=d.uow.settlement.settled_through(),
    )


def preview(d: Deps, period: str, now: datetime) -> dict[str, Any]:
    """What settling `period` now would pay (per line, and totals per currency), and, when it cannot
    be settled yet, why, in words."""
    settled = d.uow.settlement.batch(period)
    why = None if settled is not None else blocked(d, period, now)
    if why is not None and why.code in ("no_plan", "before_program"):
        return {
            "period": period,
            "dry_run": True,
            "settled": False,
            "blocked": why.as_dict(),
            "lines": [],
            "totals": {},
        }
    result = dry_run(d, period, now)
    rows = result["lines"]
    totals = fr.totals_by_currency(
        Line(
            period,
            r["partner_id"],
            r["currency"],
            r["commissions_minor"],
            r["bonuses_minor"],
            r["clawbacks_minor"],
            r["adjustments_minor"],
            r["entries"],
            r["carried_in_minor"],
            r["payout_minor"],
            r["carried_out_minor"],
        )
        for r in rows
    )
    return {**result, "blocked": why.as_dict() if why else None, "totals": totals}


def periods(d: Deps, now: datetime) -> dict[str, Any]:
    """The periods finance may look at: from the program's first (its first plan) to the current
    one, newest first, each with its batch's status and whether it can be settled now."""
    first = _first_period(d)
    if first is None:
        return {"first": None, "periods": []}
    current = d.cal.period_of(now)
    batches = {b["period"]: b for b in d.uow.settlement.batches()}
    out = []
    for p in fr.periods_between(first, current):
        why = None if p in batches else blocked(d, p, now)
        out.append(
            {
                "period": p,
                "batch_status": (batches.get(p) or {}).get("status"),
                "settles_from": d.cal.settles_from(p).isoformat(),
                "blocked": why.as_dict() if why else None,
            }
        )
    done = d.uow.settlement.settled_through()
    return {"first": first, "next_to_settle": next_period(done) if done else first, "periods": out}


# ---- 8. a batch's totals, controls, reconciliation and exports --------------------------------
def summary(d: Deps, period: str) -> dict[str, Any]:
    found = batch(d, period)
    lines = [ln for ln, _ in _lines(d, period)]
    files = {**(found.get("exports") or {})}
    if found.get("payout_file"):
        files["payouts"] = found["payout_file"]
    return {
        "period": period,
        "status": found["status"],
        "plan_version": found.get("plan_version"),
        "created_by": found.get("created_by"),
        "approved_by": found.get("approved_by"),
        "totals": fr.totals_by_currency(lines),
        "control": found.get("control"),
        "reconciliation": found.get("reconciliation"),
        "exports": {name: {k: f.get(k) for k in ("file", "sha256", "bytes", "rows")} for name, f in files.items()},
    }


def verify(d: Deps, period: str) -> dict[str, Any]:
    """Regenerate the batch's exports from the ledger and compare each with the checksum recorded at
    settlement and with the stored file (reads only): which file differs, and from what."""
    recorded = batch(d, period)
    built, _, _ = build_exports(d, period, recorded["plan_version"])
    files: dict[str, dict[str, Any]] = {}
    for name, (f, digest, _, _) in built.items():
        f.close()
        file_name = EXPORTS[name][0]
        try:
            stored: str | None = sha256(d.files.get(export_key(period, file_name)))
        except NotFound:
            stored = None
        want = ((recorded.get("exports") or {}).get(name) or {}).get("sha256")
        files[name] = {
            "file": file_name,
            "recorded": want,
            "regenerated": digest,
            "stored": stored,
            "ok": want == digest == stored,
        }
    differ = sorted(name for name, x in files.items() if not x["ok"])
    return {"period": period, "ok": not differ, "files": files, "differ": differ}
