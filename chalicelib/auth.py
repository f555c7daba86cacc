"""Who is calling: bearer JWTs, HS256 with a local secret or RS256 from an identity provider's JWKS
(a Cognito user pool in AWS). The same check runs locally and in Lambda.

Which claims name the caller's role and records is fixed per mode, not guessed from whatever the
token carries: a claim a user can write about themselves must never decide what they may do. In
the identity provider's mode the role comes from the user pool's groups (`cognito:groups`, which
only an administrator can change) unless `UPLINE_JWT_ROLE_CLAIM` names another claim the operator
has made unwritable; `custom:role` is not read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

from .config import Settings
from .domain.errors import Forbidden, Unauthorized

ROLES = ("admin", "finance", "partner", "member")


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    partner_id: str | None = None
    member_id: str | None = None

    def require(self, *roles: str) -> Principal:
        if self.role not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role")
        return self

    def require_partner(self, partner_id: str) -> Principal:
        """A partner may act only on itself; an admin on anyone."""
        if self.role == "admin" or (self.role == "partner" and self.partner_id == partner_id):
            return self
        raise Forbidden("you can only see your own records")


@dataclass(frozen=True)
class Claims:
    """The claims that name a caller's role, partner and member in one verification mode."""

    role: str
    partner_id: str
    member_id: str


# Tokens we mint ourselves (HS256): every claim is ours.
LOCAL_CLAIMS = Claims(role="role", partner_id="partner_id", member_id="member_id")
# A Cognito user pool: groups are set by administrators only; the two custom attributes must be
# left out of the app client's write-attributes (docs/identity.md shows the commands).
COGNITO_CLAIMS = Claims(role="cognito:groups", partner_id="custom:partner_id", member_id="custom:member_id")


def claims_for(settings: Settings) -> Claims:
    base = COGNITO_CLAIMS if settings.jwt_jwks_url else LOCAL_CLAIMS
    if settings.jwt_role_claim:
        return Claims(settings.jwt_role_claim, base.partner_id, base.member_id)
    return base


def mint_token(
    secret: str,
    role: str,
    subject: str,
    partner_id: str | None = None,
    member_id: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    now: datetime | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A local HS256 token; `issuer` and `audience` must be the configured ones for it to pass."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    now = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        **(extra or {}),
    }
    if partner_id:
        claims["partner_id"] = partner_id
    if member_id:
        claims["member_id"] = member_id
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def mint_for(settings: Settings, role: str, subject: str, **kwargs: Any) -> str:
    """A local token this deployment's own check accepts (its secret, issuer and audience)."""
    if not settings.jwt_secret:
        raise ValueError("no UPLINE_JWT_SECRET is configured")
    return mint_token(
        settings.jwt_secret, role, subject, issuer=settings.jwt_issuer, audience=settings.jwt_audience, **kwargs
    )


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def _verified_claims(token: str, settings: Settings) -> dict[str, Any]:
    # The issuer and the audience are checked whenever they are configured, in either mode (PyJWT
    # then also requires the claim to be present); an unconfigured one is not checked.
    options = {"require": ["exp", "sub"]}
    checks: dict[str, Any] = {"issuer": settings.jwt_issuer, "audience": settings.jwt_audience, "options": options}
    try:
        if settings.jwt_jwks_url:
            key = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
            return jwt.decode(token, key, algorithms=["RS256"], **checks)
        if settings.jwt_secret:
            return jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], **checks)
    except jwt.PyJWTError as e:
        raise Unauthorized(f"invalid token: {e}") from None
    raise Unauthorized("no token verifier is configured")


def role_of(value: Any) -> str:
    """The one known role a claim names: a string, or a list of groups of which exactly one is a role
    (other groups are ignored; a user in two role groups is refused rather than guessed)."""
    names = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else []
    roles = sorted({n for n in names if n in ROLES})
    if not roles:
        raise Unauthorized("token carries no known role")
    if len(roles) > 1:
        raise Unauthorized(f"token carries several roles ({', '.join(roles)}); a user belongs to one role group")
    return roles[0]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def authenticate(authorization: str | None, settings: Settings) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("a bearer token is required")
    claims = _verified_claims(authorization[7:].strip(), settings)
    names = claims_for(settings)
    return Principal(
        subject=str(claims["sub"]),
        role=role_of(claims.get(names.role)),
        partner_id=_text(claims.get(names.partner_id)),
        member_id=_text(claims.get(names.member_id)),
    )
