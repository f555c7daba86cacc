"""Who is calling: bearer JWTs, HS256 with a local secret or RS256 from an identity provider's JWKS
(a Cognito user pool in AWS). The same check runs locally and in Lambda."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

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

    def require(self, *roles: str) -> "Principal":
        if self.role not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role")
        return self

    def require_partner(self, partner_id: str) -> "Principal":
        """A partner may act only on itself; an admin on anyone."""
        if self.role == "admin" or (self.role == "partner" and self.partner_id == partner_id):
            return self
        raise Forbidden("you can only see your own records")


def mint_token(secret: str, role: str, subject: str, partner_id: str | None = None,
               member_id: str | None = None, ttl: timedelta = timedelta(hours=12),
               now: datetime | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    now = now or datetime.now(timezone.utc)
    claims = {"sub": subject, "role": role, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    if partner_id:
        claims["partner_id"] = partner_id
    if member_id:
        claims["member_id"] = member_id
    return jwt.encode(claims, secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def authenticate(authorization: str | None, settings: Settings) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("a bearer token is required")
    token = authorization[7:].strip()
    options = {"require": ["exp", "sub"]}
    try:
        if settings.jwt_jwks_url:
            key = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=settings.jwt_audience,
                                issuer=settings.jwt_issuer, options=options)
        elif settings.jwt_secret:
            claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], options=options)
        else:
            raise Unauthorized("no token verifier is configured")
    except jwt.PyJWTError as e:
        raise Unauthorized(f"invalid token: {e}") from None
    groups = claims.get("cognito:groups") or []
    role = claims.get("role") or claims.get("custom:role") or (groups[0] if groups else None)
    if role not in ROLES:
        raise Unauthorized("token carries no known role")
    return Principal(
        subject=str(claims["sub"]), role=role,
        partner_id=claims.get("partner_id") or claims.get("custom:partner_id"),
        member_id=claims.get("member_id") or claims.get("custom:member_id"),
    )
