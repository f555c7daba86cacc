"""Shared by every browser module."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def patient_requests(monkeypatch):
    """A settlement run through the API on DynamoDB Local, while Chromium and a second worker share two
    cores, can take longer than the default request deadline (30 s, after which a write fails as
    too_slow rather than land after the effectivity fence); give browser tests room, as the export
    folder test does. The deadline itself is tested in the API and unit tests."""
    from chalicelib import bootstrap

    monkeypatch.setenv("UPLINE_MAX_REQUEST_SECONDS", "120")
    bootstrap.settings.cache_clear()
    yield
    bootstrap.settings.cache_clear()
