"""The open redirect as a user meets it: Chromium, whose URL parser shares no code with ada-url,
reads every destination Upline accepts (and every Location it sends) as a host on the allow-list,
and following a link lands there."""
from __future__ import annotations

import shutil
import threading
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings

from chalicelib import bootstrap
from chalicelib.domain import urls
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.links import LINK, CodeRef, check_destination, with_click_id
from scripts.dynamodb_local import free_port
from tests.support.helpers import auth, dumps
from tests.support.program import Program
from tests.support.urls import ALLOWED, REPORTED, destinations

pytestmark = pytest.mark.browser
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
CLICK = "c_" + "x" * 20 + "P-AAA"
READ = """(list) => list.map((u) => {
  try { const x = new URL(u); return [x.protocol, x.hostname, x.username, x.password]; }
  catch (e) { return null; }
})"""


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("the browser tests need Debian's chromium (.ci/run installs it: apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def blank_page(chromium):
    page = chromium.new_page()
    yield page
    page.close()


def chromium_reads_an_allowed_host(page, typed: str) -> bool:
    """For a destination Upline accepts: Chromium's host for it as typed, as stored and as sent is
    allowed. Returns whether it was accepted."""
    try:
        stored = check_destination(typed, ALLOWED)
    except InvalidInput:
        return False
    readings = page.evaluate(READ, [typed, stored, with_click_id(stored, CLICK)])
    for label, seen in zip(("as typed", "as stored", "as sent"), readings):
        assert seen is not None, (label, typed)
        protocol, host, user, password = seen
        assert protocol == "https:" and urls.within(host, ALLOWED), (label, typed, seen)
        assert not user and not password, (label, typed, seen)
    return True


@pytest.mark.parametrize("typed", REPORTED)
def test_chromium_reads_the_reported_destinations_where_upline_does(blank_page, typed):
    chromium_reads_an_allowed_host(blank_page, typed)


def test_every_destination_upline_accepts_is_read_by_chromium_as_an_allowed_host(blank_page):
    accepted: list[str] = []

    @settings(max_examples=600, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(typed=destinations())
    def run(typed):
        if chromium_reads_an_allowed_host(blank_page, typed):
            accepted.append(typed)

    run()
    assert len(accepted) >= 20  # the property was about something


@pytest.fixture(scope="module")
def server():
    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app

    port = free_port()
    local = create_local_server(app, Config.create(chalice_app=app, chalice_stage="local"), "127.0.0.1", port)
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    local.shutdown()


def where_chromium_goes(chromium, url: str) -> list[str]:
    """The URLs Chromium asks for when it opens `url` (the shop is not reachable from here; the
    redirect to it is what counts)."""
    ctx = chromium.new_context()
    page = ctx.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    try:
        page.goto(url, timeout=15_000)
    except Exception:  # noqa: BLE001 - net::ERR_NAME_NOT_RESOLVED for the shop's host
        pass
    ctx.close()
    return asked


@pytest.mark.integration
def test_following_links_in_chromium_lands_on_an_allowed_host_even_for_a_link_stored_before_the_fix(
        chromium, server, api_local):
    p = Program(api_local)
    p.enrol("AAA")
    # Written as urlsplit let it through; a browser would have gone to evil.com.
    bootstrap.repository().create_link(CodeRef("OLDEVIL", LINK, "P-AAA", "https://evil.com\\.shop.example.com/x"),
                                       datetime(2026, 1, 1, tzinfo=timezone.utc))
    r = p.c.post("/links", headers=auth("partner", "P-AAA"),
                 body=dumps({"destination": "https:\\\\SHOP.example.com\\bags?x=\u00fc", "code": "TRICKY"}))
    assert r.status_code == 201, r.body
    for code, path in (("OLDEVIL", "/"), ("TRICKY", "/bags")):
        asked = where_chromium_goes(chromium, f"{server}/r/{code}")
        onward = [u for u in asked if not u.startswith(server)]
        assert onward, asked
        assert all(urls.parse(u).host == "shop.example.com" for u in onward), asked
        assert urls.parse(onward[0]).path == path and "upline_click=c_" in onward[0], asked
