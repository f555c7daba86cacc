"""The integrations package reads verified bodies strictly and stays pure."""
import re
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.integrations.errors import PayloadRefused
from chalicelib.integrations.payload import click_id_in_url, header, parse_json

ROOT = Path(__file__).resolve().parents[2]


def test_large_integers_stay_exact_and_fractions_become_decimals_never_floats():
    data = parse_json(b'{"id": 820982911946154508, "rate": 0.06, "n": [1.10]}')
    assert data["id"] == 820982911946154508 and str(data["id"]) == "820982911946154508"
    assert data["rate"] == Decimal("0.06") and type(data["n"][0]) is Decimal


@pytest.mark.parametrize("body", [b"", b"[]", b'"x"', b"{", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe{}",
                                  b"[" * 100_000, b'{"a": 1' + b"0" * 5000 + b"}"])
def test_a_body_that_is_not_a_plain_json_object_is_refused_as_unprocessable(body):
    with pytest.raises(PayloadRefused) as e:
        parse_json(body)
    assert e.value.code == "invalid_json" and e.value.status == 422


@pytest.mark.parametrize("url, expected", [
    ("/products/board?utm_source=x&upline_click=c_Xy3kQ9mZp2LrT8vB4nWdP-ALICE", "c_Xy3kQ9mZp2LrT8vB4nWdP-ALICE"),
    ("https://shop.example.com/?upline_click=c_abc", "c_abc"),
    ("http://www.example.com?source=abc", None),
    ("/?upline_click=%3Cscript%3E", None),          # not a click id's characters: dropped
    ("http://[::1", None),                          # urllib refuses it: no click id, no error
    (None, None),
])
def test_the_click_id_is_read_from_a_landing_url_or_a_path(url, expected):
    assert click_id_in_url(url) == expected


def test_headers_are_found_whatever_their_case():
    assert header({"x-shopify-topic": "orders/paid"}, "X-Shopify-Topic") == "orders/paid"
    assert header({"X-Shopify-Topic": "  "}, "x-shopify-topic") is None


def test_no_module_under_integrations_does_io_reads_the_environment_or_the_clock():
    for path in (ROOT / "chalicelib/integrations").glob("*.py"):
        imports = [ln for ln in path.read_text().splitlines() if ln.startswith(("import ", "from "))]
        assert not [ln for ln in imports if re.search(
            r"\b(boto3|botocore|os|time|socket|requests|urllib\.request|http|store|services|bootstrap|config)\b",
            ln)], path


def test_a_json_number_amount_is_read_exactly_and_an_absurd_exponent_is_refused_cheaply():
    from chalicelib.integrations.payload import decimal_money
    assert decimal_money(Decimal("195.66"), "USD", "subtotal") == 19566
    assert decimal_money(10, "JPY", "subtotal") == 10
    with pytest.raises(PayloadRefused):
        decimal_money(Decimal("1e999999999"), "USD", "subtotal")
    with pytest.raises(PayloadRefused):
        decimal_money(True, "USD", "subtotal")
