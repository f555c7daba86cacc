"""`make run`: DynamoDB Local with data under .data/, the table, the demo program, and the API
served by Chalice's local server (scripts/local_server.py). Ctrl-C stops both."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

from scripts import localenv
from scripts.dynamodb_local import ROOT, DynamoDBLocal, free_port, wait_for_port

API_PORT = int(os.environ.get("PORT", "8000"))
DB_PORT = int(os.environ.get("DYNAMODB_PORT", "8001"))


def banner(text: str) -> None:
    print("\n" + "=" * 78 + "\n" + text + "\n" + "=" * 78, flush=True)


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_database() -> tuple[str, object]:
    for port in (API_PORT, DB_PORT):
        if port_in_use(port):
            sys.exit(f"port {port} is in use: is another `make run` still going? (PORT=… DYNAMODB_PORT=… pick others)")
    if DynamoDBLocal.available():
        ddb = DynamoDBLocal(port=DB_PORT, db_path=localenv.DATA / "dynamodb",
                            log_path=localenv.DATA / "dynamodb-local.log").start()
        return ddb.endpoint, ddb
    banner("WARNING: Java or the DynamoDB Local jar is missing.\n"
           "Falling back to moto's in-process server: NOTHING YOU DO WILL PERSIST.")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)

    class Moto:
        def stop(self) -> None:
            proc.terminate()

    return f"http://127.0.0.1:{port}", Moto()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # a plain kill also stops DynamoDB Local
    localenv.load()
    os.environ.setdefault("UPLINE_TABLE", "upline-local")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    endpoint, db = start_database()
    os.environ["DYNAMODB_ENDPOINT"] = endpoint
    try:
        from scripts.cli import main as cli

        cli(["create-table"])
        cli(["seed-demo"])
        from chalicelib import bootstrap
        from chalicelib.auth import mint_token

        s = bootstrap.settings()
        admin = mint_token(s.jwt_secret, "admin", "demo-admin")
        dan = mint_token(s.jwt_secret, "partner", "dan", partner_id="P-DAN")
        banner(
            f"Upline is starting on http://127.0.0.1:{API_PORT}   (DynamoDB at {endpoint}, data in .data/)\n\n"
            f"  curl http://127.0.0.1:{API_PORT}/health\n"
            f"  curl -i http://127.0.0.1:{API_PORT}/r/DAN-SHOES\n"
            f"  curl -H 'Authorization: Bearer {dan}' \\\n"
            f"       http://127.0.0.1:{API_PORT}/partners/P-DAN/commissions\n\n"
            f"Web portal:   http://127.0.0.1:{API_PORT}/app  (paste a token to sign in)\n"
            f"Admin token:  {admin}\n"
            f"Secrets (webhook, JWT, hash pepper) are in .data/local.env; the README walks the whole loop.")
        # Chalice's local server, answering unknown routes as the deployed gateway does (scripts/local_server.py).
        proc = subprocess.Popen([sys.executable, "-m", "scripts.local_server", "--stage", "local",
                                 "--host", "127.0.0.1", "--port", str(API_PORT)], cwd=ROOT)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            try:
                return proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                return 1
    finally:
        db.stop()


if __name__ == "__main__":
    sys.exit(main())
