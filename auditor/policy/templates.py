"""Text about rules: message templates, and rule explanations for ``policies explain``.

Message templates have ``{fact.path}`` placeholders and nothing else.

Templates are parsed once at load time with a regular expression; there is no ``str.format``,
no attribute or item access and no expression language, so a template can only ever read the
facts of the subject being reported. ``{{`` and ``}}`` write literal braces. A placeholder
naming an unknown fact, or one not available for the rule's subject, is a load error.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.errors import PolicyError, Problem
from auditor.model import Outcome, Severity, Subject
from auditor.policy.compiler import CompileContext, FactGetter, Facts, fact_getter
from auditor.policy.facts import fact_spec, lookup_fact
from auditor.policy.operators import MISSING
from auditor.policy.scope import GLOBAL

if TYPE_CHECKING:  # the engine imports this module; these are for annotations only
    from auditor.policy.engine import Pack, PolicySet, Rule

__all__ = [
    "MAX_VALUE_CHARS",
    "RuleExplanation",
    "Template",
    "compile_template",
    "explain",
    "format_fact",
]

#: A rendered value longer than this is cut, so hostile facts cannot flood a report.
MAX_VALUE_CHARS = 300

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def format_fact(value: object) -> str:
    """Render a fact value for a message: missing is "unknown", lists are comma-joined."""
    if value is MISSING:
        text = "unknown"
    elif value is None:
        text = "not provided"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, list | tuple):
        text = ", ".join(format_fact(item) for item in value) or "none"
    elif isinstance(value, Mapping):
        text = ", ".join(f"{key}: {format_fact(item)}" for key, item in value.items())
    else:
        text = str(value)
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 1] + "…"
    return text


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and fact readers, in order."""

    source: str
    parts: tuple[str | tuple[str, FactGetter], ...]

    @property
    def facts(self) -> tuple[str, ...]:
        """Fact names the template reads, in order of first use."""
        return tuple(dict.fromkeys(part[0] for part in self.parts if isinstance(part, tuple)))

    def render(self, facts: Facts) -> str:
        """Substitute the subject's facts."""
        return "".join(
            part if isinstance(part, str) else format_fact(part[1](facts)) for part in self.parts
        )


def compile_template(source: str, loc: tuple[object, ...], ctx: CompileContext) -> Template | None:
    """Parse ``source``; return ``None`` after recording problems in ``ctx``."""
    parts: list[str | tuple[str, FactGetter]] = []
    literal: list[str] = []
    ok = True
    position = 0
    for match in _TOKEN.finditer(source):
        literal.append(source[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        name = match.group(1)
        if name is None:
            ctx.problem(loc, f"unbalanced '{token}' in template; write {token}{token} for a brace")
            ok = False
            continue
        spec, error = lookup_fact(name, ctx.subject)
        if spec is None:
            ctx.problem(loc, f"template placeholder {{{name}}}: {error}")
            ok = False
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append((spec.name, fact_getter(spec, ctx.jurisdiction)))
    literal.append(source[position:])
    if "".join(literal):
        parts.append("".join(literal))
    return Template(source, tuple(parts)) if ok else None


@dataclass(frozen=True)
class RuleExplanation:
    """Everything about one rule, for ``auditor policies explain``."""

    rule_id: str
    title: str
    pack: str
    pack_title: str
    jurisdiction: str
    status: str
    subject: Subject
    severity: Severity
    references: tuple[str, ...]
    tags: tuple[str, ...]
    scope: str  # the jurisdiction scope gate in plain words
    conditions: tuple[tuple[str, str], ...]  # (role, readable text)
    escalate: tuple[tuple[Severity, str], ...]  # (severity, readable condition)
    on_missing: Outcome
    facts: tuple[tuple[str, str, str], ...]  # (name, type, description)
    message: str
    remediation: str
    file: str
    line: int | None

    def to_text(self) -> str:
        """Render the explanation as plain text."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        out = [
            f"{self.rule_id}: {self.title}",
            f"  pack: {self.pack} ({self.pack_title}; {self.jurisdiction}; {self.status})",
            f"  subject: {self.subject}   severity: {self.severity}   on missing facts: "
            f"{self.on_missing}",
            f"  references: {'; '.join(self.references)}",
        ]
        if self.tags:
            out.append(f"  tags: {', '.join(self.tags)}")
        out.append(f"  scope: {self.scope}")
        for role, text in self.conditions:
            out += [f"  {role}:", *("    " + line for line in text.splitlines())]
        for severity, text in self.escalate:
            out += [f"  escalate to {severity} when:", *("    " + ln for ln in text.splitlines())]
        out.append("  facts:")
        out += [f"    {name} ({kind}): {text}" for name, kind, text in self.facts]
        out += [f"  message: {self.message}", f"  remediation: {self.remediation}"]
        out.append(f"  source: {where}")
        return "\n".join(out)


def explain(policy: PolicySet, rule_id: str) -> RuleExplanation:
    """Describe ``rule_id``; raise :class:`PolicyError` (with a suggestion) if it is unknown."""
    for pack in policy.packs:
        for rule in pack.rules:
            if rule.id == rule_id:
                return _explain(pack, rule)
    known = [rule.id for rule in policy.rules]
    match = difflib.get_close_matches(rule_id, known, n=1, cutoff=0.5)
    hint = f" (did you mean '{match[0]}'?)" if match else ""
    raise PolicyError([Problem("policies", None, f"unknown rule id '{rule_id}'{hint}")])


def _scope_text(pack: Pack, rule: Rule) -> str:
    """Say in plain words which subjects the scope gate lets the rule reach (docs/rules.md 8)."""
    if not rule.jurisdiction_gate:
        return "set by applies_when alone (scope: any)"
    if pack.jurisdiction == GLOBAL:
        return "everywhere (global pack)"
    code = pack.jurisdiction
    where = {
        Subject.DECLARATION: "no markets are declared",
        Subject.DATASET: f"dataset.jurisdiction.{code} reaches the {rule.severity} threshold",
    }.get(rule.subject, f"jurisdiction.{code} reaches the {rule.severity} threshold")
    return (
        f"{code} is a declared market or establishment, or {where} "
        "(audit.yaml jurisdiction_thresholds); unknown jurisdiction is judged strictest"
    )


def _explain(pack: Pack, rule: Rule) -> RuleExplanation:
    names = dict.fromkeys([*rule.facts, *rule.message.facts])
    return RuleExplanation(
        rule_id=rule.id,
        title=rule.title,
        pack=pack.name,
        pack_title=pack.title,
        jurisdiction=pack.jurisdiction,
        status=pack.status,
        subject=rule.subject,
        severity=rule.severity,
        references=rule.references,
        tags=rule.tags,
        scope=_scope_text(pack, rule),
        conditions=tuple((role, cond.text) for role, cond in rule.conditions),
        escalate=tuple((step.severity, step.when.text) for step in rule.escalate),
        on_missing=rule.on_missing,
        facts=tuple(
            (name, fact_spec(name).type_label, fact_spec(name).description) for name in names
        ),
        message=rule.message.source,
        remediation=rule.remediation,
        file=rule.file,
        line=rule.line,
    )
