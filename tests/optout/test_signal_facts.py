"""From a match to the optout_list record and the image.optout_* facts the rules read."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import cast

import pytest

from auditor.extract import extract_image
from auditor.facts import image_facts
from auditor.model import Evaluation, ImageRecord, Scope, SignalRecord, Verdict, frozen_map
from auditor.optout.matcher import DbOptOutList
from auditor.optout.record import NEAR_NOTE, decode_match
from auditor.signals.evidence import ImageEvidence, OriginEvidence
from auditor.signals.optout_list import optout_mechanism
from auditor.signals.usage import combine
from tests.optout import IMAGES
from tests.optout.conftest import MakeList

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PHOTO = extract_image((IMAGES / "photo.jpg").read_bytes())
URL = "https://photos.example.org/jane.jpg"


def evidence(url: str = URL) -> ImageEvidence:
    # The opt-out mechanism reads the URL and the image facts only; the origin is irrelevant.
    return ImageEvidence(
        url=url, tokens=(), origin=cast(OriginEvidence, None), response_headers=(),
        status=200, fetched_at="2026-11-20T10:00:00+00:00", facts=PHOTO, pages=(),
    )  # fmt: skip


def record(signals: list[SignalRecord]) -> ImageRecord:
    verdicts = combine(signals)
    return ImageRecord(
        url=URL, site="https://photos.example.org", contexts=(), fetched=True, skip_reason=None,
        fetched_at="2026-11-20T10:00:00+00:00", facts=PHOTO, signals=tuple(signals),
        usage=verdicts.usage,
    )  # fmt: skip


def flipped(phash: str, bits: int) -> str:
    return f"{int(phash, 16) ^ ((1 << bits) - 1):016x}"


def test_a_photo_match_disallows_everything_and_encodes_the_match(make_list: MakeList) -> None:
    assert PHOTO.phash is not None
    path = make_list([("phash", flipped(PHOTO.phash, 2), "2026-10-01")])
    [signal] = optout_mechanism(DbOptOutList(path))(evidence())
    assert (signal.mechanism, signal.scope, signal.source_url) == (
        "optout_list",
        Scope.LIST,
        str(path),
    )
    assert set(signal.purposes.values()) == {Verdict.DISALLOWED}
    assert signal.notes == ("match_phash",)
    assert json.loads(signal.parsed or "") == {
        "kind": "phash", "near": False, "received": "2026-10-01", "distance": 2, "entry_id": 1,
    }  # fmt: skip
    facts = image_facts(record([signal]), NOW)
    assert facts["image.optout_match"] == "exact"
    assert facts["image.optout_received"] == "2026-10-01"
    assert facts["image.optout_distance"] == 2
    assert facts["image.optout_age_days"] == 52.5
    assert "optout_list" in cast(list[str], facts["signals.disallowing"])
    assert facts["usage.ai-train"] == "disallowed"


def test_a_near_match_is_evidence_with_unknown_verdicts(make_list: MakeList) -> None:
    assert PHOTO.phash is not None
    path = make_list([("phash", flipped(PHOTO.phash, 8), "2026-10-01")])
    [signal] = optout_mechanism(DbOptOutList(path))(evidence())
    assert set(signal.purposes.values()) == {Verdict.UNKNOWN}
    assert signal.notes == ("match_phash", NEAR_NOTE)
    facts = image_facts(record([signal]), NOW)
    assert (facts["image.optout_match"], facts["image.optout_distance"]) == ("near", 8)
    assert "optout_list" not in cast(list[str], facts["signals.disallowing"])
    assert "optout_list" in cast(list[str], facts["signals.mechanisms"])
    assert facts["usage.ai-train"] == "unknown"


def test_a_url_match_has_no_distance(make_list: MakeList) -> None:
    path = make_list([("url", URL, "2026-11-22")])
    [signal] = optout_mechanism(DbOptOutList(path))(evidence())
    facts = image_facts(record([signal]), NOW)
    assert (facts["image.optout_match"], facts["image.optout_distance"]) == ("exact", None)
    assert facts["image.optout_age_days"] == 0.5


def test_checked_without_a_match_is_none_and_unchecked_is_missing(make_list: MakeList) -> None:
    path = make_list([("domain", "elsewhere.example", "2026-10-01")])
    assert optout_mechanism(DbOptOutList(path))(evidence()) == []
    checked = image_facts(record([]), NOW)
    assert checked["image.optout_match"] == "none"
    assert checked["image.optout_received"] is None
    assert checked["image.optout_age_days"] is None
    assert checked["image.optout_distance"] is None
    [unchecked_signal] = optout_mechanism(None)(evidence())
    assert unchecked_signal.evaluation is Evaluation.NOT_EVALUATED
    unchecked = image_facts(record([unchecked_signal]), NOW)
    assert not any(name.startswith("image.optout_") for name in unchecked)


@pytest.mark.parametrize("parsed", [None, "url match", "[]", '{"near": false}'])
def test_an_unreadable_match_record_leaves_the_facts_missing(parsed: str | None) -> None:
    signal = SignalRecord(
        "optout_list", Scope.LIST, "optout.db", URL,
        frozen_map({"crawl": Verdict.DISALLOWED}), parsed=parsed,
    )  # fmt: skip
    assert decode_match(signal) is None
    assert not any(name.startswith("image.optout_") for name in image_facts(record([signal]), NOW))


def test_decoding_reads_back_what_the_mechanism_wrote(make_list: MakeList) -> None:
    path = make_list([("url", URL, "2026-10-01")])
    matcher = DbOptOutList(path)
    [signal] = optout_mechanism(matcher)(evidence())
    assert decode_match(signal) == matcher.match(URL, None, None)
    assert decode_match(replace(signal, mechanism="robots")) is None
