"""Where a secret comes from — the one place that decides.

In AWS the functions' environment carries only `UPLINE_SECRETS_PATH` (`/upline/<stage>`): the values
are SSM Parameter Store parameters under that path (SecureString for the secrets), read at run time
through powertools' parameters utility and cached for `MAX_AGE_SECONDS`, so a rotated value is in
use within five minutes with no deploy. Nothing secret sits in the function configuration, where
`lambda:GetFunctionConfiguration` would show it.

Locally and in tests (no path set) the same variables come from the environment (`.data/local.env`,
`TEST_ENV`). The settings (`bootstrap.settings()`) overlay these values on the environment, so
`config.Settings` parses a secret the same way whichever source it came from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from .observability import logger

PATH_VARIABLE = "UPLINE_SECRETS_PATH"
MAX_AGE_SECONDS = 300
# After a failed refresh, keep serving the last values this long before asking SSM again, so an SSM
# outage costs one slow call per half minute instead of one per settings() call.
RETRY_AFTER_SECONDS = 30
# settings() runs many times per request; asking the provider's cache (tens of microseconds) once a
# second is enough for values that change on the scale of MAX_AGE_SECONDS.
LOOK_EVERY_SECONDS = 1

# Parameter name under the path -> the variable config.Settings reads. All are required: they are
# what the API needs in AWS (tokens are verified against the identity provider's JWKS there).
PARAMETERS: dict[str, str] = {
    "webhook-secrets": "UPLINE_WEBHOOK_SECRETS",  # "new,old" while a shop rotates
    "hash-pepper": "UPLINE_HASH_PEPPER",
    "jwt-jwks-url": "UPLINE_JWT_JWKS_URL",
    "jwt-issuer": "UPLINE_JWT_ISSUER",
    "jwt-audience": "UPLINE_JWT_AUDIENCE",
}
# Parameters that may be absent: a shop provider whose secret is not put is not configured (its
# /integrations route answers 404). Read in the same GetParameters call as the required ones; an
# absent one is asked for again only once the cache's max age has passed.
OPTIONAL_PARAMETERS: dict[str, str] = {
    "stripe-webhook-secrets": "UPLINE_STRIPE_WEBHOOK_SECRETS",
    "shopify-webhook-secrets": "UPLINE_SHOPIFY_WEBHOOK_SECRETS",
    "woocommerce-webhook-secrets": "UPLINE_WOOCOMMERCE_WEBHOOK_SECRETS",
    "paddle-webhook-secrets": "UPLINE_PADDLE_WEBHOOK_SECRETS",
}
# Every variable this module provides. UPLINE_JWT_SECRET (HS256) exists only outside AWS.
VARIABLES: tuple[str, ...] = (*PARAMETERS.values(), *OPTIONAL_PARAMETERS.values(), "UPLINE_JWT_SECRET")


class SecretsUnavailable(RuntimeError):
    """A secret cannot be had: a parameter is missing, SSM cannot be read, or two sources disagree."""


class Source(Protocol):
    def values(self) -> Mapping[str, str]:
        """The secret variables now. The same object is returned for as long as nothing changed."""


class EnvironmentSecrets:
    """Outside AWS: the secret variables as the environment held them when this was built."""

    def __init__(self, env: Mapping[str, str]):
        self._values = {k: env[k] for k in VARIABLES if k in env}

    def values(self) -> Mapping[str, str]:
        return self._values


class SsmSecrets:
    """In AWS: the parameters under `path`, decrypted, through a powertools SSMProvider whose
    cache expires after `max_age` seconds."""

    def __init__(self, path: str, provider, max_age: int = MAX_AGE_SECONDS, clock: Callable[[], float] | None = None):
        self.path = path.rstrip("/")
        self._provider = provider
        self._max_age = max_age
        self._clock = clock  # None: time.monotonic, looked up at each call
        self._names = {f"{self.path}/{name}": variable for name, variable in PARAMETERS.items()}
        self._optional = {f"{self.path}/{name}": variable for name, variable in OPTIONAL_PARAMETERS.items()}
        self._absent: set[str] = set()  # optional names SSM did not have at the last asking
        self._absent_until = 0.0  # ...not asked for again before this (monotonic)
        self._last: dict[str, str] | None = None
        self._next_look = 0.0

    def values(self) -> Mapping[str, str]:
        now = (self._clock or time.monotonic)()
        if self._last is not None and now < self._next_look:
            return self._last
        try:
            current = self._fetch(now)
        except SecretsUnavailable as e:
            if self._last is None:
                raise
            # A refresh failed after a good read: keep the values we have rather than fail every
            # request, and say so in the log.
            logger.warning(
                "secrets refresh failed; keeping the last values", extra={"path": self.path, "error": str(e)}
            )
            self._next_look = now + RETRY_AFTER_SECONDS
            return self._last
        self._next_look = now + LOOK_EVERY_SECONDS
        if current != self._last:
            self._last = current
        return self._last

    def _fetch(self, now: float) -> dict[str, str]:
        optional = [n for n in self._optional if not (n in self._absent and now < self._absent_until)]
        try:
            # From the provider's cache until max_age has passed, then one GetParameters call
            # (WithDecryption) for all of them. Not failing fast: a missing optional name is no error.
            fetched = self._provider.get_parameters_by_name(
                {name: {} for name in (*self._names, *optional)},
                decrypt=True,
                max_age=self._max_age,
                raise_on_error=False,
            )
        except (GetParameterError, ClientError, BotoCoreError) as e:
            raise SecretsUnavailable(self._problem(str(e))) from e
        # powertools returns what it got without raising when a name is missing, KMS refuses a key
        # or SSM has an internal error, so check that every required name came back.
        missing = sorted(set(self._names) - set(fetched))
        if missing:
            raise SecretsUnavailable(self._problem(f"not returned: {', '.join(missing)}"))
        skipped = set(self._optional) - set(optional)
        now_absent = {n for n in optional if n not in fetched}
        if now_absent - self._absent or self._absent & set(optional):
            self._absent_until = now + self._max_age  # asked again for an absent one: wait a max age
        self._absent = now_absent | skipped
        values = {self._names[name]: fetched[name] for name in self._names}
        values.update({self._optional[n]: fetched[n] for n in optional if n in fetched})
        return values

    def _problem(self, detail: str) -> str:
        return (
            f"cannot read the secrets under {self.path} from SSM Parameter Store: {detail}. The functions "
            f"need {', '.join(self._names)} (README: Deploy to AWS, step 2)"
        )


def source(env: Mapping[str, str]) -> Source:
    """SSM under env[UPLINE_SECRETS_PATH] if it is set, else the environment itself."""
    path = env.get(PATH_VARIABLE, "").strip()
    if not path:
        return EnvironmentSecrets(env)
    if not path.startswith("/"):
        raise SecretsUnavailable(f"{PATH_VARIABLE} must be an SSM path such as /upline/prod, not {path!r}")
    both = sorted(k for k in VARIABLES if env.get(k))
    if both:
        raise SecretsUnavailable(
            f"{', '.join(both)} set in the environment while {PATH_VARIABLE} names SSM: "
            "a secret has one source; remove them from the environment"
        )
    import boto3
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from botocore.config import Config

    client = boto3.client(
        "ssm",
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5),
    )
    return SsmSecrets(path, SSMProvider(boto3_client=client))
