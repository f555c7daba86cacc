"""Finance: settlement runs (by hand or dry), batches, approval, payouts, exports; and a partner's
mid-period progress towards its bonuses."""

from __future__ import annotations

from chalice import Blueprint, Response

from .. import bootstrap
from ..domain import finance_review as fr
from ..domain.errors import InvalidInput
from ..domain.periods import parse as check_period
from ..observability import logger
from ..services import dashboard, finance
from ..services import progress as progress_svc
from ..services.settlement import batches, preview
from ..services.settlement import review as console
from .guard import trail
from .http import caller, error_body, json_response, parse, query, query_int, route
from .schemas import BatchApproved, BatchPaid, BounceConfirmed, BounceDismissed, PayoutFailed, SettlementRun

bp = Blueprint(__name__)

FINANCE = ("finance", "admin")


@route(bp, "/settlements")
def list_batches():
    caller(bp).require(*FINANCE)
    return json_response({"batches": batches.batches(bootstrap.settlement())})


@route(bp, "/settlements/periods")
def periods():
    """The periods finance may pick: from the program's first plan to now, each with its batch or why it is blocked."""
    caller(bp).require(*FINANCE)
    return json_response(console.periods(bootstrap.settlement(), bootstrap.now()))


@route(bp, "/settlements/run", ("POST",), body=SettlementRun)
def run():
    """Run settlement for a period by hand (default: the oldest past its lock not settled yet), or dry-run it."""
    who = caller(bp).require(*FINANCE)
    req = parse(bp, SettlementRun)
    d, now = bootstrap.settlement(), bootstrap.now()
    period = req.period or finance.next_period(d, now)
    if req.dry_run:
        return json_response(preview.dry_run(d, period, now))
    return json_response(finance.run(d, trail(bp), who, period, now))


@route(bp, "/settlements/{period}")
def show(period: str):
    caller(bp).require(*FINANCE)
    check_period(period)
    return json_response(batches.show(bootstrap.settlement(), period))


@route(bp, "/settlements/{period}/approve", ("POST",), body=BatchApproved)
def approve(period: str):
    """Approve a draft batch (maker-checker); an optional reason is kept in the audit log."""
    who = caller(bp)
    check_period(period)
    req = parse(bp, BatchApproved)
    return json_response(
        finance.approve(bootstrap.settlement(), trail(bp), who, period, bootstrap.now(), reason=req.reason)
    )


@route(bp, "/settlements/{period}/paid", ("POST",), body=BatchPaid)
def paid(period: str):
    """Mark an approved batch paid, with a reason (what the bank confirmed), recorded in the audit log."""
    who = caller(bp)
    check_period(period)
    req = parse(bp, BatchPaid)
    return json_response(finance.mark_paid(bootstrap.settlement(), trail(bp), who, period, req.reason, bootstrap.now()))


PAYOUT = "/settlements/{period}/payouts/{partner_id}/{currency}/failed"


@route(bp, PAYOUT, ("POST",), body=PayoutFailed)
def failed(period: str, partner_id: str, currency: str):
    """Report that a payout bounced (a second finance user confirms it: only then does money move)."""
    who = caller(bp)
    check_period(period)
    req = parse(bp, PayoutFailed)
    return json_response(
        finance.report_bounce(
            bootstrap.settlement(), trail(bp), who, period, partner_id, currency, req.reason, bootstrap.now()
        )
    )


@route(bp, PAYOUT + "/confirm", ("POST",), body=BounceConfirmed)
def confirm_failed(period: str, partner_id: str, currency: str):
    """Confirm a reported bounce, with a reason: the payout is failed and its amount is owed again (next batch)."""
    who = caller(bp)
    check_period(period)
    req = parse(bp, BounceConfirmed)
    return json_response(
        finance.confirm_bounce(
            bootstrap.settlement(), trail(bp), who, period, partner_id, currency, req.reason, bootstrap.now()
        )
    )


@route(bp, PAYOUT + "/dismiss", ("POST",), body=BounceDismissed)
def dismiss_failed(period: str, partner_id: str, currency: str):
    """Withdraw a reported bounce that did not happen (nothing moves)."""
    who = caller(bp)
    check_period(period)
    req = parse(bp, BounceDismissed)
    return json_response(
        finance.dismiss_bounce(
            bootstrap.settlement(), trail(bp), who, period, partner_id, currency, req.reason, bootstrap.now()
        )
    )


@route(bp, "/settlements/{period}/exports/{name}")
def export_link(period: str, name: str):
    """Where to download an export: a short-lived presigned S3 link in AWS, and always the API route."""
    who = caller(bp).require(*FINANCE)
    check_period(period)
    s = bootstrap.settings()
    link = finance.export_link(bootstrap.settlement(), trail(bp), who, period, name, s.export_url_seconds)
    return json_response({**link, "download": f"/settlements/{period}/exports/{name}/content"})


@route(bp, "/settlements/{period}/exports/{name}/content")
def export_content(period: str, name: str):
    who = caller(bp).require(*FINANCE)
    check_period(period)
    try:
        meta, data = finance.download(bootstrap.settlement(), trail(bp), who, period, name)
    except finance.CorruptExport:
        # Our storage failed us, not the caller: a 5xx, and never the corrupt bytes.
        logger.error("export checksum mismatch", extra={"period": period, "export": name})
        return json_response(
            error_body(
                "export_corrupt", "the stored export does not match its recorded checksum; finance has been alerted"
            ),
            500,
        )
    content_type = "application/json" if meta["file"].endswith(".json") else "text/csv; charset=utf-8"
    return Response(
        body=data.decode("utf-8"),
        status_code=200,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{period}-{meta["file"]}"',
            "X-Content-SHA256": meta["sha256"],
            "Cache-Control": "no-store",
        },
    )


@route(bp, "/partners/{partner_id}/progress")
def progress(partner_id: str):
    """Mid-period: volume, next tier and what it needs, target, and the bonus if the period closed now."""
    caller(bp).require_partner(partner_id)
    d = bootstrap.settlement()
    return json_response(progress_svc.progress(d, partner_id, _period_param(d), bootstrap.now()))


@route(bp, "/settlements/{period}/lines/{partner_id}/entries")
def line_entries(period: str, partner_id: str):
    """Drill-down: the ledger entries one partner's payout in a batch is made of, with bonus traces."""
    caller(bp).require(*FINANCE)
    check_period(period)
    d = bootstrap.settlement()
    return json_response(
        {
            "period": period,
            "partner_id": partner_id,
            "entries": [
                {
                    "entry_id": e.entry_id,
                    "kind": e.kind,
                    "order_id": e.order_id,
                    "level": e.level,
                    "currency": e.currency,
                    "amount_minor": e.amount_minor,
                    "period": e.period,
                    "plan_version": e.plan_version,
                    "rate_bps": e.rate_bps,
                    "reverses": e.reverses,
                    "trace": e.trace,
                }
                for e in batches.entries_of_line(d, period, partner_id)
            ],
        }
    )


def _period_param(d) -> str:
    period = query(bp, "period") or d.cal.period_of(bootstrap.now())
    check_period(period)
    return period


@route(bp, "/partners/{partner_id}/funnel")
def funnel(partner_id: str):
    caller(bp).require_partner(partner_id)
    d = bootstrap.settlement()
    return json_response(dashboard.funnel(d, partner_id, _period_param(d)))


@route(bp, "/partners/{partner_id}/earnings")
def earnings(partner_id: str):
    caller(bp).require_partner(partner_id)
    return json_response(dashboard.earnings_by_month(bootstrap.settlement(), partner_id, bootstrap.now()))


@route(bp, "/partners/{partner_id}/payouts")
def partner_payouts(partner_id: str):
    caller(bp).require_partner(partner_id)
    return json_response(dashboard.payouts(bootstrap.settlement(), partner_id))


@route(bp, "/partners/{partner_id}/payouts/{period}/statement")
def statement(partner_id: str, period: str):
    """A partner's own export for one settlement: every entry its payout in that batch was made of."""
    caller(bp).require_partner(partner_id)
    check_period(period)
    d = bootstrap.settlement()
    body = dashboard.statement_csv(d, partner_id, period)
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{period}-{partner_id}-statement.csv"',
        },
    )


# ---- the finance console ------------------------------------------------------------------------
def _thresholds() -> tuple[int, int]:
    s = bootstrap.settings()
    return s.finance_review_threshold_bps, s.finance_review_threshold_minor


@route(bp, "/orders/{order_id}")
def order(order_id: str):
    """An order with every ledger entry it produced across partners, each with its trace."""
    caller(bp).require(*FINANCE)
    return json_response(console.order_view(bootstrap.settlement(), order_id, bootstrap.now()))


@route(bp, "/partners/{partner_id}/periods")
def partner_periods(partner_id: str):
    """A partner's volume and settlement lines per period, and the balance it carries now."""
    caller(bp).require(*FINANCE)
    return json_response(console.partner_periods(bootstrap.settlement(), partner_id))


@route(bp, "/settlements/{period}/ledger")
def period_ledger(period: str):
    """The entries a period settles, paged (cursor), filterable by partner, kind and currency."""
    caller(bp).require(*FINANCE)
    check_period(period)
    return json_response(
        console.period_ledger(
            bootstrap.settlement(),
            period,
            partner_id=query(bp, "partner"),
            kind=query(bp, "kind"),
            currency=query(bp, "currency"),
            cursor=query(bp, "cursor"),
            limit=query_int(bp, "limit", 1, 500) or console.LEDGER_PAGE,
        )
    )


def _flag(name: str) -> bool | None:
    raw = query(bp, name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise InvalidInput(f"{name} must be true or false")
    return raw == "true"


@route(bp, "/settlements/{period}/payouts")
def payouts(period: str):
    """A batch's payout lines: sorted, filtered, searched and paged on the server."""
    caller(bp).require(*FINANCE)
    check_period(period)
    sort = query(bp, "sort") or "partner_id"
    if sort not in fr.SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(fr.SORTS)}")
    currency = query(bp, "currency")
    q = fr.PayoutQuery(
        sort=sort,
        descending=_flag("desc") or False,
        status=frozenset(s for s in (query(bp, "status") or "").split(",") if s),
        currency=currency.upper() if currency else None,
        min_minor=query_int(bp, "min", 0, 10**15),
        max_minor=query_int(bp, "max", 0, 10**15),
        flagged=_flag("flagged"),
        search=(query(bp, "q") or "").strip()[:100] or None,
    )
    bps, minor = _thresholds()
    return json_response(
        console.payout_list(
            bootstrap.settlement(),
            period,
            q,
            query(bp, "cursor"),
            bps,
            minor,
            limit=query_int(bp, "limit", 1, 500) or console.PAYOUT_PAGE,
        )
    )


@route(bp, "/settlements/{period}/compare")
def compare(period: str):
    """Each partner's payout against the previous period's: changes, new and missing, largest, flagged."""
    caller(bp).require(*FINANCE)
    check_period(period)
    return json_response(console.compare_view(bootstrap.settlement(), period, *_thresholds()))


@route(bp, "/settlements/{period}/preview")
def preview_period(period: str):
    """What settling the period now would pay, per line and per currency, or why it cannot be settled yet."""
    caller(bp).require(*FINANCE)
    check_period(period)
    return json_response(console.preview(bootstrap.settlement(), period, bootstrap.now()))


@route(bp, "/settlements/{period}/summary")
def summary(period: str):
    """A batch's totals per currency, control totals, reconciliation and export checksums."""
    caller(bp).require(*FINANCE)
    check_period(period)
    return json_response(console.summary(bootstrap.settlement(), period))


@route(bp, "/settlements/{period}/exports/verify", ("POST",))
def verify_exports(period: str):
    """Regenerate the batch's exports and compare checksums (reads only); names any file that differs."""
    who = caller(bp).require(*FINANCE)
    check_period(period)
    result = console.verify(bootstrap.settlement(), period)
    trail(bp).record(who, "export.verify", f"period:{period}", None, {"ok": result["ok"], "differ": result["differ"]})
    return json_response(result)
