"""Commission plan versions: appended, never edited."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.plans import Plan
from . import keys, ops
from .ops import Update, put_new
from .repository import _plan_from, _plan_item, iso


class PlanRepo:
    def __init__(self, table: Any):
        self.table = table

    def all(self) -> list[Plan]:
        item = self.table.get(keys.plans())
        return [_plan_from(p) for p in (item or {}).get("versions", [])]

    def publish(self, plan: Plan, created_by: str, now: datetime) -> list[ops.TransactOp]:
        """Append a version; the condition on the version count makes concurrent publishes take turns.
        The version item is the claim."""
        existing = plan.version - 1
        return [
            put_new(keys.plan_version(plan.version), {**_plan_item(plan), "created_by": created_by,
                                                      "created_at": iso(now)}),
            Update(keys.plans(), append={"versions": [_plan_item(plan)]},
                   when=ops.Absent("versions") | ops.SizeIs("versions", existing)),
        ]
