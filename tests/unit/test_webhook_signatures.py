"""Each provider's signature scheme, checked against signatures made by the provider's SDK or by
its documented recipe (tests/support/shops.py), never by the verifier under test."""
import time

import pytest
import stripe

from chalicelib.integrations.commands import Ping
from chalicelib.integrations.errors import PayloadRefused, ProviderNotConfigured, WebhookRefused
from chalicelib.integrations.signatures import verify_paddle, verify_shopify, verify_stripe, verify_woocommerce
from tests.support.shops import (NOW, SHOP, paddle_h1, paddle_headers, raw, shopify_headers, stripe_header,
                                 woo_headers)

OLD, NEW = "whsec_old0Rotation1Secret2", "whsec_new3Rotation4Secret5"


def refused(code, call, *args, **kwargs):
    with pytest.raises(WebhookRefused) as e:
        call(*args, **kwargs)
    assert e.value.code == code and e.value.status == 401
    assert OLD not in e.value.message and NEW not in e.value.message
    return e.value


# --- Stripe -------------------------------------------------------------------------------------
STRIPE_BODY = raw("stripe", "checkout.session.completed.json")


def test_a_stripe_event_signed_by_stripes_own_helper_is_accepted():
    headers = stripe_header(STRIPE_BODY, NEW, NOW)
    delivery = verify_stripe(headers, STRIPE_BODY, secrets=[NEW], now=NOW)
    assert (delivery.provider, delivery.delivery_id, delivery.topic) == (
        "stripe", "evt_1PgcA2B7WZ01zgkWq8Lr3sVd", "checkout.session.completed")
    # and Stripe's own verifier agrees that this header signs this body
    assert stripe.WebhookSignature.verify_header(STRIPE_BODY, headers["Stripe-Signature"], NEW, tolerance=None)


def test_stripe_accepts_the_old_secret_during_a_rotation_and_any_listed_v1():
    signed_by_old = stripe_header(STRIPE_BODY, OLD, NOW)
    assert verify_stripe(signed_by_old, STRIPE_BODY, secrets=[NEW, OLD], now=NOW)
    refused("signature_mismatch", verify_stripe, signed_by_old, STRIPE_BODY, secrets=[NEW], now=NOW)
    # Stripe lists one v1 per active secret while an endpoint's secret is rolled
    both = stripe_header(STRIPE_BODY, OLD, NOW)["Stripe-Signature"] + "," + \
        stripe_header(STRIPE_BODY, NEW, NOW)["Stripe-Signature"].split(",")[1]
    assert verify_stripe({"stripe-signature": both}, STRIPE_BODY, secrets=[NEW], now=NOW)


def test_a_stripe_signature_past_the_300_second_tolerance_is_refused_as_expired():
    headers = stripe_header(STRIPE_BODY, NEW, NOW - 300)
    assert verify_stripe(headers, STRIPE_BODY, secrets=[NEW], now=NOW)  # the edge itself is inside
    refused("signature_expired", verify_stripe, stripe_header(STRIPE_BODY, NEW, NOW - 301), STRIPE_BODY,
            secrets=[NEW], now=NOW)


def test_a_stripe_timestamp_more_than_300_seconds_ahead_is_refused():
    assert verify_stripe(stripe_header(STRIPE_BODY, NEW, NOW + 300), STRIPE_BODY, secrets=[NEW], now=NOW)
    refused("signature_from_future", verify_stripe, stripe_header(STRIPE_BODY, NEW, NOW + 301), STRIPE_BODY,
            secrets=[NEW], now=NOW)


def test_stripe_python_itself_accepts_a_future_timestamp_which_upline_deliberately_refuses():
    ahead = int(time.time()) + 3600
    header = stripe_header(STRIPE_BODY, NEW, ahead)["Stripe-Signature"]
    assert stripe.WebhookSignature.verify_header(STRIPE_BODY, header, NEW, tolerance=300)
    refused("signature_from_future", verify_stripe, {"Stripe-Signature": header}, STRIPE_BODY, secrets=[NEW],
            now=ahead - 3600)


def test_a_stripe_body_changed_after_signing_or_signed_with_another_secret_is_refused():
    headers = stripe_header(STRIPE_BODY, NEW, NOW)
    changed = STRIPE_BODY.replace(b'"amount_total": 10220', b'"amount_total": 99220')
    assert changed != STRIPE_BODY
    refused("signature_mismatch", verify_stripe, headers, changed, secrets=[NEW], now=NOW)
    refused("signature_mismatch", verify_stripe, stripe_header(STRIPE_BODY, "whsec_attacker", NOW), STRIPE_BODY,
            secrets=[NEW], now=NOW)


@pytest.mark.parametrize("header, code", [
    (None, "signature_missing"),
    ("", "signature_missing"),
    ("v1=abc", "signature_malformed"),                      # no timestamp
    (f"t={NOW},v0=abc", "signature_malformed"),             # no v1 signature
    ("t=1_780_000_000,v1=abc", "signature_malformed"),      # Python's int() would read this; Stripe never sends it
    (f"t={NOW},v1=\u00e9\u00e9\u00e9", "signature_mismatch"),  # non-ASCII compares as bytes, no TypeError
])
def test_a_missing_or_unreadable_stripe_signature_is_refused_with_the_check_that_failed(header, code):
    headers = {} if header is None else {"Stripe-Signature": header}
    refused(code, verify_stripe, headers, STRIPE_BODY, secrets=[NEW], now=NOW)


def test_a_provider_without_a_secret_is_not_configured():
    for call, kwargs in [(verify_stripe, {"now": NOW}), (verify_paddle, {"now": NOW}),
                         (verify_shopify, {"shop_domain": SHOP}), (verify_woocommerce, {})]:
        with pytest.raises(ProviderNotConfigured) as e:
            call({}, b"{}", secrets=["", ], **kwargs)
        assert e.value.status == 404


# --- Shopify ------------------------------------------------------------------------------------
SHOPIFY_BODY = raw("shopify", "orders-paid.json")


def test_a_shopify_webhook_signed_as_shopify_documents_is_accepted():
    headers = shopify_headers(SHOPIFY_BODY, NEW, "orders/paid")
    delivery = verify_shopify(headers, SHOPIFY_BODY, secrets=[NEW], shop_domain=SHOP)
    assert (delivery.provider, delivery.topic) == ("shopify", "orders/paid")
    assert delivery.delivery_id == headers["X-Shopify-Webhook-Id"]


def test_shopifys_event_id_is_the_replay_guard_when_it_is_sent():
    headers = shopify_headers(SHOPIFY_BODY, NEW, "orders/paid", event_id="98880550-7158-44d4-b7cd-2c97c8a091b5")
    assert verify_shopify(headers, SHOPIFY_BODY, secrets=[NEW], shop_domain=SHOP).delivery_id == \
        "98880550-7158-44d4-b7cd-2c97c8a091b5"


def test_shopify_accepts_the_second_secret_during_a_rotation():
    headers = shopify_headers(SHOPIFY_BODY, OLD, "orders/paid")
    assert verify_shopify(headers, SHOPIFY_BODY, secrets=[NEW, OLD], shop_domain=SHOP)
    refused("signature_mismatch", verify_shopify, headers, SHOPIFY_BODY, secrets=[NEW], shop_domain=SHOP)


def test_a_shopify_webhook_for_another_shop_is_refused_even_when_its_hmac_holds():
    # An app's client secret signs every installing shop's webhooks: the HMAC alone proves Shopify, not the shop.
    headers = shopify_headers(SHOPIFY_BODY, NEW, "orders/paid", shop="someone-else.myshopify.com")
    refused("shop_mismatch", verify_shopify, headers, SHOPIFY_BODY, secrets=[NEW], shop_domain=SHOP)
    headers = shopify_headers(SHOPIFY_BODY, NEW, "orders/paid", shop="Upline-Demo.MyShopify.com")
    assert verify_shopify(headers, SHOPIFY_BODY, secrets=[NEW], shop_domain=f"https://{SHOP}/")


def test_a_shopify_body_changed_after_signing_is_refused():
    headers = shopify_headers(SHOPIFY_BODY, NEW, "orders/paid")
    refused("signature_mismatch", verify_shopify, headers, SHOPIFY_BODY.replace(b"1565.90", b"9565.90"),
            secrets=[NEW], shop_domain=SHOP)


def test_a_missing_or_unreadable_shopify_hmac_is_refused():
    headers = shopify_headers(SHOPIFY_BODY, NEW, "orders/paid")
    refused("signature_missing", verify_shopify, {k: v for k, v in headers.items() if "Hmac" not in k},
            SHOPIFY_BODY, secrets=[NEW], shop_domain=SHOP)
    refused("signature_malformed", verify_shopify, {**headers, "X-Shopify-Hmac-Sha256": "not base64!"},
            SHOPIFY_BODY, secrets=[NEW], shop_domain=SHOP)


def test_a_signed_shopify_delivery_without_its_topic_is_unprocessable():
    headers = {k: v for k, v in shopify_headers(SHOPIFY_BODY, NEW, "orders/paid").items() if k != "X-Shopify-Topic"}
    with pytest.raises(PayloadRefused) as e:
        verify_shopify(headers, SHOPIFY_BODY, secrets=[NEW], shop_domain=SHOP)
    assert e.value.code == "missing_header"


# --- WooCommerce --------------------------------------------------------------------------------
WOO_BODY = raw("woocommerce", "order.created.processing.json")


def test_a_woocommerce_webhook_signed_as_wc_webhook_signs_it_is_accepted():
    delivery = verify_woocommerce(woo_headers(WOO_BODY, NEW, "order.created"), WOO_BODY, secrets=[NEW])
    assert (delivery.provider, delivery.topic, delivery.delivery_id) == (
        "woocommerce", "order.created", "7f6c2a0e1b5d4c3a9e8f7d6c5b4a3928")


def test_woocommerces_ping_is_recognised_with_or_without_a_signature():
    # WC_Webhook::deliver_ping(): body "webhook_id=<id>", no X-WC-* headers, sent when the webhook is saved.
    ping = b"webhook_id=12"
    assert verify_woocommerce({"User-Agent": "WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)"}, ping,
                              secrets=[NEW]) == Ping("woocommerce", "12")
    assert verify_woocommerce(woo_headers(ping, NEW, "order.created"), ping, secrets=[NEW]) == Ping("woocommerce", "12")
    refused("signature_missing", verify_woocommerce, {}, b"webhook_id=12&x=1", secrets=[NEW])


def test_woocommerce_accepts_the_second_secret_and_refuses_a_changed_body():
    headers = woo_headers(WOO_BODY, OLD, "order.created")
    assert verify_woocommerce(headers, WOO_BODY, secrets=[NEW, OLD])
    refused("signature_mismatch", verify_woocommerce, headers, WOO_BODY, secrets=[NEW])
    refused("signature_mismatch", verify_woocommerce, headers, WOO_BODY.replace(b"29.42", b"92.42"), secrets=[OLD])
    refused("signature_missing", verify_woocommerce, {}, WOO_BODY, secrets=[NEW])


# --- Paddle Billing -----------------------------------------------------------------------------
PADDLE_BODY = raw("paddle", "transaction.completed.json")


def test_the_tests_paddle_signer_reproduces_paddles_published_test_vector():
    # paddle-php-sdk tests/Unit/Notifications/VerifierTest.php: this secret signs "hello-world" at this ts.
    assert paddle_h1(b"hello-world", "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh",
                     1696195954) == "d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02"


def test_paddles_published_vector_passes_the_signature_check_with_three_secrets_and_a_dummy_h1():
    header = "ts=1696195954;h1=dummy;h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02"
    secrets = ["pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_TjIG2BXbm83HPXqNfziwe506sBEdqL/4",
               "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_vB/yIOnTOCWIvpBadM5jzBZPHc7OmdSo",
               "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh"]
    # the signature holds; "hello-world" is then refused only because it is not a JSON event
    with pytest.raises(PayloadRefused) as e:
        verify_paddle({"Paddle-Signature": header}, b"hello-world", secrets=secrets, now=1696195954)
    assert e.value.code == "invalid_json"
    refused("signature_mismatch", verify_paddle, {"Paddle-Signature": header}, b"hello-world",
            secrets=secrets[:2], now=1696195954)


def test_a_paddle_notification_is_accepted_and_either_secret_works_during_a_rotation():
    delivery = verify_paddle(paddle_headers(PADDLE_BODY, [OLD, NEW], NOW), PADDLE_BODY, secrets=[NEW], now=NOW)
    assert (delivery.delivery_id, delivery.topic) == ("evt_01hv8x2acma2gz41f8w8vgwm69", "transaction.completed")
    assert verify_paddle(paddle_headers(PADDLE_BODY, [OLD], NOW), PADDLE_BODY, secrets=[NEW, OLD], now=NOW)
    refused("signature_mismatch", verify_paddle, paddle_headers(PADDLE_BODY, [OLD], NOW), PADDLE_BODY,
            secrets=[NEW], now=NOW)


def test_a_paddle_timestamp_outside_300_seconds_either_way_is_refused():
    for ts in (NOW - 300, NOW + 300):
        assert verify_paddle(paddle_headers(PADDLE_BODY, [NEW], ts), PADDLE_BODY, secrets=[NEW], now=NOW)
    refused("signature_expired", verify_paddle, paddle_headers(PADDLE_BODY, [NEW], NOW - 301), PADDLE_BODY,
            secrets=[NEW], now=NOW)
    refused("signature_from_future", verify_paddle, paddle_headers(PADDLE_BODY, [NEW], NOW + 301), PADDLE_BODY,
            secrets=[NEW], now=NOW)


def test_a_paddle_body_changed_after_signing_or_an_unreadable_header_is_refused():
    headers = paddle_headers(PADDLE_BODY, [NEW], NOW)
    refused("signature_mismatch", verify_paddle, headers, PADDLE_BODY.replace(b'"59900"', b'"99900"'),
            secrets=[NEW], now=NOW)
    refused("signature_missing", verify_paddle, {}, PADDLE_BODY, secrets=[NEW], now=NOW)
    refused("signature_malformed", verify_paddle, {"Paddle-Signature": f"h1={'0' * 64}"}, PADDLE_BODY,
            secrets=[NEW], now=NOW)
    refused("signature_malformed", verify_paddle, {"Paddle-Signature": f"ts={NOW};ts={NOW};h1=00"}, PADDLE_BODY,
            secrets=[NEW], now=NOW)
