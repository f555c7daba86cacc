"""Finance: settlement runs (by hand or dry), batches, approval, payouts, exports; and a partner's
mid-period progress towards its bonuses."""
from __future__ import annotations

from chalice import Blueprint, Response

from .. import bootstrap
from ..domain.errors import NotFound
from ..domain.periods import parse as check_period
from ..services import bounces, dashboard
from ..services import progress as progress_svc
from ..services import settlement as svc
from ..store.files import sha256
from .guard import audit, audit_op
from ..observability import logger
from .http import caller, error_body, json_response, parse, route
from .schemas import BounceDismissed, PayoutFailed, SettlementRun

bp = Blueprint(__name__)

FINANCE = ("finance", "admin")


@route(bp, "/settlements")
def list_batches():
    caller(bp).require(*FINANCE)
    return json_response({"batches": bootstrap.settlement().store.batches()})


@route(bp, "/settlements/run", ("POST",))
def run():
    """Run settlement for a period by hand (default: the latest one past its lock), or dry-run it."""
    who = caller(bp).require(*FINANCE)
    req = parse(bp, SettlementRun)
    d, now = bootstrap.settlement(), bootstrap.now()
    period = req.period or d.cal.last_closeable(now)
    if req.dry_run:
        return json_response(svc.dry_run(d, period, now))
    before = _batch_status(period)
    result = svc.close_period(d, period, now, who.subject)
    audit(bp, who, "settlement.run", f"period:{period}", before or None, _status(result))
    return json_response(result)


def _status(result) -> dict:
    """What an audit record keeps of a batch: its state, not its lines."""
    batch = result.get("batch", result) if isinstance(result, dict) else {}
    return {k: batch.get(k) for k in ("period", "status", "approved_by", "paid_at") if k in batch}


def _batch_status(period: str) -> dict:
    return _status(bootstrap.settlement().store.batch(period) or {})


@route(bp, "/settlements/{period}")
def show(period: str):
    caller(bp).require(*FINANCE)
    check_period(period)
    return json_response(svc.show(bootstrap.settlement(), period))


@route(bp, "/settlements/{period}/approve", ("POST",))
def approve(period: str):
    who = caller(bp)
    check_period(period)
    before = _batch_status(period)
    result = svc.approve(bootstrap.settlement(), period, who, bootstrap.now())
    audit(bp, who, "settlement.approve", f"period:{period}", before, _batch_status(period))
    return json_response(result)


@route(bp, "/settlements/{period}/paid", ("POST",))
def paid(period: str):
    who = caller(bp)
    check_period(period)
    before = _batch_status(period)
    result = svc.mark_paid(bootstrap.settlement(), period, who, bootstrap.now())
    audit(bp, who, "settlement.paid", f"period:{period}", before, _batch_status(period))
    return json_response(result)


PAYOUT = "/settlements/{period}/payouts/{partner_id}/{currency}/failed"


def _bounce_audit(who, action: str, period: str, partner_id: str, currency: str):
    """The audit record a bounce step commits with its change (before and after: the bounce)."""
    target = f"payout:{period}:{partner_id}:{currency}"
    return lambda before, after: audit_op(bp, who, action, target, before, after)


@route(bp, PAYOUT, ("POST",))
def failed(period: str, partner_id: str, currency: str):
    """Report that a payout bounced (a second finance user confirms it: only then does money move)."""
    who = caller(bp)
    check_period(period)
    req = parse(bp, PayoutFailed)
    return json_response(bounces.report(bootstrap.settlement(), period, partner_id, currency, req.reason, who,
                                        bootstrap.now(), _bounce_audit(who, "payout.bounce_reported", period,
                                                                       partner_id, currency)))


@route(bp, PAYOUT + "/confirm", ("POST",))
def confirm_failed(period: str, partner_id: str, currency: str):
    """Confirm a reported bounce: the payout is failed and its amount is owed again (next batch)."""
    who = caller(bp)
    check_period(period)
    return json_response(bounces.confirm(bootstrap.settlement(), period, partner_id, currency, who,
                                         bootstrap.now(), _bounce_audit(who, "payout.failed", period,
                                                                        partner_id, currency)))


@route(bp, PAYOUT + "/dismiss", ("POST",))
def dismiss_failed(period: str, partner_id: str, currency: str):
    """Withdraw a reported bounce that did not happen (nothing moves)."""
    who = caller(bp)
    check_period(period)
    req = parse(bp, BounceDismissed)
    return json_response(bounces.dismiss(bootstrap.settlement(), period, partner_id, currency, req.reason, who,
                                         bootstrap.now(), _bounce_audit(who, "payout.bounce_dismissed", period,
                                                                        partner_id, currency)))


def _export(period: str, name: str) -> tuple[dict, str]:
    caller(bp).require(*FINANCE)
    check_period(period)
    batch = svc.show(bootstrap.settlement(), period)["batch"]
    files = {**(batch.get("exports") or {})}
    if batch.get("payout_file"):
        files["payouts"] = batch["payout_file"]
    if name not in files:
        raise NotFound(f"no export {name!r} for {period}; there are: {', '.join(sorted(files)) or 'none yet'}",
                       code="unknown_export")
    return files[name], svc.export_key(period, files[name]["file"])


@route(bp, "/settlements/{period}/exports/{name}")
def export_link(period: str, name: str):
    """Where to download an export: a short-lived presigned S3 link in AWS, and always the API route."""
    meta, key = _export(period, name)
    s = bootstrap.settings()
    audit(bp, caller(bp), "export.link", f"export:{period}:{name}", None, {"sha256": meta["sha256"]})
    return json_response({**meta, "url": bootstrap.files().url(key, s.export_url_seconds),
                          "expires_in": s.export_url_seconds,
                          "download": f"/settlements/{period}/exports/{name}/content"})


@route(bp, "/settlements/{period}/exports/{name}/content")
def export_content(period: str, name: str):
    meta, key = _export(period, name)
    data = bootstrap.files().get(key)
    if sha256(data) != meta["sha256"]:
        # Our storage failed us, not the caller: a 5xx, and never the corrupt bytes.
        logger.error("export checksum mismatch", extra={"period": period, "export": name})
        return json_response(error_body("export_corrupt", "the stored export does not match its recorded "
                                        "checksum; finance has been alerted"), 500)
    audit(bp, caller(bp), "export.download", f"export:{period}:{name}", None, {"sha256": meta["sha256"]})
    content_type = "application/json" if meta["file"].endswith(".json") else "text/csv; charset=utf-8"
    return Response(body=data.decode("utf-8"), status_code=200, headers={
        "Content-Type": content_type, "Content-Disposition": f'attachment; filename="{period}-{meta["file"]}"',
        "X-Content-SHA256": meta["sha256"], "Cache-Control": "no-store"})


@route(bp, "/partners/{partner_id}/progress")
def progress(partner_id: str):
    """Mid-period: volume, next tier and what it needs, target, and the bonus if the period closed now."""
    caller(bp).require_partner(partner_id)
    d = bootstrap.settlement()
    return json_response(progress_svc.progress(d, partner_id, _period_param(d)))


@route(bp, "/settlements/{period}/lines/{partner_id}/entries")
def line_entries(period: str, partner_id: str):
    """Drill-down: the ledger entries one partner's payout in a batch is made of, with bonus traces."""
    caller(bp).require(*FINANCE)
    check_period(period)
    d = bootstrap.settlement()
    return json_response({"period": period, "partner_id": partner_id, "entries": [
        {"entry_id": e.entry_id, "kind": e.kind, "order_id": e.order_id, "level": e.level, "currency": e.currency,
         "amount_minor": e.amount_minor, "period": e.period, "plan_version": e.plan_version, "rate_bps": e.rate_bps,
         "reverses": e.reverses, "trace": e.trace} for e in d.store.entries_of_line(period, partner_id)]})


def _period_param(d) -> str:
    period = (bp.current_request.query_params or {}).get("period") or d.cal.period_of(bootstrap.now())
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
    return Response(body=body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{period}-{partner_id}-statement.csv"'})
