"""The audit trail: the one writer of audit records, for every entry point. The API's handlers, the
CLI and the scheduled jobs all record through it, so an action leaves the same record (who, in which
role, what, on which target, the state before and after, and whether anything changed) whoever took
it and however they reached the program."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..auth import Principal
from ..store.review import AuditRecord
from ..store.uow import UnitOfWork, Write


@dataclass(frozen=True)
class AuditTrail:
    uow: UnitOfWork
    clock: Callable[[], datetime]
    request_id: str | None = None  # the API request, the CLI invocation or the job run it came from

    def record(self, who: Principal, action: str, target: str, before: Any, after: Any) -> None:
        """Append who did what to which record, after the action committed (for actions whose
        service commits several transactions of its own)."""
        self.uow.write(self.op(who, action, target, before, after))

    def op(self, who: Principal, action: str, target: str, before: Any, after: Any) -> Write:
        """The same record as a write, for services that commit it with their change."""
        return self.uow.review.audit(
            AuditRecord(who.subject, who.role, action, target, before, after, self.clock(), self.request_id)
        )
