"""Domain errors. Each carries the HTTP status and the stable code the API returns."""


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    status = 400
    code = "invalid_request"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class Unprocessable(DomainError):
    status = 422
    code = "unprocessable"


class TooManyRequests(DomainError):
    """A fixed-window abuse limit was reached; `retry_after` is seconds to the next window."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 60):
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class TooSlow(DomainError):
    """A request ran past its deadline and committed nothing: nothing it decided may land this late
    (a period's settlement may already have started; docs/architecture.md, "Time fences")."""

    status = 503
    code = "too_slow"

    def __init__(
        self, message: str = "the request took too long and changed nothing; retry it", *, retry_after: int = 1
    ):
        super().__init__(message)
        self.retry_after = retry_after


class AlreadyExists(Conflict):
    """A conditional put found the item already there (raised by store/, never by botocore)."""

    code = "already_exists"


class ConcurrentUpdate(Exception):
    """A transaction lost a race; the service re-reads and tries again."""
