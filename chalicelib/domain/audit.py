"""What an audit record says happened: the rule the audit writer applies to every audited action.

A request that changed something is recorded as `changed`, with the state before and after. A
request that changed nothing (a retry, a second click, the same value set again) is still recorded
— who asked, and when, is worth keeping, and it is the trace of an attempt — but as `no_change`, so
the log never shows ten actions for one. Reads of sensitive data (export links and downloads) are
recorded as `read`: each one is an event of its own, never a repeat.
"""

from __future__ import annotations

import json
from typing import Any

CHANGED, NO_CHANGE, READ = "changed", "no_change", "read"
READS = frozenset({"export.link", "export.download"})


def canonical(state: Any) -> str:
    """A state as the audit log stores it (and compares it)."""
    return json.dumps(state, sort_keys=True, default=str)


def outcome(action: str, before: Any, after: Any) -> str:
    if action in READS:
        return READ
    return NO_CHANGE if canonical(before) == canonical(after) else CHANGED


def matches(record: Any, actor: str | None, action: str | None) -> bool:
    """Whether an audit record passes the log's filters: the actor exactly; the action exactly, or
    a family of actions by its first part (`partner` matches `partner.enrol` and `partner.move`)."""
    if actor is not None and record.get("actor") != actor:
        return False
    if action is not None:
        took = str(record.get("action", ""))
        return took == action or took.startswith(action + ".")
    return True
