"""`make run` as a newcomer meets it: the CLI finds it on any port from what it recorded under .data/,
every CLI failure is one readable line, and Ctrl-C or SIGTERM stops the API and DynamoDB Local and
exits 0."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from chalicelib import bootstrap
from scripts import localenv
from scripts.dynamodb_local import ROOT, free_port
from scripts.run_local import port_in_use


def _record(endpoint: str, table: str, **settings: str) -> None:
    localenv.record_run("http://127.0.0.1:8100", "test", {"DYNAMODB_ENDPOINT": endpoint, "UPLINE_TABLE": table,
                                                        **localenv.secrets_env(), **settings})


@pytest.mark.integration
def test_the_cli_finds_make_run_on_any_port_from_what_it_recorded(cli, dynamodb_local, local_client, monkeypatch):
    table = os.environ["UPLINE_TABLE"]
    monkeypatch.delenv("DYNAMODB_PORT", raising=False)
    monkeypatch.delenv("DYNAMODB_ENDPOINT", raising=False)
    _record(dynamodb_local.endpoint, table, UPLINE_CLICK_LIMIT="7", UPLINE_EXPORT_DIR=str(localenv.DATA / "exports"))
    monkeypatch.setenv("UPLINE_CLICK_LIMIT", "9")  # exported in the CLI's terminal: the running API's value wins
    created = cli("create-table")
    assert created.code == 0 and created.out.strip() == f"table {table}: already there"
    assert cli("seed-demo").code == 0
    period = cli("next-period")
    assert period.code == 0 and len(period.out.strip()) == 7
    s = bootstrap.settings()
    assert (s.dynamodb_endpoint, s.table, s.click_limit) == (dynamodb_local.endpoint, table, 7)
    settled = cli("settle", "--as", "maker")
    assert settled.code == 0, settled.err


def test_a_cli_that_cannot_reach_make_run_says_so_in_one_line(cli):
    _record(f"http://127.0.0.1:{free_port()}", "upline-local")
    r = cli("next-period")
    assert r.code == 1 and r.out == ""
    assert r.err.count("\n") == 1 and "is `make run` running?" in r.err and "Traceback" not in r.err


@pytest.mark.integration
def test_a_missing_table_is_one_readable_line(cli, dynamodb_local):
    _record(dynamodb_local.endpoint, "no-such-table")
    r = cli("show", "2026-08")
    assert r.code == 1 and r.err.count("\n") == 1
    assert "the table no-such-table does not exist" in r.err and "Traceback" not in r.err


@pytest.mark.integration
@pytest.mark.parametrize("how", ["ctrl-c", pytest.param("sigterm", marks=pytest.mark.slow)])
def test_make_run_stops_the_api_and_dynamodb_local_and_exits_0(tmp_path, how):
    api, db = free_port(), free_port()
    log = open(tmp_path / "run.log", "wb")
    env = {**os.environ, "PORT": str(api), "DYNAMODB_PORT": str(db), "UPLINE_LOCAL_DATA": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "scripts.run_local"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (port_in_use(api) and b"Ctrl-C stops" in (tmp_path / "run.log").read_bytes()):
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "make run did not come up"
            time.sleep(0.5)
        assert port_in_use(db)
        if how == "ctrl-c":  # the terminal signals its foreground process group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, (tmp_path / "run.log").read_text()
        assert not port_in_use(api) and not port_in_use(db)
        assert b"Traceback" not in (tmp_path / "run.log").read_bytes()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
