"""Every PK/SK in the table is built here, and only here."""
from __future__ import annotations

Key = tuple[str, str]

PROFILE, LEDGER_PREFIX, DOWNLINE_PREFIX = "PROFILE", "ENTRY#", "DOWN#"


def partner(partner_id: str) -> Key:
    return (f"PARTNER#{partner_id}", PROFILE)


def code(code: str) -> Key:
    # Partner codes and link codes share one namespace, so /r/{code} resolves either.
    return (f"CODE#{code.upper()}", "CODE")


def click(click_id: str) -> Key:
    return (f"CLICK#{click_id}", "CLICK")


def binding(customer_hash: str) -> Key:
    return (f"CUSTOMER#{customer_hash}", "BINDING")


def order(order_id: str) -> Key:
    return (f"ORDER#{order_id}", "ORDER")


def refund(order_id: str, refund_id: str) -> Key:
    return (f"ORDER#{order_id}", f"REFUND#{refund_id}")


def entry(partner_id: str, entry_id: str) -> Key:
    return (f"PARTNER#{partner_id}", f"{LEDGER_PREFIX}{entry_id}")


def downline_edge(ancestor_id: str, level: int, partner_id: str) -> Key:
    return (f"PARTNER#{ancestor_id}", downline_level_prefix(level) + partner_id)


def downline_level_prefix(level: int) -> str:
    return f"{DOWNLINE_PREFIX}{level:02d}#"


def plans() -> Key:
    return ("PROGRAM", "PLANS")


def plan_version(version: int) -> Key:
    return ("PROGRAM", f"PLAN#{version:06d}")


# GSI1: time-ordered lists per owner.
def partner_links_index(partner_id: str) -> str:
    return f"LINKS#{partner_id}"


def partner_clicks_index(partner_id: str) -> str:
    return f"CLICKS#{partner_id}"


def partner_ledger_index(partner_id: str) -> str:
    return f"LEDGER#{partner_id}"


PARTNERS_INDEX = "PARTNERS"


# ---- members (issue 4): profiles, invite codes, rewards, ledger, coupons, outbox -----------------
# Everything a member owns shares its partition, so one Query reads a member's whole state.
MEMBER_PROFILE = "PROFILE"
MEMBER_REWARD, MEMBER_ENTRY, MEMBER_REDEMPTION = "REWARD#", "RLEDGER#", "REDEEM#"
MEMBER_REFUSAL, MEMBER_OUTBOX = "REFUSAL#", "OUTBOX#"


def member_pk(member_id: str) -> str:
    return f"MEMBER#{member_id}"


def member(member_id: str) -> Key:
    return (member_pk(member_id), MEMBER_PROFILE)


def member_reward(advocate_id: str, reward_id: str) -> Key:
    return (member_pk(advocate_id), f"{MEMBER_REWARD}{reward_id}")


def member_entry(member_id: str, entry_id: str) -> Key:
    return (member_pk(member_id), f"{MEMBER_ENTRY}{entry_id}")


def member_redemption(member_id: str, redemption_id: str) -> Key:
    return (member_pk(member_id), f"{MEMBER_REDEMPTION}{redemption_id}")


def member_refusal(member_id: str, refusal_id: str) -> Key:
    return (member_pk(member_id), f"{MEMBER_REFUSAL}{refusal_id}")


def member_outbox(member_id: str, event_id: str) -> Key:
    return (member_pk(member_id), f"{MEMBER_OUTBOX}{event_id}")


def invite_code(code: str) -> Key:
    # Not the CODE# namespace: /r/{code} never sees member invite codes.
    return (f"INVITE#{code.upper()}", "INVITE")


def identity_claim(kind: str, value_hash: str) -> Key:
    """Which member first registered this email, phone or card hash."""
    return (f"IDENT#{kind}#{value_hash}", "IDENT")


def coupon(code: str) -> Key:
    return (f"COUPON#{code.upper()}", "COUPON")


def reward_programs() -> Key:
    return ("PROGRAM", "REWARDS")


def reward_program_version(version: int) -> Key:
    return ("PROGRAM", f"REWARDS#{version:06d}")


def member_coupons_index(member_id: str) -> str:
    return f"COUPONS#{member_id}"


MEMBERS_INDEX, REFUSALS_INDEX, OUTBOX_INDEX = "MEMBERS", "REFUSALS", "OUTBOX"
