"""Shops' own webhooks (Stripe, Shopify, WooCommerce, Paddle Billing) as Upline commands.

Pure code: no boto3, no environment, no clock, no network. For each provider the route (phase 2)
does three things, each here:

    delivery = signatures.verify_shopify(headers, raw_body, secrets=..., shop_domain=...)
    commands = shopify_events.to_commands(delivery, hash_email=...)
    # then each ShopOrder / ShopRefund / ShopDispute goes to the order services; Ignored and Ping
    # are answered 200 and write nothing.

`hash_email` is the caller's keyed hash, `functools.partial(security.email_hash, pepper)` (the
canonical form members' e-mails are stored in): the mapping hands the buyer's address to it and
keeps only the hash, so no raw e-mail leaves this package. Refusals are typed: WebhookRefused (401, the
check that failed), ProviderNotConfigured (404), PayloadRefused (422, the field that was wrong).
"""
