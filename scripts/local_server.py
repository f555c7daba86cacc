"""The API on a local port, as `make run` serves it: Chalice's own local server, answering what API
Gateway answers by itself the way this API's gateway responses make it answer in AWS.

Chalice's local gateway (used by `chalice local` and by `chalice.test.Client`) emulates API
Gateway's *default* responses: `403 {"message": "Missing Authentication Token"}` for a path no route
declares, with no security headers. Deployed, chalicelib/api/gateway.py's gateway responses answer
instead (a 404 in the house error shape, with the headers), and Chalice has no setting for them
(aws/chalice#1268), so `emulate_gateway_responses` teaches its local gateway the same answers.

    python -m scripts.local_server --stage local --port 8000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    RouteMatcher,
)

from chalicelib.api import gateway
from scripts.dynamodb_local import ROOT


def _declares(app: Any, method: str, path: str) -> bool:
    """Whether a route answers `method` at `path`, as API Gateway decides it from the routes."""
    try:
        match = RouteMatcher(list(app.routes)).match_route(path)
    except ValueError:
        return False
    return method.upper() in app.routes[match.route]


def emulate_gateway_responses() -> None:
    """Make Chalice's LocalGateway answer with this API's gateway responses (idempotent)."""
    if getattr(LocalGateway.handle_request, "emulates_gateway_responses", False):
        return
    original = LocalGateway.handle_request

    def handle_request(self: LocalGateway, method: str, path: str, headers: Any, body: Any) -> dict[str, Any]:
        if not _declares(self._app_object, method, path):
            return gateway.proxy_response(gateway.NO_ROUTE)
        try:
            return original(self, method, path, headers, body)
        except LocalGatewayException as e:  # an authorizer's refusal; this app has none, but keep the shape
            message = json.loads(e.body or b"{}").get("message", "") if e.body else ""
            return gateway.proxy_response(gateway.answer_for_status(e.CODE), e.CODE, message)

    handle_request.emulates_gateway_responses = True  # type: ignore[attr-defined]
    LocalGateway.handle_request = handle_request  # type: ignore[method-assign]


class RequestHandler(ChaliceRequestHandler):
    """Chalice's handler, plus the house error shape for what the HTTP server refuses before the
    gateway sees the request (a method it has no handler for, a malformed request line)."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        answer = gateway.NO_ROUTE if code == 501 else gateway.answer_for_status(code)
        response = gateway.proxy_response(answer, code, message or "")
        payload = response["body"].encode()
        self.send_response(response["statusCode"])
        for name, value in response["headers"].items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def local_dev_server(app: Any, config: Any, host: str, port: int) -> LocalDevServer:
    """chalice.local.create_local_server with this module's request handler: the app becomes a
    LocalChalice (a request per thread), once, as Chalice does it."""
    if not isinstance(app, CustomLocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=RequestHandler)


def server(host: str, port: int, stage: str) -> LocalDevServer:
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes

    emulate_gateway_responses()
    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    validate_routes(config.chalice_app.routes)  # as `chalice local` does: only routes AWS would take
    return local_dev_server(config.chalice_app, config, host, port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    srv = server(args.host, args.port, args.stage)
    with contextlib.suppress(KeyboardInterrupt):
        srv.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
