"""Settings, parsed once from the environment. Secrets arrive here from the environment
(in AWS, filled from SSM Parameter Store at deploy time) and never from the repository."""
from __future__ import annotations

import os
from datetime import timedelta

from pydantic import BaseModel, Field, field_validator, model_validator

from .domain import urls
from .domain.fraud import FraudRules
from .domain.periods import Calendar


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class Settings(BaseModel):
    table_name: str = "upline"
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    webhook_secrets: list[str] = Field(default_factory=list)
    webhook_tolerance_seconds: int = 300
    jwt_secret: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    hash_pepper: str = ""
    max_depth: int = Field(10, ge=1, le=30)
    attribution_window_days: int = Field(30, ge=1, le=3650)
    lifetime_binding: bool = False
    allowed_domains: list[str] = Field(default_factory=lambda: ["shop.example.com"])
    default_destination: str = "https://shop.example.com/"
    click_ttl_days: int = 90
    currencies: list[str] = Field(default_factory=lambda: ["USD", "EUR", "GBP", "CNY", "JPY"])
    max_body_bytes: int = 64 * 1024
    program_tz: str = "UTC"
    lock_days: int = Field(5, ge=0, le=60)
    export_bucket: str | None = None  # S3 in AWS; unset: exports go to export_dir
    export_dir: str = ".data/exports"
    export_url_seconds: int = Field(300, ge=30, le=3600)
    settlement_queue_url: str | None = None  # set: shards fan out over SQS; unset: settled in-process
    payout_provider: str = "bank_transfer"
    settlement_threads: int = Field(4, ge=1, le=16)
    # ---- security (issue 9) ----
    cors_origins: list[str] = Field(default_factory=list)  # exact origins; never "*"
    click_limit_per_window: int = Field(20, ge=1, le=10_000)  # one visitor, one link, one window
    click_window_seconds: int = Field(3600, ge=60, le=86_400)
    signup_limit_per_window: int = Field(60, ge=1, le=10_000)  # sign-ups from one IP per window
    signup_window_seconds: int = Field(3600, ge=60, le=86_400)
    fraud_min_click_to_order_seconds: int = Field(30, ge=0, le=86_400)
    fraud_refund_rate_bps: int = Field(5000, ge=0, le=10_000)  # partner refunds / sales above this: hold
    fraud_refund_min_sales_minor: int = Field(10_000, ge=0)  # ...once it has sold at least this much

    @property
    def fraud_rules(self) -> "FraudRules":
        return FraudRules(timedelta(seconds=self.fraud_min_click_to_order_seconds), self.fraud_refund_rate_bps,
                          self.fraud_refund_min_sales_minor)

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, v: list[str]) -> list[str]:
        if any("*" in o for o in v):
            raise ValueError("CORS origins must be exact, not wildcards")
        # Kept as a browser serializes its `Origin` header, which is then compared exactly.
        return [urls.origin(o) for o in v]

    @field_validator("jwt_jwks_url")
    @classmethod
    def _https_keys(cls, v: str | None) -> str | None:
        return urls.https_url(v).href if v else v

    @field_validator("program_tz")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(v)  # refuse a zone that does not exist at start-up, not at the first order
        return v

    @property
    def calendar(self) -> Calendar:
        return Calendar(self.program_tz, self.lock_days)

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        return [urls.domain_name(d) for d in v]

    @model_validator(mode="after")
    def _default_destination_allowed(self) -> "Settings":
        # The redirect falls back to it, so it passes the same check as any link's destination.
        url = urls.https_url(self.default_destination)
        if url.host_kind != urls.DOMAIN or not urls.within(url.host, self.allowed_domains):
            raise ValueError(f"UPLINE_DEFAULT_DESTINATION's host {url.host} is not in UPLINE_ALLOWED_DOMAINS")
        self.default_destination = url.href
        return self

    @property
    def attribution_window(self) -> timedelta:
        return timedelta(days=self.attribution_window_days)

    @property
    def click_ttl(self) -> timedelta:
        return timedelta(days=self.click_ttl_days)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        raw: dict[str, object] = {
            "table_name": env.get("UPLINE_TABLE"),
            "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            "dynamodb_endpoint": env.get("DYNAMODB_ENDPOINT"),
            "webhook_secrets": _csv(env.get("UPLINE_WEBHOOK_SECRETS")) or None,
            "jwt_secret": env.get("UPLINE_JWT_SECRET"),
            "jwt_jwks_url": env.get("UPLINE_JWT_JWKS_URL"),
            "jwt_issuer": env.get("UPLINE_JWT_ISSUER"),
            "jwt_audience": env.get("UPLINE_JWT_AUDIENCE"),
            "hash_pepper": env.get("UPLINE_HASH_PEPPER"),
            "max_depth": env.get("UPLINE_MAX_DEPTH"),
            "attribution_window_days": env.get("UPLINE_ATTRIBUTION_WINDOW_DAYS"),
            "lifetime_binding": env.get("UPLINE_LIFETIME_BINDING"),
            "allowed_domains": _csv(env.get("UPLINE_ALLOWED_DOMAINS")) or None,
            "default_destination": env.get("UPLINE_DEFAULT_DESTINATION"),
            "click_ttl_days": env.get("UPLINE_CLICK_TTL_DAYS"),
            "currencies": _csv(env.get("UPLINE_CURRENCIES")) or None,
            "program_tz": env.get("UPLINE_PROGRAM_TZ"),
            "lock_days": env.get("UPLINE_LOCK_DAYS"),
            "export_bucket": env.get("UPLINE_EXPORT_BUCKET"),
            "export_dir": env.get("UPLINE_EXPORT_DIR"),
            "settlement_queue_url": env.get("UPLINE_SETTLEMENT_QUEUE_URL"),
            "payout_provider": env.get("UPLINE_PAYOUT_PROVIDER"),
            "settlement_threads": env.get("UPLINE_SETTLEMENT_THREADS"),
            "cors_origins": _csv(env.get("UPLINE_CORS_ORIGINS")) or None,
            "click_limit_per_window": env.get("UPLINE_CLICK_LIMIT"),
            "click_window_seconds": env.get("UPLINE_CLICK_WINDOW_SECONDS"),
            "signup_limit_per_window": env.get("UPLINE_SIGNUP_LIMIT"),
            "signup_window_seconds": env.get("UPLINE_SIGNUP_WINDOW_SECONDS"),
            "fraud_min_click_to_order_seconds": env.get("UPLINE_FRAUD_MIN_CLICK_SECONDS"),
            "fraud_refund_rate_bps": env.get("UPLINE_FRAUD_REFUND_RATE_BPS"),
            "fraud_refund_min_sales_minor": env.get("UPLINE_FRAUD_REFUND_MIN_SALES_MINOR"),
        }
        return cls(**{k: v for k, v in raw.items() if v is not None})
