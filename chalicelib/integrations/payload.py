"""Reading a verified delivery: strict JSON and typed fields, every refusal a PayloadRefused that
names the field. Nothing here trusts a shape; a missing or odd field is a 422, never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..domain import urls
from ..domain.errors import InvalidInput
from ..domain.links import CLICK_PARAM
from ..domain.money import iso_exponent, minor_units
from .errors import PayloadRefused

# The generic webhook's rules for a click id and a code (api/schemas.py: OrderIn.click_id, Code);
# a value outside them cannot name an Upline click or code, so it is dropped rather than refused
# (the fields it comes from are free text the shop also uses for other things).
_CLICK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,31}")
# Providers' own ids: Stripe's checkout session ids run past 64 characters.
_PROVIDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object. Integers stay exact Python ints (Shopify ids pass 2**53, where a
    float would round them) and any number with a fraction becomes a Decimal, never a float."""
    try:
        value = json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PayloadRefused("the body is not JSON", code="invalid_json") from None
    if not isinstance(value, dict):
        raise PayloadRefused("the body is not a JSON object", code="invalid_json")
    return value


def at(data: Any, *path: str | int) -> Any:
    """The value at `path`, or None where any step is missing or of another type."""
    for step in path:
        if isinstance(step, int) and isinstance(data, list) and -len(data) <= step < len(data):
            data = data[step]
        elif isinstance(step, str) and isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def _name(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path)


def obj(data: Any, *path: str | int) -> dict[str, Any]:
    value = at(data, *path)
    if not isinstance(value, dict):
        raise PayloadRefused(f"{_name(path)} is missing or not an object", code="invalid_payload")
    return value


def items(data: Any, *path: str | int) -> list[Any]:
    """A list at `path`; absent or null counts as empty."""
    value = at(data, *path)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadRefused(f"{_name(path)} is not a list", code="invalid_payload")
    return value


def text(data: Any, *path: str | int) -> str:
    value = at(data, *path)
    if not isinstance(value, str) or not value:
        raise PayloadRefused(f"{_name(path)} is missing or not a string", code="invalid_payload")
    return value


def optional_text(data: Any, *path: str | int) -> str | None:
    value = at(data, *path)
    return value if isinstance(value, str) and value else None


def integer(data: Any, *path: str | int, default: int | None = None) -> int:
    """A JSON integer (an amount in minor units, an epoch); a bool, a float or a string is refused."""
    value = at(data, *path)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadRefused(f"{_name(path)} is missing or not an integer", code="invalid_payload")
    return value


def minor_string(data: Any, *path: str | int) -> int:
    """An integer carried as a string of digits (Paddle's amounts: "65215")."""
    value = at(data, *path)
    if not isinstance(value, str) or not re.fullmatch(r"-?[0-9]{1,18}", value):
        raise PayloadRefused(f"{_name(path)} is missing or not a whole number", code="invalid_payload")
    return int(value)


def provider_id(data: Any, *path: str | int) -> str:
    """An id as a string: JSON integers (exact, however large) or strings of the usual id characters."""
    value = at(data, *path)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _PROVIDER_ID.fullmatch(value):
        return value
    raise PayloadRefused(f"{_name(path)} is missing or not an id", code="invalid_payload")


def optional_id(data: Any, *path: str | int) -> str | None:
    value = at(data, *path)
    if value is None or value == "":
        return None
    if isinstance(value, dict):  # an expanded object stands for its id
        value = value.get("id")
    return provider_id({"v": value}, "v")


def currency(data: Any, *path: str | int) -> str:
    """An ISO 4217 code with minor units, upper-cased (Stripe sends "usd")."""
    value = at(data, *path)
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise PayloadRefused(f"{_name(path)} is missing or not a currency code", code="invalid_payload")
    try:
        iso_exponent(value.upper())
    except InvalidInput as e:
        raise PayloadRefused(e.message, code=e.code) from None
    return value.upper()


def decimal_money(amount: Any, currency_code: str, field: str) -> int:
    """A decimal in major units as exact minor units; refused when it is not exact. Strings are
    what shops send; a JSON number (parsed as Decimal or int, so still exact) is read as written."""
    # A finite Decimal's exponent is an int; NaN's and Infinity's are letters.
    if isinstance(amount, Decimal) and isinstance(exponent := amount.as_tuple().exponent, int) and abs(exponent) <= 20:
        amount = format(amount, "f")  # bounded: "1e999999999" would otherwise spell out a billion digits
    elif isinstance(amount, int) and not isinstance(amount, bool):
        amount = str(amount)
    try:
        return minor_units(amount, currency_code)
    except InvalidInput as e:
        raise PayloadRefused(f"{field}: {e.message}", code=e.code) from None


def epoch(data: Any, *path: str | int) -> datetime:
    seconds = integer(data, *path)
    if not 946684800 <= seconds < 32503680000:  # 2000..3000, the house's range for times
        raise PayloadRefused(f"{_name(path)} is out of range", code="invalid_payload")
    return datetime.fromtimestamp(seconds, tz=UTC)


def instant(data: Any, *path: str | int, naive_is_utc: bool = False) -> datetime:
    """An ISO 8601 time with its offset. `naive_is_utc` for WooCommerce's *_gmt fields, which are
    UTC written without one; anywhere else a time without an offset is refused, not guessed."""
    value = at(data, *path)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is None and naive_is_utc:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed is None or parsed.tzinfo is None or not 2000 <= parsed.year < 3000:
        raise PayloadRefused(f"{_name(path)} is missing or not a time with an offset", code="invalid_payload")
    return parsed


def click_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _CLICK_ID.fullmatch(value) else None


def code(value: Any) -> str | None:
    return value if isinstance(value, str) and _CODE.fullmatch(value) else None


def codes(values: list[Any]) -> tuple[str, ...]:
    """Distinct codes in the order given, dropping any that cannot be an Upline code."""
    seen: dict[str, None] = {}
    for v in values:
        c = code(v)
        if c is not None:
            seen.setdefault(c, None)
    return tuple(seen)


def click_id_in_url(url: Any) -> str | None:
    """The `upline_click` query parameter of a landing URL, absolute or a path ("/?upline_click=.."),
    read by the project's one URL parser (domain/urls, WHATWG as a browser reads it). Nothing is
    redirected to or trusted from this URL but the click id, which the click store then checks."""
    return click_id(urls.query_param(url, CLICK_PARAM)) if isinstance(url, str) else None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A request header by case-insensitive name; an empty value counts as absent."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip() if isinstance(value, str) and value.strip() else None
    return None
