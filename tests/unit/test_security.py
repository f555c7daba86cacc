import pytest

from chalicelib.domain.errors import Unauthorized
from chalicelib.security import keyed_hash, sign, verify_webhook

BODY = b'{"order_id":"o1"}'
NOW = 1_800_000_000


def test_a_correctly_signed_fresh_request_passes():
    verify_webhook(["s1"], str(NOW), sign("s1", str(NOW), BODY), BODY, NOW)


def test_either_secret_passes_during_a_rotation():
    verify_webhook(["new", "old"], str(NOW), sign("old", str(NOW), BODY), BODY, NOW)


@pytest.mark.parametrize("ts,sig,code", [
    (str(NOW), "v1=deadbeef", "bad_signature"),
    (str(NOW - 301), sign("s1", str(NOW - 301), BODY), "stale_signature"),
    (str(NOW + 301), sign("s1", str(NOW + 301), BODY), "stale_signature"),
    (None, None, "bad_signature"),
    ("abc", "v1=x", "bad_signature"),
])
def test_bad_or_stale_signatures_are_refused(ts, sig, code):
    with pytest.raises(Unauthorized) as e:
        verify_webhook(["s1"], ts, sig, BODY, NOW)
    assert e.value.code == code


def test_a_signature_over_another_body_is_refused():
    with pytest.raises(Unauthorized):
        verify_webhook(["s1"], str(NOW), sign("s1", str(NOW), BODY), BODY + b" ", NOW)


def test_keyed_hash_hides_the_value_and_depends_on_the_pepper():
    h = keyed_hash("pepper", "203.0.113.9")
    assert "203" not in h and h != keyed_hash("other", "203.0.113.9")
