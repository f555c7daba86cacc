"""Settings: one pydantic-settings model, read from the environment, and the one loader that gives an
entry point outside Lambda the environment its stage runs with.

Every variable is `UPLINE_<FIELD NAME>`; the only exceptions are the AWS region and the DynamoDB
endpoint, whose names belong to the AWS tools. The program's settings for every stage live in ONE
place, `.chalice/config.json`: Lambda gets them by deployment, `chalice local` (and so `make run`) and
Chalice's test client apply them over the process environment, and the CLI, the demo seed and
backup/restore apply them the same way through `stage_environment`. `docs/configuration.md` is
generated from this model (`make docs`). Secrets are never in the repository: which source they come
from (SSM Parameter Store in AWS, the environment elsewhere) is decided in secret_source.py, and
bootstrap.settings() hands them to from_env as variables like any other."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from .domain import compliance, urls
from .domain.coupons import CouponLimits, LeakRule
from .domain.fraud import FraudRules
from .domain.links import LinkLimits
from .domain.periods import Calendar
from .domain.standing import TreeRules

PREFIX = "UPLINE_"
CALL_SECONDS = 5 * (3 + 10)  # the longest one DynamoDB call may take: attempts x (connect + read) timeouts
CHALICE_CONFIG = Path(__file__).resolve().parents[1] / ".chalice" / "config.json"

# What a setting is for; docs/configuration.md groups by it.
PROGRAM = "program"  # the program's rules: what is paid, when, to whom, what is refused
DEPLOYMENT = "deployment"  # where the data and the files are, and how they are reached
SECRET = "secret"  # never in the repository; locally generated into .data/local.env


def _setting(default: Any, description: str, group: str = PROGRAM, **kw: Any) -> Any:
    return Field(default, description=description, json_schema_extra={"group": group}, **kw)


def _many(default: list[str], description: str, group: str = PROGRAM) -> Any:
    return Field(default_factory=lambda: list(default), description=description, json_schema_extra={"group": group})


# A comma-separated list in the environment ("a,b"), a list in Python.
CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", env_ignore_empty=True, populate_by_name=True, frozen=True
    )

    # ---- deployment ----
    table: str = _setting("upline", "The DynamoDB table.", DEPLOYMENT)
    region: str = _setting(
        "us-east-1",
        "The AWS region (read from `AWS_REGION`, else `AWS_DEFAULT_REGION`).",
        DEPLOYMENT,
        validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    dynamodb_endpoint: str | None = _setting(
        None,
        "A DynamoDB endpoint other than AWS's (DynamoDB Local); unset in AWS.",
        DEPLOYMENT,
        validation_alias=AliasChoices("DYNAMODB_ENDPOINT"),
    )
    export_bucket: str | None = _setting(
        None, "The S3 bucket for settlement exports; unset: they go to `UPLINE_EXPORT_DIR`.", DEPLOYMENT
    )
    export_dir: str = _setting(".data/exports", "The folder for settlement exports when no bucket is set.", DEPLOYMENT)
    settlement_queue_url: str | None = _setting(
        None, "The SQS queue a period's shards fan out over; unset: shards are settled in the same process.", DEPLOYMENT
    )
    webhook_queue_url: str | None = _setting(
        None,
        "The SQS queue outbound webhook deliveries wait in; unset: an in-process queue (local runs, tests).",
        DEPLOYMENT,
    )
    outbound_allow_private: bool = _setting(
        False,
        "Let outbound webhook endpoints be plain http on private, loopback or link-local addresses: the "
        "local stage only (refused together with `UPLINE_SECRETS_PATH`, i.e. in AWS).",
        DEPLOYMENT,
    )
    settlement_threads: int = _setting(
        4, "Shards settled at once when they are settled in-process.", DEPLOYMENT, ge=1, le=16
    )
    jwt_jwks_url: str | None = _setting(
        None,
        "The identity provider's JWKS URL (a Cognito user pool); set: RS256 tokens are verified against it.",
        DEPLOYMENT,
    )
    jwt_issuer: str | None = _setting(None, "The issuer tokens must name, when set.", DEPLOYMENT)
    jwt_audience: str | None = _setting(None, "The audience tokens must name, when set.", DEPLOYMENT)
    secrets_path: str | None = _setting(
        None,
        "In AWS, the SSM Parameter Store path the secrets are read from at run time (`/upline/<stage>`; "
        "chalicelib/secret_source.py); unset: the secrets come from the environment.",
        DEPLOYMENT,
    )
    jwt_role_claim: str | None = _setting(
        None,
        "The token claim that names the caller's role; unset: `role` for local HS256 tokens, "
        "`cognito:groups` (user-pool groups, which a user cannot write) with a JWKS.",
        DEPLOYMENT,
    )
    sso_authorize_url: str | None = _setting(
        None, "The identity provider's OAuth2 authorize endpoint the portal's sign-in starts at.", DEPLOYMENT
    )
    sso_client_id: str | None = _setting(
        None, "The portal's OAuth2 client id; unset: the JWT audience (a Cognito app client id).", DEPLOYMENT
    )

    # ---- secrets ----
    webhook_secrets: CommaList = _many(
        [], "The shop's HMAC secrets for signed webhooks, comma-separated: two are accepted during a rotation.", SECRET
    )
    stripe_webhook_secrets: CommaList = _many(
        [],
        "Stripe's webhook signing secrets (`whsec_...`) for `POST /integrations/stripe`, comma-separated: two "
        "are accepted during a rotation; empty: the Stripe route answers 404.",
        SECRET,
    )
    shopify_webhook_secrets: CommaList = _many(
        [],
        "The Shopify app's client secrets (or the shop's webhook signing secret) for "
        "`POST /integrations/shopify`, comma-separated: two are accepted during a rotation; empty: the Shopify "
        "route answers 404.",
        SECRET,
    )
    woocommerce_webhook_secrets: CommaList = _many(
        [],
        "The WooCommerce webhooks' secrets for `POST /integrations/woocommerce`, comma-separated: two are "
        "accepted during a rotation; empty: the WooCommerce route answers 404.",
        SECRET,
    )
    paddle_webhook_secrets: CommaList = _many(
        [],
        "Paddle Billing's notification destination secret keys for `POST /integrations/paddle`, "
        "comma-separated: two are accepted during a rotation; empty: the Paddle route answers 404.",
        SECRET,
    )
    jwt_secret: str | None = _setting(None, "The HS256 key for tokens when no JWKS URL is set (local use).", SECRET)
    hash_pepper: str = _setting("", "The key of every stored hash (IPs, user agents, customer ids, e-mails).", SECRET)

    # ---- the program ----
    program_tz: str = _setting("UTC", "The IANA time zone whose calendar months are the commission periods.")
    lock_days: int = _setting(
        5, "Days after a period ends until it locks (late orders and refunds land in it until then).", ge=0, le=60
    )
    currencies: CommaList = _many(
        ["USD", "EUR", "GBP", "CNY", "JPY"], "ISO currencies orders may be in, comma-separated."
    )
    fence_seconds: int = _setting(
        300,
        "The effectivity fence: a change of a partner's status, rank or sponsor takes effect this long after "
        "it is recorded, and a period's settlement starts this long after its lock. It must exceed the longest "
        "a request can take (`UPLINE_MAX_REQUEST_SECONDS` plus one call's timeouts), so that every order "
        "computes on one tree and lands in a period whose settlement has not started (0: only for tests).",
        ge=0,
        le=86_400,
    )
    max_request_seconds: int = _setting(
        30,
        "How long after its start a request may still commit; past it, its unit of work refuses (the client retries).",
        ge=1,
        le=600,
    )
    compliance_profile: str = _setting(
        "default",
        "The program's compliance profile (docs/compliance.md): `default` pays what the plan says; `cn` "
        "refuses, when a plan or a reward program is published, more than two paid levels, rewards for "
        "recruitment alone and any fee to join (WeChat's two-level rule and China's 2013 opinion on pyramid selling).",
    )
    max_depth: int = _setting(
        10,
        "Ancestors stored on each partner (the upline snapshot); plans may pay at most this many levels.",
        ge=1,
        le=30,
    )
    attribution_window_days: int = _setting(
        30, "Days a click or referral code attributes a customer's orders.", ge=1, le=3650
    )
    lifetime_binding: bool = _setting(False, "Bind a customer to its first partner for life, not for the window.")
    allowed_domains: CommaList = _many(
        ["shop.example.com"], "Hosts referral links may lead to, comma-separated (their subdomains too)."
    )
    default_destination: str = _setting("https://shop.example.com/", "Where invite links (`/i/{code}`) lead.")
    click_ttl_days: int = _setting(90, "Days a click is kept (DynamoDB TTL).", ge=1, le=3650)
    payout_provider: str = _setting("bank_transfer", "The payout file made at approval.")
    export_url_seconds: int = _setting(300, "How long a presigned export link is valid.", ge=30, le=3600)
    finance_review_threshold_bps: int = _setting(
        5000,
        "A payout that moved by at least this share (bps) of the previous period's is flagged for a second look.",
        ge=1,
        le=1_000_000,
    )
    finance_review_threshold_minor: int = _setting(
        100_000,
        "A payout that moved by at least this many minor units since the previous period is flagged for a second look.",
        ge=1,
    )
    webhook_tolerance_seconds: int = _setting(
        300, "How far a webhook's timestamp may be from our clock.", ge=30, le=3600
    )
    max_body_bytes: int = _setting(
        64 * 1024, "The largest request body accepted (larger: 413).", ge=1024, le=6 * 1024 * 1024
    )
    cors_origins: CommaList = _many([], "Browser origins allowed by CORS, exact and comma-separated; never `*`.")
    click_limit: int = _setting(
        20, "Clicks one visitor may make on one link in one window; past it, 429.", ge=1, le=10_000
    )
    click_window_seconds: int = _setting(3600, "The click limit's window.", ge=60, le=86_400)
    signup_limit: int = _setting(60, "Sign-ups from one IP in one window; past it, 429.", ge=1, le=10_000)
    signup_window_seconds: int = _setting(3600, "The sign-up limit's window.", ge=60, le=86_400)
    fraud_min_click_seconds: int = _setting(
        30, "An order placed sooner than this after its click is held for review.", ge=0, le=86_400
    )
    fraud_refund_rate_bps: int = _setting(
        5000,
        "A partner whose refunds exceed this share of its sales (basis points) has its orders held.",
        ge=0,
        le=10_000,
    )
    fraud_refund_min_sales_minor: int = _setting(
        10_000, "The sales (minor units) a partner must have made before its refund rate can hold its orders.", ge=0
    )
    shopify_shop_domain: str = _setting(
        "",
        "The Shopify shop whose webhooks `POST /integrations/shopify` accepts (`example.myshopify.com`): a "
        "delivery naming another shop in `X-Shopify-Shop-Domain` is refused; empty: the Shopify route answers "
        "404.",
    )
    outbound_timeout_seconds: int = _setting(
        5, "How long an outbound webhook endpoint has to answer one delivery attempt.", ge=1, le=30
    )
    outbound_retry_hours: int = _setting(
        24,
        "How long a failing outbound webhook delivery is retried (exponential "
        "backoff, 30 s doubling to at most 4 h) before it is dead.",
        ge=24,
        le=168,
    )
    link_limit: int = _setting(1000, "Links a partner may ever create.", ge=1, le=1_000_000)
    link_rate: int = _setting(60, "Links a partner may create in one window; past it, 429.", ge=1, le=10_000)
    link_window_seconds: int = _setting(3600, "The link rate's window.", ge=60, le=86_400)
    coupon_limit: int = _setting(
        5, "Coupon codes a partner may make for itself (an admin may make it more).", ge=0, le=1000
    )
    coupon_leak_customers: int = _setting(
        25,
        "A partner's coupon code used by this many distinct customers within one leak window is flagged for "
        "review as leaked.",
        ge=2,
        le=1_000_000,
    )
    coupon_leak_window_hours: int = _setting(24, "The leak window's length (fixed windows, UTC).", ge=1, le=24 * 31)

    @field_validator(
        "webhook_secrets",
        "stripe_webhook_secrets",
        "shopify_webhook_secrets",
        "woocommerce_webhook_secrets",
        "paddle_webhook_secrets",
        "currencies",
        "allowed_domains",
        "cors_origins",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, v: Any) -> Any:
        return [p.strip() for p in v.split(",") if p.strip()] if isinstance(v, str) else v

    @property
    def link_limits(self) -> LinkLimits:
        return LinkLimits(self.link_limit, self.link_rate, self.link_window_seconds)

    @property
    def coupon_limits(self) -> CouponLimits:
        return CouponLimits(self.coupon_limit)

    @property
    def coupon_leak_rule(self) -> LeakRule:
        return LeakRule(self.coupon_leak_customers, timedelta(hours=self.coupon_leak_window_hours))

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

    @field_validator("sso_authorize_url")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        if v and not v.startswith("https://"):
            raise ValueError("the single sign-on authorize URL must be https")
        return v or None

    @field_validator("compliance_profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        if v not in compliance.PROFILES:
            raise ValueError(f"the compliance profile is one of {', '.join(compliance.PROFILES)}")
        return v

    @field_validator("program_tz")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)  # refuse a zone that does not exist at start-up, not at the first order
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"no IANA time zone {v!r}") from None
        return v

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        return [urls.domain_name(d) for d in v]

    @field_validator("default_destination")
    @classmethod
    def _canonical_destination(cls, v: str) -> str:
        return urls.https_url(v).href  # kept as a browser serializes it, like every link's destination

    @model_validator(mode="after")
    def _default_destination_allowed(self) -> Settings:
        # The redirect falls back to it, so it passes the same check as any link's destination.
        url = urls.https_url(self.default_destination)
        if url.host_kind != urls.DOMAIN or not urls.within(url.host, self.allowed_domains):
            raise ValueError(f"UPLINE_DEFAULT_DESTINATION's host {url.host} is not in UPLINE_ALLOWED_DOMAINS")
        return self

    @property
    def fraud_rules(self) -> FraudRules:
        return FraudRules(
            timedelta(seconds=self.fraud_min_click_seconds),
            self.fraud_refund_rate_bps,
            self.fraud_refund_min_sales_minor,
        )

    @property
    def calendar(self) -> Calendar:
        return Calendar(self.program_tz, self.lock_days, timedelta(seconds=self.fence_seconds))

    @property
    def tree_rules(self) -> TreeRules:
        return TreeRules(self.max_depth, timedelta(seconds=self.fence_seconds))

    @model_validator(mode="after")
    def _fence_outlasts_requests(self) -> Settings:
        # One call may take connect + read timeouts per attempt (bootstrap.dynamodb_client: 3 s + 10 s,
        # 5 attempts) after the last moment a request may start its commit.
        if self.fence_seconds and self.fence_seconds <= self.max_request_seconds + CALL_SECONDS:
            raise ValueError(f"UPLINE_FENCE_SECONDS must exceed UPLINE_MAX_REQUEST_SECONDS + {CALL_SECONDS}")
        return self

    @model_validator(mode="after")
    def _private_endpoints_only_locally(self) -> Settings:
        if self.outbound_allow_private and self.secrets_path:
            raise ValueError("UPLINE_OUTBOUND_ALLOW_PRIVATE is for the local stage only, not with UPLINE_SECRETS_PATH")
        return self

    @property
    def attribution_window(self) -> timedelta:
        return timedelta(days=self.attribution_window_days)

    @property
    def click_ttl(self) -> timedelta:
        return timedelta(days=self.click_ttl_days)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `env` (a mapping of variables) instead of the process environment."""
        if env is None:
            return cls()
        token = _GIVEN.set(dict(env))
        try:
            return cls()
        finally:
            _GIVEN.reset(token)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment and nothing else: no .env file or secrets folder that one entry point
        # would read and another not.
        given = _GIVEN.get()
        return (init_settings, env_settings if given is None else _GivenEnvironment(settings_cls, given))


_GIVEN: ContextVar[dict[str, str] | None] = ContextVar("upline_settings_env", default=None)


class _GivenEnvironment(EnvSettingsSource):
    """The environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], env: dict[str, str]):
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # As the base class reads os.environ: names compared case-insensitively, empty values unset.
        return {
            (k if self.case_sensitive else k.lower()): v
            for k, v in self._given.items()
            if not (self.env_ignore_empty and v == "")
        }


def variable(field: str) -> str:
    """The environment variable a field is read from (the first, where it has several)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return PREFIX + field.upper()


def variables() -> set[str]:
    """Every environment variable the settings read."""
    out: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        out.update(str(c) for c in alias.choices) if isinstance(alias, AliasChoices) else out.add(PREFIX + name.upper())
    return out


def group_variables(group: str) -> set[str]:
    """The variables of the settings in one group (PROGRAM, DEPLOYMENT, SECRET)."""
    return {variable(n) for n, f in Settings.model_fields.items() if (f.json_schema_extra or {}).get("group") == group}  # type: ignore[union-attr]


def is_setting_variable(name: str) -> bool:
    """True for a variable the settings read, or one in their namespace (UPLINE_*)."""
    return name.upper().startswith(PREFIX) or name.upper() in variables()


# ---- the stage's environment ------------------------------------------------------------------------

_PSEUDO = re.compile(r"\$\{(AWS::[A-Za-z]+)\}")


def _fill_in(value: str, known: Mapping[str, str]) -> str:
    """`value` with each `${AWS::...}` parameter replaced by its known value."""
    return _PSEUDO.sub(lambda m: known[m.group(1)], value)


def chalice_config(path: Path = CHALICE_CONFIG) -> dict[str, Any]:
    return json.loads(path.read_text())


Pseudo = Mapping[str, str] | Callable[[], Mapping[str, str]] | None


def stage_environment(
    stage: str, function: str | None = None, config: Mapping[str, Any] | None = None, pseudo: Pseudo = None
) -> dict[str, str]:
    """The variables `.chalice/config.json` gives `function` (default: what every function shares) in
    `stage`, merged as Chalice merges them: the file's global values, then the stage's, then the
    stage's for that function. Values only CloudFormation can fill in are handled here for an entry
    point outside AWS: `{{resolve:...}}` references are left out (the caller's environment supplies
    the secret), and `${AWS::AccountId}`-style parameters are filled from `pseudo` (a mapping, or a
    function asked only when a value needs one)."""
    cfg = chalice_config() if config is None else config
    stages = cfg.get("stages") or {}
    if stage not in stages:
        raise ValueError(f"no stage {stage!r} in .chalice/config.json (there are: {', '.join(sorted(stages))})")
    merged: dict[str, str] = {
        **(cfg.get("environment_variables") or {}),
        **(stages[stage].get("environment_variables") or {}),
    }
    if function is not None:
        merged.update(
            ((stages[stage].get("lambda_functions") or {}).get(function) or {}).get("environment_variables") or {}
        )
    out = {}
    for name, value in merged.items():
        if value.startswith("{{resolve:"):
            continue
        needed = _PSEUDO.findall(value)
        if needed:
            if callable(pseudo):
                pseudo = pseudo()
            known = pseudo or {}
            missing = sorted({p for p in needed if p not in known})
            if missing:
                raise ValueError(
                    f"{name} in stage {stage!r} needs {', '.join(missing)} (an AWS account and region to act on)"
                )
            value = _fill_in(value, known)
        out[name] = value
    return out


def effective_environment(
    stage: str, environ: Mapping[str, str], overlay: Mapping[str, str] | None = None, pseudo: Pseudo = None
) -> dict[str, str]:
    """THE loader for every entry point that does not run under Chalice: the process environment,
    then `overlay` (what a running `make run` recorded), then the stage's values from
    `.chalice/config.json` on top — the order `chalice local` and Chalice's test client apply, so
    the program's settings are the file's whichever way a person reaches the program."""
    return {**environ, **(overlay or {}), **stage_environment(stage, pseudo=pseudo)}
