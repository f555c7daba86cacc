"""The local export folder (make run's stand-in for S3) under concurrent writers of one file."""
from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.store.files import FolderFiles

WRITERS = 6


class AllOpenFirst(io.BytesIO):
    """A source whose first read waits until every writer has opened its temporary file, so each
    writer's write and rename overlap the others' (the race two settlement runs hit)."""

    def __init__(self, data: bytes, barrier: threading.Barrier):
        super().__init__(data)
        self.barrier = barrier
        self.waited = False

    def read(self, *args):
        if not self.waited:
            self.waited = True
            self.barrier.wait(timeout=10)
        return super().read(*args)


def test_concurrent_writers_of_one_export_each_replace_it_whole_and_leave_no_temporary_files(tmp_path):
    files = FolderFiles(tmp_path)
    barrier = threading.Barrier(WRITERS)
    contents = [bytes([65 + i]) * 200_000 for i in range(WRITERS)]

    def put(data: bytes) -> None:
        files.put("exports/2026-08/summary.csv", AllOpenFirst(data, barrier), "text/csv")

    with ThreadPoolExecutor(WRITERS) as pool:
        for f in [pool.submit(put, c) for c in contents]:
            f.result()  # before the fix: FileNotFoundError (one fixed summary.csv.tmp for every writer)
    assert files.get("exports/2026-08/summary.csv") in contents
    assert [p.name for p in (tmp_path / "exports" / "2026-08").iterdir()] == ["summary.csv"]


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_file(tmp_path):
    files = FolderFiles(tmp_path)
    files.put("exports/x.csv", io.BytesIO(b"before"), "text/csv")

    class Broken(io.BytesIO):
        def read(self, *args):
            raise OSError("disk went away")

    try:
        files.put("exports/x.csv", Broken(), "text/csv")
    except OSError:
        pass
    assert files.get("exports/x.csv") == b"before"
    assert [p.name for p in (tmp_path / "exports").iterdir()] == ["x.csv"]
