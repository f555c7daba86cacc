"""Item 3: redirect throughput - clicks per second through GET /r/{code}, over raw writes per second
of the same click item, interleaved on the same DynamoDB Local. The click's one write is a
conditional counting UpdateItem (it records, de-duplicates and limits in one call: issue 9), so the
floor replays exactly that request, with a fresh click id, from a bare boto3 loop."""
from __future__ import annotations

import secrets
from typing import Any

from chalicelib.domain.links import new_click_id, partner_hint

from .bench_attribution import template_request, variants
from .harness import Context, Lambda, Meter, Side, click_id_of, interleave, new_link, seed_program
from .registry import Result, Target, benchmark

TARGET_RATIO = 0.80


@benchmark("redirect_throughput", order=40)
def run(ctx: Context) -> Result:
    repo = ctx.fresh_table("redirect")
    codes = seed_program(repo, 3, prefix="RD")
    app = Lambda()
    link = new_link(repo, codes[-1])
    app(app.click_event(link))  # a warm process has resolved the code once

    meter = Meter(repo.table.client)
    with meter:
        sample = app(app.click_event(link))
    assert sample["statusCode"] == 302, sample
    put = template_request(meter, "UpdateItem")
    click_id = click_id_of(sample)
    # New click ids for the same partner: the same length, so the same item size.
    partner_id = partner_hint(click_id) or ""
    put_variant = variants(put, {click_id: "click"},
                           {"click": lambda: new_click_id(secrets.token_urlsafe(15), partner_id)})
    # Each measured click comes from a different visitor (a different address), as a flood of real
    # visitors would: one visitor's repeat clicks are de-duplicated and then limited.
    raw = ctx.raw_client()

    def follow(event: dict[str, Any]) -> None:
        response = app(event)
        if response["statusCode"] != 302:
            raise RuntimeError(f"a click failed during the benchmark: {response}")

    sides = [
        Side("upline", lambda n: [app.click_event(link, visitor=True) for _ in range(n)], follow),
        Side("raw_put", lambda n: [put_variant() for _ in range(n)], lambda req: raw.update_item(**req)),
        # A control: the same raw loop again. Its ratio to raw_put is pure measurement noise.
        Side("raw_put_again", lambda n: [put_variant() for _ in range(n)], lambda req: raw.update_item(**req)),
    ]
    rounds, per_round, warmup = (30, 30, 150) if ctx.quick else (102, 50, 500)
    figures = interleave(sides, rounds, per_round, warmup)
    figures["click_request_bytes"] = len(str(put))
    figures["control_raw_put_vs_itself"] = round(sides[1].rate() / sides[2].rate(), 3)
    return Result(figures, (Target("redirect_ratio_vs_raw_put", figures["ratio_vs_raw_put"], TARGET_RATIO,
                                   at_least=True),))
