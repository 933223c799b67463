"""Dataset aggregates (``auditor.aggregates``): counts, honest shares, per-jurisdiction sums."""

from __future__ import annotations

import json

from auditor.aggregates import DatasetTally
from auditor.extract.imagefacts import ExifFacts, FaceBox, FaceFacts, ImageFacts
from auditor.model import ImageRecord
from auditor.policy.facts import FACTS

NO_EXIF = ExifFacts(False, None, None, None, None, None, None, None, None)
WITH_GPS = ExifFacts(True, 51.5, -0.12, None, None, None, None, None, None)


def image(
    url: str,
    *,
    faces: int | None = None,
    exif: ExifFacts | None = None,
    fetched: bool = True,
    jurisdictions: dict[str, float] | None = None,
) -> ImageRecord:
    boxes = tuple(FaceBox(0, 0, 10, 10, 0.9) for _ in range(faces or 0))
    facts = ImageFacts(
        sha256="0" * 64,
        size_bytes=10,
        exif=exif,
        faces=None if faces is None else FaceFacts(faces, boxes, "test"),
    )
    return ImageRecord(
        url=url,
        site="https://example.org",
        contexts=(),
        fetched=fetched,
        skip_reason=None if fetched else "robots",
        fetched_at=None,
        facts=facts if fetched else None,
        jurisdictions=jurisdictions or {},
    )


def test_empty_dataset_has_counts_but_no_shares() -> None:
    facts = DatasetTally(optout_checked=True).facts()
    assert facts["dataset.images"] == 0
    assert "dataset.faces_share" not in facts
    assert "dataset.jurisdiction.UK" not in facts
    assert "dataset.jurisdiction_unknown" not in facts


def test_counts_and_shares_use_honest_denominators() -> None:
    tally = DatasetTally(optout_checked=True)
    tally.add(
        image("a", faces=2, exif=WITH_GPS, jurisdictions={"UK": 1.0, "EU": 0.0}), reserved=True
    )
    tally.add(
        image("b", faces=0, exif=NO_EXIF, jurisdictions={"UK": 0.0, "EU": 0.6}), reserved=False
    )
    tally.add(image("c"), reserved=False)  # fetched, but no detector and no EXIF read
    tally.add(image("d", fetched=False), reserved=True)  # reserved but never collected
    facts = tally.facts()
    assert facts["dataset.images"] == 4
    assert facts["dataset.images_fetched"] == 3
    assert facts["dataset.faces_examined"] == 2
    assert facts["dataset.images_with_faces"] == 1
    assert facts["dataset.faces_share"] == 0.5
    assert facts["dataset.images_with_gps"] == 1
    assert facts["dataset.gps_share"] == 0.5
    assert facts["dataset.reserved_collected"] == 1
    assert facts["dataset.reserved_share"] == round(1 / 3, 4)
    assert facts["dataset.jurisdiction.UK"] == 0.5
    assert facts["dataset.jurisdiction.EU"] == 0.3
    assert facts["dataset.jurisdiction_unknown"] == 0.5
    assert set(facts) <= set(FACTS), "every aggregate is a catalogued fact"


def test_summary_breaks_faces_gps_and_reservations_down_per_jurisdiction() -> None:
    tally = DatasetTally(optout_checked=True)
    tally.add(
        image("a", faces=1, exif=WITH_GPS, jurisdictions={"UK": 0.8, "EU": 0.2}), reserved=True
    )
    tally.add(
        image("b", faces=0, exif=NO_EXIF, jurisdictions={"UK": 0.0, "EU": 1.0}), reserved=False
    )
    summary = tally.summary()
    assert summary["images_with_jurisdiction_evidence"] == 2
    assert summary["per_jurisdiction"]["UK"] == {
        "expected_images": 0.8,
        "expected_with_faces": 0.8,
        "expected_with_gps": 0.8,
        "expected_reserved_collected": 0.8,
    }
    assert summary["per_jurisdiction"]["EU"]["expected_images"] == 1.2
    assert summary["per_jurisdiction"]["EU"]["expected_with_faces"] == 0.2
    assert "US" not in summary["per_jurisdiction"]
    assert summary["facts"] == tally.facts()


def test_optout_collections_are_counted_only_when_a_list_was_checked() -> None:
    checked = DatasetTally(optout_checked=True)
    checked.add(image("a"), reserved=False, opted_out=True)
    checked.add(image("b", fetched=False), reserved=False, opted_out=True)
    checked.add(image("c"), reserved=False)
    assert checked.facts()["dataset.optout_collected"] == 1
    unchecked = DatasetTally(optout_checked=False)
    unchecked.add(image("a"), reserved=False, opted_out=False)
    assert "dataset.optout_collected" not in unchecked.facts(), "unchecked is not zero"


def test_refetched_images_count_reservations_made_since_collection() -> None:
    tally = DatasetTally(optout_checked=False)
    image = ImageRecord("https://a.example/1.jpg", "https://a.example", (), True, None, None)
    tally.add_evaluated(image, {"signals.reserving": [], "signals.reserving_now": ["robots"]})
    tally.add_evaluated(image, {"signals.reserving": ["tdmrep.file"], "signals.reserving_now": []})
    tally.add_evaluated(image, {"signals.reserving": [], "signals.reserving_now": []})
    facts = tally.facts()
    assert (facts["dataset.images_refetched"], facts["dataset.reserved_since_collection"]) == (3, 1)
    crawl = DatasetTally(optout_checked=False)
    crawl.add_evaluated(image, {"signals.reserving": []})
    assert "dataset.images_refetched" not in crawl.facts()


def test_a_restored_tally_carries_on_exactly() -> None:
    image = ImageRecord(
        "https://a.example/1.jpg", "https://a.example", (), True, None, None,
        jurisdictions={"UK": 0.1, "EU": 0.7},
    )  # fmt: skip
    whole = DatasetTally(optout_checked=True)
    first = DatasetTally(optout_checked=True)
    for tally in (whole, first):
        tally.add_evaluated(image, {"signals.reserving": ["robots"]})
    resumed = DatasetTally(optout_checked=True)
    resumed.restore(json.loads(json.dumps(first.state())))
    for tally in (whole, resumed):
        tally.add_evaluated(image, {"signals.reserving": []})
    assert resumed.summary() == whole.summary()
