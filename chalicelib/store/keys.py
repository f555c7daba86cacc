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
