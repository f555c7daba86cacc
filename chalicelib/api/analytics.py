"""Program KPIs for admin and finance (issue 16): read off aggregates the stream keeps
(services/analytics.py), as JSON or as a CSV download."""

from __future__ import annotations

from chalice import Blueprint, Response

from .. import bootstrap
from ..domain.errors import InvalidInput
from ..services import analytics
from .http import caller, json_response, query, route

bp = Blueprint(__name__)

FINANCE = ("finance", "admin")


def _read(kpi: str) -> dict:
    caller(bp).require(*FINANCE)
    first, last, currency = query(bp, "from"), query(bp, "to"), query(bp, "currency")
    if not first or not last or not currency:
        raise InvalidInput("from, to (YYYY-MM) and currency are required", code="invalid_period")
    with bootstrap.uow() as uow:
        return analytics.kpi(uow, kpi, first, last, currency, bootstrap.now())


@route(bp, "/admin/analytics/{kpi}")
def read(kpi: str):
    """One KPI family (members, partners) for the months from..to, in one currency."""
    return json_response(_read(kpi))


@route(bp, "/admin/analytics/{kpi}/csv")
def read_csv(kpi: str):
    """The same figures as a CSV file."""
    body = analytics.csv_rows(_read(kpi))
    return Response(
        body=body,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="analytics-{kpi}.csv"',
        },
    )
