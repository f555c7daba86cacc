"""Settlement exports as finance reads them: a summary CSV, a detail CSV and a JSON form.

Rows are written one at a time into files while their SHA-256 is computed, so an export of any
size costs the same memory. The bytes depend only on what is stored, in a fixed order, so a batch's
exports are identical however and whenever they are regenerated.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from typing import IO, Any

from .domain.ledger import Entry
from .domain.money import format_minor
from .domain.settlement import Control, Line

SUMMARY_COLUMNS = [
    "batch",
    "partner_id",
    "partner_name",
    "payout_method",
    "currency",
    "commissions_minor",
    "bonuses_minor",
    "clawbacks_minor",
    "adjustments_minor",
    "carried_in_minor",
    "carried_out_minor",
    "payout_minor",
    "payout",
    "entries",
]
DETAIL_COLUMNS = [
    "batch",
    "partner_id",
    "currency",
    "entry_id",
    "kind",
    "order_id",
    "level",
    "period",
    "occurred_at",
    "amount_minor",
    "plan_version",
    "rate_bps",
    "reverses",
    "trace",
]
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will show, never run: text starting with = + - @ (or a tab or carriage
    return) gets a leading apostrophe. Plain numbers, negative ones included, stay numbers."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


class HashingWriter:
    """A binary file that also keeps the SHA-256 and size of what was written to it."""

    def __init__(self, target: IO[bytes]):
        self.target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.size += len(data)
        self.target.write(data)

    @property
    def digest(self) -> str:
        return self.sha.hexdigest()


class CsvOut:
    """CSV rows (RFC 4180, CRLF) into a HashingWriter, every cell made safe."""

    def __init__(self, out: HashingWriter, columns: list[str]):
        self.out = out
        self.buf = io.StringIO()
        self.writer = csv.writer(self.buf, lineterminator="\r\n")
        self.row(columns)

    def row(self, cells: Iterable[Any]) -> None:
        self.writer.writerow([safe_cell(c) for c in cells])
        self.out.write(self.buf.getvalue().encode("utf-8"))
        self.buf.seek(0)
        self.buf.truncate()


def summary_row(batch_id: str, line: Line, details: dict[str, Any]) -> list[Any]:
    return [
        batch_id,
        line.partner_id,
        details.get("partner_name", ""),
        details.get("payout_method", ""),
        line.currency,
        line.commissions_minor,
        line.bonuses_minor,
        line.clawbacks_minor,
        line.adjustments_minor,
        line.carried_in_minor,
        line.carried_out_minor,
        line.payout_minor,
        format_minor(line.payout_minor, line.currency).split(" ")[0],
        line.entry_count,
    ]


def detail_row(batch_id: str, e: Entry) -> list[Any]:
    return [
        batch_id,
        e.partner_id,
        e.currency,
        e.entry_id,
        e.kind,
        e.order_id,
        e.level,
        e.period,
        e.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        e.amount_minor,
        e.plan_version,
        e.rate_bps,
        e.reverses or "",
        json.dumps(e.trace, sort_keys=True) if e.trace else "",
    ]


def line_json(batch_id: str, line: Line, details: dict[str, Any]) -> dict[str, Any]:
    return dict(zip(SUMMARY_COLUMNS, summary_row(batch_id, line, details), strict=True))


def entry_json(batch_id: str, e: Entry) -> dict[str, Any]:
    row = dict(zip(DETAIL_COLUMNS, detail_row(batch_id, e), strict=True))
    row["trace"] = e.trace
    return row


def control_json(control: dict[str, Control]) -> dict[str, dict[str, int]]:
    return {currency: c.as_dict() for currency, c in control.items()}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
