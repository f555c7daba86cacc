"""A batch's export files: their bytes (summary.csv, detail.csv, export.json, streamed to temporary
files with their SHA-256), where they are kept, and checking stored ones against the checksums."""

from __future__ import annotations

import tempfile
from typing import Any

from ...domain.settlement import Control
from ...exports import (
    DETAIL_COLUMNS,
    SUMMARY_COLUMNS,
    CsvOut,
    HashingWriter,
    control_json,
    detail_row,
    dumps,
    entry_json,
    line_json,
    summary_row,
)
from ...store.files import sha256
from ...store.settlement import SHARDS
from .batches import batch
from .deps import Deps

EXPORTS = {
    "summary": ("summary.csv", "text/csv"),
    "detail": ("detail.csv", "text/csv"),
    "json": ("export.json", "application/json"),
}


def export_key(period: str, name: str) -> str:
    return f"exports/{period}/{name}"


def build_exports(d: Deps, period: str, plan_version: int) -> tuple[dict[str, Any], dict[str, Control], dict]:
    """Write the summary, detail and JSON exports to temporary files, streaming; returns
    ({name: (file, sha256, size, rows)}, control totals, ledger sums and counts per currency)."""
    # Returned open (the caller stores then closes them): no context manager can own them here.
    files = {name: tempfile.TemporaryFile() for name in ("summary", "detail", "json_lines", "json_entries")}  # noqa: SIM115
    out = {name: HashingWriter(f) for name, f in files.items()}
    detail = CsvOut(out["detail"], DETAIL_COLUMNS)
    ledger_minor: dict[str, int] = {}
    ledger_count: dict[str, int] = {}
    first = True
    for shard in range(SHARDS):
        for e in d.uow.settlement.entries_to_settle(period, shard):
            detail.row(detail_row(period, e))
            ledger_minor[e.currency] = ledger_minor.get(e.currency, 0) + e.amount_minor
            ledger_count[e.currency] = ledger_count.get(e.currency, 0) + 1
            out["json_entries"].write((b"" if first else b",") + dumps(entry_json(period, e)))
            first = False
    summary = CsvOut(out["summary"], SUMMARY_COLUMNS)
    control: dict[str, Control] = {}
    first = True
    for line, details in d.uow.settlement.lines(period):
        summary.row(summary_row(period, line, details))
        control.setdefault(line.currency, Control()).add(line)
        out["json_lines"].write((b"" if first else b",") + dumps(line_json(period, line, details)))
        first = False
    control = dict(sorted(control.items()))
    # The JSON form: the same lines and entries, with the control totals, in one document.
    js = HashingWriter(tempfile.TemporaryFile())  # noqa: SIM115 (returned open, as above)
    js.write(
        b'{"batch":'
        + dumps(period)
        + b',"plan_version":'
        + dumps(plan_version)
        + b',"control":'
        + dumps(control_json(control))
        + b',"lines":['
    )
    for name in ("json_lines", "json_entries"):
        files[name].seek(0)
        while chunk := files[name].read(1 << 16):
            js.write(chunk)
        if name == "json_lines":
            js.write(b'],"entries":[')
    js.write(b"]}")
    files["json_lines"].close()
    files["json_entries"].close()
    built = {
        "summary": (
            files["summary"],
            out["summary"].digest,
            out["summary"].size,
            sum(c.lines for c in control.values()),
        ),
        "detail": (files["detail"], out["detail"].digest, out["detail"].size, sum(ledger_count.values())),
        "json": (js.target, js.digest, js.size, None),
    }
    return built, control, {"minor": ledger_minor, "count": ledger_count}


def store_exports(d: Deps, period: str, built: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Keep the built files (closing them) and return what the batch records of each."""
    exports = {}
    for name, (f, digest, size, rows) in built.items():
        file_name, content_type = EXPORTS[name]
        d.files.put(export_key(period, file_name), f, content_type)
        f.close()
        exports[name] = {"file": file_name, "sha256": digest, "bytes": size, "rows": rows}
    return exports


def verify_exports(d: Deps, period: str) -> dict[str, bool]:
    """Regenerate a batch's exports and compare them with the recorded checksums and stored files."""
    recorded = batch(d, period)
    built, _, _ = build_exports(d, period, recorded["plan_version"])
    result = {}
    for name, (f, digest, _, _) in built.items():
        f.close()
        stored = d.files.get(export_key(period, EXPORTS[name][0]))
        result[name] = digest == recorded["exports"][name]["sha256"] == sha256(stored)
    return result
