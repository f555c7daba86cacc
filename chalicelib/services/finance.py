"""Finance actions as a person (or the schedule) takes them. The API's handlers, the CLI and the
daily job all call these, so each action is checked by the same rule (the settlement services'
role and maker-checker checks, with identities compared by `domain.actors`) and leaves the same
audit record, whichever way it was reached."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..auth import Principal
from ..domain.errors import NotFound
from ..store.files import sha256
from . import bounces
from .audit import AuditTrail
from .settlement import approval, close
from .settlement.batches import show
from .settlement.deps import Deps
from .settlement.exports import export_key

RUNNERS = ("finance", "admin", "system")  # who may run a settlement (the access matrix's rule, and the schedule)


class CorruptExport(Exception):
    """A stored export does not match its recorded checksum: our storage failed, not the caller."""


def status_of(batch: Any) -> dict[str, Any]:
    """What an audit record keeps of a batch: its state, not its lines."""
    batch = batch.get("batch", batch) if isinstance(batch, dict) else {}
    return {k: batch.get(k) for k in ("period", "status", "approved_by", "paid_at") if k in batch}


def _batch_status(d: Deps, period: str) -> dict[str, Any]:
    return status_of(d.uow.settlement.batch(period) or {})


def next_period(d: Deps, now: datetime) -> str:
    """The period a settlement run without one settles: the oldest past its lock not settled yet
    (periods are settled in order), else the latest past its lock (which shows its batch)."""
    todo = close.periods_to_close(d, now)
    return todo[0] if todo else d.cal.last_closeable(now)


def run(d: Deps, trail: AuditTrail, who: Principal, period: str, now: datetime) -> dict[str, Any]:
    """Settle one period (or finish settling it)."""
    who.require(*RUNNERS)
    before = _batch_status(d, period)
    result = close.close_period(d, period, now, who.subject)
    trail.record(who, "settlement.run", f"period:{period}", before, status_of(result))
    return result


def run_daily(d: Deps, trail: AuditTrail, who: Principal, now: datetime) -> list[dict[str, Any]]:
    """The scheduled run: every period past its lock, in order; each period it worked on is audited."""
    who.require(*RUNNERS)
    results = close.run_daily(d, now, by=who.subject)
    for r in results:
        trail.record(who, "settlement.run", f"period:{r['period']}", None, _batch_status(d, r["period"]))
    return results


def approve(d: Deps, trail: AuditTrail, who: Principal, period: str, now: datetime, reason: str = "") -> dict[str, Any]:
    before = _batch_status(d, period)
    result = approval.approve(d, period, who, now)
    after = _batch_status(d, period)
    if reason and after != before:
        after = {**after, "reason": reason}
    trail.record(who, "settlement.approve", f"period:{period}", before, after)
    return result


def mark_paid(d: Deps, trail: AuditTrail, who: Principal, period: str, reason: str, now: datetime) -> dict[str, Any]:
    """The bank paid the batch; `reason` (what the bank confirmed) is kept with it and in the audit log."""
    before = _batch_status(d, period)
    result = approval.mark_paid(d, period, who, now, reason)
    trail.record(who, "settlement.paid", f"period:{period}", before, {**_batch_status(d, period), "reason": reason})
    return result


def _bounce_audit(
    trail: AuditTrail, who: Principal, action: str, period: str, partner_id: str, currency: str, reason: str = ""
):
    """The audit record a bounce step commits with its change (before and after: the bounce, and
    the reason this step was given)."""
    target = f"payout:{period}:{partner_id}:{currency}"
    # A step that changed nothing (a retry) is recorded as changing nothing: the reason rides only on a change.
    return lambda before, after: trail.op(
        who, action, target, before, {**after, "reason": reason} if reason and after != before else after
    )


def report_bounce(
    d: Deps, trail: AuditTrail, who: Principal, period: str, partner_id: str, currency: str, reason: str, now: datetime
) -> dict[str, Any]:
    """A payout came back: recorded, for a second finance user to confirm. No money moves."""
    return bounces.report(
        d,
        period,
        partner_id,
        currency,
        reason,
        who,
        now,
        _bounce_audit(trail, who, "payout.bounce_reported", period, partner_id, currency),
    )


def confirm_bounce(
    d: Deps,
    trail: AuditTrail,
    who: Principal,
    period: str,
    partner_id: str,
    currency: str,
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """A second finance user confirms a reported bounce, saying why: the payout is failed and owed again."""
    return bounces.confirm(
        d,
        period,
        partner_id,
        currency,
        who,
        now,
        _bounce_audit(trail, who, "payout.failed", period, partner_id, currency, reason),
        reason,
    )


def dismiss_bounce(
    d: Deps, trail: AuditTrail, who: Principal, period: str, partner_id: str, currency: str, reason: str, now: datetime
) -> dict[str, Any]:
    """Withdraw a reported bounce that did not happen (nothing moves)."""
    return bounces.dismiss(
        d,
        period,
        partner_id,
        currency,
        reason,
        who,
        now,
        _bounce_audit(trail, who, "payout.bounce_dismissed", period, partner_id, currency),
    )


def export_meta(d: Deps, period: str, name: str) -> tuple[dict[str, Any], str]:
    """An export's record on its batch (file, checksum, size) and its storage key."""
    batch = show(d, period)["batch"]
    files = {**(batch.get("exports") or {})}
    if batch.get("payout_file"):
        files["payouts"] = batch["payout_file"]
    if name not in files:
        raise NotFound(
            f"no export {name!r} for {period}; there are: {', '.join(sorted(files)) or 'none yet'}",
            code="unknown_export",
        )
    return files[name], export_key(period, files[name]["file"])


def export_link(d: Deps, trail: AuditTrail, who: Principal, period: str, name: str, seconds: int) -> dict[str, Any]:
    """Where to download an export: a short-lived link (presigned in S3), recorded as handed out."""
    who.require("finance", "admin")
    meta, key = export_meta(d, period, name)
    trail.record(who, "export.link", f"export:{period}:{name}", None, {"sha256": meta["sha256"]})
    return {**meta, "url": d.files.url(key, seconds), "expires_in": seconds}


def download(d: Deps, trail: AuditTrail, who: Principal, period: str, name: str) -> tuple[dict[str, Any], bytes]:
    """An export's bytes, checked against the checksum recorded at settlement; never corrupt bytes."""
    who.require("finance", "admin")
    meta, key = export_meta(d, period, name)
    data = d.files.get(key)
    if sha256(data) != meta["sha256"]:
        raise CorruptExport(f"the stored export {period}/{meta['file']} does not match its recorded checksum")
    trail.record(who, "export.download", f"export:{period}:{name}", None, {"sha256": meta["sha256"]})
    return meta, data
