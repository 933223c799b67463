"""The gate (``auditor.gate``): states, thresholds and the exit-code contract (DESIGN 4.2)."""

from __future__ import annotations

from datetime import date

import pytest

from auditor.gate import GateOptions, apply_gate
from auditor.model import Outcome, Severity, Subject, SuppressionInfo, frozen_map
from auditor.store import FindingExport
from auditor.suppressions import LoadedSuppressions, SuppressionMatcher


def finding(
    fingerprint: str,
    severity: Severity = Severity.HIGH,
    outcome: Outcome = Outcome.FAIL,
    rule: str = "UK-GDPR-A35-DPIA",
    url: str | None = "https://photos.example.org/a.jpg",
) -> FindingExport:
    return FindingExport(
        rule_id=rule, pack="uk-gdpr", jurisdiction="UK", outcome=outcome, severity=severity,
        subject=Subject.IMAGE, image_url=url, page_url=None, site=None, message="m",
        references=("UK GDPR Art. 35",), evidence=frozen_map({}), fingerprint=fingerprint,
        title="t", remediation="r",
    )  # fmt: skip


def matcher(*entries: SuppressionInfo, today: date = date(2026, 1, 1)) -> SuppressionMatcher:
    return SuppressionMatcher(
        LoadedSuppressions(".auditor-ignore.yaml", entries, tuple(range(2, 2 + len(entries)))),
        today,
    )


@pytest.mark.parametrize(
    ("severity", "fail_on", "code"),
    [
        pytest.param(Severity.CRITICAL, Severity.HIGH, 1, id="critical-over-high"),
        pytest.param(Severity.HIGH, Severity.HIGH, 1, id="at-threshold"),
        pytest.param(Severity.MEDIUM, Severity.HIGH, 0, id="below-threshold"),
        pytest.param(Severity.LOW, Severity.LOW, 1, id="low-threshold"),
    ],
)
def test_threshold_is_this_severity_or_worse(
    severity: Severity, fail_on: Severity, code: int
) -> None:
    result = apply_gate([finding("a" * 32, severity)], GateOptions(fail_on=fail_on))
    assert result.summary.exit_code == code


def test_only_fail_outcomes_count_unless_asked() -> None:
    review = finding("a" * 32, outcome=Outcome.REVIEW)
    missing = finding("b" * 32, outcome=Outcome.INSUFFICIENT_DATA)
    assert apply_gate([review, missing], GateOptions()).summary.exit_code == 0
    assert apply_gate([review], GateOptions(fail_on_review=True)).summary.exit_code == 1
    assert apply_gate([missing], GateOptions(fail_on_insufficient=True)).summary.exit_code == 1


def test_baselined_findings_do_not_block_and_fixed_ones_are_reported() -> None:
    result = apply_gate(
        [finding("a" * 32), finding("b" * 32, Severity.MEDIUM)],
        GateOptions(),
        baseline=frozenset({"a" * 32, "c" * 32}),
    )
    assert [v.state for v in result.views] == ["baselined", "new"]
    assert result.summary.exit_code == 0
    assert result.summary.fixed == ("c" * 32,)


def test_a_new_finding_still_fails_next_to_a_baseline() -> None:
    result = apply_gate(
        [finding("a" * 32), finding("b" * 32)], GateOptions(), baseline=frozenset({"a" * 32})
    )
    assert result.summary.blocking == 1
    assert result.summary.exit_code == 1


def test_suppressed_findings_are_kept_marked_with_their_entry() -> None:
    entry = SuppressionInfo("legal hold", "a@example.org", "2025-01-01", "2026-06-01", "a" * 32)
    result = apply_gate([finding("a" * 32)], GateOptions(), suppressions=matcher(entry))
    (view,) = result.views
    assert view.state == "suppressed"
    assert view.suppression == entry
    assert result.summary.exit_code == 0
    assert [s.status for s in result.register] == ["active"]
    assert result.states == {"a" * 32: ("suppressed", entry)}


def test_expired_suppression_stops_suppressing_and_warns() -> None:
    entry = SuppressionInfo("old", "a@example.org", "2024-01-01", "2025-06-01", "a" * 32)
    result = apply_gate([finding("a" * 32)], GateOptions(), suppressions=matcher(entry))
    assert result.views[0].state == "new"
    assert result.summary.exit_code == 1
    assert result.register[0].status == "expired"
    assert any("expired on 2025-06-01" in w for w in result.summary.warnings)


def test_rule_and_scope_entries_match_by_url_glob() -> None:
    entry = SuppressionInfo(
        "archive", "a@example.org", "2025-01-01", "2026-06-01",
        rule="UK-GDPR-A35-DPIA", scope="https://photos.example.org/archive/*",
    )  # fmt: skip
    inside = finding("a" * 32, url="https://photos.example.org/archive/1.jpg")
    outside = finding("b" * 32, url="https://photos.example.org/new/1.jpg")
    result = apply_gate([inside, outside], GateOptions(), suppressions=matcher(entry))
    assert [v.state for v in result.views] == ["suppressed", "new"]


def test_stale_and_open_ended_entries_warn() -> None:
    stale = SuppressionInfo("gone", "a@example.org", "2025-01-01", "2026-06-01", "f" * 32)
    open_ended = SuppressionInfo("forever", "a@example.org", "2025-01-01", None, "a" * 32)
    result = apply_gate([finding("a" * 32)], GateOptions(), suppressions=matcher(stale, open_ended))
    assert [s.status for s in result.register] == ["stale", "active"]
    warnings = "\n".join(result.summary.warnings)
    assert ".auditor-ignore.yaml:2: suppression " + "f" * 32 + " matches nothing" in warnings
    assert "has no expiry date" in warnings


def test_incomplete_runs_exit_3_and_exit_zero_masks_1_and_3() -> None:
    assert apply_gate([], GateOptions(), incomplete=True).summary.exit_code == 3
    masked = apply_gate([finding("a" * 32)], GateOptions(exit_zero=True), incomplete=True)
    assert masked.summary.exit_code == 0
    assert masked.summary.exit_zero
    assert masked.summary.blocking == 1, "the summary still says what would have failed"
