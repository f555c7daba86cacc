"""Table items to and from JSON lines, in DynamoDB's own typed form (lossless: numbers stay exact
strings, sets stay sets), written to a FileStore (S3 or a folder) with a SHA-256 per file."""

from __future__ import annotations

import hashlib
import json
import tempfile
from typing import Any

PART_ITEMS = 5_000  # items per data file


def line(item: dict[str, Any]) -> bytes:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


class Part:
    """One data file being written: a temporary file and its running checksum."""

    def __init__(self, name: str):
        self.name = name
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 — services.backup closes it once uploaded
        self.sha = hashlib.sha256()
        self.items = 0
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.sha.update(data)
        self.items += 1
        self.bytes += len(data)

    def describe(self) -> dict[str, Any]:
        return {"file": self.name, "sha256": self.sha.hexdigest(), "items": self.items, "bytes": self.bytes}
