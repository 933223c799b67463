"""Rule fixtures: ``<pack>.tests.yaml`` files of facts and the outcome each must produce.

```yaml
pack: uk-gdpr
cases:
  - rule: UK-GDPR-A35-DPIA
    name: no DPIA declared
    facts: {crawler.markets: [UK], crawler.dpia: null}
    expect: fail            # fail | review | insufficient_data | pass | not_applicable
    severity: high          # optional: the severity after escalation
```

Every rule of a pack needs at least one case that triggers it (``fail`` or ``review``) and one
that does not (``pass`` or ``not_applicable``); a missing one is reported as a failed result.
Fixture files are validated like packs (unknown keys, unknown facts, unknown rule ids), and
YAML anchors and ``<<`` merges keep shared facts short.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor.errors import PolicyError, Problem
from auditor.model import Outcome, Severity
from auditor.policy.engine import Pack, PolicySet, Rule, evaluate_rule
from auditor.policy.facts import lookup_fact
from auditor.policy.schema import FixtureFileSpec
from auditor.yamlsrc import load_yaml, problems_from_validation

__all__ = ["TESTS_SUFFIX", "PackTestResult", "check_fixture_file", "run_pack_tests"]

TESTS_SUFFIX = ".tests.yaml"
_TRIGGERS = frozenset({Outcome.FAIL, Outcome.REVIEW})
_QUIET = frozenset({Outcome.PASS, Outcome.NOT_APPLICABLE})


@dataclass(frozen=True)
class PackTestResult:
    """The result of one fixture case (or of a rule's fixture coverage check)."""

    pack: str
    rule_id: str
    name: str
    expected: str
    actual: str
    passed: bool
    file: str
    line: int | None
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        status = "ok" if self.passed else "FAILED"
        what = f"{self.rule_id} {self.name!r}" if self.rule_id else self.name
        return f"{where}: {status}: {what}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class _Case:
    rule: Rule
    name: str
    facts: Mapping[str, Any]
    expect: Outcome
    severity: Severity | None
    line: int | None


def _read(path: Path, policy: PolicySet, problems: list[Problem]) -> list[_Case]:
    try:
        doc = load_yaml(path, error=PolicyError)
    except PolicyError as exc:
        problems.extend(exc.problems)
        return []
    try:
        spec = FixtureFileSpec.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, doc, model=FixtureFileSpec))
        return []
    pack = next((p for p in policy.packs if p.name == spec.pack), None)
    if pack is None:
        message = f"pack '{spec.pack}' is not loaded; validate the fixtures with their pack"
        problems.append(Problem(str(path), doc.line_of(("pack",)), message))
        return []
    rules = {rule.id: rule for rule in pack.rules}
    cases: list[_Case] = []
    for index, case in enumerate(spec.cases):
        loc = ("cases", index)
        rule = rules.get(case.rule)
        if rule is None:
            match = difflib.get_close_matches(case.rule, list(rules), n=1)
            hint = f" (did you mean '{match[0]}'?)" if match else ""
            message = f"rule '{case.rule}' is not in pack '{pack.name}'{hint}"
            problems.append(Problem(str(path), doc.line_of((*loc, "rule")), message))
            continue
        bad = False
        for name in case.facts:
            _, error = lookup_fact(name, rule.subject)
            if error:
                problems.append(Problem(str(path), doc.line_of((*loc, "facts", name)), error))
                bad = True
        if not bad:
            line = doc.line_of(loc)
            cases.append(_Case(rule, case.name, case.facts, case.expect, case.severity, line))
    return cases


def check_fixture_file(path: Path, policy: PolicySet) -> list[Problem]:
    """Validate one fixtures file against the loaded packs; return its problems."""
    problems: list[Problem] = []
    _read(path, policy, problems)
    return problems


def _fixtures_path(pack: Pack, dirs: Sequence[Path]) -> Path | None:
    name = pack.name + TESTS_SUFFIX
    for candidate in (Path(pack.file).with_name(name), *(d / name for d in dirs)):
        if candidate.is_file():
            return candidate
    return None


def _run_case(pack: Pack, case: _Case, file: str) -> PackTestResult:
    result = evaluate_rule(case.rule, case.facts)
    passed = result.outcome is case.expect
    expected, actual = case.expect.value, result.outcome.value
    if case.severity is not None:
        passed = passed and result.severity is case.severity
        expected += f" ({case.severity})"
        actual += f" ({result.severity})"
    detail = "" if passed else f"expected {expected}, got {actual}"
    return PackTestResult(
        pack.name, case.rule.id, case.name, expected, actual, passed, file, case.line, detail
    )


def _coverage(pack: Pack, cases: Sequence[_Case]) -> list[PackTestResult]:
    results: list[PackTestResult] = []
    for rule in pack.rules:
        expected = {case.expect for case in cases if case.rule is rule}
        if expected & _TRIGGERS and expected & _QUIET:
            continue
        detail = (
            "needs a case expecting fail or review and one expecting pass or not_applicable; "
            f"has: {', '.join(sorted(expected)) or 'none'}"
        )
        results.append(
            PackTestResult(
                pack.name,
                rule.id,
                "coverage",
                "covered",
                "uncovered",
                False,
                rule.file,
                rule.line,
                detail,
            )
        )
    return results


def run_pack_tests(policy: PolicySet, *, dirs: Sequence[Path] = ()) -> list[PackTestResult]:
    """Run the fixtures of every loaded pack, found next to the pack file or in ``dirs``.

    Malformed fixture files raise :class:`PolicyError` with every problem; a pack without a
    fixtures file is a failed result.
    """
    problems: list[Problem] = []
    results: list[PackTestResult] = []
    for pack in policy.packs:
        path = _fixtures_path(pack, dirs)
        if path is None:
            detail = f"no {pack.name}{TESTS_SUFFIX} next to {pack.file}"
            results.append(
                PackTestResult(
                    pack.name,
                    "",
                    "fixtures",
                    "fixtures file",
                    "none",
                    False,
                    pack.file,
                    None,
                    detail,
                )
            )
            continue
        cases = _read(path, PolicySet((pack,), policy.digest), problems)
        results.extend(_run_case(pack, case, str(path)) for case in cases)
        results.extend(_coverage(pack, cases))
    if problems:
        raise PolicyError(problems)
    return results
