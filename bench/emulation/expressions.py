"""DynamoDB's condition, key-condition and update expressions over items in the wire format
({"S": ...}, {"N": ...}, {"M": {...}}, ...), for the in-memory table (memory.py).

Parsed once per expression string (the app sends a few dozen distinct strings, millions of times),
evaluated against an item with its ExpressionAttributeNames and Values. Covers the grammar of the
DynamoDB developer guide's "Condition and filter expressions" and "Update expressions": comparators,
BETWEEN, IN, AND/OR/NOT, the functions attribute_exists, attribute_not_exists, attribute_type,
begins_with, contains and size; SET (with +, -, if_not_exists, list_append), REMOVE, ADD and DELETE.
Anything else is refused with a ValidationError, never guessed."""
from __future__ import annotations

import re
from decimal import Decimal, localcontext
from functools import lru_cache
from typing import Any

Item = dict[str, Any]


class ValidationError(Exception):
    """What DynamoDB answers with ValidationException."""


# ---- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(\d+)|(<>|<=|>=|[=<>(),.\[\]+-]))")
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValidationError(f"Invalid expression: syntax error near {text[pos:pos + 20]!r}")
        pos = m.end()
        name, value, ident, number, symbol = m.groups()
        if name:
            out.append(("name", name))
        elif value:
            out.append(("value", value))
        elif ident:
            out.append(("kw", ident.upper()) if ident.upper() in _KEYWORDS else ("ident", ident))
        elif number:
            out.append(("num", number))
        else:
            out.append(("sym", symbol))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.placeholders = frozenset(v for k, v in self.toks if k in ("name", "value"))

    def peek(self, kind: str | None = None, value: str | None = None) -> bool:
        if self.i >= len(self.toks):
            return False
        k, v = self.toks[self.i]
        return (kind is None or k == kind) and (value is None or v == value)

    def take(self, kind: str | None = None, value: str | None = None) -> str:
        if not self.peek(kind, value):
            got = self.toks[self.i][1] if self.i < len(self.toks) else "end of expression"
            raise ValidationError(f"Invalid expression: expected {value or kind}, got {got!r}")
        self.i += 1
        return self.toks[self.i - 1][1]

    def done(self) -> None:
        if self.i != len(self.toks):
            raise ValidationError(f"Invalid expression: unexpected {self.toks[self.i][1]!r}")

    # a path: name ('.' name | '[' n ']')*  -> ("path", (("name"|"#n", ...), ints...))
    def path(self) -> tuple:
        parts: list[Any] = [self._name()]
        while self.peek("sym", ".") or self.peek("sym", "["):
            if self.take("sym") == ".":
                parts.append(self._name())
            else:
                parts.append(int(self.take("num")))
                self.take("sym", "]")
        return ("path", tuple(parts))

    def _name(self) -> Any:
        if self.peek("name"):
            return ("#", self.take("name"))
        if self.peek("ident"):
            return self.take("ident")
        if self.peek("kw"):  # a reserved word used as a name: DynamoDB refuses it
            raise ValidationError(f"Invalid expression: attribute name is a reserved keyword: {self.take('kw')}")
        raise ValidationError("Invalid expression: expected an attribute name")

    # ---- conditions ----
    def condition(self) -> tuple:
        left = self._and()
        while self.peek("kw", "OR"):
            self.take()
            left = ("or", left, self._and())
        return left

    def _and(self) -> tuple:
        left = self._not()
        while self.peek("kw", "AND"):
            self.take()
            left = ("and", left, self._not())
        return left

    def _not(self) -> tuple:
        if self.peek("kw", "NOT"):
            self.take()
            return ("not", self._not())
        return self._primary()

    def _primary(self) -> tuple:
        if self.peek("sym", "("):
            self.take()
            inner = self.condition()
            self.take("sym", ")")
            return inner
        if self.peek("ident") and self.toks[self.i][1] in _BOOL_FUNCTIONS and self._next_is_paren():
            fn = self.take()
            self.take("sym", "(")
            args = [self.operand()]
            while self.peek("sym", ","):
                self.take()
                args.append(self.operand())
            self.take("sym", ")")
            if len(args) != _BOOL_FUNCTIONS[fn]:
                raise ValidationError(f"Invalid expression: wrong number of arguments to {fn}")
            return ("fn", fn, tuple(args))
        left = self.operand()
        if self.peek("kw", "BETWEEN"):
            self.take()
            lo = self.operand()
            self.take("kw", "AND")
            return ("between", left, lo, self.operand())
        if self.peek("kw", "IN"):
            self.take()
            self.take("sym", "(")
            options = [self.operand()]
            while self.peek("sym", ","):
                self.take()
                options.append(self.operand())
            self.take("sym", ")")
            return ("in", left, tuple(options))
        op = self.take("sym")
        if op not in ("=", "<>", "<", "<=", ">", ">="):
            raise ValidationError(f"Invalid expression: unexpected {op!r}")
        return ("cmp", op, left, self.operand())

    def _next_is_paren(self) -> bool:
        return self.i + 1 < len(self.toks) and self.toks[self.i + 1] == ("sym", "(")

    def operand(self) -> tuple:
        if self.peek("value"):
            return ("value", self.take())
        if self.peek("ident", "size") and self._next_is_paren():
            self.take()
            self.take("sym", "(")
            p = self.path()
            self.take("sym", ")")
            return ("size", p)
        return self.path()

    # ---- updates ----
    def update(self) -> dict[str, list]:
        clauses: dict[str, list] = {}
        while self.i < len(self.toks):
            kind = self.take("kw")
            if kind not in ("SET", "REMOVE", "ADD", "DELETE") or kind in clauses:
                raise ValidationError(f"Invalid UpdateExpression: unexpected or repeated {kind}")
            actions = clauses[kind] = []
            while True:
                if kind == "SET":
                    target = self.path()
                    self.take("sym", "=")
                    actions.append((target, self._set_value()))
                elif kind == "REMOVE":
                    actions.append(self.path())
                else:
                    target = self.path()
                    actions.append((target, ("value", self.take("value"))))
                if not self.peek("sym", ","):
                    break
                self.take()
        if not clauses:
            raise ValidationError("Invalid UpdateExpression: empty")
        return clauses

    def _set_value(self) -> tuple:
        left = self._set_operand()
        if self.peek("sym", "+") or self.peek("sym", "-"):
            op = self.take()
            return ("arith", op, left, self._set_operand())
        return left

    def _set_operand(self) -> tuple:
        if self.peek("ident", "if_not_exists") and self._next_is_paren():
            self.take()
            self.take("sym", "(")
            p = self.path()
            self.take("sym", ",")
            default = self._set_operand()
            self.take("sym", ")")
            return ("if_not_exists", p, default)
        if self.peek("ident", "list_append") and self._next_is_paren():
            self.take()
            self.take("sym", "(")
            a = self._set_operand()
            self.take("sym", ",")
            b = self._set_operand()
            self.take("sym", ")")
            return ("list_append", a, b)
        if self.peek("value"):
            return ("value", self.take())
        return self.path()


_BOOL_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2,
                   "contains": 2}


@lru_cache(maxsize=4096)
def parse_condition(text: str) -> tuple:
    p = _Parser(text)
    tree = p.condition()
    p.done()
    return tree


@lru_cache(maxsize=4096)
def parse_update(text: str) -> dict[str, list]:
    p = _Parser(text)
    clauses = p.update()
    p.done()
    return clauses


@lru_cache(maxsize=4096)
def placeholders(text: str) -> frozenset[str]:
    """The #names and :values an expression refers to."""
    return _Parser(text).placeholders


def check_placeholders(expressions: list[str | None], names: dict[str, str] | None,
                       values: dict[str, Any] | None) -> None:
    """DynamoDB refuses a request that defines a name or value no expression uses."""
    used = frozenset().union(*(placeholders(e) for e in expressions if e))
    unused = [k for k in (*(names or ()), *(values or ())) if k not in used]
    if unused:
        which = "ExpressionAttributeValues" if unused[0].startswith(":") else "ExpressionAttributeNames"
        raise ValidationError(f"Value provided in {which} unused in expressions: keys: {{{', '.join(unused)}}}")


# ---- evaluation ---------------------------------------------------------------------------

class _Scope:
    __slots__ = ("names", "values")

    def __init__(self, names: dict[str, str] | None, values: dict[str, Any] | None):
        self.names = names or {}
        self.values = values or {}

    def name(self, part: Any) -> Any:
        if isinstance(part, tuple):
            try:
                return self.names[part[1]]
            except KeyError:
                raise ValidationError(f"An expression attribute name used in the document path is not defined; "
                                      f"attribute name: {part[1]}") from None
        return part

    def value(self, ref: str) -> Any:
        try:
            return self.values[ref]  # read-only here; apply_update copies what it stores
        except KeyError:
            raise ValidationError(f"An expression attribute value used in expression is not defined; "
                                  f"attribute value: {ref}") from None


def resolve_path(item: Item | None, path: tuple, scope: _Scope) -> Any:
    """The value at `path`, or None when any step is missing."""
    if item is None:
        return None
    parts = path[1]
    current: Any = item.get(scope.name(parts[0]))
    for part in parts[1:]:
        if current is None:
            return None
        if isinstance(part, int):
            lst = current.get("L")
            current = lst[part] if lst is not None and part < len(lst) else None
        else:
            m = current.get("M")
            current = m.get(scope.name(part)) if m is not None else None
    return current


def _operand(item: Item | None, node: tuple, scope: _Scope) -> Any:
    kind = node[0]
    if kind == "value":
        return scope.value(node[1])
    if kind == "path":
        return resolve_path(item, node, scope)
    if kind == "size":
        v = resolve_path(item, node[1], scope)
        if v is None:
            return None
        (tag, raw), = v.items()
        if tag in ("S",):
            return {"N": str(len(raw.encode()))}
        if tag in ("B",):
            return {"N": str(len(raw))}
        if tag in ("L", "M", "SS", "NS", "BS"):
            return {"N": str(len(raw))}
        return None  # size() of a number or boolean is not defined: the comparison is false
    raise ValidationError(f"Invalid operand {kind}")


def _num(v: dict[str, Any]) -> Decimal:
    return Decimal(v["N"])


def _comparable(a: Any, b: Any) -> tuple[Any, Any] | None:
    if a is None or b is None:
        return None
    (ta, ra), = a.items()
    (tb, rb), = b.items()
    if ta != tb or ta not in ("S", "N", "B"):
        return None
    if ta == "N":
        return Decimal(ra), Decimal(rb)
    return ra, rb


def values_equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    (ta, ra), = a.items()
    (tb, rb), = b.items()
    if ta != tb:
        return False
    if ta == "N":
        return Decimal(ra) == Decimal(rb)
    if ta in ("SS", "BS"):
        return set(ra) == set(rb)
    if ta == "NS":
        return {Decimal(x) for x in ra} == {Decimal(x) for x in rb}
    if ta == "L":
        return len(ra) == len(rb) and all(values_equal(x, y) for x, y in zip(ra, rb))
    if ta == "M":
        return ra.keys() == rb.keys() and all(values_equal(ra[k], rb[k]) for k in ra)
    return ra == rb


_TYPES = {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"}


def evaluate(tree: tuple, item: Item | None, scope: _Scope) -> bool:
    kind = tree[0]
    if kind == "and":
        return evaluate(tree[1], item, scope) and evaluate(tree[2], item, scope)
    if kind == "or":
        return evaluate(tree[1], item, scope) or evaluate(tree[2], item, scope)
    if kind == "not":
        return not evaluate(tree[1], item, scope)
    if kind == "cmp":
        op, a, b = tree[1], _operand(item, tree[2], scope), _operand(item, tree[3], scope)
        if op == "=":
            return values_equal(a, b)
        if op == "<>":
            return a is not None and b is not None and not values_equal(a, b)
        pair = _comparable(a, b)
        if pair is None:
            return False
        x, y = pair
        return x < y if op == "<" else x <= y if op == "<=" else x > y if op == ">" else x >= y
    if kind == "between":
        v, lo, hi = (_operand(item, n, scope) for n in tree[1:])
        p1, p2 = _comparable(v, lo), _comparable(v, hi)
        return p1 is not None and p2 is not None and p1[1] <= p1[0] <= p2[1]
    if kind == "in":
        v = _operand(item, tree[1], scope)
        return any(values_equal(v, _operand(item, o, scope)) for o in tree[2])
    if kind == "fn":
        fn, args = tree[1], tree[2]
        if fn in ("attribute_exists", "attribute_not_exists"):
            if args[0][0] != "path":
                raise ValidationError(f"Invalid expression: {fn} takes a document path")
            present = resolve_path(item, args[0], scope) is not None
            return present if fn == "attribute_exists" else not present
        v = _operand(item, args[0], scope)
        arg = _operand(item, args[1], scope)
        if fn == "attribute_type":
            wanted = arg.get("S") if arg else None
            if wanted not in _TYPES:
                raise ValidationError(f"Invalid attribute type name: {wanted}")
            return v is not None and wanted in v
        if v is None or arg is None:
            return False
        if fn == "begins_with":
            (tv, rv), = v.items()
            (ta, ra), = arg.items()
            return tv == ta and tv in ("S", "B") and rv.startswith(ra)
        # contains
        (tv, rv), = v.items()
        (ta, ra), = arg.items()
        if tv == "S" and ta == "S":
            return ra in rv
        if tv in ("SS", "NS", "BS") and ta == tv[0]:
            return ra in rv if tv != "NS" else Decimal(ra) in {Decimal(x) for x in rv}
        if tv == "L":
            return any(values_equal(x, arg) for x in rv)
        return False
    raise ValidationError(f"Invalid condition {kind}")


def condition_holds(expression: str | None, item: Item | None, names: dict[str, str] | None,
                    values: dict[str, Any] | None) -> bool:
    if not expression:
        return True
    return evaluate(parse_condition(expression), item, _Scope(names, values))


def format_number(d: Decimal) -> str:
    """A number as DynamoDB sends it back: no exponent, no trailing zeros."""
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    text = format(d.normalize(), "f")
    return text


def _add_numbers(a: dict[str, Any], b: dict[str, Any], sign: int) -> dict[str, Any]:
    with localcontext() as ctx:
        ctx.prec = 38
        return {"N": format_number(_num(a) + sign * _num(b))}


def _set_value(item: Item | None, node: tuple, scope: _Scope) -> Any:
    kind = node[0]
    if kind == "value":
        return copy_value(scope.value(node[1]))
    if kind == "path":
        v = resolve_path(item, node, scope)
        if v is None:
            raise ValidationError("The provided expression refers to an attribute that does not exist in the item")
        return copy_value(v)
    if kind == "if_not_exists":
        v = resolve_path(item, node[1], scope)
        return copy_value(v) if v is not None else _set_value(item, node[2], scope)
    if kind == "list_append":
        a, b = _set_value(item, node[1], scope), _set_value(item, node[2], scope)
        if "L" not in a or "L" not in b:
            raise ValidationError("An operand in the update expression has an incorrect data type")
        return {"L": [*a["L"], *b["L"]]}
    if kind == "arith":
        a, b = _set_value(item, node[2], scope), _set_value(item, node[3], scope)
        if "N" not in a or "N" not in b:
            raise ValidationError("An operand in the update expression has an incorrect data type")
        return _add_numbers(a, b, 1 if node[1] == "+" else -1)
    raise ValidationError(f"Invalid update operand {kind}")


def _names_of(path: tuple, scope: _Scope) -> list[Any]:
    return [p if isinstance(p, int) else scope.name(p) for p in path[1]]


def _parent(item: Item, parts: list[Any]) -> Any:
    """The container that holds the last step of `parts` (a dict of attributes, a map or a list).
    `item` is a shallow copy of the stored item: every container on the way down is copied before
    it can be changed (copy on write), so the stored item, shared with readers, never changes."""
    if len(parts) == 1:
        return item
    current = item.get(parts[0])
    if current is not None:
        current = item[parts[0]] = _writable(current)
    for part in parts[1:-1]:
        if current is None:
            break
        if isinstance(part, int):
            lst = current.get("L")
            if lst is not None and part < len(lst):
                lst[part] = _writable(lst[part])
                current = lst[part]
            else:
                current = None
        else:
            m = current.get("M")
            if m is not None and part in m:
                m[part] = _writable(m[part])
                current = m[part]
            else:
                current = None
    if current is None:
        raise ValidationError("The document path provided in the update expression is invalid for update")
    last = parts[-1]
    if isinstance(last, int):
        if "L" not in current:
            raise ValidationError("The document path provided in the update expression is invalid for update")
        return current["L"]
    if "M" not in current:
        raise ValidationError("The document path provided in the update expression is invalid for update")
    return current["M"]


def _assign(item: Item, parts: list[Any], value: Any) -> None:
    container = _parent(item, parts)
    last = parts[-1]
    if isinstance(last, int):
        if last < len(container):
            container[last] = value
        else:
            container.append(value)
    else:
        container[last] = value


def _remove(item: Item, parts: list[Any]) -> None:
    try:
        container = _parent(item, parts)
    except ValidationError:
        return
    last = parts[-1]
    if isinstance(last, int):
        if last < len(container):
            del container[last]
    else:
        container.pop(last, None)


def apply_update(expression: str, item: Item, key_names: tuple[str, ...], names: dict[str, str] | None,
                 values: dict[str, Any] | None) -> Item:
    """`item` (already a private copy, created empty with the key when absent) after the update.
    Every operand reads the item as it was before the update, as in DynamoDB."""
    clauses = parse_update(expression)
    scope = _Scope(names, values)
    before = item  # every value is computed (and copied) before anything is assigned
    targets: list[list[Any]] = []
    computed: list[tuple[str, list[Any], Any]] = []
    for target, value_node in clauses.get("SET", ()):
        computed.append(("SET", _names_of(target, scope), _set_value(before, value_node, scope)))
    for target in clauses.get("REMOVE", ()):
        computed.append(("REMOVE", _names_of(target, scope), None))
    for target, value_node in clauses.get("ADD", ()):
        parts = _names_of(target, scope)
        value = scope.value(value_node[1])
        current = resolve_path(before, target, scope)
        computed.append(("SET", parts, _add(current, value)))  # _add builds a new value
    for target, value_node in clauses.get("DELETE", ()):
        parts = _names_of(target, scope)
        value = scope.value(value_node[1])
        current = resolve_path(before, target, scope)
        result = _delete(current, value)
        computed.append(("SET", parts, result) if result is not None else ("REMOVE", parts, None))
    for _, parts, _ in computed:
        if parts[0] in key_names:
            raise ValidationError(f"One or more parameter values were invalid: Cannot update attribute "
                                  f"{parts[0]}. This attribute is part of the key")
        for other in targets:
            if other[:len(parts)] == parts[:len(other)]:
                raise ValidationError("Invalid UpdateExpression: Two document paths overlap with each other; "
                                      "must remove or rewrite one of these paths")
        targets.append(parts)
    for action, parts, value in computed:
        if action == "SET":
            _assign(item, parts, value)
        else:
            _remove(item, parts)
    return item


def _add(current: Any, value: dict[str, Any]) -> dict[str, Any]:
    (tag, raw), = value.items()
    if tag == "N":
        if current is None:
            return {"N": format_number(Decimal(raw))}
        if "N" not in current:
            raise ValidationError("An operand in the update expression has an incorrect data type")
        return _add_numbers(current, value, 1)
    if tag in ("SS", "NS", "BS"):
        if current is None:
            return {tag: list(dict.fromkeys(raw))}
        if tag not in current:
            raise ValidationError("An operand in the update expression has an incorrect data type")
        return {tag: list(dict.fromkeys([*current[tag], *raw]))}
    raise ValidationError("Incorrect operand type for operator or function; operator: ADD")


def _delete(current: Any, value: dict[str, Any]) -> Any:
    (tag, raw), = value.items()
    if tag not in ("SS", "NS", "BS"):
        raise ValidationError("Incorrect operand type for operator or function; operator: DELETE")
    if current is None:
        return None
    if tag not in current:
        raise ValidationError("An operand in the update expression has an incorrect data type")
    left = [x for x in current[tag] if x not in set(raw)]
    return {tag: left} if left else None


# ---- copying wire-format values ---------------------------------------------------------------

def _writable(v: dict[str, Any]) -> dict[str, Any]:
    """A copy of a map or list value one level deep (its container copied, its members shared)."""
    (tag, raw), = v.items()
    if tag == "M":
        return {"M": dict(raw)}
    if tag == "L":
        return {"L": list(raw)}
    return dict(v)


def copy_value(v: dict[str, Any]) -> dict[str, Any]:
    (tag, raw), = v.items()
    if tag == "M":
        return {"M": {k: copy_value(x) for k, x in raw.items()}}
    if tag == "L":
        return {"L": [copy_value(x) for x in raw]}
    if tag in ("SS", "NS", "BS"):
        return {tag: list(raw)}
    return {tag: raw}


def copy_item(item: Item | None) -> Item | None:
    if item is None:
        return None
    return {k: copy_value(v) for k, v in item.items()}
