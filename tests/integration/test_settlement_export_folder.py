"""Concurrent settlement runs through the API share one local export folder, as under `make run`."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from chalicelib import bootstrap
from chalicelib.store.files import FolderFiles
from tests.integration.test_settlement_runs import EXPORT_FILES, PERIOD, busy_august
from tests.support.helpers import auth, dumps
from tests.support.settlement import Clock, Settling

pytestmark = pytest.mark.integration


@pytest.fixture
def clock(monkeypatch):
    c = Clock(datetime(2026, 8, 10, tzinfo=timezone.utc))
    monkeypatch.setattr(bootstrap, "now", c)
    return c


def test_concurrent_settlement_runs_writing_one_export_folder_never_answer_500(api_local, clock, tmp_path,
                                                                               monkeypatch):
    # Six whole settlement runs at once through the API, on a shared CI machine, can outlast a
    # request's write deadline (30 s; they would answer 503 too_slow and change nothing more). This
    # test is about the shared folder: give each request two minutes (still well inside the fence).
    monkeypatch.setenv("UPLINE_MAX_REQUEST_SECONDS", "120")
    bootstrap.settings.cache_clear()
    assert bootstrap.settings().max_request_seconds == 120
    folder = tmp_path / "exports-shared"
    bootstrap.use_files(FolderFiles(folder))
    busy_august(Settling(api_local, clock))

    def run(i: int):
        return api_local.http.post("/settlements/run", headers=auth("finance", subject=f"finance-{i}"),
                                   body=dumps({"period": PERIOD}))

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(run, range(6)))
    statuses = [r.status_code for r in answers]
    assert all(s < 500 for s in statuses), [(r.status_code, r.body) for r in answers]
    assert 200 in statuses
    for r in answers:
        if r.status_code != 200:
            assert json.loads(r.body)["error"]["code"]  # a refusal in the house shape (busy), never a 500
    batch = json.loads(api_local.http.get(f"/settlements/{PERIOD}", headers=auth("finance")).body)["batch"]
    assert batch["status"] == "draft"
    written = sorted(p.name for p in (folder / "exports" / PERIOD).iterdir())
    assert written == sorted(EXPORT_FILES)  # no temporary file left behind
