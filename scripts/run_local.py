"""`make run`: DynamoDB Local with data under .data/, the table, the demo program, and the API served
by Chalice's local server (scripts/local_server.py, which answers unknown routes as the deployed
gateway does), all with the `local` stage's settings from .chalice/config.json. What the other
terminals need (the API's address, the local secrets, where the database is and the settings the API
runs with) is written under .data/ (scripts/localenv.py). Ctrl-C or SIGTERM stops the API, then
DynamoDB Local, and exits 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping

from chalicelib.config import effective_environment
from scripts import localenv
from scripts.dynamodb_local import ROOT, DynamoDBLocal, free_port, wait_for_port

API_PORT = int(os.environ.get("PORT", "8000"))
DB_PORT = int(os.environ.get("DYNAMODB_PORT", "8001"))
STAGE = localenv.LOCAL_STAGE
START_TIMEOUT = 180.0  # a JVM on a busy laptop can take a while


def banner(text: str) -> None:
    print("\n" + "=" * 78 + "\n" + text + "\n" + "=" * 78, flush=True)


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class _Process:
    """A child in its own session: Ctrl-C in the terminal reaches this runner only, which then stops
    its children in order (the API first, then the database it writes to)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_database() -> tuple[str, object]:
    for port in (API_PORT, DB_PORT):
        if port_in_use(port):
            sys.exit(f"port {port} is in use: is another `make run` still going? (PORT=… DYNAMODB_PORT=… pick others)")
    if DynamoDBLocal.available():
        ddb = DynamoDBLocal(
            port=DB_PORT,
            db_path=localenv.DATA / "dynamodb",
            log_path=localenv.DATA / "dynamodb-local.log",
            own_session=True,
            start_timeout=START_TIMEOUT,
        ).start()
        return ddb.endpoint, ddb
    banner(
        "WARNING: Java or the DynamoDB Local jar is missing.\n"
        "Falling back to moto's in-process server: NOTHING YOU DO WILL PERSIST."
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_for_port(port)
    return f"http://127.0.0.1:{port}", _Process(proc)


def server_environment(environ: Mapping[str, str], endpoint: str) -> dict[str, str]:
    """The environment the API (and this runner's own CLI calls) run with: local defaults and the
    local secrets under whatever this terminal exported, this run's database, then the stage's values
    from .chalice/config.json on top (through the loader every entry point outside Lambda uses)."""
    base = {
        **localenv.LOCAL_DEFAULTS,
        "UPLINE_EXPORT_DIR": str(localenv.DATA / "exports"),
        **localenv.secrets_env(),
        **environ,
        "DYNAMODB_ENDPOINT": endpoint,
    }
    return effective_environment(STAGE, base)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # a plain kill stops the children as Ctrl-C does
    signal.signal(signal.SIGINT, _interrupt)
    localenv.DATA.mkdir(exist_ok=True)
    children: list[object] = []
    try:
        endpoint, db = start_database()
        children.append(db)
        env = server_environment(os.environ, endpoint)
        os.environ.clear()
        os.environ.update(env)
        api = f"http://127.0.0.1:{API_PORT}"
        localenv.record_run(api, STAGE, env)
        from scripts.cli import main as cli

        for command in (["create-table"], ["seed-demo"]):
            if cli(command) != 0:
                return 1
        from chalicelib import bootstrap
        from chalicelib.auth import mint_for

        s = bootstrap.settings()
        _start_projector()
        # Chalice's local server, answering unknown routes as the deployed gateway does (scripts/local_server.py).
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scripts.local_server",
                "--stage",
                STAGE,
                "--host",
                "127.0.0.1",
                "--port",
                str(API_PORT),
            ],
            cwd=ROOT,
            start_new_session=True,
        )
        children.insert(0, _Process(proc))
        _wait_for_api(proc)
        admin = mint_for(s, "admin", "demo-admin")
        dan = mint_for(s, "partner", "dan", partner_id="P-DAN")
        banner(
            f"Upline is running on {api}   (DynamoDB Local at {endpoint}, data in .data/;\n"
            f"periods are months in {s.program_tz}, the local stage's UPLINE_PROGRAM_TZ)\n\n"
            f"In another terminal:  source .data/local.env    # API={api} and the local secrets\n"
            f"  curl $API/health\n"
            f"  curl -i $API/r/DAN-SHOES\n"
            f"  curl -H 'Authorization: Bearer {dan}' \\\n"
            f"       $API/partners/P-DAN/commissions\n"
            f"  .venv/bin/python -m scripts.cli next-period   # the CLI finds this run by itself\n\n"
            f"Shops' webhooks (docs/integrations.md):\n{_integrations(api, s)}\n"
            f"  any other shop: {api}/webhooks/orders and /webhooks/refunds (UPLINE_WEBHOOK_SECRETS)\n"
            f"Outbound webhooks: an admin registers endpoints at {api}/admin/webhooks/endpoints\n\n"
            f"Web portal:   {api}/app  (paste a token to sign in)\n"
            f"Admin token:  {admin}\n"
            f"Ctrl-C stops the API and DynamoDB Local; docs/walkthrough.md walks the whole loop."
        )
        code = proc.wait()
        print(f"the local server exited with {code}", file=sys.stderr)
        return code or 1
    except KeyboardInterrupt:
        print("\nstopping: the API, then DynamoDB Local", flush=True)
        return 0
    except RuntimeError as e:  # a child that would not start: say so in one line
        print(f"make run: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean stop short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            child.stop()  # type: ignore[attr-defined]


def _integrations(api: str, settings: object) -> str:
    """One line per shop provider: its webhook URL, and the settings this run lacks for it."""
    from chalicelib.integrations import catalog

    return "\n".join(
        f"  {p['title']:<15} {p['url']:<48} "
        + ("configured" if p["configured"] else "not configured: set " + " and ".join(p["settings"]))
        for p in catalog.status(settings, api)
    )


def _start_projector(every: float = 1.0) -> None:
    """The stream's consumers, as Lambda runs them in AWS (jobs.project_figures and
    jobs.outbound_events): DynamoDB Local's stream polled every second, so partners' counters show
    within about two seconds of an order, and the same records make outbound webhook deliveries,
    delivered from this process's queue. (A replay asked for through the API queues in the API's
    process, which nothing drains on `make run`: replays are delivered in AWS and in the tests.)"""
    import threading

    from chalicelib import bootstrap
    from chalicelib.services import outbound
    from chalicelib.services.stream import consume
    from scripts.stream import Follower, deliver_due

    follower = Follower(bootstrap.table().client, bootstrap.table().name)

    def loop() -> None:
        while True:
            try:
                records = follower.poll()
                if records:
                    consume(bootstrap.uow(), records, bootstrap.settings(), bootstrap.now())
                    outbound.fan_out(bootstrap.uow(), records, bootstrap.webhook_queue(), bootstrap.now())
                deliver_due()  # outbound webhooks, as jobs.webhook_worker delivers them in AWS
            except Exception as e:  # a hiccup of the local database: say so, try again next second
                print(f"projector: {type(e).__name__}: {e}", file=sys.stderr)
            time.sleep(every)

    threading.Thread(target=loop, name="projector", daemon=True).start()


def _wait_for_api(proc: subprocess.Popen, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not port_in_use(API_PORT):
        if proc.poll() is not None:
            raise SystemExit(f"the local server exited with {proc.returncode} before serving on port {API_PORT}")
        if time.monotonic() > deadline:
            raise SystemExit(f"the local server did not open port {API_PORT} within {timeout:.0f}s")
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
