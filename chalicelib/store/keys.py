"""Every PK/SK in the table is built here, and only here."""

from __future__ import annotations

Key = tuple[str, str]

PROFILE, DOWNLINE_PREFIX = "PROFILE", "DOWN#"


def partner(partner_id: str) -> Key:
    return (f"PARTNER#{partner_id}", PROFILE)


def partner_stats(partner_id: str) -> Key:
    """A partner's running figures: a projection (store/stats.py)."""
    return (f"PARTNER#{partner_id}", "STATS")


def code(code: str) -> Key:
    # Partner codes, link codes and partners' coupon codes share one namespace: a code is unique
    # across the program, and /r/{code} or an order's code resolves to exactly one of them.
    return (f"CODE#{code.upper()}", "CODE")


def coupon_count(partner_id: str) -> Key:
    """How many coupon codes the partner has made itself (its own item, like its link count)."""
    return (f"PARTNER#{partner_id}", "COUPONCOUNT")


def partner_coupons_index(partner_id: str) -> str:
    """GSI1: a partner's coupon codes, newest first."""
    return f"COUPONS#{partner_id}"


def coupon_use(code: str, window: str) -> Key:
    """The distinct customers who used a coupon code within one leak window (written off the order
    path, by the stream's consumer)."""
    return (f"COUPON#{code.upper()}", f"USE#{window}")


def coupon_flag(code: str) -> Key:
    """A coupon code flagged as leaked, for an admin's review."""
    return (f"COUPON#{code.upper()}", "FLAG")


COUPON_FLAGS_INDEX = "COUPONFLAGS"  # GSI1: the flagged codes (rare writes: one per leaked code)


def click(click_id: str) -> Key:
    return (f"CLICK#{click_id}", "CLICK")


def binding(customer_hash: str) -> Key:
    return (f"CUSTOMER#{customer_hash}", "BINDING")


def order(order_id: str) -> Key:
    return (f"ORDER#{order_id}", "ORDER")


def dispute(order_id: str, dispute_id: str) -> Key:
    """A chargeback of the order's payment: what it held, and how it closed."""
    return (f"ORDER#{order_id}", f"DISPUTE#{dispute_id}")


def refund(order_id: str, refund_id: str) -> Key:
    return (f"ORDER#{order_id}", f"REFUND#{refund_id}")


def shop_order(order_id: str) -> Key:
    """What a shop integration recorded beside an order (its provider, how its prices treat tax)."""
    return (f"ORDER#{order_id}", "SHOP")


def shop_subscription(provider: str, subscription_id: str) -> Key:
    """A provider's subscription: when its first paid period started (plans' renewal_months)."""
    return (f"SHOPSUB#{provider}#{subscription_id}", "SUBSCRIPTION")


def shop_payment(provider: str, payment_ref: str) -> Key:
    """A provider's payment (Stripe's payment intent) -> the order it paid, for its refunds and disputes."""
    return (f"SHOPPAY#{provider}#{payment_ref}", "ORDER")


def ledger_pk(partner_id: str, sub: int) -> str:
    """One of a partner's ledger partitions (store/ledger.py spreads a partner over several)."""
    return f"LEDGER#{partner_id}#{sub:02d}"


def ledger_entry(partner_id: str, sub: int, sort_key: str) -> Key:
    """An entry or a sale posting in a partner's ledger partition, sorted by time."""
    return (ledger_pk(partner_id, sub), sort_key)


def link_count(partner_id: str) -> Key:
    """How many links the partner has created (its own item: link creation never touches the profile
    that orders read and check)."""
    return (f"PARTNER#{partner_id}", "LINKCOUNT")


def downline_edge(ancestor_id: str, level: int, partner_id: str) -> Key:
    return (f"PARTNER#{ancestor_id}", downline_level_prefix(level) + partner_id)


def downline_level_prefix(level: int) -> str:
    return f"{DOWNLINE_PREFIX}{level:02d}#"


def tree() -> Key:
    """The tree's move counter: moves take turns, so two cannot make a cycle together."""
    return ("PROGRAM", "TREE")


def plans() -> Key:
    return ("PROGRAM", "PLANS")


def plan_version(version: int) -> Key:
    return ("PROGRAM", f"PLAN#{version:06d}")


# GSI1: time-ordered lists per owner.
def partner_links_index(partner_id: str) -> str:
    return f"LINKS#{partner_id}"


def partner_clicks_index(partner_id: str, sub: int) -> str:
    return f"CLICKS#{partner_id}#{sub:02d}"


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


# GSI2: a period's settlement work, by partner shard and ledger sub-partition, ordered by partner.
def settle_index(period_id: str, shard: int, sub: int) -> str:
    return f"SETTLE#{period_id}#{shard:03d}#{sub:02d}"


def sales_index(period_id: str, shard: int, sub: int) -> str:
    """GSI2: a period's sale postings (orders, refunds, releases), by partner shard and sub-partition."""
    return f"SALES#{period_id}#{shard:03d}#{sub:02d}"


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
# A member's profile is indexed for the daily job's walk, and every order of a member rewrites it:
# one index partition for all of them would take a share of writes that grows with the program.
MEMBER_SUBS = 16


def members_index(sub: int) -> str:
    """GSI1: every member, spread over MEMBER_SUBS partitions (MEMBERS_INDEX: as older releases wrote)."""
    return f"{MEMBERS_INDEX}#{sub:02d}"


# ---- security (issue 9): abuse counters, identities, fraud holds, audit ---------------------
HOLD_MARKER = "HOLD"  # settles_in of a held entry (domain.ledger.HOLD): no settlement period queries it
AUDIT_PREFIX = "AUDIT#"
HOLD_SUBS = 4  # held orders are listed from this many index partitions


def rate(scope: str, subject_hash: str, window: int) -> Key:
    """A fixed-window counter (TTL'd): `scope` is what is limited, `subject_hash` who (hashed)."""
    return (f"RATE#{scope}#{subject_hash}#{window}", "RATE")


def identity(identity_hash: str) -> Key:
    """A partner's hashed email, phone, payment fingerprint or customer id -> the partner."""
    return (f"IDENTITY#{identity_hash}", "IDENTITY")


def hold(order_id: str) -> Key:
    """An order whose commissions wait for review, under the order itself."""
    return (f"ORDER#{order_id}", "HOLD")


def holds_index(sub: int) -> str:
    """GSI1: held orders for the admins' queue, spread over HOLD_SUBS partitions."""
    return f"HOLDS#{sub}"


def audit(day: str, at_and_id: str) -> Key:
    """Append-only audit records, one partition per UTC day (`AUDIT#` is what backups look for)."""
    return (f"{AUDIT_PREFIX}{day}", at_and_id)


# ---- outbound webhooks (issue 14) -----------------------------------------------------------------
WEBHOOK_ENDPOINTS_INDEX = "WEBHOOK_ENDPOINTS"
# A busy endpoint gets a delivery for every order: its log is spread over this many index partitions.
WEBHOOK_LOG_SUBS = 16


def webhook_endpoint(endpoint_id: str) -> Key:
    return (f"WHEP#{endpoint_id}", "ENDPOINT")


def webhook_delivery(delivery_id: str) -> Key:
    """One event for one endpoint: its body, state and attempts (its own item, never shared)."""
    return (f"WHDLV#{delivery_id}", "DELIVERY")


def webhook_log_index(endpoint_id: str, sub: int) -> str:
    """GSI1: an endpoint's deliveries by time, spread over WEBHOOK_LOG_SUBS partitions."""
    return f"WHLOG#{endpoint_id}#{sub:02d}"


# ---- leaderboards (issue 16): one cached board per (board, period, currency) --------------------
LEADERBOARD_HEAD = "HEAD"


def leaderboard(board: str, period_id: str, currency: str) -> Key:
    """A board's head: when it was built, its top rows, and which slot its ranks are in."""
    return (f"BOARD#{board}#{period_id}#{currency}", LEADERBOARD_HEAD)


def leaderboard_ranks(board: str, period_id: str, currency: str, slot: int, chunk: int) -> Key:
    """Every row's rank, spread over chunks by subject id; two slots, so a build never writes the
    slot its head names."""
    return (f"BOARD#{board}#{period_id}#{currency}", f"RANKS#{slot}#{chunk:05d}")


# ---- program analytics (issue 16) ---------------------------------------------------------------
def analytics_person(person_id: str) -> Key:
    """One customer's analytics state (its own item; written only by the stream's consumer)."""
    return (f"APERSON#{person_id}", "ANALYTICS")


def analytics_partner(partner_id: str) -> Key:
    """One partner's analytics state (its own item; written only by the stream's consumer)."""
    return (f"APARTNER#{partner_id}", "ANALYTICS")


def analytics_aggregate(item_id: str) -> Key:
    """An aggregate of domain/analytics.py (`M#2026-03`, `C#USD#2026-03`, `J#2026-03`, `T`...): one
    partition per kind and currency, one item per month, so a KPI for a period reads one item per
    month it shows, whatever the length of the history."""
    scope, _, month = item_id.rpartition("#")
    return (f"AGG#{scope}", month) if scope else (f"AGG#{item_id}", item_id)
