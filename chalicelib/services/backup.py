"""Back the table up as checksummed JSON lines, restore it into an empty table, and reconcile two
tables to the minor unit. The operator's drill next to point-in-time recovery (see the README).

A backup is a folder (or S3 prefix) holding `items-NNNNN.jsonl` files and a `manifest.json` that
lists each file with its SHA-256, item count and size, the item count per kind, and the figures a
restore must reproduce (ledger sums per partner and currency, batch control totals). The whole
table is exported: ledger entries, orders and refunds, partners and the tree, plans, periods,
batches with their lines, shards, events and carried balances, so a restored table settles, pays
and regenerates exports exactly as the original.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from ..domain.errors import Conflict, Unprocessable
from ..store import backup as store
from ..store.dynamo import Table, decode
from ..store.files import FileStore

FORMAT = "upline-backup/1"
MANIFEST = "manifest.json"


def kind_of(item: dict[str, Any]) -> str:
    """A coarse kind from the keys, for the manifest's counts: ENTRY, ORDER, REFUND, LINE, ..."""
    pk, sk = item["PK"]["S"], item["SK"]["S"]
    if pk.startswith("LEDGER#"):
        return "ENTRY" if "entry_id" in item else "SALE"
    head = sk.split("#", 1)[0]
    return head if head not in ("PROFILE", "ORDER", "BATCH", "PERIOD") else pk.split("#", 1)[0] + ":" + head


def backup(table: Table, files: FileStore, prefix: str, now: datetime) -> dict[str, Any]:
    """Write every item of the table under `prefix`, then the manifest (written last: a backup
    without a manifest is incomplete and restore refuses it)."""
    parts: list[store.Part] = []
    kinds: Counter[str] = Counter()
    figures = Figures()
    for item in table.scan_wire():
        if not parts or parts[-1].items == store.PART_ITEMS:
            parts.append(store.Part(f"items-{len(parts):05d}.jsonl"))
        parts[-1].write(store.line(item))
        kinds[kind_of(item)] += 1
        figures.add(item)
    for part in parts:
        files.put(f"{prefix}/{part.name}", part.file, "application/x-ndjson")
        part.file.close()
    manifest = {
        "format": FORMAT,
        "table": table.name,
        "taken_at": now.isoformat(),
        "items": sum(p.items for p in parts),
        "kinds": dict(sorted(kinds.items())),
        "files": [p.describe() for p in parts],
        "figures": figures.as_dict(),
    }
    data = json.dumps(manifest, sort_keys=True, indent=1).encode()
    files.put(f"{prefix}/{MANIFEST}", io.BytesIO(data), "application/json")
    return manifest


def read_manifest(files: FileStore, prefix: str) -> dict[str, Any]:
    manifest = json.loads(files.get(f"{prefix}/{MANIFEST}"))
    if manifest.get("format") != FORMAT:
        raise Unprocessable(f"not an Upline backup ({manifest.get('format')!r})", code="invalid_backup")
    return manifest


def verify(files: FileStore, prefix: str) -> tuple[dict[str, Any], list[bytes]]:
    """Check every data file against the manifest before anything is written anywhere."""
    manifest = read_manifest(files, prefix)
    blobs = []
    for f in manifest["files"]:
        data = files.get(f"{prefix}/{f['file']}")
        if hashlib.sha256(data).hexdigest() != f["sha256"] or len(data) != f["bytes"]:
            raise Unprocessable(f"{f['file']} does not match its checksum in the manifest", code="backup_corrupt")
        blobs.append(data)
    return manifest, blobs


def restore(table: Table, files: FileStore, prefix: str) -> dict[str, Any]:
    """Load a verified backup into an empty table and check it reproduces the manifest's figures."""
    manifest, blobs = verify(files, prefix)
    if not table.is_empty():
        raise Conflict(f"table {table.name} is not empty; restore only into a new, empty table", code="table_not_empty")
    count = 0
    for data in blobs:
        items = [json.loads(raw) for raw in data.splitlines() if raw]
        table.put_wire(items)
        count += len(items)
    if count != manifest["items"]:
        raise Unprocessable(
            f"the backup holds {count} items, its manifest says {manifest['items']}", code="backup_corrupt"
        )
    restored = reconcile(table)
    if restored != manifest["figures"]:
        raise Conflict("the restored table does not reconcile with the backup's figures", code="restore_mismatch")
    return {"table": table.name, "items": count, "files": len(blobs), "figures": restored}


def reconcile(table: Table) -> dict[str, Any]:
    """The figures two copies of the table must agree on, to the minor unit."""
    figures = Figures()
    for item in table.scan_wire():
        figures.add(item)
    return figures.as_dict()


class Figures:
    """Ledger sums and counts per partner and currency, carried balances, and per batch its status,
    control totals and export checksums."""

    def __init__(self) -> None:
        self.ledger: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.carries: dict[str, int] = {}
        self.lines: dict[str, int] = defaultdict(int)
        self.batches: dict[str, dict[str, Any]] = {}

    def add(self, raw: dict[str, Any]) -> None:
        pk, sk = raw["PK"]["S"], raw["SK"]["S"]
        entry = pk.startswith("LEDGER#") and "entry_id" in raw
        if not (entry or sk.startswith(("CARRY#", "LINE#")) or sk == "BATCH"):
            return
        item = decode(raw)
        if entry:
            acc = self.ledger[f"{item['partner_id']}/{item['currency']}"]
            acc[0] += int(item["amount_minor"])
            acc[1] += 1
        elif sk.startswith("CARRY#"):
            self.carries[f"{item['partner_id']}/{item['currency']}"] = int(item["amount_minor"])
        elif sk.startswith("LINE#"):
            self.lines[f"{item['period']}/{item['currency']}"] += int(item["payout_minor"])
        else:
            exports = json.loads(item["exports"]) if item.get("exports") else {}
            self.batches[item["period"]] = {
                "status": item["status"],
                "control": json.loads(item["control"]) if item.get("control") else None,
                "exports": {name: e["sha256"] for name, e in sorted(exports.items())},
            }

    def as_dict(self) -> dict[str, Any]:
        return {
            "ledger": dict(sorted((k, list(v)) for k, v in self.ledger.items())),
            "carries": dict(sorted(self.carries.items())),
            "payouts": dict(sorted(self.lines.items())),
            "batches": dict(sorted(self.batches.items())),
        }
