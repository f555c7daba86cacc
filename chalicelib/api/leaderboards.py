"""Leaderboards: a partner's or member's view (the top rows, names masked, and its own rank), staff's
full boards, and the opt-out each sets on its own item. Boards are read from the cache the
scheduled job builds (services/leaderboards.py); no request builds one."""

from __future__ import annotations

from chalice import Blueprint
from pydantic import StrictBool

from .. import bootstrap
from ..domain import leaderboards as lb
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.members import MEMBER_ID_RE
from ..domain.periods import parse as check_period
from ..services import leaderboards as svc
from .http import caller, json_response, parse, query, query_int, route
from .schemas import Body

bp = Blueprint(__name__)


class LeaderboardPreferences(Body):
    leaderboard_opt_out: StrictBool


def _period() -> str:
    period = query(bp, "period") or bootstrap.settings().calendar.period_of(bootstrap.now())
    check_period(period)
    return period


def _currency() -> str | None:
    cur = query(bp, "currency")
    if cur is not None and cur not in bootstrap.settings().currencies:
        raise InvalidInput(f"currency is one of {', '.join(bootstrap.settings().currencies)}", code="invalid_currency")
    return cur


def _default_currency() -> str:
    return bootstrap.settings().currencies[0]


@route(bp, "/partners/{partner_id}/leaderboard")
def partner_board(partner_id: str):
    """`?board=partner_sales|partner_team_sales|partner_recruits&period=YYYY-MM&currency=&top=`."""
    caller(bp).require_partner(partner_id)
    board = lb.check_board(query(bp, "board") or lb.PARTNER_SALES, lb.PARTNER_BOARDS)
    top = query_int(bp, "top", 1, lb.MAX_TOP) or lb.TOP_N
    body = svc.for_subject(bootstrap.uow(), board, _period(), _currency(), _default_currency(), partner_id, top)
    return json_response(body)


@route(bp, "/members/{member_id}/leaderboard")
def member_board(member_id: str):
    """`?period=YYYY-MM&top=`: members by successful invites."""
    who = caller(bp)
    if not (who.role == "admin" or (who.role == "member" and who.member_id == member_id)):
        raise Forbidden("you can only see your own records")
    if not MEMBER_ID_RE.match(member_id):
        raise NotFound(f"no member {member_id[:40]}", code="unknown_member")
    top = query_int(bp, "top", 1, lb.MAX_TOP) or lb.TOP_N
    body = svc.for_subject(bootstrap.uow(), lb.MEMBER_INVITES, _period(), None, _default_currency(), member_id, top)
    return json_response(body)


@route(bp, "/admin/leaderboards/{board}")
def full_board(board: str):
    """`?period=YYYY-MM&currency=`: every row, with ids and names as stored and as shown."""
    caller(bp).require("admin", "finance")
    lb.check_board(board)
    return json_response(svc.full(bootstrap.uow(), board, _period(), _currency(), _default_currency()))


@route(bp, "/partners/{partner_id}/preferences", ("PUT",), body=LeaderboardPreferences)
def partner_preferences(partner_id: str):
    """A partner leaves the leaderboards (or comes back) from the next build on."""
    caller(bp).require_partner(partner_id)
    req = parse(bp, LeaderboardPreferences)
    if not bootstrap.uow().leaderboards.set_partner_opt_out(partner_id, req.leaderboard_opt_out):
        raise NotFound(f"no partner {partner_id[:40]}", code="unknown_partner")
    return json_response({"partner_id": partner_id, "leaderboard_opt_out": req.leaderboard_opt_out})


@route(bp, "/members/{member_id}/preferences", ("PUT",), body=LeaderboardPreferences)
def member_preferences(member_id: str):
    who = caller(bp)
    if not (who.role == "admin" or (who.role == "member" and who.member_id == member_id)):
        raise Forbidden("you can only change your own preferences")
    if not MEMBER_ID_RE.match(member_id):
        raise NotFound(f"no member {member_id[:40]}", code="unknown_member")
    req = parse(bp, LeaderboardPreferences)
    if not bootstrap.uow().leaderboards.set_member_opt_out(member_id, req.leaderboard_opt_out):
        raise NotFound(f"no member {member_id[:40]}", code="unknown_member")
    return json_response({"member_id": member_id, "leaderboard_opt_out": req.leaderboard_opt_out})
