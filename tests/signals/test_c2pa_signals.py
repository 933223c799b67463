"""C2PA/CAWG training-and-mining evidence records (optout-signals.md 8, cases E39-E42)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.extract import ImageFacts, extract_image
from auditor.extract.c2pa import c2pa_available, read_c2pa
from auditor.extract.embedded import C2paAssertion, C2paEntry, C2paFacts
from auditor.model import Evaluation, Scope, SignalRecord, Verdict
from auditor.signals.c2pa import c2pa_signals, is_verified
from auditor.signals.evidence import ImageEvidence, OriginEvidence
from auditor.signals.usage import combine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "images"
C2PA_DIR = FIXTURES / "c2pa"
IMAGE = "https://cdn.example/photos/a.jpg"
FETCHED = "2026-11-22T12:00:00+00:00"
SHA = "ab" * 32

needs_c2pa = pytest.mark.skipif(not c2pa_available(), reason="the c2pa extra is not installed")


def evidence(facts: ImageFacts | None) -> ImageEvidence:
    # c2pa_signals reads only the image's own URL, fetch data and facts; the origin bundle is
    # irrelevant to an embedded mechanism, so a placeholder stands in for it.
    return ImageEvidence(
        url=IMAGE,
        tokens=("mybot",),
        origin=cast(OriginEvidence, None),
        response_headers=(("content-type", "image/jpeg"),),
        status=200,
        fetched_at=FETCHED,
        facts=facts,
        pages=(),
    )


def image_facts(c2pa: C2paFacts | None, **extra: Any) -> ImageFacts:
    base = {"format": "JPEG", "mime": "image/jpeg", "width": 8, "height": 8, "frames": 1}
    return ImageFacts(sha256=SHA, size_bytes=100, c2pa=c2pa, **{**base, **extra})


def signals_for(c2pa: C2paFacts | None, **extra: Any) -> list[SignalRecord]:
    return c2pa_signals(evidence(image_facts(c2pa, **extra)))


def one(records: list[SignalRecord]) -> SignalRecord:
    assert len(records) == 1, records
    return records[0]


def usage(records: list[SignalRecord]) -> dict[str, Verdict]:
    return dict(combine(records).usage)


def manifest(
    *entries: C2paEntry,
    label: str = "cawg.training-mining",
    active: bool = True,
    state: str | None = "Trusted",
    errors: tuple[str, ...] = (),
    remote: str | None = None,
) -> C2paFacts:
    return C2paFacts(
        present=True,
        validation_state=state,
        validation_errors=errors,
        active_manifest="urn:c2pa:active",
        claim_generator="Tool/1.0",
        training_mining=(
            C2paAssertion(
                label, "urn:c2pa:active" if active else "urn:c2pa:parent", active, entries
            ),
        ),
        remote_manifest=remote,
    )


def fixture_signals(name: str, *, trusted: bool = False) -> list[SignalRecord]:
    data = (C2PA_DIR / name).read_bytes()
    facts = extract_image(data)
    if trusted:
        root = (C2PA_DIR / "test-root.pem").read_text()
        facts = replace(facts, c2pa=read_c2pa(data, facts.format, trust_anchors=root))
    return c2pa_signals(evidence(facts))


# --- the fixtures, end to end (extract_image -> c2pa_signals -> combine) -----------------------


@needs_c2pa
@pytest.mark.parametrize("trusted", [False, True])
def test_e39_cawg_generative_training_not_allowed(trusted: bool) -> None:
    record = one(fixture_signals("cawg-genai-notallowed.jpg", trusted=trusted))
    assert record.mechanism == "cawg.training_mining"
    assert record.scope is Scope.EMBEDDED
    assert record.evaluation is Evaluation.EVALUATED
    assert (record.source_url, record.fetched_at, record.http_status) == (IMAGE, FETCHED, 200)
    assert dict(record.purposes) == {"genai-train": Verdict.DISALLOWED}
    assert ("unverified" in record.notes) is not trusted  # the test root is not trusted by default
    assert record.raw_value == '{"entries":{"cawg.ai_generative_training":{"use":"notAllowed"}}}'
    verdicts = usage([record])
    assert verdicts["genai-train"] is Verdict.DISALLOWED
    assert verdicts["ai-train"] is Verdict.UNKNOWN


@needs_c2pa
def test_old_label_constrained_is_not_allowed_with_the_text_shown() -> None:
    record = one(fixture_signals("c2pa-train-constrained.jpg", trusted=True))
    assert record.mechanism == "c2pa.training_mining"
    assert dict(record.purposes) == {
        "ai-train": Verdict.DISALLOWED,
        "ai-input": Verdict.DISALLOWED,
        "tdm": Verdict.ALLOWED,
    }
    assert "constrained" in record.notes
    assert record.parsed is not None
    assert "Licence required: rights@example.org" in record.parsed
    assert "Only with attribution" in record.parsed
    untrusted = one(fixture_signals("c2pa-train-constrained.jpg"))
    assert "tdm" not in untrusted.purposes  # an unverified "allowed" permits nothing
    assert untrusted.purposes["ai-train"] is Verdict.DISALLOWED


@needs_c2pa
def test_png_allowed_counts_only_when_verified() -> None:
    assert dict(one(fixture_signals("cawg-tdm-allowed.png", trusted=True)).purposes) == {
        "tdm": Verdict.ALLOWED
    }
    record = one(fixture_signals("cawg-tdm-allowed.png"))
    assert dict(record.purposes) == {}
    assert "unverified" in record.notes
    assert usage([record])["tdm"] is Verdict.UNKNOWN


@needs_c2pa
def test_e40_ingredient_only_is_inherited_evidence_without_verdict() -> None:
    record = one(fixture_signals("ingredient-only.jpg", trusted=True))
    assert record.mechanism == "cawg.training_mining"
    assert dict(record.purposes) == {}
    assert "inherited" in record.notes
    assert record.parsed is not None
    assert "ingredient manifest" in record.parsed
    assert set(usage([record]).values()) == {Verdict.UNKNOWN}


@needs_c2pa
@pytest.mark.parametrize("trusted", [False, True])
def test_e41_invalid_manifest_restricts_but_never_permits(trusted: bool) -> None:
    record = one(fixture_signals("tampered.jpg", trusted=trusted))
    assert dict(record.purposes) == {"ai-train": Verdict.DISALLOWED}  # data_mining allowed dropped
    assert "unverified" in record.notes
    assert record.parsed is not None
    assert "assertion.dataHash.mismatch" in record.parsed


@needs_c2pa
def test_e41_no_manifest_gives_no_record() -> None:
    assert fixture_signals("../plain.jpg") == []


@needs_c2pa
def test_e42_large_manifest_across_segments() -> None:
    record = one(fixture_signals("large-manifest.jpg", trusted=True))
    assert dict(record.purposes) == {"ai-train": Verdict.DISALLOWED}
    assert usage([record])["genai-train"] is Verdict.DISALLOWED  # by implication, in usage


@needs_c2pa
def test_remote_only_manifest_is_not_evaluated() -> None:
    record = one(fixture_signals("remote-ref.jpg"))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.raw_value == "http://127.0.0.1:9/fixture-manifest.c2pa"
    assert "remote_manifest_not_fetched" in record.notes
    assert dict(record.purposes) == {}


# --- status records ---------------------------------------------------------------------------


def test_image_not_fetched() -> None:
    record = one(c2pa_signals(evidence(None)))
    assert (record.mechanism, record.evaluation) == (
        "c2pa.training_mining",
        Evaluation.NOT_EVALUATED,
    )
    assert record.notes == ("not_evaluated", "not_fetched")


def test_support_not_installed() -> None:
    record = one(signals_for(None))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("not_evaluated", "c2pa_support_not_installed")
    assert record.sha256 == SHA


def test_not_an_image() -> None:
    record = one(signals_for(None, format=None, mime=None, error="not_an_image"))
    assert record.notes == ("not_evaluated", "not_examined")


def test_extractor_crash_is_an_error() -> None:
    record = one(signals_for(None, error="extractor_failed", error_detail="c2pa: KeyError: x"))
    assert record.evaluation is Evaluation.ERROR
    assert record.notes == ("extractor_failed",)


def test_unreadable_store_is_an_error() -> None:
    facts = C2paFacts(present=True, error="read_failed: Verify: unexpected end of file")
    record = one(signals_for(facts))
    assert record.evaluation is Evaluation.ERROR
    assert record.notes == ("c2pa_read_failed",)
    assert record.parsed == facts.error
    assert usage([record]) == usage([])


def test_no_manifest_or_no_assertion_gives_nothing() -> None:
    assert signals_for(C2paFacts(present=False)) == []
    assert (
        signals_for(C2paFacts(present=True, validation_state="Trusted", active_manifest="m")) == []
    )


def test_remote_reference_next_to_an_embedded_manifest_is_noted() -> None:
    facts = manifest(C2paEntry("cawg.ai_training", "notAllowed"), remote="https://m.example/x")
    record = one(signals_for(facts))
    assert "remote_manifest_not_fetched" in record.notes
    assert record.evaluation is Evaluation.EVALUATED


# --- entry semantics --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "purpose"),
    [
        ("cawg.data_mining", "tdm"),
        ("c2pa.data_mining", "tdm"),
        ("cawg.ai_training", "ai-train"),
        ("c2pa.ai_training", "ai-train"),
        ("cawg.ai_generative_training", "genai-train"),
        ("c2pa.ai_generative_training", "genai-train"),
        ("cawg.ai_inference", "ai-input"),
        ("c2pa.ai_inference", "ai-input"),
    ],
)
@pytest.mark.parametrize("label", ["cawg.training-mining", "c2pa.training-mining"])
def test_every_entry_maps_under_either_prefix_and_label(key: str, purpose: str, label: str) -> None:
    for use, verdict in [
        ("allowed", Verdict.ALLOWED),
        ("notAllowed", Verdict.DISALLOWED),
        ("constrained", Verdict.DISALLOWED),
    ]:
        record = one(signals_for(manifest(C2paEntry(key, use), label=label)))
        assert dict(record.purposes) == {purpose: verdict}
        assert record.mechanism == label.replace("-", "_")


def test_custom_keys_and_nonstandard_uses_give_no_verdict() -> None:
    record = one(
        signals_for(
            manifest(
                C2paEntry("org.example.scraping", "notAllowed"),
                C2paEntry("cawg.ai_training", "maybe"),
                C2paEntry("cawg.tdm", "notAllowed"),
            )
        )
    )
    assert dict(record.purposes) == {}
    assert {"custom_entry", "nonstandard_use"} <= set(record.notes)


def test_use_in_the_wrong_case_is_read_leniently() -> None:
    record = one(signals_for(manifest(C2paEntry("cawg.ai_training", "NotAllowed"))))
    assert dict(record.purposes) == {"ai-train": Verdict.DISALLOWED}
    assert "lenient_parse" in record.notes


def test_conflicts_are_recorded() -> None:
    implied = one(
        signals_for(
            manifest(
                C2paEntry("cawg.ai_training", "notAllowed"),
                C2paEntry("cawg.ai_generative_training", "allowed"),
            )
        )
    )
    assert dict(implied.purposes) == {
        "ai-train": Verdict.DISALLOWED,
        "genai-train": Verdict.ALLOWED,
    }
    assert "conflict" in implied.notes
    assert usage([implied])["genai-train"] is Verdict.DISALLOWED  # usage applies the implication

    same = one(
        signals_for(
            manifest(
                C2paEntry("c2pa.data_mining", "allowed"),
                C2paEntry("cawg.data_mining", "notAllowed"),
            )
        )
    )
    assert dict(same.purposes) == {"tdm": Verdict.DISALLOWED}
    assert "conflict" in same.notes


def test_constraint_text_is_shown() -> None:
    record = one(signals_for(manifest(C2paEntry("cawg.ai_training", "constrained", "ask first"))))
    assert record.parsed is not None
    assert "cawg.ai_training=constrained (constraint: ask first)" in record.parsed
    assert record.raw_value == (
        '{"entries":{"cawg.ai_training":{"use":"constrained","constraint_info":"ask first"}}}'
    )
    assert "constrained" in record.notes


@pytest.mark.parametrize(
    ("state", "errors", "verified"),
    [
        ("Trusted", (), True),
        ("Valid", (), True),
        ("Valid", ("signingCredential.untrusted",), False),
        ("Invalid", ("assertion.dataHash.mismatch",), False),
        (None, (), False),
        ("Unknown", (), False),
    ],
)
def test_what_counts_as_verified(
    state: str | None, errors: tuple[str, ...], verified: bool
) -> None:
    facts = manifest(
        C2paEntry("cawg.data_mining", "allowed"),
        C2paEntry("cawg.ai_training", "notAllowed"),
        state=state,
        errors=errors,
    )
    assert is_verified(facts) is verified
    record = one(signals_for(facts))
    expected = {"ai-train": Verdict.DISALLOWED}
    if verified:
        expected["tdm"] = Verdict.ALLOWED
    assert dict(record.purposes) == expected
    assert ("unverified" in record.notes) is not verified


def test_active_and_inherited_assertions_together() -> None:
    facts = manifest(C2paEntry("cawg.ai_training", "allowed"))
    parent = C2paAssertion(
        "c2pa.training-mining",
        "urn:c2pa:parent",
        False,
        (C2paEntry("c2pa.ai_training", "notAllowed"),),
    )
    facts = replace(facts, training_mining=(*facts.training_mining, parent))
    active, inherited = signals_for(facts)
    assert dict(active.purposes) == {"ai-train": Verdict.ALLOWED}
    assert (inherited.mechanism, dict(inherited.purposes)) == ("c2pa.training_mining", {})
    assert "inherited" in inherited.notes
    assert usage([active, inherited])["ai-train"] is Verdict.ALLOWED


USES = st.sampled_from(["allowed", "notAllowed", "constrained", "ALLOWED", "", "x"])
KEYS = st.sampled_from(
    [
        "cawg.data_mining",
        "c2pa.ai_training",
        "cawg.ai_generative_training",
        "c2pa.ai_inference",
        "k",
    ]
)


@given(
    entries=st.lists(
        st.builds(C2paEntry, KEYS, USES, st.none() | st.text(max_size=20)), max_size=8
    ),
    state=st.sampled_from(["Trusted", "Valid", "Invalid", None]),
    errors=st.lists(st.sampled_from(["signingCredential.untrusted", "x"]), max_size=2),
    active=st.booleans(),
)
def test_unverified_never_permits_and_inherited_never_decides(
    entries: list[C2paEntry], state: str | None, errors: list[str], active: bool
) -> None:
    facts = manifest(*entries, state=state, errors=tuple(errors), active=active)
    for record in signals_for(facts):
        if not is_verified(facts):
            assert Verdict.ALLOWED not in record.purposes.values()
            assert "unverified" in record.notes
        if not active:
            assert dict(record.purposes) == {}
        assert len(record.notes) == len(set(record.notes))
