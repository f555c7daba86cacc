"""Moved to tests/support/fastmoto.py (the API tests use it too); kept for the imports here."""
from tests.support.fastmoto import fast_dynamodb_replies, fast_moto  # noqa: F401
