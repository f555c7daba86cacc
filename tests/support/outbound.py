"""A webhook receiver on 127.0.0.1 for the outbound webhook tests: it checks each delivery's
signature as a receiver should, answers 500 when told to, and keeps what it was sent."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalicelib import bootstrap
from chalicelib.security import verify_webhook


@dataclass(frozen=True)
class Received:
    event_id: str
    event_type: str
    body: dict[str, Any]
    answered: int
    signed: bool  # the signature verified with the endpoint's secret


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.fail_next = 0  # answer this many of the next deliveries with a 500
        self.always_fail = False
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    verify_webhook([receiver.secret], self.headers.get("X-Upline-Timestamp"),
                                   self.headers.get("X-Upline-Signature"), raw,
                                   int(bootstrap.now().timestamp()))
                    signed = True
                except Exception:
                    signed = False
                with receiver._lock:
                    fail = receiver.always_fail or receiver.fail_next > 0
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                    code = 500 if fail else 204
                    body = json.loads(raw)
                    receiver.received.append(Received(self.headers.get("X-Upline-Event-Id", ""), body["type"], body,
                                                      code, signed))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/upline"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> dict[str, list[Received]]:
        """Event id -> the deliveries of it the receiver answered with a 2xx."""
        out: dict[str, list[Received]] = {}
        for r in self.received:
            if 200 <= r.answered < 300:
                out.setdefault(r.event_id, []).append(r)
        return out
