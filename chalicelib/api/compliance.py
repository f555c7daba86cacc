"""Compliance: the report of a period's payments against the program's profile, and the check that
refuses a fee to join by name before a body's schema sees it (docs/compliance.md)."""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from .. import bootstrap
from ..domain import compliance
from ..domain.errors import InvalidInput
from ..domain.periods import parse as check_period
from ..services import compliance as svc
from .http import caller, json_response, query, raw_body, route

bp = Blueprint(__name__)


def refuse_join_fee(on: Blueprint) -> None:
    """Under `cn`, a plan or reward program body naming a fee is refused with the rule's name
    (under `default` the body's schema refuses the unknown field as it always has)."""
    try:
        body = json.loads(raw_body(on) or b"{}")
    except ValueError:
        return  # not JSON: the body's own parse says so
    if isinstance(body, dict):
        compliance.enforce(compliance.fee_violations(bootstrap.settings().compliance_profile, body))


@route(bp, "/admin/compliance/report")
def report():
    """`?period=YYYY-MM`, and `&format=csv` for the file."""
    caller(bp).require("admin", "finance")
    period = query(bp, "period")
    if period is None:
        raise InvalidInput("period is required (YYYY-MM)", code="invalid_period")
    check_period(period)
    fmt = query(bp, "format") or "json"
    if fmt not in ("json", "csv"):
        raise InvalidInput("format is json or csv")
    r = svc.report(bootstrap.uow(), period, bootstrap.settings().compliance_profile, bootstrap.now())
    if fmt == "json":
        return json_response(r)
    return Response(
        body=svc.report_csv(r),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{period}-compliance.csv"',
        },
    )
