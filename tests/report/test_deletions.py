"""The deletion list: which images must go, under which rule, by when."""

from __future__ import annotations

import pytest

from auditor.model import Outcome, Severity, Subject, frozen_map
from auditor.report.deletions import ImageRef, deadline, deletions
from auditor.store import FindingExport

RULES = frozenset({"R-RETENTION", "R-OPTOUT", "R-RESERVED"})


def finding(
    rule: str,
    evidence: dict[str, object],
    *,
    url: str = "https://photos.example.org/a.jpg",
    outcome: Outcome = Outcome.FAIL,
    subject: Subject = Subject.IMAGE,
    state: str = "new",
) -> FindingExport:
    return FindingExport(
        rule_id=rule, pack="p", jurisdiction="UK", outcome=outcome, severity=Severity.HIGH,
        subject=subject, image_url=url, page_url="https://photos.example.org/",
        site="https://photos.example.org", message=f"{rule} failed", references=("Art. 5",),
        evidence=frozen_map(evidence), fingerprint=rule.lower().ljust(32, "0"), title="t",
        remediation=None, state=state,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("evidence", "collected", "expected"),
    [
        pytest.param({"crawler.retention_days": 30}, "2026-01-01T10:00:00+00:00", "2026-01-31",
                     id="retention"),
        pytest.param({"crawler.retention_days": 30, "crawler.template_retention_days": 7},
                     "2026-01-01T10:00:00+00:00", "2026-01-08", id="template-retention-first"),
        pytest.param({"image.optout_received": "2026-02-01", "crawler.erasure_sla_days": 10},
                     "2026-01-01T10:00:00+00:00", "2026-02-11", id="optout-sla"),
        pytest.param({"image.optout_received": "2026-02-01"}, None, "2026-03-03",
                     id="optout-default-month"),
        pytest.param({"signals.reserving": ["tdmrep.header"]}, "2026-01-01T10:00:00+00:00",
                     "immediately", id="never-allowed"),
        pytest.param({"crawler.retention_days": 30}, None, "immediately", id="no-collection-date"),
    ],
)  # fmt: skip
def test_deadline_comes_from_the_evidence(
    evidence: dict[str, object], collected: str | None, expected: str
) -> None:
    assert deadline(evidence, collected) == expected


def test_only_failed_image_findings_of_deletion_rules_are_listed_overdue_first() -> None:
    rows = deletions(
        [
            finding("R-RETENTION", {"crawler.retention_days": 30}, url="https://x/b.jpg"),
            finding("R-RESERVED", {}, url="https://x/c.jpg"),
            finding("R-OTHER", {}),  # not a deletion rule
            finding("R-OPTOUT", {}, outcome=Outcome.REVIEW),  # not a failure
            finding("R-OPTOUT", {}, subject=Subject.DECLARATION),
            finding("R-OPTOUT", {}, state="suppressed"),  # a reviewed exception
        ],
        RULES,
        {"https://x/b.jpg": ImageRef("b" * 64, "2026-01-01T00:00:00+00:00", "m.csv#3", "b.jpg")},
    )
    assert [(r.rule_id, r.deadline) for r in rows] == [
        ("R-RESERVED", "immediately"),
        ("R-RETENTION", "2026-01-31"),
    ]
    assert rows[1].sha256 == "b" * 64
    assert (rows[1].manifest_key, rows[1].local_path) == ("m.csv#3", "b.jpg")
    assert rows[1].to_json()["references"] == ["Art. 5"]
