"""Typed conditions and updates (store/ops.py) as DynamoDB expressions with placeholders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ops, schema

Encode = Callable[[Any], dict[str, Any]]


class Expression:
    """Collects the `#name` and `:value` placeholders of one request's expressions."""

    def __init__(self, encode: Encode):
        self._encode = encode
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self._by_name: dict[str, str] = {}

    def name(self, attr: str) -> str:
        out: list[str] = []
        for part in ops.path_parts(attr):
            if isinstance(part, int):
                out[-1] += f"[{part}]"
                continue
            placeholder = self._by_name.get(part)
            if placeholder is None:
                placeholder = self._by_name[part] = f"#n{len(self._by_name)}"
                self.names[placeholder] = part
            out.append(placeholder)
        return ".".join(out)

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = self._encode(value)
        return placeholder

    def condition(self, c: ops.Cond) -> str:
        if isinstance(c, ops.Absent):
            return f"attribute_not_exists({self.name(c.attr or schema.PK)})"
        if isinstance(c, ops.Present):
            return f"attribute_exists({self.name(c.attr or schema.PK)})"
        if isinstance(c, ops.Compare):
            op = "=" if c.op == "=" else c.op
            return f"{self.name(c.attr)} {op} {self.value(c.value)}"
        if isinstance(c, ops.In):
            return f"{self.name(c.attr)} IN ({', '.join(self.value(v) for v in c.values)})"
        if isinstance(c, ops.SizeIs):
            return f"size({self.name(c.attr)}) = {self.value(c.size)}"
        if isinstance(c, ops.All):
            return "(" + " AND ".join(self.condition(x) for x in c.conds) + ")"
        if isinstance(c, ops.Any_):
            return "(" + " OR ".join(self.condition(x) for x in c.conds) + ")"
        raise TypeError(f"not a condition: {c!r}")

    def update(self, u: ops.Update) -> str:
        sets = [f"{self.name(p)} = {self.value(v)}" for p, v in u.set.items()]
        sets += [f"{(n := self.name(p))} = if_not_exists({n}, {self.value(v)})" for p, v in u.set_if_absent.items()]
        sets += [
            f"{(n := self.name(p))} = list_append(if_not_exists({n}, {self.value([])}), {self.value(list(v))})"
            for p, v in u.append.items()
        ]
        adds = [f"{self.name(p)} {self.value(v)}" for p, v in u.add.items()]
        removes = [self.name(p) for p in u.remove]
        parts = []
        if sets:
            parts.append("SET " + ", ".join(sets))
        if adds:
            parts.append("ADD " + ", ".join(adds))
        if removes:
            parts.append("REMOVE " + ", ".join(removes))
        if not parts:
            raise ValueError("an update must change something")
        return " ".join(parts)

    def apply(self, request: dict[str, Any], condition: ops.Cond | None = None) -> dict[str, Any]:
        """Add the condition (if any) and the placeholders gathered so far to a request."""
        if condition is not None:
            request["ConditionExpression"] = self.condition(condition)
        if self.names:
            request["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            request["ExpressionAttributeValues"] = dict(self.values)
        return request
