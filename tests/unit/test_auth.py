"""Bearer tokens: issuer and audience are checked in both modes, and in the identity provider's mode
a role is read only from something the user cannot write (user-pool groups, or a claim the
operator names)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import auth
from chalicelib.auth import authenticate, mint_token
from chalicelib.config import Settings
from chalicelib.domain.errors import Unauthorized

SECRET = "unit-test-secret-0123456789abcdefghij"
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST"
CLIENT = "app-client-id"


def hs256(**overrides: Any) -> Settings:
    return Settings(jwt_secret=SECRET, **overrides)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_an_hs256_token_from_another_issuer_is_refused_when_an_issuer_is_configured():
    s = hs256(jwt_issuer=ISSUER)
    forged = mint_token(SECRET, "admin", "eve", issuer="https://elsewhere.example")
    with pytest.raises(Unauthorized, match="issuer"):
        authenticate(bearer(forged), s)


def test_an_hs256_token_without_an_issuer_is_refused_when_one_is_configured():
    with pytest.raises(Unauthorized, match="iss"):
        authenticate(bearer(mint_token(SECRET, "admin", "eve")), hs256(jwt_issuer=ISSUER))


def test_an_hs256_token_for_another_audience_or_none_is_refused_when_an_audience_is_configured():
    s = hs256(jwt_audience=CLIENT)
    with pytest.raises(Unauthorized, match="(?i)audience"):
        authenticate(bearer(mint_token(SECRET, "admin", "eve", audience="another-client")), s)
    with pytest.raises(Unauthorized, match="aud"):
        authenticate(bearer(mint_token(SECRET, "admin", "eve")), s)


def test_an_hs256_token_with_the_configured_issuer_and_audience_is_accepted():
    s = hs256(jwt_issuer=ISSUER, jwt_audience=CLIENT)
    who = authenticate(bearer(auth.mint_for(s, "partner", "dan", partner_id="P-DAN")), s)
    assert (who.subject, who.role, who.partner_id) == ("dan", "partner", "P-DAN")


def test_with_no_issuer_or_audience_configured_a_plain_local_token_is_accepted():
    who = authenticate(bearer(mint_token(SECRET, "finance", "fin")), hs256())
    assert who.role == "finance"


# ---- the identity provider's mode (RS256 from a JWKS, as a Cognito user pool signs) ---------------

class FakeJWKS:
    """PyJWKClient's one method, over a key we hold: no network."""

    def __init__(self, public_key: Any):
        self.key = public_key

    def get_signing_key_from_jwt(self, token: str) -> Any:
        return self


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def cognito(monkeypatch, rsa_key):
    monkeypatch.setattr(auth, "_jwks_client", lambda url: FakeJWKS(rsa_key.public_key()))

    def token(claims: dict[str, Any], issuer: str = ISSUER, audience: str = CLIENT) -> str:
        now = datetime.now(timezone.utc)
        body = {"sub": "user-1", "iss": issuer, "aud": audience, "token_use": "id",
                "iat": int(now.timestamp()), "exp": int((now + timedelta(hours=1)).timestamp()), **claims}
        return bearer(jwt.encode(body, rsa_key, algorithm="RS256"))

    settings = Settings(jwt_jwks_url=f"{ISSUER}/.well-known/jwks.json", jwt_issuer=ISSUER, jwt_audience=CLIENT)
    return token, settings


def test_a_cognito_token_whose_role_comes_only_from_a_user_writable_attribute_is_not_trusted(cognito):
    token, s = cognito
    for claims in ({"custom:role": "admin"}, {"role": "admin"}, {"custom:role": "admin", "cognito:groups": []}):
        with pytest.raises(Unauthorized, match="no known role"):
            authenticate(token(claims), s)


def test_a_cognito_token_takes_its_role_from_the_user_pool_groups_and_ignores_other_groups(cognito):
    token, s = cognito
    who = authenticate(token({"cognito:groups": ["beta-testers", "partner"], "custom:partner_id": "P-DAN",
                              "custom:role": "admin"}), s)
    assert (who.role, who.partner_id) == ("partner", "P-DAN")


def test_a_cognito_user_in_two_role_groups_is_refused_rather_than_given_either(cognito):
    token, s = cognito
    with pytest.raises(Unauthorized, match="several roles"):
        authenticate(token({"cognito:groups": ["partner", "admin"]}), s)


def test_a_cognito_token_names_its_partner_only_through_the_custom_attribute(cognito):
    token, s = cognito
    who = authenticate(token({"cognito:groups": ["partner"], "partner_id": "P-OTHER"}), s)
    assert who.partner_id is None


def test_an_operator_may_name_the_role_claim_it_has_made_unwritable(cognito):
    token, s = cognito
    s = s.model_copy(update={"jwt_role_claim": "custom:role"})
    assert authenticate(token({"custom:role": "finance"}), s).role == "finance"
    with pytest.raises(Unauthorized, match="no known role"):
        authenticate(token({"cognito:groups": ["finance"]}), s)


def test_a_cognito_token_from_another_pool_or_app_client_is_refused(cognito):
    token, s = cognito
    with pytest.raises(Unauthorized, match="issuer"):
        authenticate(token({"cognito:groups": ["admin"]}, issuer="https://cognito-idp.eu-west-1.amazonaws.com/other"), s)
    with pytest.raises(Unauthorized, match="(?i)audience"):
        authenticate(token({"cognito:groups": ["admin"]}, audience="another-client"), s)


def test_an_hs256_token_is_refused_when_the_identity_provider_is_configured(cognito):
    _, s = cognito
    with pytest.raises(Unauthorized):
        authenticate(bearer(mint_token(SECRET, "admin", "eve", issuer=ISSUER, audience=CLIENT)), s)
