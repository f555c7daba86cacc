"""moto 5.2 serialises every DynamoDB reply through a generic model walker that costs ~50-150 ms per
call here; thousands of seeded histories cannot afford it. DynamoDB replies are already plain JSON
(the wire format), so for successful replies this writes them with json.dumps, and hands anything
else (errors, objects json cannot write) to moto's own serialiser. Test-only; semantics unchanged."""
from __future__ import annotations

import json
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterator


def _default(o):
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError(type(o).__name__)


@contextmanager
def fast_dynamodb_replies() -> Iterator[None]:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.serialized

    def serialized(self, action_result: ActionResult):
        result = action_result.result
        if isinstance(result, dict):
            try:
                body = json.dumps(result, default=_default)
            except TypeError:
                return original(self, action_result)
            headers = {"Content-Type": "application/x-amz-json-1.0"}
            headers.update(self.response_headers)
            return 200, headers, body
        return original(self, action_result)

    DynamoHandler.serialized = serialized
    try:
        yield
    finally:
        DynamoHandler.serialized = original
