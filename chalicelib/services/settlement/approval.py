"""Finance's sign-off on a batch: draft → approved (by someone other than its makers; the payout
provider's file is issued then) → paid. `services/finance.py` audits each of these steps."""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import Any

from ...auth import Principal
from ...domain.actors import same_person
from ...domain.errors import Conflict
from ...domain.maker_checker import require_checker
from ...domain.settlement import APPROVED, DRAFT, PAID, RECONCILIATION_FAILED
from ...payouts import Payout, provider
from ...store.files import sha256
from .batches import batch
from .close import finish_closing
from .deps import Deps
from .exports import export_key


def approve(d: Deps, period: str, who: Principal, now: datetime) -> dict[str, Any]:
    """Maker-checker: a finance user other than the batch's maker approves it; the payout provider's
    file is produced at that moment."""
    who.require("finance")
    found = batch(d, period)
    if found["status"] == APPROVED and same_person(found.get("approved_by"), who.subject):
        return found  # a retried approval
    if found["status"] == RECONCILIATION_FAILED:
        raise Conflict("this batch did not reconcile; it cannot be approved", code="reconciliation_failed")
    if found["status"] != DRAFT:
        raise Conflict(f"the batch is {found['status']}, not draft", code="invalid_state")
    require_checker(
        who.subject,
        [found["created_by"], found["changed_by"], *found.get("touched_by", [])],
        "You prepared or worked on this batch; a second finance user must approve it.",
    )
    finish_closing(d, period, now)  # never pay out of a period that is not closed
    p = provider(d.payout_provider)
    payouts = [
        Payout(
            line.payout_id, period, line.partner_id, details.get("partner_name", ""), line.currency, line.payout_minor
        )
        for line, details in d.uow.settlement.lines(period)
        if line.payout_minor > 0
    ]
    data = p.issue(payouts)
    with tempfile.TemporaryFile() as f:
        f.write(data)
        d.files.put(export_key(period, p.file_name), f, p.content_type)
    payout_file = {
        "file": p.file_name,
        "provider": p.name,
        "sha256": sha256(data),
        "bytes": len(data),
        "rows": len(payouts),
    }
    if not d.uow.settlement.transition(
        period, DRAFT, APPROVED, who.subject, now, {"payout_file": payout_file}
    ) and not _done_by(d, period, APPROVED, who):
        raise Conflict("the batch changed while approving; reload it", code="invalid_state")
    d.uow.settlement.add_event(
        period,
        f"{now.strftime('%Y%m%dT%H%M%S%f')}#approved",
        {"event": "approved", "by": who.subject, "at": now.isoformat()},
    )
    return batch(d, period)


def _done_by(d: Deps, period: str, status: str, who: Principal) -> bool:
    """After a failed conditional transition: did this very call make it (its reply was lost and the
    retry found the batch already moved), rather than someone else?"""
    found = batch(d, period)
    return found["status"] == status and same_person(found.get(f"{status}_by"), who.subject)


def mark_paid(d: Deps, period: str, who: Principal, now: datetime, reason: str = "") -> dict[str, Any]:
    """The bank confirmed the batch: every payout not marked failed is paid. `reason` (what the
    bank confirmed) is kept on the batch and its event."""
    who.require("finance")
    found = batch(d, period)
    if found["status"] == PAID:
        return found
    if found["status"] != APPROVED:
        raise Conflict(
            f"only an approved batch can be marked paid; this one is {found['status']}", code="invalid_state"
        )
    extra = {"paid_reason": reason} if reason else None
    if not d.uow.settlement.transition(period, APPROVED, PAID, who.subject, now, extra) and not _done_by(
        d, period, PAID, who
    ):
        raise Conflict("the batch changed; reload it", code="invalid_state")
    d.uow.settlement.add_event(
        period,
        f"{now.strftime('%Y%m%dT%H%M%S%f')}#paid",
        {"event": "paid", "by": who.subject, "at": now.isoformat(), **({"reason": reason} if reason else {})},
    )
    return batch(d, period)
