"""Find, load and validate policy packs, reporting every problem at once.

Validation is layered, friendliest first (the cloud-custodian habit): safe YAML with line
numbers, then the structure of the pack header and of each rule on its own (so one bad rule
does not hide the others), then the semantic checks of the compiler and template parser, then
checks across files (duplicate rule ids, duplicate pack names). Nothing invalid is ever
skipped: :func:`load_packs` raises :class:`~auditor.errors.PolicyError` listing every problem.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor.errors import PolicyError, Problem
from auditor.model import Outcome
from auditor.policy.compiler import CompileContext, Compiled, compile_condition, fact_getter
from auditor.policy.engine import Escalation, Pack, PolicySet, Rule, Source
from auditor.policy.facts import fact_spec
from auditor.policy.packtests import TESTS_SUFFIX, check_fixture_file
from auditor.policy.schema import PackHeader, RuleSpec
from auditor.policy.templates import compile_template
from auditor.yamlsrc import YamlDocument, load_yaml, problems_from_validation

__all__ = [
    "DEFAULT_STATUSES",
    "TESTS_SUFFIX",
    "available_packs",
    "default_policy_dirs",
    "load_packs",
    "validate_files",
]

DEFAULT_STATUSES = frozenset({"in_force", "benchmark"})
_ROLES = ("applies_when", "fail_when", "review_when", "pass_when")


def default_policy_dirs() -> tuple[Path, ...]:
    """Return the checkout's ``policies/`` (when running from one) and the installed copy."""
    dirs: list[Path] = []
    root = Path(__file__).resolve().parents[2]
    checkout = root / "policies"
    if checkout.is_dir() and (root / "pyproject.toml").is_file():  # not a stray site-packages dir
        dirs.append(checkout)
    installed = importlib.resources.files("auditor") / "_policies"
    if installed.is_dir():
        dirs.append(Path(str(installed)))
    return tuple(dirs)


def _is_pack_file(path: Path) -> bool:
    return path.suffix in (".yaml", ".yml") and not path.name.endswith(TESTS_SUFFIX)


def available_packs(dirs: Iterable[Path]) -> dict[str, Path]:
    """Pack name (file stem) -> file, the first directory winning on a clash."""
    found: dict[str, Path] = {}
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if _is_pack_file(path) and path.is_file():
                found.setdefault(path.stem, path)
    return found


@dataclass
class _Loaded:
    """One pack file after loading: the pack when valid, and the raw ids for cross-checks."""

    path: Path
    pack: Pack | None = None
    status: str | None = None
    ids: list[tuple[str, int | None]] = field(default_factory=list)


def _rule_ids(doc: YamlDocument) -> list[tuple[str, int | None]]:
    rules = doc.data.get("rules") if isinstance(doc.data, Mapping) else None
    if not isinstance(rules, list):
        return []
    return [
        (raw["id"], doc.line_of(("rules", index, "id")))
        for index, raw in enumerate(rules)
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str)
    ]


def _load_pack(path: Path, problems: list[Problem]) -> _Loaded:
    found: list[Problem] = []
    loaded = _load_pack_into(path, found)
    problems.extend(sorted(found, key=lambda p: -1 if p.line is None else p.line))
    return loaded


def _load_pack_into(path: Path, problems: list[Problem]) -> _Loaded:
    loaded = _Loaded(path)
    try:
        doc = load_yaml(path, error=PolicyError)
    except PolicyError as exc:
        problems.extend(exc.problems)
        return loaded
    loaded.ids = _rule_ids(doc)
    data: Any = doc.data if isinstance(doc.data, Mapping) else {}
    header: PackHeader | None = None
    try:
        header = PackHeader.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, doc, model=PackHeader))
    name = header.pack if header else str(data.get("pack", path.stem))
    jurisdiction = header.jurisdiction if header else str(data.get("jurisdiction", ""))
    loaded.status = header.status if header else None
    if header and header.pack != path.stem:
        problems.append(
            Problem(
                str(path),
                doc.line_of(("pack",)),
                f"pack '{header.pack}' must be in a file named {header.pack}.yaml",
            )
        )
    raw_rules = data.get("rules")
    rules = [
        _compile_rule(
            raw, ("rules", index), doc, pack=name, jurisdiction=jurisdiction, problems=problems
        )
        for index, raw in enumerate(raw_rules if isinstance(raw_rules, list) else [])
    ]
    if header is None or problems:
        return loaded
    try:
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        problems.append(Problem(str(path), None, f"cannot read file: {exc.strerror}"))
        return loaded
    loaded.pack = Pack(
        name=header.pack,
        title=header.title,
        jurisdiction=header.jurisdiction,
        version=header.version,
        status=header.status,
        sources=tuple(
            Source(s) if isinstance(s, str) else Source(s.url, s.retrieved) for s in header.sources
        ),
        effective_from=header.effective_from,
        rules=tuple(rule for rule in rules if rule is not None),
        file=str(path),
        sha256=sha256,
    )
    return loaded


def _compile_rule(
    raw: object,
    loc: tuple[str, int],
    doc: YamlDocument,
    *,
    pack: str,
    jurisdiction: str,
    problems: list[Problem],
) -> Rule | None:
    try:
        spec = RuleSpec.model_validate(raw)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, doc, model=RuleSpec, at=loc))
        return None
    ctx = CompileContext(doc, spec.subject, jurisdiction)
    conditions: dict[str, Compiled | None] = {
        role: compile_condition(getattr(spec, role), (*loc, role), ctx)
        for role in _ROLES
        if role == "fail_when" or getattr(spec, role) is not None
    }
    escalate: list[Escalation] = []
    for index, step in enumerate(spec.escalate):
        when = compile_condition(step.when, (*loc, "escalate", index, "when"), ctx)
        if step.severity.rank <= spec.severity.rank:
            ctx.problem(
                (*loc, "escalate", index, "severity"),
                f"escalate severity '{step.severity}' must be higher than the rule's "
                f"severity '{spec.severity}'",
            )
        if when is not None:
            escalate.append(Escalation(when, step.severity))
    message = compile_template(spec.message, (*loc, "message"), ctx)
    review_message = (
        compile_template(spec.review_message, (*loc, "review_message"), ctx)
        if spec.review_message is not None
        else None
    )
    problems.extend(ctx.problems)
    fail_when = conditions.get("fail_when")
    if ctx.problems or fail_when is None or message is None:
        return None
    used = [c for c in conditions.values() if c] + [step.when for step in escalate]
    names = dict.fromkeys(name for compiled in used for name in compiled.facts)
    return Rule(
        id=spec.id,
        title=spec.title,
        subject=spec.subject,
        severity=spec.severity,
        references=tuple(spec.references),
        tags=tuple(spec.tags),
        jurisdiction_gate=spec.scope == "jurisdiction",
        applies_when=conditions.get("applies_when"),
        fail_when=fail_when,
        review_when=conditions.get("review_when"),
        pass_when=conditions.get("pass_when"),
        on_missing=Outcome(spec.on_missing),
        escalate=tuple(escalate),
        message=message,
        review_message=review_message,
        remediation=spec.remediation,
        pack=pack,
        jurisdiction=jurisdiction,
        file=doc.file,
        line=doc.line_of(loc),
        readers=tuple((name, fact_getter(fact_spec(name), jurisdiction)) for name in names),
    )


def _cross_check(loaded: Sequence[_Loaded], problems: list[Problem]) -> None:
    seen: dict[str, tuple[str, int | None]] = {}
    for item in loaded:
        for rule_id, line in item.ids:
            if rule_id in seen:
                first = Problem(*seen[rule_id], "")
                where = f"{first.file}:{first.line}" if first.line else first.file
                problems.append(
                    Problem(str(item.path), line, f"duplicate rule id '{rule_id}' (also {where})")
                )
            else:
                seen[rule_id] = (str(item.path), line)
    names: dict[str, Path] = {}
    for item in loaded:
        if item.pack is not None:
            other = names.setdefault(item.pack.name, item.path)
            if other != item.path:
                message = f"duplicate pack '{item.pack.name}' (also {other})"
                problems.append(Problem(str(item.path), None, message))


def _digest(packs: Iterable[Pack]) -> str:
    digest = hashlib.sha256()
    for pack in sorted(packs, key=lambda p: p.name):
        digest.update(f"{pack.name}\x00{pack.sha256}\x00".encode())
    return digest.hexdigest()


def _resolve(
    selection: Sequence[str], available: Mapping[str, Path], problems: list[Problem]
) -> list[Path]:
    paths: dict[Path, None] = {}
    for item in selection:
        if item.endswith((".yaml", ".yml")) or "/" in item or "\\" in item:
            path = Path(item)
            if item.endswith(TESTS_SUFFIX):
                problems.append(Problem(item, None, "this is a fixtures file, not a policy pack"))
            elif not path.is_file():
                problems.append(Problem(item, None, "policy file not found"))
            else:
                paths[path.resolve()] = None
        elif item in available:
            paths[available[item].resolve()] = None
        else:
            match = difflib.get_close_matches(item, list(available), n=1)
            hint = f" (did you mean '{match[0]}'?)" if match else ""
            known = ", ".join(sorted(available)) or "none found"
            message = f"unknown policy pack '{item}'{hint}; available packs: {known}"
            problems.append(Problem("policies", None, message))
    return list(paths)


def load_packs(
    selection: Sequence[str] | None = None,
    *,
    dirs: Sequence[Path] | None = None,
    include_proposed: bool = False,
) -> PolicySet:
    """Load packs by name or path; ``None`` loads every pack in force or benchmark.

    Explicitly selected packs load whatever their status; ``include_proposed`` adds proposed
    packs to the default selection. Every file considered is validated, proposed ones
    included (an invalid file is never skipped silently); raises :class:`PolicyError` with
    every problem found.
    """
    available = available_packs(default_policy_dirs() if dirs is None else dirs)
    problems: list[Problem] = []
    paths = (
        list(available.values()) if selection is None else _resolve(selection, available, problems)
    )
    loaded = [_load_pack(path, problems) for path in paths]
    if selection is None:
        allowed = DEFAULT_STATUSES | ({"proposed"} if include_proposed else set())
        loaded = [item for item in loaded if item.status is None or item.status in allowed]
    _cross_check(loaded, problems)
    if problems:
        raise PolicyError(problems)
    packs = tuple(item.pack for item in loaded if item.pack is not None)
    return PolicySet(packs, _digest(packs))


def validate_files(paths: Sequence[Path]) -> list[Problem]:
    """Validate pack files and their ``*.tests.yaml`` fixtures; return every problem found."""
    problems: list[Problem] = []
    packs = [Path(p) for p in paths if not str(p).endswith(TESTS_SUFFIX)]
    loaded = [_load_pack(path, problems) for path in packs]
    _cross_check(loaded, problems)
    good = tuple(item.pack for item in loaded if item.pack is not None)
    policy = PolicySet(good, _digest(good))
    for path in paths:
        if str(path).endswith(TESTS_SUFFIX):
            problems.extend(check_fixture_file(Path(path), policy))
    return problems
