"""The fact builder and the fact catalogue must agree: rules can only name catalogued facts."""

from __future__ import annotations

from datetime import UTC, datetime

from auditor.config import CrawlerDeclaration
from auditor.extract import ExifFacts, ImageFacts
from auditor.facts import SiteFacts, declaration_facts, image_facts, site_facts
from auditor.model import (
    Evaluation,
    ImageContext,
    ImageRecord,
    Scope,
    SignalRecord,
    Subject,
    Verdict,
    frozen_map,
)
from auditor.policy.facts import FACTS

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _record() -> ImageRecord:
    facts = ImageFacts(
        sha256="0" * 64, size_bytes=10, format="JPEG", mime="image/jpeg", width=2, height=2,
        frames=1, phash="f" * 16,
        exif=ExifFacts(True, 51.5, -0.12, "2024:01:01 10:00:00", "SN1", "A", "C", "M", "X"),
    )  # fmt: skip
    signals = (
        SignalRecord("robots", Scope.ORIGIN, "http://a/robots.txt", "Disallow: /",
                     frozen_map({"crawl": Verdict.DISALLOWED})),
        SignalRecord("c2pa.training_mining", Scope.EMBEDDED, "http://a/x.jpg", None,
                     frozen_map(), evaluation=Evaluation.NOT_EVALUATED),
    )  # fmt: skip
    return ImageRecord(
        url="http://a/x.jpg",
        site="http://a",
        contexts=(ImageContext("http://a/", "img", alt="x", license="https://l/"),),
        fetched=True,
        skip_reason=None,
        fetched_at="2026-11-01T00:00:00+00:00",
        status=200,
        content_type="image/jpeg",
        facts=facts,
        signals=signals,
        usage=frozen_map({"crawl": Verdict.DISALLOWED}),
        usage_conflicts=("tdm",),
        jurisdictions=frozen_map({"UK": 1.0}),
    )


def test_every_built_fact_is_catalogued_for_its_subject() -> None:
    built = {
        **declaration_facts(CrawlerDeclaration()),
        **site_facts(SiteFacts("http://a", "parsed", {"UK": 1.0}, pages=1, images=1)),
        **image_facts(_record(), NOW),
    }
    for name in built:
        assert name in FACTS, f"{name} is built but not in the catalogue"
        assert Subject.IMAGE in FACTS[name].subjects, f"{name} is not available on images"


def test_signal_facts_separate_evaluated_from_not_evaluated() -> None:
    facts = image_facts(_record(), NOW)
    assert facts["signals.mechanisms"] == ["robots"]
    assert facts["signals.disallowing"] == ["robots"]
    assert facts["signals.not_evaluated"] == ["c2pa.training_mining"]
    assert facts["usage.conflicts"] == ["tdm"]
    assert facts["usage.ai-train"] == "unknown"
    assert facts["image.age_days"] == 21.5
