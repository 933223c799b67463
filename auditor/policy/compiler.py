"""Compile rule conditions, once, into plain three-valued Python callables.

A condition is ``{all: [...]}``, ``{any: [...]}``, ``{not: ...}`` or a leaf
``{fact: PATH, OP: VALUE}``. Compiling checks everything that can be checked before any subject
is seen (the fact exists and is available for the rule's subject, the operator exists, applies
to the fact's type and has a fitting operand, regexes compile) and reports every problem with
its file and line; the result is a closure over the checked operands, so nothing is
interpreted per subject.

Evaluation is Kleene logic over ``True`` / ``False`` / ``None`` (UNKNOWN): a leaf on a missing
fact is UNKNOWN (except ``exists``); ``all`` is False if any child is False, else UNKNOWN if any
is UNKNOWN; ``any`` dually; ``not`` keeps UNKNOWN.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.errors import PolicyError, Problem
from auditor.model import Subject
from auditor.policy.facts import FactSpec, FactType, lookup_fact
from auditor.policy.operators import MISSING, OPERATORS, OperandError, Operator, Truth, to_datetime
from auditor.yamlsrc import YamlDocument

__all__ = [
    "CompileContext",
    "Compiled",
    "FactGetter",
    "Facts",
    "Predicate",
    "compile_condition",
    "compile_expression",
    "fact_getter",
    "render_value",
]

Facts = Mapping[str, object]
FactGetter = Callable[[Facts], object]
Predicate = Callable[[Facts], Truth]

BOOLEAN_KEYS = ("all", "any", "not")
MAX_CONDITION_DEPTH = 32
_JURISDICTION_ALIASES: Mapping[str, tuple[str, ...]] = {"UK": ("UK", "GB")}


@dataclass(frozen=True)
class Compiled:
    """A compiled condition: the callable, the facts it reads and a readable rendering."""

    test: Predicate
    facts: tuple[str, ...]
    text: str


@dataclass
class CompileContext:
    """Where a condition sits and what it may use; collects problems instead of raising."""

    doc: YamlDocument
    subject: Subject
    jurisdiction: str
    problems: list[Problem] = field(default_factory=list)

    def problem(self, loc: Sequence[Any], message: str) -> None:
        """Record one problem at the line of ``loc``."""
        self.problems.append(Problem(self.doc.file, self.doc.line_of(loc), message))


def fact_getter(spec: FactSpec, jurisdiction: str) -> FactGetter:
    """Build the reader of one fact; per-jurisdiction facts resolve with ``jurisdiction``."""
    name = spec.name
    if not spec.per_jurisdiction:
        return lambda facts: facts.get(name, MISSING)
    keys = _JURISDICTION_ALIASES.get(jurisdiction, (jurisdiction,))

    def get(facts: Facts) -> object:
        value = facts.get(name, MISSING)
        if isinstance(value, Mapping):
            return next((value[key] for key in keys if key in value), None)
        return value

    return get


def render_value(value: object) -> str:
    """Render an operand or fact value the way YAML authors write it."""
    if value is MISSING:
        return "unknown"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_value(item) for item in value) + "]"
    pattern = getattr(value, "pattern", None)
    if isinstance(pattern, str):
        return f"/{pattern}/"
    return str(value)


def _kleene_all(tests: tuple[Predicate, ...]) -> Predicate:
    def all_(facts: Facts) -> Truth:
        result: Truth = True
        for test in tests:
            value = test(facts)
            if value is False:
                return False
            if value is None:
                result = None
        return result

    return all_


def _kleene_any(tests: tuple[Predicate, ...]) -> Predicate:
    def any_(facts: Facts) -> Truth:
        result: Truth = False
        for test in tests:
            value = test(facts)
            if value is True:
                return True
            if value is None:
                result = None
        return result

    return any_


def _kleene_not(test: Predicate) -> Predicate:
    def not_(facts: Facts) -> Truth:
        value = test(facts)
        return None if value is None else not value

    return not_


def _leaf(
    spec: FactSpec, jurisdiction: str, op: Operator, operand: object, ref: FactGetter | None
) -> Predicate:
    test = op.test
    get = fact_getter(spec, jurisdiction)
    if op.sees_missing:
        return lambda facts: test(get(facts), operand)
    coerce = to_datetime if spec.type is FactType.DATETIME and op.coerces else None
    name = spec.name
    if ref is None and coerce is None and not spec.per_jurisdiction:

        def plain_leaf(facts: Facts) -> Truth:  # the common case, one call less per leaf
            value = facts.get(name, MISSING)
            return None if value is MISSING else test(value, operand)

        return plain_leaf
    if ref is None:

        def leaf(facts: Facts) -> Truth:
            value = get(facts)
            if value is MISSING:
                return None
            return test(value if coerce is None else coerce(value), operand)

        return leaf

    def leaf_ref(facts: Facts) -> Truth:
        value, other = get(facts), ref(facts)
        if value is MISSING or other is MISSING:
            return None
        if coerce is not None:
            value, other = coerce(value), coerce(other)
        return test(value, other)

    return leaf_ref


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def compile_condition(
    raw: object, loc: tuple[Any, ...], ctx: CompileContext, depth: int = 0
) -> Compiled | None:
    """Compile ``raw`` found at ``loc``; return ``None`` after recording problems in ``ctx``."""
    if depth > MAX_CONDITION_DEPTH:
        ctx.problem(loc, f"conditions nested more than {MAX_CONDITION_DEPTH} levels deep")
        return None
    if not isinstance(raw, Mapping) or not raw:
        ctx.problem(
            loc,
            "a condition must be a mapping: {all: [...]}, {any: [...]}, {not: ...} "
            "or {fact: PATH, OP: VALUE}",
        )
        return None
    if "fact" in raw:
        return _compile_leaf(raw, loc, ctx)
    keys = list(raw)
    if len(keys) != 1 or keys[0] not in BOOLEAN_KEYS:
        _bad_keys(keys, loc, ctx)
        return None
    return _compile_boolean(keys[0], raw[keys[0]], (*loc, keys[0]), ctx, depth)


def _compile_boolean(
    key: str, value: object, loc: tuple[Any, ...], ctx: CompileContext, depth: int
) -> Compiled | None:
    if key == "not":
        child = compile_condition(value, loc, ctx, depth + 1)
        if child is None:
            return None
        return Compiled(_kleene_not(child.test), child.facts, "not:\n" + _indent(child.text))
    if not isinstance(value, list) or not value:
        ctx.problem(loc, f"'{key}' needs a non-empty list of conditions")
        return None
    children = [
        compile_condition(item, (*loc, index), ctx, depth + 1) for index, item in enumerate(value)
    ]
    good = [child for child in children if child is not None]
    if len(good) != len(children):
        return None
    tests = tuple(child.test for child in good)
    combine = _kleene_all if key == "all" else _kleene_any
    facts = tuple(dict.fromkeys(name for child in good for name in child.facts))
    text = f"{key} of:\n" + "\n".join(_indent("- " + child.text) for child in good)
    return Compiled(tests[0] if len(tests) == 1 else combine(tests), facts, text)


def _bad_keys(keys: list[Any], loc: tuple[Any, ...], ctx: CompileContext) -> None:
    unknown = [key for key in keys if key not in BOOLEAN_KEYS]
    for key in unknown:
        if key in OPERATORS:
            ctx.problem((*loc, key), f"leaf with operator '{key}' has no 'fact: PATH'")
            continue
        match = difflib.get_close_matches(str(key), [*BOOLEAN_KEYS, "fact"], n=1)
        hint = f" (did you mean '{match[0]}'?)" if match else "; use all, any, not or fact"
        ctx.problem((*loc, key), f"unknown condition key '{key}'{hint}")
    if not unknown:
        ctx.problem(loc, "use exactly one of all, any, not per condition; nest them to combine")


def _compile_leaf(
    raw: Mapping[Any, Any], loc: tuple[Any, ...], ctx: CompileContext
) -> Compiled | None:
    spec, error = lookup_fact(raw["fact"], ctx.subject)
    if error:
        ctx.problem((*loc, "fact"), error)
    op_names = [key for key in raw if key != "fact"]
    for name in op_names:
        if name not in OPERATORS:
            match = difflib.get_close_matches(str(name), list(OPERATORS), n=1)
            hint = f" (did you mean '{match[0]}'?)" if match else " (see docs/rules.md)"
            ctx.problem((*loc, name), f"unknown operator '{name}'{hint}")
    known = [name for name in op_names if name in OPERATORS]
    if len(op_names) != 1:
        if not op_names:
            ctx.problem(loc, "a leaf needs exactly one operator: " + ", ".join(OPERATORS))
        elif len(known) > 1:
            listed = ", ".join(known)
            ctx.problem(loc, f"a leaf takes one operator, not {listed}; combine with all: [...]")
        return None
    if spec is None or not known:
        return None
    op = OPERATORS[known[0]]
    return _compile_operand(spec, op, raw[op.name], (*loc, op.name), ctx)


def _compile_operand(
    spec: FactSpec, op: Operator, raw: object, loc: tuple[Any, ...], ctx: CompileContext
) -> Compiled | None:
    if spec.type not in op.fact_types:
        allowed = ", ".join(sorted(str(t) for t in op.fact_types))
        ctx.problem(
            loc, f"operator '{op.name}' needs a {allowed} fact; '{spec.name}' is {spec.type_label}"
        )
        return None
    if isinstance(raw, Mapping):
        return _compile_ref(spec, op, raw, loc, ctx)
    try:
        operand = op.prepare(spec, raw)
    except OperandError as exc:
        ctx.problem(loc, f"{op.name}: {exc}")
        return None
    text = op.describe(spec.name, render_value(operand), operand)
    return Compiled(_leaf(spec, ctx.jurisdiction, op, operand, None), (spec.name,), text)


def _compile_ref(
    spec: FactSpec,
    op: Operator,
    raw: Mapping[Any, Any],
    loc: tuple[Any, ...],
    ctx: CompileContext,
) -> Compiled | None:
    if set(raw) != {"fact"}:
        ctx.problem(loc, f"{op.name}: a mapping operand must be exactly {{fact: PATH}}")
        return None
    if op.fact_ref is None:
        ctx.problem(loc, f"operator '{op.name}' does not compare with another fact")
        return None
    other, error = lookup_fact(raw["fact"], ctx.subject)
    if other is None:
        ctx.problem((*loc, "fact"), str(error))
        return None
    mismatch = op.fact_ref(spec, other)
    if mismatch:
        ctx.problem(loc, f"{op.name}: {mismatch}")
        return None
    ref = fact_getter(other, ctx.jurisdiction)
    text = op.describe(spec.name, other.name, True)
    leaf = _leaf(spec, ctx.jurisdiction, op, None, ref)
    return Compiled(leaf, (spec.name, other.name), text)


def compile_expression(
    raw: object, subject: Subject, *, jurisdiction: str = "GLOBAL", file: str = "<condition>"
) -> Compiled:
    """Compile a stand-alone condition (tests, embedding); raise :class:`PolicyError`."""
    ctx = CompileContext(YamlDocument(raw, file), subject, jurisdiction)
    compiled = compile_condition(raw, (), ctx)
    if compiled is None:
        raise PolicyError(ctx.problems)
    return compiled
