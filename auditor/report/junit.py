"""JUnit XML for CI test-report views (``--format junit``, conventions.md 3).

There is no single JUnit standard, so only the subset every CI reads is written::

    <testsuites name tests failures errors skipped time>
      <testsuite name tests failures errors skipped time timestamp>   one per policy pack
        <testcase classname name time file line>                      one per finding
          <failure message type>detail</failure> | <error message>detail</error>
          | <skipped message/> | <system-out>detail</system-out>

Test cases. Each finding is a test case with ``classname`` = pack and ``name`` = rule id and
subject URL; ``file`` and ``line`` are its repository anchor (as in SARIF). Passes are test cases
too, so the pass rate is visible: one per rule that passed, named ``<rule> (N passed)``, and one
per rule that did not apply, ``<rule> (N not applicable)``, skipped.

==========================  ===============================================================
finding                     test case
==========================  ===============================================================
suppressed                  ``<skipped message="suppressed: <reason>">``
baselined                   ``<skipped message="baselined">``
new ``fail``                ``<failure type="<severity>">``
new ``insufficient_data``   ``<error>`` (the rule could not be evaluated)
new ``review``              passes, the message in ``<system-out>``; a ``<failure>`` when the
                            gate counts reviews (``--fail-on-review``)
==========================  ===============================================================

Targets that were not evaluated at all (skips of kind ``target``) form an extra suite,
``coverage``, one ``<error>`` test case each: every output lists them (conventions.md 1).

Escaping. The document is built with :mod:`xml.etree.ElementTree`, which escapes markup in text
and attributes. XML 1.0 cannot carry most control characters even as references, and crawled
text may contain them, so they are replaced by U+FFFD before they reach the tree.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from auditor.model import Outcome
from auditor.report.data import FindingView, ReportData

__all__ = ["render_junit", "xml_text"]

# Characters XML 1.0 forbids (section 2.2): C0 controls except tab, LF and CR; surrogates;
# U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """Return ``value`` as text XML 1.0 can carry: forbidden characters become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(value))


@dataclass
class _Suite:
    """The test cases of one suite, counted as they are added."""

    name: str
    cases: list[ET.Element] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"failures": 0, "errors": 0, "skipped": 0}
    )

    def add(self, name: str, *, file: str | None = None, line: int | None = None) -> ET.Element:
        """Return a new test case of this suite."""
        case = ET.Element("testcase", {"classname": xml_text(self.name), "name": xml_text(name)})
        case.set("time", "0")
        if file is not None:
            case.set("file", xml_text(file))
            case.set("line", str(line or 1))
        self.cases.append(case)
        return case

    def outcome(self, case: ET.Element, tag: str, message: str, **attrs: str) -> ET.Element:
        """Return the ``failure``, ``error`` or ``skipped`` child of ``case``, counted."""
        self.counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]] += 1
        return ET.SubElement(case, tag, {"message": xml_text(message), **attrs})


def _detail(view: FindingView) -> str:
    finding = view.finding
    lines = [
        f"{finding.rule_id}: {finding.title}",
        f"Outcome: {finding.outcome.value}; severity: {finding.severity.value}; "
        f"state: {view.state}",
        f"Subject ({finding.subject.value}): {finding.subject_url or '-'}",
        f"Message: {finding.message}",
        f"References: {'; '.join(finding.references) or '-'}",
        f"Remediation: {finding.remediation or '-'}",
        f"Evidence: {json.dumps(dict(finding.evidence), sort_keys=True, ensure_ascii=False)}",
        f"Fingerprint: {finding.fingerprint}",
    ]
    return xml_text("\n".join(lines))


def _add_finding(suite: _Suite, view: FindingView, counted: tuple[Outcome, ...]) -> None:
    finding = view.finding
    anchor = view.anchor
    case = suite.add(
        f"{finding.rule_id} {finding.subject_url or finding.subject.value}",
        file=anchor.path if anchor else None,
        line=anchor.line if anchor else None,
    )
    if view.state == "suppressed":
        reason = view.suppression.reason if view.suppression else "no reason recorded"
        suite.outcome(case, "skipped", f"suppressed: {reason}")
    elif view.state == "baselined":
        suite.outcome(case, "skipped", "baselined")
    elif finding.outcome is Outcome.INSUFFICIENT_DATA:
        suite.outcome(case, "error", finding.message).text = _detail(view)
    elif finding.outcome is Outcome.REVIEW and finding.outcome not in counted:
        ET.SubElement(case, "system-out").text = _detail(view)
    else:
        failure = suite.outcome(case, "failure", finding.message, type=finding.severity.value)
        failure.text = _detail(view)


def _suites(data: ReportData) -> list[_Suite]:
    counted = data.gate.counted_outcomes if data.gate is not None else (Outcome.FAIL,)
    suites: dict[str, _Suite] = {}

    def suite(name: str) -> _Suite:
        return suites.setdefault(name, _Suite(name))

    for view in data.findings:
        _add_finding(suite(view.finding.pack), view, counted)
    for stat in sorted(data.rule_stats, key=lambda s: (s.pack, s.rule_id)):
        if stat.passes:
            suite(stat.pack).add(f"{stat.rule_id} ({stat.passes} passed)")
        if stat.not_applicable:
            pack = suite(stat.pack)
            case = pack.add(f"{stat.rule_id} ({stat.not_applicable} not applicable)")
            pack.outcome(case, "skipped", "not applicable")
    ordered = [suites[name] for name in sorted(suites)]
    targets = [skip for skip in data.skips if skip.kind == "target"]
    if targets:
        coverage = _Suite("coverage")
        for skip in targets:
            case = coverage.add(f"target {skip.url}")
            detail = f"not evaluated: {skip.reason}" + (f" ({skip.detail})" if skip.detail else "")
            coverage.outcome(case, "error", detail)
        ordered.append(coverage)
    return ordered


def _totals(suites: Iterable[_Suite]) -> dict[str, str]:
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        totals["tests"] += len(suite.cases)
        for key, value in suite.counts.items():
            totals[key] += value
    return {key: str(value) for key, value in totals.items()}


def render_junit(data: ReportData, out: TextIO) -> None:
    """Write ``data`` as a JUnit XML document (see the module docstring)."""
    suites = _suites(data)
    timestamp = data.run.started_at if data.run is not None else data.generated_at
    root = ET.Element("testsuites", {"name": "consent-auditor", **_totals(suites), "time": "0"})
    for suite in suites:
        element = ET.SubElement(
            root,
            "testsuite",
            {"name": xml_text(suite.name), **_totals([suite]), "time": "0"},
        )
        element.set("timestamp", xml_text(timestamp))
        element.extend(suite.cases)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
