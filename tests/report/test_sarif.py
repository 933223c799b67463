"""SARIF 2.1.0: GitHub's requirements, severity mapping, states, escaping and the golden file.

Schema validation. No PyPI package we could find ships the official OASIS schema file
(``sarif-schema-2.1.0.json``): ``sarif-om``, ``sarif-tools``, ``jschema-to-python``, ``pysarif``
and ``sarif-pydantic`` were checked and contain none. The output is therefore validated with
``jsonschema`` against :data:`GITHUB_SUBSET`, a minimal schema written here that encodes the
requirements GitHub code scanning enforces (conventions.md 2). **It is not the official SARIF
schema.**

The golden file is ``golden/report.sarif``; regenerate it with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.model import Outcome, Severity
from auditor.report.builder import from_findings
from auditor.report.data import Anchor, ReportData
from auditor.report.sarif import render_sarif, result_level

from . import HOSTILE, NOW, assert_golden, sample_report
from .test_json_report import VOLATILE

_TEXT = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}

GITHUB_SUBSET: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "SARIF 2.1.0, the subset GitHub code scanning requires (NOT the official schema)",
    "type": "object",
    "required": ["$schema", "version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"$ref": "#/$defs/run"}},
    },
    "$defs": {
        "run": {
            "type": "object",
            "required": ["tool", "results", "automationDetails"],
            "properties": {
                "tool": {
                    "type": "object",
                    "required": ["driver"],
                    "properties": {"driver": {"$ref": "#/$defs/driver"}},
                },
                "automationDetails": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string", "pattern": "^[^/].*/$"}},
                },
                "invocations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["executionSuccessful"],
                        "properties": {
                            "executionSuccessful": {"type": "boolean"},
                            "startTimeUtc": {"type": "string", "pattern": "Z$"},
                            "endTimeUtc": {"type": "string", "pattern": "Z$"},
                            "toolExecutionNotifications": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["message"],
                                    "properties": {"message": _TEXT},
                                },
                            },
                        },
                    },
                },
                "results": {
                    "type": "array",
                    "maxItems": 25000,
                    "items": {"$ref": "#/$defs/result"},
                },
            },
        },
        "driver": {
            "type": "object",
            "required": ["name", "version", "semanticVersion", "informationUri", "rules"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "informationUri": {"type": "string", "pattern": "^https://"},
                "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            },
        },
        "rule": {
            "type": "object",
            "required": [
                "id",
                "name",
                "shortDescription",
                "fullDescription",
                "help",
                "helpUri",
                "defaultConfiguration",
                "properties",
            ],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "name": {"type": "string", "pattern": "^[A-Za-z0-9]+$"},
                "shortDescription": _TEXT,
                "fullDescription": _TEXT,
                "help": {
                    "type": "object",
                    "required": ["text", "markdown"],
                    "properties": {"text": {"type": "string"}, "markdown": {"type": "string"}},
                },
                "helpUri": {"type": "string", "pattern": "^https://"},
                "defaultConfiguration": {
                    "type": "object",
                    "required": ["level"],
                    "properties": {"level": {"$ref": "#/$defs/level"}},
                },
                "properties": {
                    "type": "object",
                    "required": ["tags", "precision"],
                    "properties": {
                        "tags": {
                            "type": "array",
                            "items": {"type": "string"},
                            "contains": {"const": "security"},
                        },
                        "precision": {"enum": ["very-high", "high", "medium", "low"]},
                        "security-severity": {
                            "type": "string",
                            "pattern": r"^(10(\.0)?|[0-9](\.[0-9])?)$",
                        },
                    },
                },
            },
        },
        "level": {"enum": ["none", "note", "warning", "error"]},
        "result": {
            "type": "object",
            "required": [
                "ruleId",
                "ruleIndex",
                "level",
                "message",
                "locations",
                "partialFingerprints",
            ],
            "properties": {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": 0},
                "level": {"$ref": "#/$defs/level"},
                "message": _TEXT,
                "locations": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/$defs/location"},
                },
                "partialFingerprints": {
                    "type": "object",
                    "required": ["primaryLocationLineHash"],
                    "additionalProperties": {"type": "string"},
                },
                "baselineState": {"enum": ["new", "unchanged", "updated", "absent"]},
                "suppressions": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["kind"],
                        "properties": {
                            "kind": {"enum": ["inSource", "external"]},
                            "status": {"enum": ["accepted", "underReview", "rejected"]},
                            "justification": {"type": "string"},
                        },
                    },
                },
            },
        },
        "location": {
            "type": "object",
            "required": ["physicalLocation"],
            "properties": {
                "physicalLocation": {
                    "type": "object",
                    "required": ["artifactLocation", "region"],
                    "properties": {
                        "artifactLocation": {
                            "type": "object",
                            "required": ["uri"],
                            "properties": {
                                # relative, forward slashes: no scheme, no leading slash
                                "uri": {
                                    "type": "string",
                                    "pattern": r"^(?![A-Za-z][A-Za-z0-9+.-]*:)[^/\\][^\\]*$",
                                }
                            },
                        },
                        "region": {
                            "type": "object",
                            "required": ["startLine"],
                            "properties": {"startLine": {"type": "integer", "minimum": 1}},
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture
def data(tmp_path: Path) -> ReportData:
    return sample_report(tmp_path / "a.db")


def rendered(data: ReportData, **options: int) -> str:
    out = io.StringIO()
    render_sarif(data, out, **options)
    return out.getvalue()


def sarif(data: ReportData, **options: int) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(rendered(data, **options))
    return log


def validate(log: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(GITHUB_SUBSET)
    jsonschema.Draft202012Validator(GITHUB_SUBSET).validate(log)


def test_valid_against_the_github_subset(data: ReportData) -> None:
    log = sarif(data)
    validate(log)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "consent-auditor"
    assert driver["informationUri"] == "https://github.com/consent-auditor/consent-auditor"


def test_the_subset_rejects_what_github_rejects(data: ReportData) -> None:
    log = sarif(data)
    result = log["runs"][0]["results"][0]
    location = result["locations"][0]["physicalLocation"]
    for uri in ("https://photos.example.org/img/1.jpg", "/abs/audit.yaml", "C:\\x\\audit.yaml"):
        location["artifactLocation"]["uri"] = uri
        with pytest.raises(jsonschema.ValidationError):
            validate(log)
    location["artifactLocation"]["uri"] = "audit.yaml"
    del result["locations"]
    with pytest.raises(jsonschema.ValidationError):
        validate(log)


def test_every_result_has_a_repository_location(data: ReportData) -> None:
    url_anchor = replace(data.findings[0], anchor=Anchor("https://evil.example/x", 3))
    no_anchor = replace(data.findings[1], anchor=None)
    windows = replace(data.findings[2], anchor=Anchor("configs\\audit.yaml", 0))
    rules = {
        rule_id: replace(rule, anchor=None) if rule_id == "R-HIGH" else rule
        for rule_id, rule in data.rules.items()
    }
    odd = replace(data, findings=(url_anchor, no_anchor, windows, *data.findings[3:]), rules=rules)
    log = sarif(odd)
    validate(log)
    where = [
        (loc["artifactLocation"]["uri"], loc["region"]["startLine"])
        for loc in (r["locations"][0]["physicalLocation"] for r in log["runs"][0]["results"])
    ]
    assert where[0] == ("policies/uk-gdpr.yaml", 10)  # the rule's line in its pack
    assert where[1] == ("audit.yaml", 1)  # neither finding nor rule anchored
    assert where[2] == ("configs/audit.yaml", 1)
    for uri, _ in where:
        assert "://" not in uri
    for result in log["runs"][0]["results"]:
        assert result["properties"]["image_url"].startswith("https://")  # the URL lives here


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "note", "2.0"),
        (Severity.INFO, "note", None),
    ],
)
def test_severity_mapping(data: ReportData, severity: Severity, level: str, score: str) -> None:
    view = data.findings[2]
    finding = replace(view.finding, severity=severity)
    rule = replace(data.rules["R-HIGH"], severity=severity)
    log = sarif(replace(data, findings=(replace(view, finding=finding),), rules={"R-HIGH": rule}))
    descriptor = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert log["runs"][0]["results"][0]["level"] == level
    assert descriptor["defaultConfiguration"]["level"] == level
    assert descriptor["properties"].get("security-severity") == score


@pytest.mark.parametrize(
    ("outcome", "severity", "counted", "level"),
    [
        (Outcome.REVIEW, Severity.CRITICAL, (Outcome.FAIL,), "warning"),
        (Outcome.REVIEW, Severity.LOW, (Outcome.FAIL,), "note"),
        (Outcome.REVIEW, Severity.CRITICAL, (Outcome.FAIL, Outcome.REVIEW), "error"),
        (Outcome.INSUFFICIENT_DATA, Severity.CRITICAL, (Outcome.FAIL,), "note"),
        (
            Outcome.INSUFFICIENT_DATA,
            Severity.HIGH,
            (Outcome.FAIL, Outcome.INSUFFICIENT_DATA),
            "error",
        ),
        (Outcome.FAIL, Severity.MEDIUM, (Outcome.FAIL,), "warning"),
    ],
)
def test_outcome_mapping(
    outcome: Outcome, severity: Severity, counted: tuple[Outcome, ...], level: str
) -> None:
    assert result_level(outcome, severity, counted) == level


def test_levels_of_the_sample_follow_the_gate(data: ReportData) -> None:
    levels = [r["level"] for r in sarif(data)["runs"][0]["results"]]
    assert levels == ["error", "error", "error", "warning", "note"]
    assert data.gate is not None
    strict = replace(data.gate, counted_outcomes=(Outcome.FAIL, Outcome.REVIEW))
    levels = [r["level"] for r in sarif(replace(data, gate=strict))["runs"][0]["results"]]
    assert levels == ["error", "error", "error", "error", "note"]


def test_states_suppressions_and_fingerprints(data: ReportData) -> None:
    results = sarif(data)["runs"][0]["results"]
    baselined, suppressed, new = results[0], results[1], results[2]
    assert baselined["baselineState"] == "unchanged"
    assert "suppressions" not in baselined
    assert new["baselineState"] == "new"
    assert "suppressions" not in new
    (entry,) = suppressed["suppressions"]
    assert entry["kind"] == "external"
    assert entry["status"] == "accepted"
    assert f"legal hold {HOSTILE}" in entry["justification"]
    assert "a.compliance@example.org" in entry["justification"]
    assert "2026-05-01" in entry["justification"]
    assert [r["properties"]["state"] for r in results] == [v.state for v in data.findings]
    assert [r["partialFingerprints"]["primaryLocationLineHash"] for r in results] == [
        v.finding.fingerprint for v in data.findings
    ]


def test_rules_and_rule_index(data: ReportData) -> None:
    run = sarif(data)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["R-CRIT", "R-HIGH", "R-INFO"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    rule = rules[1]
    assert rule["name"] == "RuleRHIGH"
    assert rule["shortDescription"]["text"] == "Rule R-HIGH"
    assert "UK GDPR Art. 6" in rule["help"]["text"]
    assert "Remediation: -remove it" in rule["help"]["text"]
    assert "\\-remove it" in rule["help"]["markdown"]  # Markdown-escaped
    assert rule["helpUri"].endswith("rule-catalogue.md#:~:text=R%2DHIGH")
    assert set(rule["properties"]["tags"]) >= {"security", "UK", "uk-gdpr", "ico-clearview-1"}
    assert rule["properties"]["precision"] == "medium"


def test_a_rule_no_pack_defines_is_described_from_its_finding(data: ReportData) -> None:
    log = sarif(replace(data, rules={}))
    validate(log)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["shortDescription"]["text"] for rule in rules] == [
        "Rule R-CRIT",
        "Rule R-HIGH",
        "Rule R-INFO",
    ]


def test_hostile_text_cannot_break_out(data: ReportData) -> None:
    text = rendered(data)
    log = json.loads(text)
    result = log["runs"][0]["results"][0]
    assert result["properties"]["evidence"]["title"] == HOSTILE
    # SARIF embedded links ([text](target)) are escaped in messages.
    assert "\\[x\\](javascript:1)" in result["message"]["text"]
    assert "[x](javascript" not in result["message"]["text"].replace("\\[x\\]", "")
    assert result["properties"]["signals"][0]["raw_value"] == "\tnoai\r\n=cmd|' /C calc'!A0"
    assert "\r" not in text
    assert "\t" not in text


def test_message_names_the_crawled_url(data: ReportData) -> None:
    result = sarif(data)["runs"][0]["results"][2]
    assert result["message"]["text"].endswith("(subject: https://photos.example.org/img/2.jpg)")


def test_results_cap_keeps_the_most_severe(data: ReportData) -> None:
    run = sarif(data, max_results=2)["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["R-CRIT", "R-HIGH"]
    assert run["properties"]["results_dropped"] == 3
    assert run["properties"]["results_total"] == 5
    assert "auditor report --format json" in run["properties"]["results_dropped_note"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["R-CRIT", "R-HIGH"]


def test_automation_id_names_the_crawler(data: ReportData) -> None:
    assert sarif(data)["runs"][0]["automationDetails"]["id"] == "auditor/crawl/"
    assert data.run is not None
    named = replace(data, run=replace(data.run, config={"crawler": {"name": "Acme Images 2"}}))
    assert sarif(named)["runs"][0]["automationDetails"]["id"] == "auditor/acme-images-2/"
    declaration = from_findings(data.findings, rules=data.rules, now=NOW)
    log = sarif(declaration)
    validate(log)
    assert log["runs"][0]["automationDetails"]["id"] == "auditor/declaration/"
    assert log["runs"][0]["invocations"][0] == {"executionSuccessful": True}


def test_invocation_reports_gate_warnings_and_incomplete_runs(data: ReportData) -> None:
    invocation = sarif(data)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert invocation["startTimeUtc"] == "2025-11-22T10:00:00Z"
    notes = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert notes == ["suppression for rule R-OK expired on 2024-06-01"]
    assert data.gate is not None
    incomplete = replace(data, gate=replace(data.gate, exit_code=3))
    assert sarif(incomplete)["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert data.run is not None
    interrupted = replace(data, gate=None, run=replace(data.run, status="interrupted"))
    invocation = sarif(interrupted)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "interrupted" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_output_is_stable(tmp_path: Path) -> None:
    assert rendered(sample_report(tmp_path / "a.db")) == rendered(sample_report(tmp_path / "b.db"))


def normalised(data: ReportData) -> str:
    """Render ``data`` with the volatile fields (tool version, times) replaced."""
    log = sarif(data)
    run = log["runs"][0]
    run["tool"]["driver"]["version"] = VOLATILE
    run["tool"]["driver"]["semanticVersion"] = VOLATILE
    for key in ("startTimeUtc", "endTimeUtc"):
        run["invocations"][0][key] = VOLATILE
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_golden(data: ReportData) -> None:
    """Compare with ``golden/report.sarif``; regenerate with ``UPDATE_GOLDEN=1``."""
    assert_golden("report.sarif", normalised(data))


def test_gate_summary_in_run_properties(data: ReportData) -> None:
    properties = sarif(data)["runs"][0]["properties"]
    assert properties["gate"] == {
        "fail_on": "high",
        "blocking": 1,
        "exit_code": 1,
        "exit_zero": False,
    }
    assert sarif(replace(data, gate=None))["runs"][0]["properties"].get("gate") is None
