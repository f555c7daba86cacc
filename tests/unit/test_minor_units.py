"""Decimal strings from shops become exact minor units by the currency's ISO 4217 exponent, or are refused."""
import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.money import CURRENCY_EXPONENTS, iso_exponent, minor_units, rescale_minor


@pytest.mark.parametrize("amount, currency, expected", [
    ("398.00", "USD", 39800), ("0.01", "USD", 1), ("-10.00", "USD", -1000), ("7", "EUR", 700),
    ("1500", "JPY", 1500), ("1500.00", "JPY", 1500), ("98765", "KRW", 98765),
    ("1.234", "KWD", 1234), ("12.3", "BHD", 12300), ("0.5", "TND", 500),
    ("1.2345", "CLF", 12345),
])
def test_decimal_strings_convert_exactly_by_the_currencys_exponent(amount, currency, expected):
    assert minor_units(amount, currency) == expected


@pytest.mark.parametrize("amount, currency", [("398.001", "USD"), ("0.005", "EUR"), ("1500.5", "JPY"),
                                              ("1.2345", "KWD"), ("1.00001", "CLF")])
def test_an_amount_finer_than_the_currencys_minor_unit_is_refused_never_rounded(amount, currency):
    with pytest.raises(InvalidInput) as e:
        minor_units(amount, currency)
    assert e.value.code == "inexact_amount"


@pytest.mark.parametrize("amount", ["1e3", "+1", " 1", "1 ", "1.", ".5", "1,00", "NaN", "Infinity", "", "٣",
                                    "1" * 16, None, 1.5, 150])
def test_anything_but_a_plain_decimal_string_is_refused(amount):
    with pytest.raises(InvalidInput) as e:
        minor_units(amount, "USD")
    assert e.value.code == "invalid_amount"


@pytest.mark.parametrize("currency", ["XAU", "XXX", "ZZZ", "usd", None])
def test_an_unknown_currency_or_one_without_minor_units_is_refused(currency):
    with pytest.raises(InvalidInput) as e:
        minor_units("1", currency)
    assert e.value.code == "unknown_currency"


def test_every_zero_and_three_decimal_currency_of_iso_4217_is_known():
    # SIX's ISO 4217 list (the iso4217 package's table.xml, published 2026-01-01)
    for code in ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
                 "XAF", "XOF", "XPF"):
        assert iso_exponent(code) == 0, code
    for code in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"):
        assert iso_exponent(code) == 3, code
    assert iso_exponent("MGA") == 2 and iso_exponent("CLF") == 4


def test_the_currencies_the_program_accepts_have_their_iso_exponents():
    assert {c: iso_exponent(c) for c in CURRENCY_EXPONENTS} == CURRENCY_EXPONENTS


def test_rescaling_is_exact_or_refused():
    assert rescale_minor(500000, 2, 0) == 5000 and rescale_minor(12, 0, 2) == 1200
    with pytest.raises(InvalidInput):
        rescale_minor(500050, 2, 0)
