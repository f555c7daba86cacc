"""How long after an order's 201 a partner's counters show it, on a running `make run` (the stream
projector polls DynamoDB Local every second): `python -m bench.projection_lag [data dir] [orders]`.

It reads the API's address and the local secrets from `<data dir>/local.env` (`.data/` by default),
posts signed orders through the demo partner Dan's code, and times each until `GET /partners/P-DAN`
counts it. Not part of `python -m bench` (it needs a running `make run`); docs/performance.md quotes
its figures.
"""
from __future__ import annotations

import json
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import jwt

from chalicelib.security import sign


def main(argv: list[str]) -> int:
    data = Path(argv[0]) if argv else Path(".data")
    orders = int(argv[1]) if len(argv) > 1 else 5
    env = dict(line[len("export "):].strip().split("=", 1) for line in (data / "local.env").read_text().splitlines()
               if line.startswith("export "))
    env = {k: v.strip("'\"") for k, v in env.items()}
    api, secret = env["API"], env["UPLINE_WEBHOOK_SECRETS"].split(",")[0]
    now = int(time.time())
    token = jwt.encode({"sub": "dan", "role": "partner", "partner_id": "P-DAN", "iat": now, "exp": now + 3600},
                       env["UPLINE_JWT_SECRET"], algorithm="HS256")

    def orders_counted() -> int:
        req = urllib.request.Request(f"{api}/partners/P-DAN", headers={"Authorization": f"Bearer {token}"})
        return json.loads(urllib.request.urlopen(req).read())["counters"].get("attributed_orders", 0)

    seen, lags = orders_counted(), []
    for n in range(orders):
        order_id = f"lag-{time.time_ns()}"
        body = json.dumps({"order_id": order_id, "customer_id": f"c-{order_id}", "amount_minor": 10_000,
                           "currency": "USD", "ordered_at": datetime.now(timezone.utc).isoformat(),
                           "referral_code": "DAN"}).encode()
        ts = str(int(time.time()))
        req = urllib.request.Request(f"{api}/webhooks/orders", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Upline-Timestamp": ts, "X-Upline-Signature": sign(secret, ts, body)})
        assert urllib.request.urlopen(req).status == 201
        started = time.monotonic()
        while orders_counted() < seen + n + 1 and time.monotonic() - started < 30:
            time.sleep(0.05)
        lags.append(round(time.monotonic() - started, 2))
    print(json.dumps({"orders": orders, "seconds_until_counted": lags, "max": max(lags)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
