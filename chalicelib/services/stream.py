"""What follows from the table's stream, off the request path: one entry for every runner of the
stream (jobs.project_figures in AWS, the follower of `make run`, the tests' drain), so each runs the
same consumers. Each consumer takes a batch that may repeat or overlap an earlier one and changes
nothing the second time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..config import Settings
from ..store.uow import UnitOfWork
from . import analytics, coupons, projection


def consume(uow: UnitOfWork, records: list[dict[str, Any]], settings: Settings, now: datetime) -> dict[str, Any]:
    """Partners' running figures (services/projection.py), then the coupon leak watch
    (services/coupons.py), then the program's KPI aggregates (services/analytics.py). Returns what
    each did, for the log."""
    moved = projection.project(uow, records)
    flagged = coupons.watch(uow, records, settings.coupon_leak_rule, now)
    analysed = analytics.take_in(uow, records)
    return {"moved": moved, "coupons_flagged": flagged, "analytics_moved": analysed}
