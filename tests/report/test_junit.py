"""JUnit XML: suites per pack, outcome and state mapping, counts, escaping and the golden file.

The golden file is ``golden/report.junit.xml``; regenerate it with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree as DefusedET

from auditor.model import Outcome, SkipRecord
from auditor.report.data import ReportData
from auditor.report.junit import render_junit, xml_text

from . import HOSTILE, assert_golden, sample_report
from .test_json_report import VOLATILE


@pytest.fixture
def data(tmp_path: Path) -> ReportData:
    return sample_report(tmp_path / "a.db")


def rendered(data: ReportData) -> str:
    out = io.StringIO()
    render_junit(data, out)
    return out.getvalue()


def parse(data: ReportData) -> Element:
    root: Element = DefusedET.fromstring(rendered(data).encode("utf-8"))
    return root


def cases(root: Element) -> dict[str, Element]:
    return {case.attrib["name"]: case for case in root.iter("testcase")}


def test_one_suite_per_pack_and_counts_add_up(data: ReportData) -> None:
    root = parse(data)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [suite.attrib["name"] for suite in suites] == ["uk-gdpr"]
    for element in (root, *suites):
        testcases = list(element.iter("testcase"))
        assert int(element.attrib["tests"]) == len(testcases)
        for tag, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(element.attrib[key]) == sum(1 for c in testcases if c.find(tag) is not None)
    assert (root.attrib["tests"], root.attrib["failures"]) == ("7", "1")
    assert (root.attrib["errors"], root.attrib["skipped"]) == ("1", "2")


def test_outcome_and_state_mapping(data: ReportData) -> None:
    by_name = cases(parse(data))
    image = "https://photos.example.org/img"
    baselined = by_name[f"R-CRIT {image}/1.jpg"]
    suppressed = by_name[f"R-HIGH {image}/1.jpg"]
    failed = by_name[f"R-HIGH {image}/2.jpg"]
    review = by_name[f"R-HIGH {image}/3.jpg"]
    insufficient = by_name[f"R-INFO {image}/1.jpg"]
    skipped = [case.find("skipped") for case in (baselined, suppressed)]
    assert [element.attrib["message"] for element in skipped if element is not None] == [
        "baselined",
        f"suppressed: legal hold {HOSTILE}",
    ]
    failure = failed.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "high"
    assert failure.attrib["message"] == data.findings[2].finding.message
    assert "Fingerprint: R-HIGH-2" in (failure.text or "")
    assert list(review) == [review.find("system-out")]
    assert "Outcome: review" in (review.findtext("system-out") or "")
    assert insufficient.find("error") is not None
    for case in (baselined, suppressed, failed, review, insufficient):
        assert case.attrib["classname"] == "uk-gdpr"
        assert (case.attrib["file"], case.attrib["line"]) == ("policies/uk-gdpr.yaml", "10")


def test_review_fails_when_the_gate_counts_it(data: ReportData) -> None:
    assert data.gate is not None
    strict = replace(data, gate=replace(data.gate, counted_outcomes=(Outcome.FAIL, Outcome.REVIEW)))
    review = cases(parse(strict))["R-HIGH https://photos.example.org/img/3.jpg"]
    failure = review.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "high"


def test_passes_and_not_applicable_are_test_cases(data: ReportData) -> None:
    by_name = cases(parse(data))
    assert list(by_name["R-HIGH (7 passed)"]) == []
    assert list(by_name["R-OK (9 passed)"]) == []
    stats = tuple(
        replace(stat, not_applicable=4) if stat.rule_id == "R-OK" else stat
        for stat in data.rule_stats
    )
    skipped = cases(parse(replace(data, rule_stats=stats)))["R-OK (4 not applicable)"]
    assert skipped.find("skipped") is not None


def test_targets_not_evaluated_are_errors(data: ReportData) -> None:
    skip = SkipRecord("https://down.example/", "target", "unreachable", "timed out", "x")
    root = parse(replace(data, skips=(*data.skips, skip)))
    coverage = root.findall("testsuite")[-1]
    assert coverage.attrib["name"] == "coverage"
    (case,) = coverage.iter("testcase")
    assert case.attrib["name"] == "target https://down.example/"
    error = case.find("error")
    assert error is not None
    assert error.attrib["message"] == "not evaluated: unreachable (timed out)"


def test_hostile_text_and_control_characters(data: ReportData) -> None:
    nasty = "a\x00b\x1bc\x0bd\tok\nnext ]]> <!-- & \ud800 \ufffe end"
    view = data.findings[2]
    finding = replace(view.finding, message=nasty, image_url=f"https://x.example/{HOSTILE}")
    text = rendered(replace(data, findings=(replace(view, finding=finding),)))
    assert "<script>" not in text
    assert "]]>" not in text
    root = DefusedET.fromstring(text.encode("utf-8"))
    case = next(root.iter("testcase"))
    assert case.attrib["name"] == f"R-HIGH https://x.example/{HOSTILE}"
    failure = case.find("failure")
    assert failure is not None
    expected = "a\ufffdb\ufffdc\ufffdd\tok\nnext ]]> <!-- & \ufffd \ufffd end"
    assert failure.attrib["message"] == expected
    assert f"Message: {expected}" in (failure.text or "")


def test_xml_text_keeps_what_xml_allows() -> None:
    assert (
        xml_text("tab\tline\ncr\r\u00e9\u2028\U0001f600") == "tab\tline\ncr\r\u00e9\u2028\U0001f600"
    )
    assert xml_text("\x01\x1f\ufffe") == "\ufffd\ufffd\ufffd"


def test_output_is_stable(tmp_path: Path) -> None:
    assert rendered(sample_report(tmp_path / "a.db")) == rendered(sample_report(tmp_path / "b.db"))


def normalised(data: ReportData) -> str:
    """Render ``data`` with the volatile suite timestamps replaced."""
    text = rendered(data)
    assert data.run is not None
    return text.replace(f'timestamp="{data.run.started_at}"', f'timestamp="{VOLATILE}"')


def test_golden(data: ReportData) -> None:
    """Compare with ``golden/report.junit.xml``; regenerate with ``UPDATE_GOLDEN=1``."""
    assert_golden("report.junit.xml", normalised(data))
