"""Scheduled work for members: once a day, write down what time decided (earned and expired
rewards, cap refusals, expiry reminders, the monthly tier review)."""

from __future__ import annotations

from chalice import Blueprint, Cron

from . import bootstrap
from .observability import logger
from .services import member_settle as svc

bp = Blueprint(__name__)


@bp.schedule(Cron(15, 0, "*", "*", "?", "*"), name="members_daily")
def members_daily(event):
    """00:15 UTC daily. On the first day of a month it is also the tier review."""
    with bootstrap.uow() as uow:
        counts = svc.daily(uow, bootstrap.now())
    logger.info("members_daily", extra=counts)
    return counts
