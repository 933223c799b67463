"""Tests of auditor.store; builders of pipeline records shared by the test modules here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.extract import ExifFacts, ImageFacts
from auditor.extract.embedded import (
    C2paAssertion,
    C2paEntry,
    C2paFacts,
    DataMiningValue,
    XmpFacts,
)
from auditor.model import (
    Finding,
    ImageContext,
    ImageRecord,
    OriginFileRecord,
    Outcome,
    PageRecord,
    RunCounters,
    Scope,
    Severity,
    SignalRecord,
    SkipRecord,
    Subject,
    Verdict,
    frozen_map,
)
from auditor.store import Store, open_store

SITE = "https://photos.example.org"
CDN = "https://cdn.example.net"
AT = "2025-11-22T10:00:00+00:00"


@dataclass(frozen=True)
class Rule:
    """Title and severity of a rule, as add_rule_stats wants them."""

    title: str
    severity: Severity


def xmp_facts() -> XmpFacts:
    """XMP facts with every kind of field set: nested values, tuples, personal data as found."""
    return XmpFacts(
        locations=("jpeg_app1", "jpeg_extended"),
        data_mining=(
            DataMiningValue("http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED", "resource"),
            DataMiningValue("DMI-PROHIBITED-AIMLTRAINING", "text"),
        ),
        other_constraints="No AI training",
        rights_marked=True,
        usage_terms="All rights reserved \u00e9",
        web_statement="https://photos.example.org/licence",
        rights_owners=("Jo Photographer",),
        dc_rights="(c) Jo",
        dc_creators=("Jo Photographer", "Sam Editor"),
        cc_license="https://creativecommons.org/licenses/by-nc/4.0/",
        plus_licensors=("https://licensor.example/",),
        tdm_reservation="1",
        error="xmp_parse_error",
    )


def c2pa_facts() -> C2paFacts:
    """A C2PA manifest store with an active and an inherited training-and-mining assertion."""
    return C2paFacts(
        present=True,
        validation_state="Invalid",
        validation_errors=("claimSignature.mismatch",),
        active_manifest="urn:uuid:1",
        claim_generator="Camera/1.0",
        training_mining=(
            C2paAssertion(
                label="c2pa.training-mining",
                manifest="urn:uuid:1",
                active=True,
                entries=(
                    C2paEntry("c2pa.ai_training", "notAllowed"),
                    C2paEntry("c2pa.data_mining", "constrained", "ask first"),
                ),
            ),
            C2paAssertion(
                label="cawg.training-mining",
                manifest="urn:uuid:0",
                active=False,
                entries=(C2paEntry("cawg.ai_generative_training", "allowed"),),
            ),
        ),
        remote_manifest=None,
    )


def facts(
    sha: str = "a" * 64,
    *,
    gps: bool | None = False,
    error: str | None = None,
    xmp: XmpFacts | None = None,
    c2pa: C2paFacts | None = None,
) -> ImageFacts:
    """Facts of a decoded JPEG; ``gps=None`` means EXIF was not examined."""
    exif = (
        None
        if gps is None
        else ExifFacts(
            gps_present=gps,
            gps_lat=51.51 if gps else None,
            gps_lon=-0.13 if gps else None,
            datetime_original="2024:05:01 12:00:00",
            camera_serial="SN123" if gps else None,
            artist="Jo Photographer",
            copyright="(c) Jo",
            make="Canon",
            model="EOS",
        )
    )
    return ImageFacts(
        sha256=sha,
        size_bytes=2048,
        format="JPEG",
        mime="image/jpeg",
        width=640,
        height=480,
        frames=1,
        phash="c3c3c3c3c3c3c3c3",
        exif=exif,
        error=error,
        error_detail="bad" if error else None,
        xmp=xmp,
        c2pa=c2pa,
    )


def signal(mechanism: str, source_url: str, **purposes: Verdict) -> SignalRecord:
    """A signal record; purposes given as keyword arguments with _ for -."""
    return SignalRecord(
        mechanism=mechanism,
        scope=Scope.RESPONSE if mechanism == "x_robots_tag" else Scope.ORIGIN,
        source_url=source_url,
        raw_value="noai" if mechanism == "x_robots_tag" else "User-agent: *",
        purposes=frozen_map({key.replace("_", "-"): value for key, value in purposes.items()}),
        applies_to=None,
        fetched_at=AT,
        http_status=200,
        parsed="noai",
        notes=("heuristic",),
        token="AcmeImageBot",  # noqa: S106 - a robots.txt product token, not a secret
        sha256="b" * 64,
    )


def image(
    url: str,
    *,
    pages: tuple[str, ...] = (f"{SITE}/gallery",),
    extra_contexts: tuple[ImageContext, ...] = (),
    fetched: bool = True,
    gps: bool | None = False,
    site: str = SITE,
    signals: tuple[SignalRecord, ...] | None = None,
    usage: dict[str, Verdict] | None = None,
) -> ImageRecord:
    """An image record; not fetched means no facts and a skip reason.

    Its contexts are an ``img`` one per page of ``pages``, then ``extra_contexts``.
    """
    return ImageRecord(
        url=url,
        site=site,
        contexts=tuple(
            ImageContext(page_url=page, kind="img", alt="A cat", license=None) for page in pages
        )
        + extra_contexts,
        fetched=fetched,
        skip_reason=None if fetched else "robots_disallowed",
        fetched_at=AT if fetched else None,
        status=200 if fetched else None,
        content_type="image/jpeg" if fetched else None,
        headers=(("content-type", "image/jpeg"), ("x-robots-tag", "noai")) if fetched else (),
        facts=facts(gps=gps) if fetched else None,
        signals=signals
        if signals is not None
        else (
            signal("robots", f"{site}/robots.txt", crawl=Verdict.ALLOWED),
            signal("x_robots_tag", url, ai_train=Verdict.DISALLOWED),
        ),
        usage=frozen_map(
            usage
            if usage is not None
            else {"crawl": Verdict.ALLOWED, "ai-train": Verdict.DISALLOWED}
        ),
        jurisdictions=frozen_map({"UK": 0.8, "EU": 0.1}),
    )


def finding(
    rule_id: str,
    *,
    severity: Severity = Severity.HIGH,
    outcome: Outcome = Outcome.FAIL,
    image_url: str | None = None,
    fingerprint: str | None = None,
    message: str = "something is wrong",
) -> Finding:
    """A finding about an image (or the declaration when no image URL is given)."""
    return Finding(
        rule_id=rule_id,
        pack="uk-gdpr",
        jurisdiction="UK",
        outcome=outcome,
        severity=severity,
        subject=Subject.IMAGE if image_url else Subject.DECLARATION,
        message=message,
        references=("UK GDPR Art. 9(1)",),
        evidence=frozen_map({"faces": 2, "purposes": ("facial-recognition",), "nested": {"a": 1}}),
        fingerprint=fingerprint or f"fp-{rule_id}-{image_url}",
        title=f"Title of {rule_id}",
        remediation="Stop doing it",
        image_url=image_url,
        page_url=f"{SITE}/gallery" if image_url else None,
        site=SITE if image_url else None,
    )


COUNTERS = RunCounters(
    pages=2,
    images=3,
    images_fetched=2,
    skips=1,
    errors=0,
    findings=frozen_map({"fail": 3, "review": 1}),
    by_severity=frozen_map({"critical": 1, "high": 3}),
    passes=frozen_map({"R-PASS": 5}),
)


def new_store(tmp_path: Path) -> Store:
    """A fresh database file under ``tmp_path``."""
    return open_store(tmp_path / "audit.db")


def begin(store: Store) -> int:
    """Start a run with fixed provenance."""
    return store.begin_run(
        tool_version="0.1.0",
        started_at=AT,
        config_hash="c" * 64,
        policy_hash="p" * 64,
        config_json={"targets": [SITE], "crawler": {"name": "acme"}},
        options_json={"workers": 2},
    )


def populate(store: Store) -> int:
    """Write a small but complete run and return its id."""
    run_id = begin(store)
    with store.writer(run_id, batch_size=3) as writer:
        writer.add_site(SITE, [OriginFileRecord("robots", "available", 200, "r" * 64, AT)])
        for path in ("/", "/gallery"):
            writer.add_page(
                PageRecord(
                    url=f"{SITE}{path}",
                    final_url=f"{SITE}{path}",
                    site=SITE,
                    depth=len(path) - 1,
                    status=200,
                    content_type="text/html",
                    fetched_at=AT,
                    title="Gallery",
                    lang="en",
                    hreflang=(("en", f"{SITE}{path}"),),
                    meta_robots=(("robots", "noai"),),
                    license_links=("https://creativecommons.org/licenses/by/4.0/",),
                    image_count=2,
                    link_count=3,
                )
            )
        # Two images referenced by a second page too, each with all its page contexts.
        writer.add_image(
            image(
                f"{SITE}/z.jpg",
                gps=True,
                extra_contexts=(ImageContext(page_url=f"{SITE}/", kind="css", alt="bg"),),
            )
        )
        writer.add_image(
            image(
                f"{CDN}/b.jpg",
                site=CDN,
                gps=None,
                extra_contexts=(ImageContext(page_url=f"{SITE}/", kind="srcset", alt=None),),
            )
        )
        writer.add_image(image(f"{SITE}/m.jpg", fetched=False, signals=(), usage={}))
        writer.add_skip(
            SkipRecord(f"{SITE}/m.jpg", "image", "robots_disallowed", "Disallow: /m", AT)
        )
        writer.add_findings(
            [
                finding("R-HIGH", image_url=f"{SITE}/z.jpg"),
                finding("R-CRIT", severity=Severity.CRITICAL, image_url=f"{SITE}/z.jpg"),
                finding("R-HIGH", image_url=f"{CDN}/b.jpg"),
                finding("R-DECL", outcome=Outcome.REVIEW, severity=Severity.HIGH),
                finding("R-LOW", severity=Severity.LOW, outcome=Outcome.INSUFFICIENT_DATA),
            ]
        )
        writer.add_rule_stats(
            {
                ("uk-gdpr", "R-HIGH"): {"fail": 2, "pass": 1},
                ("uk-gdpr", "R-PASS"): {"pass": 5, "not_applicable": 2},
            },
            rules={
                ("uk-gdpr", "R-HIGH"): Rule("High rule", Severity.HIGH),
                ("uk-gdpr", "R-PASS"): Rule("Passing rule", Severity.MEDIUM),
            },
        )
    store.finish_run(run_id, finished_at=AT, status="complete", counters=COUNTERS)
    return run_id
