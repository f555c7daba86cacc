"""Members: the shop registers them (signed, like its order webhook); members read their rewards,
tier and coupons and redeem (JWT role `member` naming its `member_id`); admins run the program."""

from __future__ import annotations

from chalice import Blueprint, Response

from .. import bootstrap
from ..auth import Principal
from ..domain import urls
from ..domain.errors import Forbidden, NotFound
from ..domain.members import MEMBER_ID_RE, check_invite_code
from ..domain.notifications import QuietHours, check_tz, parse_hhmm
from ..domain.rewards import Reward
from ..domain.tiers import TierProgram, TierRule
from ..security import email_hash, keyed_hash
from ..services import members as svc
from ..store.items import iso
from .compliance import refuse_join_fee
from .http import caller, fingerprint, json_response, parse, query_int, route
from .member_schemas import RedeemIn, RegisterMember, RewardProgramIn
from .webhooks import _verified_body

bp = Blueprint(__name__)

INVITE_PARAM = "upline_invite"


def _own(who: Principal, member_id: str) -> None:
    """A member may act only on itself; an admin on anyone."""
    if not (who.role == "admin" or (who.role == "member" and who.member_id == member_id)):
        raise Forbidden("you can only see your own records")
    if not MEMBER_ID_RE.match(member_id):
        raise NotFound(f"no member {member_id[:40]}", code="unknown_member")


@route(bp, "/webhooks/members", ("POST",), body=RegisterMember)
def register():
    body = _verified_body()
    req = parse(bp, RegisterMember, body)
    pepper = bootstrap.settings().hash_pepper

    def h(value: str | None) -> str | None:
        return keyed_hash(pepper, value) if value else None

    cmd = svc.RegisterCommand(
        # the body holds the raw email: its fingerprint is keyed too, so it cannot be brute-forced back
        customer_hash=keyed_hash(pepper, req.customer_id),
        fingerprint=keyed_hash(pepper, fingerprint(req)),
        email_hash=email_hash(pepper, req.email),
        phone_hash=h(req.phone),
        payment_hash=h(req.payment_fingerprint),
        invite_code=check_invite_code(req.invite_code) if req.invite_code else None,
        quiet=QuietHours(check_tz(req.time_zone), parse_hhmm(req.quiet_start), parse_hhmm(req.quiet_end)),
    )
    with bootstrap.uow() as uow:
        view, created = svc.register(uow, cmd, bootstrap.now())
    return json_response(view, 201 if created else 200, {"Idempotent-Replay": "false" if created else "true"})


@route(bp, "/i/{code}")
def invite(code: str):
    """The shareable invite link: a 302 to the shop's sign-up with the code. No click is recorded and
    the partner redirect (/r/{code}) is not involved."""
    if not 4 <= len(code) <= 16 or not code.isalnum():
        raise NotFound("no such invite")
    with bootstrap.uow() as uow:
        if not svc.invite_exists(uow, code):
            raise NotFound("no such invite")
    location = urls.with_param(bootstrap.settings().default_destination, INVITE_PARAM, code.upper())
    return Response(body="", status_code=302, headers={"Location": location, "Cache-Control": "no-store"})


@route(bp, "/members/{member_id}")
def read(member_id: str):
    _own(caller(bp), member_id)
    with bootstrap.uow() as uow:
        return json_response(svc.member(uow, member_id))


@route(bp, "/members/{member_id}/rewards")
def rewards(member_id: str):
    _own(caller(bp), member_id)
    with bootstrap.uow() as uow:
        return json_response(svc.rewards_view(uow, member_id, bootstrap.now()))


@route(bp, "/members/{member_id}/tier")
def tier(member_id: str):
    _own(caller(bp), member_id)
    with bootstrap.uow() as uow:
        return json_response(svc.tier_view(uow, member_id, bootstrap.now()))


@route(bp, "/members/{member_id}/redemptions", ("POST",), body=RedeemIn)
def redeem(member_id: str):
    _own(caller(bp), member_id)
    req = parse(bp, RedeemIn)
    with bootstrap.uow() as uow:
        result, created = svc.redeem(
            uow,
            member_id,
            svc.RedeemCommand(req.redemption_id, req.unit, req.amount, fingerprint(req), req.for_order),
            bootstrap.now(),
        )
    return json_response(result, 201 if created else 200, {"Idempotent-Replay": "false" if created else "true"})


# ---- admin --------------------------------------------------------------------------------------


def program_view(p) -> dict:
    return {
        "version": p.version,
        "effective_from": iso(p.effective_from),
        "currency": p.currency,
        "friend_reward": vars(p.friend_reward),
        "advocate_reward": vars(p.advocate_reward),
        "min_order_minor": p.min_order_minor,
        "holding_days": p.holding_days,
        "expiry_days": p.expiry_days,
        "coupon_days": p.coupon_days,
        "cap_per_month": p.cap_per_month,
        "cap_per_year": p.cap_per_year,
        "point_value_minor": p.point_value_minor,
        "expiry_notice_days": p.expiry_notice_days,
        "tiers": {
            "rules": [vars(r) for r in p.tiers.rules],
            "window_days": p.tiers.window_days,
            "invite_weight": p.tiers.invite_weight,
            "grace_months": p.tiers.grace_months,
            "require_both": p.tiers.require_both,
        },
    }


@route(bp, "/admin/reward-programs", ("POST",), body=RewardProgramIn)
def publish_program():
    who = caller(bp).require("admin")
    refuse_join_fee(bp)
    req = parse(bp, RewardProgramIn)
    now = bootstrap.now()
    t = req.tiers
    tiers = TierProgram(
        rules=tuple(TierRule(**r.model_dump()) for r in t.rules) if t.rules else TierProgram().rules,
        window_days=t.window_days,
        invite_weight=t.invite_weight,
        grace_months=t.grace_months,
        require_both=t.require_both,
    )
    fields = {
        **req.model_dump(exclude={"tiers", "effective_from", "friend_reward", "advocate_reward"}),
        "friend_reward": Reward(**req.friend_reward.model_dump()),
        "advocate_reward": Reward(**req.advocate_reward.model_dump()),
        "tiers": tiers,
        "effective_from": req.effective_from or now,
    }
    with bootstrap.uow() as uow:
        program = svc.publish_program(uow, fields, who.subject, now, bootstrap.settings().compliance_profile)
    return json_response(program_view(program), 201)


@route(bp, "/admin/reward-programs")
def list_programs():
    caller(bp).require("admin", "finance")
    with bootstrap.uow() as uow:
        versions = svc.program_versions(uow)
    return json_response(
        {
            "programs": [program_view(p) for p in versions.items],
            "unreadable": [u.as_dict() for u in versions.unreadable],
        }
    )


@route(bp, "/admin/members/refusals")
def refusals():
    caller(bp).require("admin")
    limit = query_int(bp, "limit", 1, 500) or 100
    with bootstrap.uow() as uow:
        return json_response({"refusals": svc.refusals(uow, limit)})


@route(bp, "/admin/members/outbox")
def outbox():
    """Notifications due now, and those a member's quiet hours hold, each with the time it is due."""
    caller(bp).require("admin")
    limit = query_int(bp, "limit", 1, 500) or 100
    with bootstrap.uow() as uow:
        return json_response(svc.outbox(uow, bootstrap.now(), limit))
