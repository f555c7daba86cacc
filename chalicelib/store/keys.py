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


def link_count(partner_id: str) -> Key:
    """How many links the partner has created (its own item: link creation never touches the profile
    that orders read and check)."""
    return (f"PARTNER#{partner_id}", "LINKCOUNT")


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


def partner_payouts_index(partner_id: str) -> str:
    return f"PAYOUTS#{partner_id}"


PARTNERS_INDEX = "PARTNERS"


# ---- periods and settlement ----------------------------------------------------------------
def period(period_id: str) -> Key:
    return (f"PERIOD#{period_id}", "PERIOD")


def settlement_state() -> Key:
    return ("PROGRAM", "SETTLEMENT")


def partner_period(partner_id: str, period_id: str) -> Key:
    """A partner's volume in one period (sales and refunds per currency): a projection."""
    return (f"PARTNER#{partner_id}", f"PERIOD#{period_id}")


def target(partner_id: str, period_id: str) -> Key:
    return (f"PARTNER#{partner_id}", f"TARGET#{period_id}")


def partner_rank(partner_id: str, period_id: str) -> Key:
    """The rank a partner holds in a period, as evaluated at the previous period's close."""
    return (f"PARTNER#{partner_id}", f"RANK#{period_id}")


def carry(partner_id: str, currency: str) -> Key:
    """The balance a partner carries from its last settlement in a currency."""
    return (f"PARTNER#{partner_id}", f"CARRY#{currency}")


def batch(period_id: str) -> Key:
    return (f"BATCH#{period_id}", "BATCH")


def batch_shard(period_id: str, shard: int) -> Key:
    return (f"BATCH#{period_id}", f"SHARD#{shard:03d}")


def batch_line(period_id: str, partner_id: str, currency: str) -> Key:
    return (f"BATCH#{period_id}", f"LINE#{partner_id}#{currency}")


def batch_event(period_id: str, event_id: str) -> Key:
    return (f"BATCH#{period_id}", f"EVENT#{event_id}")


SHARD_PREFIX, LINE_PREFIX, EVENT_PREFIX = "SHARD#", "LINE#", "EVENT#"


# Settlement work is spread over this many shards (GSI2 partitions and SQS messages). It is part of
# the table's design: entries already written keep the shard they were written with.
SHARDS = 8


# GSI2: a period's settlement work, sharded so no partition runs hot, ordered by partner.
def settle_index(period_id: str, shard: int) -> str:
    return f"SETTLE#{period_id}#{shard:03d}"


def volume_index(period_id: str, shard: int) -> str:
    return f"VOLUME#{period_id}#{shard:03d}"

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

# ---- security (issue 9): abuse counters, identities, fraud holds, audit ---------------------
HOLD_MARKER = "HOLD"  # settles_in of a held entry (domain.ledger.HOLD): no settlement period queries it
HOLDS_PK, AUDIT_PREFIX = "HOLDS", "AUDIT#"


def rate(scope: str, subject_hash: str, window: int) -> Key:
    """A fixed-window counter (TTL'd): `scope` is what is limited, `subject_hash` who (hashed)."""
    return (f"RATE#{scope}#{subject_hash}#{window}", "RATE")


def identity(identity_hash: str) -> Key:
    """A partner's hashed email, phone, payment fingerprint or customer id -> the partner."""
    return (f"IDENTITY#{identity_hash}", "IDENTITY")


def hold(order_id: str) -> Key:
    """An order whose commissions wait for review (listed under one partition for admins)."""
    return (HOLDS_PK, f"ORDER#{order_id}")


def audit(day: str, at_and_id: str) -> Key:
    """Append-only audit records, one partition per UTC day (`AUDIT#` is what backups look for)."""
    return (f"{AUDIT_PREFIX}{day}", at_and_id)
