"""The operator table: every leaf operator a rule may use, as data.

Each :class:`Operator` owns its load-time checks (which fact types it applies to, what its
operand must be, whether the operand may name another fact), its runtime test, its JSON Schema
fragment and its documentation line. ``OPERATORS`` is the explicit registry; nothing registers
itself. Tests are three-valued: ``True``, ``False`` or ``None`` for UNKNOWN. A test never sees a
missing fact (the compiled leaf answers UNKNOWN first) except ``exists``, whose whole point is
presence.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from types import MappingProxyType
from typing import Any, Final

from auditor.policy.facts import FactSpec, FactType

__all__ = [
    "MISSING",
    "OPERATORS",
    "MissingType",
    "OperandError",
    "Operator",
    "Truth",
    "render_operator_table_markdown",
    "to_datetime",
]

#: Three-valued truth: ``True``, ``False`` or ``None`` (UNKNOWN).
Truth = bool | None

MAX_PATTERN = 200


class MissingType(Enum):
    """Type of the :data:`MISSING` sentinel (an absent fact, distinct from ``None``)."""

    MISSING = "missing"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = MissingType.MISSING


class OperandError(ValueError):
    """An operand does not fit its operator or fact; the message is one actionable line."""


_NUM = frozenset({FactType.INT, FactType.FLOAT})
_ORDERED = _NUM | {FactType.DATETIME}
_TEXT = frozenset({FactType.STR, FactType.ENUM})
_SCALAR = _TEXT | _NUM | {FactType.BOOL, FactType.DATETIME}
_SIZED = frozenset({FactType.LIST, FactType.STR})
_ANY = frozenset(FactType)
_LISTS = frozenset({FactType.LIST})


class _Unparseable:
    """A date-time fact value that is not ISO 8601; compares as UNKNOWN."""


def to_datetime(value: object) -> object:
    """Coerce a date-time fact value to an aware datetime (naive means UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return _Unparseable()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


_EXACT_KINDS: Mapping[type, str] = {
    type(None): "null",
    bool: "bool",
    int: "num",
    float: "num",
    str: "str",
    datetime: "dt",
    list: "list",
    tuple: "list",
}
_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),
    ((int, float), "num"),
    (str, "str"),
    (datetime, "dt"),
    ((list, tuple), "list"),
)


def _kind(value: object) -> str:
    kind = _EXACT_KINDS.get(type(value))
    if kind is not None:
        return kind
    for types, name in _KINDS:  # subclasses, e.g. StrEnum verdicts
        if isinstance(value, types):
            return name
    return "other"


# ----------------------------------------------------------------------------- runtime tests


def _eq(value: object, operand: object) -> Truth:
    if value is None or operand is None:
        return value is None and operand is None
    kind = _kind(value)
    if kind != _kind(operand) or kind == "other":
        return None
    if isinstance(value, list | tuple) and isinstance(operand, list | tuple):
        return list(value) == list(operand)
    return value == operand


def _ne(value: object, operand: object) -> Truth:
    result = _eq(value, operand)
    return None if result is None else not result


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[[object, object], Truth]:
    def test(value: object, operand: object) -> Truth:
        kind = _kind(value)
        if kind in ("num", "dt") and kind == _kind(operand):
            return compare(value, operand)
        return None

    return test


def _in(value: object, operand: object) -> Truth:
    if not isinstance(operand, list | tuple):
        return None
    if value is None:
        return True if any(item is None for item in operand) else None
    if _kind(value) in ("list", "other"):
        return None
    return any(_eq(value, item) is True for item in operand)


def _not_in(value: object, operand: object) -> Truth:
    result = _in(value, operand)
    return None if result is None else not result


def _contains(value: object, operand: object) -> Truth:
    if isinstance(value, list | tuple) and operand is not None:
        return operand in value
    if isinstance(value, str) and isinstance(operand, str):
        return operand in value
    return None


def _contains_any(value: object, operand: object) -> Truth:
    if isinstance(value, list | tuple) and isinstance(operand, list | tuple):
        return any(item in value for item in operand)
    return None


def _contains_all(value: object, operand: object) -> Truth:
    if isinstance(value, list | tuple) and isinstance(operand, list | tuple):
        return all(item in value for item in operand)
    return None


def _is_null(value: object, operand: object) -> Truth:
    return (value is None) == operand


def _exists(value: object, operand: object) -> Truth:
    return (value is not MISSING) == operand


def _is_empty(value: object, operand: object) -> Truth:
    if value is None:
        return operand is True
    if isinstance(value, list | tuple | str):
        return (len(value) == 0) == operand
    return None


def _matches(value: object, operand: object) -> Truth:
    if isinstance(value, str) and isinstance(operand, re.Pattern):
        return operand.search(value) is not None
    return None


# ----------------------------------------------------------------------------- load-time checks


def _choice(spec: FactSpec, value: object) -> str:
    if not isinstance(value, str):
        raise OperandError(f"'{spec.name}' values are strings; got {value!r}")
    if spec.values and value not in spec.values:
        match = difflib.get_close_matches(value, spec.values, n=1)
        hint = f"did you mean '{match[0]}'?" if match else "allowed: " + ", ".join(spec.values)
        raise OperandError(f"'{value}' is not a value of '{spec.name}' ({hint})")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_SIMPLE_CHECKS: Mapping[FactType, Callable[[object], bool]] = {
    FactType.BOOL: lambda value: isinstance(value, bool),
    FactType.INT: _is_int,
    FactType.FLOAT: _is_number,
    FactType.STR: lambda value: isinstance(value, str),
}


def _value(spec: FactSpec, value: object) -> object:
    """Check one comparison value against the fact's type; return it prepared."""
    if value is None:
        return None
    if spec.type is FactType.ENUM:
        return _choice(spec, value)
    if spec.type is FactType.LIST and isinstance(value, list):
        return [_choice(spec, item) for item in value]
    if spec.type is FactType.DATETIME and isinstance(value, str | date):
        parsed = to_datetime(value)
        if isinstance(parsed, datetime):
            return parsed
    check = _SIMPLE_CHECKS.get(spec.type)
    if check is not None and check(value):
        return value
    raise OperandError(f"'{spec.name}' is {spec.type_label}; {value!r} does not fit")


def _any_value(spec: FactSpec, operand: object) -> object:
    return _value(spec, operand)


def _ordered(spec: FactSpec, operand: object) -> object:
    if operand is None:
        raise OperandError("cannot order against null; use is_null")
    return _value(spec, operand)


def _value_list(spec: FactSpec, operand: object) -> object:
    if not isinstance(operand, list) or not operand:
        raise OperandError("needs a non-empty list of values")
    return tuple(_value(spec, item) for item in operand)


def _item(spec: FactSpec, operand: object) -> object:
    if spec.type is FactType.LIST:
        return _choice(spec, operand)
    if not isinstance(operand, str):
        raise OperandError(f"needs a string; got {operand!r}")
    return operand


def _item_list(spec: FactSpec, operand: object) -> object:
    if not isinstance(operand, list) or not operand:
        raise OperandError("needs a non-empty list of values")
    return tuple(_choice(spec, item) for item in operand)


def _flag(spec: FactSpec, operand: object) -> object:
    if not isinstance(operand, bool):
        raise OperandError(f"needs true or false; got {operand!r}")
    return operand


def _pattern(spec: FactSpec, operand: object) -> object:
    if not isinstance(operand, str):
        raise OperandError(f"needs a regular expression string; got {operand!r}")
    if len(operand) > MAX_PATTERN:
        raise OperandError(f"regular expression is longer than {MAX_PATTERN} characters")
    try:
        return re.compile(operand)
    except re.error as exc:
        raise OperandError(f"invalid regular expression: {exc}") from None


def _family(spec: FactSpec) -> str:
    if spec.type in _NUM:
        return "number"
    if spec.type in _TEXT:
        return "string"
    return str(spec.type)


def _same_family(left: FactSpec, right: FactSpec) -> str | None:
    if _family(left) == _family(right):
        return None
    return f"cannot compare {left.name} ({left.type_label}) with {right.name} ({right.type_label})"


def _ref_is_list(left: FactSpec, right: FactSpec) -> str | None:
    ok = right.type is FactType.LIST and left.type in _TEXT
    return None if ok else f"'{right.name}' must be a list and '{left.name}' a string fact"


def _ref_is_item(left: FactSpec, right: FactSpec) -> str | None:
    ok = right.type in _TEXT
    return None if ok else f"'{right.name}' must be a string fact"


def _ref_both_lists(left: FactSpec, right: FactSpec) -> str | None:
    return None if right.type is FactType.LIST else f"'{right.name}' must be a list fact"


# ----------------------------------------------------------------------------- the table

RefCheck = Callable[[FactSpec, FactSpec], str | None]
_FACT_REF: Mapping[str, Any] = {"$ref": "#/$defs/FactRef"}
_SCALAR_SCHEMA: Mapping[str, Any] = {"type": ["string", "number", "boolean", "null"]}


def _or_ref(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"anyOf": [schema, _FACT_REF]}


@dataclass(frozen=True)
class Operator:
    """One leaf operator: checks, runtime test, schema fragment and documentation."""

    name: str
    doc: str
    operand: str
    fact_types: frozenset[FactType]
    prepare: Callable[[FactSpec, object], object]
    test: Callable[[object, object], Truth]
    schema: Mapping[str, Any]
    fact_ref: RefCheck | None = None
    sees_missing: bool = False
    coerces: bool = True
    verb: str = ""
    verb_false: str = ""

    def describe(self, fact: str, operand: str, flag: object = None) -> str:
        """Readable text of a leaf, e.g. ``image.faces > 0`` or ``crawler.dpia is null``."""
        if self.verb_false:
            return f"{fact} {self.verb if flag else self.verb_false}"
        return f"{fact} {self.verb} {operand}"


_LIST_OF_VALUES = {"type": "array", "minItems": 1, "items": _SCALAR_SCHEMA}
_LIST_OF_STRINGS = {"type": "array", "minItems": 1, "items": {"type": "string"}}
_COMPARABLE = _or_ref({"anyOf": [_SCALAR_SCHEMA, {"type": "array", "items": {"type": "string"}}]})
_ORDERABLE = _or_ref({"type": ["number", "string"]})
_BOOL = {"type": "boolean"}
_VALUE = "value of the fact's type, null, or {fact}"
_ORDER = "number or date-time, or {fact}"
_LIST = "non-empty list of values, or {fact}"
_FLAG = "true or false"


def _compare(name: str, doc: str, verb: str, compare: Callable[[Any, Any], bool]) -> Operator:
    return Operator(
        name, doc, _ORDER, _ORDERED, _ordered, _ordering(compare), _ORDERABLE, _same_family,
        verb=verb,
    )  # fmt: skip


_TABLE: tuple[Operator, ...] = (
    Operator("eq", "equal; null equals only null", _VALUE, _ANY, _any_value, _eq, _COMPARABLE,
             _same_family, verb="=="),
    Operator("ne", "not equal", _VALUE, _ANY, _any_value, _ne, _COMPARABLE, _same_family,
             verb="!="),
    _compare("gt", "greater than", ">", lambda a, b: a > b),
    _compare("gte", "greater than or equal", ">=", lambda a, b: a >= b),
    _compare("lt", "less than", "<", lambda a, b: a < b),
    _compare("lte", "less than or equal", "<=", lambda a, b: a <= b),
    Operator("in", "value is one of the list; null matches only a listed null", _LIST, _SCALAR,
             _value_list, _in, _or_ref(_LIST_OF_VALUES), _ref_is_list, verb="in"),
    Operator("not_in", "value is none of the list", _LIST, _SCALAR, _value_list, _not_in,
             _or_ref(_LIST_OF_VALUES), _ref_is_list, verb="not in"),
    Operator("contains", "list has the item, or string has the substring", "string, or {fact}",
             _SIZED, _item, _contains, _or_ref({"type": "string"}), _ref_is_item,
             verb="contains"),
    Operator("contains_any", "list has at least one of the items", _LIST, _LISTS, _item_list,
             _contains_any, _or_ref(_LIST_OF_STRINGS), _ref_both_lists, verb="contains any of"),
    Operator("contains_all", "list has every one of the items", _LIST, _LISTS, _item_list,
             _contains_all, _or_ref(_LIST_OF_STRINGS), _ref_both_lists, verb="contains all of"),
    Operator("is_null", "true: the fact is null (declared not provided)", _FLAG, _ANY, _flag,
             _is_null, _BOOL, coerces=False, verb="is null", verb_false="is not null"),
    Operator("exists", "true: the fact is present, even if null; never UNKNOWN", _FLAG, _ANY,
             _flag, _exists, _BOOL, sees_missing=True, coerces=False, verb="is present",
             verb_false="is missing"),
    Operator("is_empty", "true: null, an empty list or an empty string", _FLAG, _SIZED, _flag,
             _is_empty, _BOOL, coerces=False, verb="is empty", verb_false="is not empty"),
    Operator("matches", "the regular expression is found in the string (re.search)",
             f"regular expression of at most {MAX_PATTERN} characters",
             _TEXT | {FactType.DATETIME}, _pattern, _matches,
             {"type": "string", "maxLength": MAX_PATTERN}, coerces=False, verb="matches"),
)  # fmt: skip

#: Every operator by name, in documentation order.
OPERATORS: Mapping[str, Operator] = MappingProxyType({op.name: op for op in _TABLE})


def render_operator_table_markdown() -> str:
    """Render the operator table embedded in ``docs/rules.md`` (a test checks the copy)."""
    out = ["| Operator | Operand | Fact types | True when |", "|---|---|---|---|"]
    for op in OPERATORS.values():
        types = ", ".join(str(t) for t in FactType if t in op.fact_types)
        if op.fact_types == _ANY:
            types = "any"
        out.append(f"| `{op.name}` | {op.operand} | {types} | {op.doc} |")
    return "\n".join(out)
