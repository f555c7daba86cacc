"""The audit trail: the one writer of audit records, for every entry point. The API's handlers, the
CLI and the scheduled jobs all record through it, so an action leaves the same record (who, in which
role, what, on which target, the state before and after) whoever took it and however they reached
the program."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from ..auth import Principal
from ..store.security import SecurityStore


@dataclass(frozen=True)
class AuditTrail:
    store: SecurityStore
    clock: Callable[[], datetime]
    request_id: str | None = None  # the API request, the CLI invocation or the job run it came from

    def record(self, who: Principal, action: str, target: str, before: Any, after: Any) -> None:
        """Append who did what to which record, after the action committed (for actions whose
        service commits several transactions of its own)."""
        self.store.audit(who.subject, who.role, action, target, before, after, self.clock(),
                         request_id=self.request_id)

    def op(self, who: Principal, action: str, target: str, before: Any, after: Any) -> dict[str, Any]:
        """The same record as a transaction action, for services that commit it with their change."""
        return SecurityStore.audit_op(who.subject, who.role, action, target, before, after, self.clock(),
                                      self.request_id)
