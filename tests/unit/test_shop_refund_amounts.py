"""How much of an order's commission base a provider's refund takes back (services/shops._amount)."""
from datetime import datetime, timezone

from chalicelib.domain.orders import RecordedOrder
from chalicelib.integrations.commands import GoodsRefund, PaymentShareRefund, RemainderRefund
from chalicelib.services.shops import _amount, command_fingerprint, upline_order_id


def order(base: int, refunded: int = 0) -> RecordedOrder:
    return RecordedOrder("shopify:1", "f", base, "USD", datetime(2026, 1, 1, tzinfo=timezone.utc), refunded, ())


def test_goods_refund_tax_comes_off_only_when_the_orders_prices_included_it():
    lines = GoodsRefund(amount_minor=11000, tax_minor=1000, includes_tax=None)  # Shopify: the order decides
    assert _amount(lines, order(50000), prices_include_tax=True) == 10000
    assert _amount(lines, order(50000), prices_include_tax=False) == 11000
    assert _amount(GoodsRefund(9200, includes_tax=False), order(50000), True) == 9200  # Paddle: before tax


def test_a_refund_never_takes_more_than_is_left_of_the_order():
    assert _amount(GoodsRefund(11000), order(10000, refunded=4000), False) == 6000
    assert _amount(RemainderRefund(), order(10000, refunded=4000), False) == 6000


def test_cumulative_payment_refunds_take_only_the_increase_and_sum_to_the_base():
    base = 9001  # odd, so the halves round
    half = _amount(PaymentShareRefund(5110, 10220, cumulative=True), order(base), False)
    rest = _amount(PaymentShareRefund(10220, 10220, cumulative=True), order(base, refunded=half), False)
    assert (half, half + rest) == (4500, base)
    # an older level arriving after a newer one refunds nothing
    assert _amount(PaymentShareRefund(5110, 10220, cumulative=True), order(base, refunded=base), False) <= 0


def test_separate_payment_refunds_are_each_their_share_of_the_base():
    assert _amount(PaymentShareRefund(1000, 3900, cumulative=False), order(2900), False) == 2900 * 1000 // 3900


def test_the_fingerprint_ignores_the_delivery_and_the_ids_keep_providers_apart():
    from dataclasses import replace

    from chalicelib.integrations.commands import ShopOrder

    o = ShopOrder("shopify", "evt-1", "1001", 100, "USD", datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert command_fingerprint(o) == command_fingerprint(replace(o, event_id="evt-2"))
    assert command_fingerprint(o) != command_fingerprint(replace(o, amount_minor=101))
    assert upline_order_id("shopify", "1001") != upline_order_id("woocommerce", "1001")
