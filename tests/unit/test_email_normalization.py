"""One canonical form per mailbox before an e-mail is hashed (domain/identity.normalize_email), so
the self-referral and self-invite checks, which compare keyed hashes, see through aliases."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from chalicelib.domain.identity import DOTS_IGNORED, PLUS_ADDRESSING, normalize_email
from chalicelib.security import email_hash, identity_hashes, keyed_hash

PEPPER = "test-pepper"
LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=20)
TAG = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_+", max_size=12)
SPACE = st.sampled_from(["", " ", "  ", "\t", "\n"])
OTHER_DOMAINS = st.sampled_from(["example.com", "shop.example.org", "yahoo.com", "qq.com", "corp.example"])


def with_dots(draw, local: str) -> str:
    """The local part with dots between some of its characters (never leading or doubled)."""
    cuts = draw(st.lists(st.booleans(), min_size=len(local) - 1, max_size=len(local) - 1)) if len(local) > 1 else []
    return local[0] + "".join(("." if cut else "") + ch for cut, ch in zip(cuts, local[1:]))


def recased(draw, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(ch.upper() if f else ch for ch, f in zip(text, flips))


@st.composite
def gmail_alias(draw):
    """(the address, an alias of it): dots, a +tag, case, googlemail and spaces, in any mix."""
    local = draw(LOCAL)
    alias = with_dots(draw, local)
    if draw(st.booleans()):
        alias += "+" + draw(TAG)
    domain = draw(st.sampled_from(["gmail.com", "googlemail.com", "GMail.com", "gmail.com."]))
    return f"{local}@gmail.com", draw(SPACE) + recased(draw, f"{alias}@{domain}") + draw(SPACE)


@given(gmail_alias())
def test_every_gmail_alias_normalizes_to_its_address(pair):
    address, alias = pair
    assert normalize_email(alias) == address


@given(gmail_alias())
def test_every_gmail_alias_hashes_as_its_address_wherever_emails_are_hashed(pair):
    address, alias = pair
    assert identity_hashes(PEPPER, email=alias) == identity_hashes(PEPPER, email=address)
    assert email_hash(PEPPER, alias) == email_hash(PEPPER, address)


@given(LOCAL, TAG, st.sampled_from(sorted(PLUS_ADDRESSING - DOTS_IGNORED)))
def test_a_plus_tag_is_dropped_where_the_provider_uses_plus_addressing_and_dots_are_kept(local, tag, domain):
    assert normalize_email(f"{local}+{tag}@{domain.upper()}") == f"{local}@{domain}"
    assert normalize_email(f"a.{local}@{domain}") == f"a.{local}@{domain}"


@given(LOCAL, TAG, OTHER_DOMAINS)
def test_elsewhere_a_plus_and_dots_belong_to_the_mailbox(local, tag, domain):
    address = f"a.{local}+{tag}@{domain}"
    assert normalize_email(address.upper()) == address


@given(st.text(max_size=60))
def test_normalizing_twice_changes_nothing(text):
    once = normalize_email(text)
    assert normalize_email(once) == once


@st.composite
def canonical_address(draw):
    local, domain = draw(LOCAL), draw(st.sampled_from(sorted(PLUS_ADDRESSING) + ["example.com", "yahoo.com"]))
    if domain not in DOTS_IGNORED and draw(st.booleans()):
        local = f"{local}.{draw(LOCAL)}"
    return f"{local}@{domain}"


@given(canonical_address())
def test_an_address_already_in_canonical_form_hashes_exactly_as_it_did_before_normalization(address):
    # What is stored for such addresses stays valid: the old hash was of the trimmed, lower-cased text.
    assert identity_hashes(PEPPER, email=address) == (keyed_hash(PEPPER, "email:" + address),)
    assert email_hash(PEPPER, address) == keyed_hash(PEPPER, address)


@pytest.mark.parametrize("alias,address", [
    ("mia+1@gmail.com", "mia@gmail.com"),
    ("m.i.a@gmail.com", "mia@gmail.com"),
    ("M.I.A+shop@GoogleMail.com", "mia@gmail.com"),
    ("mia＠gmail.com", "mia@gmail.com"),  # a fullwidth at sign
    ("ｍｉａ@ｇｍａｉｌ.ｃｏｍ", "mia@gmail.com"),  # fullwidth letters
    ("mia+news@outlook.com", "mia@outlook.com"),
    ("jo@BÜCHER.de", "jo@xn--bcher-kva.de"),  # IDNA: the Unicode domain is its punycode
    ("jo@xn--bcher-kva.de", "jo@xn--bcher-kva.de"),
    ("jo@bücher.de.", "jo@xn--bcher-kva.de"),
])
def test_known_aliases_normalize_to_their_address(alias, address):
    assert normalize_email(alias) == address


@pytest.mark.parametrize("kept", ["mia+1@example.com", "m.i.a@outlook.com", "mia@yahoo.com"])
def test_addresses_at_providers_without_those_rules_are_kept_apart(kept):
    assert normalize_email(kept) == kept


def test_text_that_is_not_an_address_is_only_trimmed_and_lower_cased():
    # Members may arrive with the shop's own hash of the address instead of the address.
    assert normalize_email("  AB12CD+x.y ") == "ab12cd+x.y"
    assert normalize_email("a@-not-a-domain-") == "a@-not-a-domain-"
