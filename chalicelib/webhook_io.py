"""Outbound webhooks' I/O: where an endpoint's host resolves (and whether it may be reached), the
HTTP POST itself, and the queue deliveries wait in (SQS in AWS, an in-process queue elsewhere).

The address rule is `domain/outbound.refused_address`; this module applies it to every address the
host resolves to, at registration and again at each attempt, and then connects to one of the
addresses it checked (not to the name again), so a DNS answer that changes in between (rebinding)
cannot lead the request somewhere it was not checked. Redirects are never followed: a 3xx is a
failed attempt.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .domain.errors import Unprocessable
from .domain.outbound import refused_address
from .domain.urls import InvalidUrl, WebUrl, parse

MAX_RESPONSE_BYTES = 4096  # what is read of an endpoint's answer (only its status matters)


class RefusedDestination(Unprocessable):
    """An endpoint URL that may not be used: not https, or a host that is (or resolves to) an
    address that is private, loopback, link-local or otherwise not public."""

    def __init__(self, message: str, code: str = "refused_destination"):
        super().__init__(message, code=code)


def endpoint_url(text: str, allow_private: bool) -> WebUrl:
    """The URL an admin registers, as the one URL parser reads it: https (http too when private
    addresses are allowed, on the local stage), a host, no credentials, no fragment."""
    try:
        url = parse(text)
    except InvalidUrl as e:
        raise RefusedDestination(str(e), code="invalid_url") from None
    if url.scheme != "https" and not (allow_private and url.scheme == "http"):
        raise RefusedDestination("an endpoint must be an https URL", code="invalid_url")
    if not url.host or url.credentials:
        raise RefusedDestination("an endpoint URL needs a host and no user name or password", code="invalid_url")
    return url


def _port(url: WebUrl) -> int:
    return int(url.port) if url.port else (443 if url.scheme == "https" else 80)


def addresses(url: WebUrl, allow_private: bool, resolve: Callable[..., list[Any]] = socket.getaddrinfo) -> list[str]:
    """Every address the host resolves to; refused if any of them may not be reached (one bad
    answer among good ones is how rebinding is tried)."""
    host = url.host.strip("[]")
    try:
        found = resolve(host, _port(url), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise RefusedDestination(f"the host {url.host} does not resolve", code="unresolvable_host") from None
    out = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not out:
        raise RefusedDestination(f"the host {url.host} does not resolve", code="unresolvable_host")
    if not allow_private:
        bad = [a for a in out if refused_address(a)]
        if bad:
            raise RefusedDestination(
                f"the host {url.host} resolves to an address that is not public "
                f"(private, loopback, link-local or reserved)"
            )
    return out


@dataclass(frozen=True)
class Attempt:
    status_code: int  # 0: no HTTP answer
    error: str
    ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate verified for the URL's host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class HttpSender:
    """POSTs one signed body; never follows a redirect; a short timeout, so a slow endpoint costs a
    worker seconds, not minutes (and never the API anything: delivery is off the request path)."""

    def __init__(
        self, timeout_seconds: float, allow_private: bool, resolve: Callable[..., list[Any]] = socket.getaddrinfo
    ):
        self.timeout, self.allow_private, self.resolve = timeout_seconds, allow_private, resolve

    def __call__(self, url_text: str, headers: dict[str, str], body: bytes) -> Attempt:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            url = endpoint_url(url_text, self.allow_private)
            address = addresses(url, self.allow_private, self.resolve)[0]
        except RefusedDestination as e:
            return Attempt(0, f"{e.code}: {e}", took())
        conn_type = _PinnedHTTPS if url.scheme == "https" else _PinnedHTTP
        conn = conn_type(url.host.strip("[]"), address, _port(url), self.timeout)
        try:
            conn.request("POST", (url.path or "/") + url.query, body=body, headers=headers)
            response = conn.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            return Attempt(response.status, "" if 200 <= response.status < 300 else f"HTTP {response.status}", took())
        except (OSError, http.client.HTTPException) as e:
            return Attempt(0, f"{type(e).__name__}: {e}"[:200], took())
        finally:
            conn.close()


# ---- the queue deliveries wait in -----------------------------------------------------------------
class SqsQueue:
    """The webhook queue in AWS: one message per delivery attempt to make, held back by DelaySeconds."""

    def __init__(self, client: Any, url: str):
        self.client, self.url = client, url

    def send(self, delivery_id: str, delay_seconds: int = 0) -> None:
        self.client.send_message(
            QueueUrl=self.url, MessageBody=json.dumps({"delivery_id": delivery_id}), DelaySeconds=delay_seconds
        )


class LocalQueue:
    """The same queue in one process (`make run`, tests): messages wait until their delay has passed
    on the app's clock, and `take_due` hands back those that are due."""

    def __init__(self, clock: Callable[[], datetime]):
        self.clock = clock
        self._lock = threading.Lock()
        self._messages: list[tuple[datetime, int, str]] = []
        self._n = 0

    def send(self, delivery_id: str, delay_seconds: int = 0) -> None:
        with self._lock:
            self._n += 1
            self._messages.append((self.clock() + timedelta(seconds=delay_seconds), self._n, delivery_id))

    def take_due(self) -> list[str]:
        now = self.clock()
        with self._lock:
            due = sorted(m for m in self._messages if m[0] <= now)
            self._messages = [m for m in self._messages if m[0] > now]
        return [m[2] for m in due]

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)


def checked_url(text: str, allow_private: bool, resolve: Callable[..., list[Any]] = socket.getaddrinfo) -> str:
    """An endpoint URL as registered (its canonical form), refused if it is not https or its host
    reaches an address that is not public. On the local stage (private addresses allowed) the
    host is not looked up."""
    url = endpoint_url(text, allow_private)
    if not allow_private:
        addresses(url, allow_private, resolve)
    return url.href
