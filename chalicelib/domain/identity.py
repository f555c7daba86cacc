"""People's identifiers before they are hashed: one form per mailbox, so an alias of an address
hashes as the address itself and the self-referral and self-invite checks (which compare hashes)
see through it."""

from __future__ import annotations

import unicodedata

import idna

# Mail providers that deliver `name+anything@` to `name@` (plus addressing). Only these: elsewhere a
# `+` may be part of a real, different mailbox.
PLUS_ADDRESSING = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "yandex.ru",
        "yandex.com",
        "ya.ru",
        "zoho.com",
        "zohomail.com",
    }
)
# Providers that ignore dots in the local part (`m.i.a@` is `mia@`).
DOTS_IGNORED = frozenset({"gmail.com"})
# Domains that are another name for the same mailboxes.
SAME_MAILBOXES = {"googlemail.com": "gmail.com"}


def normalize_email(raw: str) -> str:
    """The canonical form of an e-mail address, for hashing: Unicode-compatibility folded (NFKC, so a
    fullwidth `＠` is `@`), trimmed and lower-cased; the domain in its ASCII (IDNA) form without a
    trailing dot, with googlemail.com as gmail.com; a `+tag` dropped where the provider uses plus
    addressing and dots dropped where it ignores them. Text that is not an address (a shop may send
    its own hash of one) is only folded, trimmed and lower-cased."""
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return text
    domain = _ascii_domain(domain.rstrip("."))
    domain = SAME_MAILBOXES.get(domain, domain)
    if domain in PLUS_ADDRESSING:
        local = local.split("+", 1)[0] or local
    if domain in DOTS_IGNORED:
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def _ascii_domain(domain: str) -> str:
    """The domain as DNS knows it (UTS #46 mapping, then IDNA 2008 punycode); as given if it is not a
    valid domain name: an odd address still hashes, stably, and is never refused for it."""
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return domain
