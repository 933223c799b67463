"""Write a run through the public API and read it back: every record, every order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.errors import StoreError
from auditor.model import (
    ImageContext,
    OriginFileRecord,
    Outcome,
    Purpose,
    RunCounters,
    Severity,
    SkipRecord,
    Subject,
    Verdict,
)
from auditor.store import Store, open_store

from . import AT, CDN, COUNTERS, SITE, Rule, begin, finding, image, new_store, populate, signal


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with new_store(tmp_path) as opened:
        yield opened


@pytest.fixture
def run_id(store: Store) -> int:
    return populate(store)


def test_run_row_round_trips(store: Store, run_id: int) -> None:
    run = store.run(run_id)
    assert run.id == run_id
    assert run.tool_version == "0.1.0"
    assert run.status == "complete"
    assert (run.started_at, run.finished_at) == (AT, AT)
    assert run.config_hash == "c" * 64
    assert run.policy_hash == "p" * 64
    assert run.config == {"crawler": {"name": "acme"}, "targets": [SITE]}
    assert run.options == {"workers": 2}
    assert run.counters == COUNTERS
    assert store.latest_run_id() == run_id


def test_a_new_run_is_running_until_finished(store: Store) -> None:
    assert store.latest_run_id() is None
    run_id = begin(store)
    assert store.run(run_id).status == "running"
    assert store.run(run_id).finished_at is None
    assert store.run(run_id).counters == RunCounters()
    assert store.latest_run_id() == run_id
    assert begin(store) == run_id + 1


def test_unknown_run_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no run 42"):
        store.run(42)
    with pytest.raises(StoreError, match="no run 42"):
        store.finish_run(42, finished_at=AT, status="complete", counters=RunCounters())


def test_finish_run_rejects_unknown_status(store: Store) -> None:
    run_id = begin(store)
    with pytest.raises(ValueError, match="expected one of complete, incomplete"):
        store.finish_run(run_id, finished_at=AT, status="done", counters=RunCounters())


def test_images_come_back_ordered_by_url_with_contexts_and_signals(
    store: Store, run_id: int
) -> None:
    images = list(store.iter_images(run_id))
    assert [i.url for i in images] == [f"{CDN}/b.jpg", f"{SITE}/m.jpg", f"{SITE}/z.jpg"]
    cdn, skipped, fetched = images

    assert fetched.site == SITE
    assert fetched.fetched is True
    assert fetched.page_urls == (f"{SITE}/gallery", f"{SITE}/")
    assert fetched.contexts[1] == ImageContext(page_url=f"{SITE}/", kind="css", alt="bg")
    assert fetched.sha256 == "a" * 64
    assert (fetched.width, fetched.height, fetched.format, fetched.size_bytes) == (
        640,
        480,
        "JPEG",
        2048,
    )
    assert fetched.faces is None
    assert fetched.gps is True
    assert fetched.exif is not None
    assert (fetched.exif.gps_lat, fetched.exif.gps_lon) == (51.51, -0.13)
    assert fetched.exif.camera_serial == "SN123"
    assert fetched.headers == (("content-type", "image/jpeg"), ("x-robots-tag", "noai"))
    assert fetched.usage[Purpose.AI_TRAIN] is Verdict.DISALLOWED
    assert fetched.usage[Purpose.SEARCH] is Verdict.UNKNOWN
    assert dict(fetched.jurisdictions) == {"UK": 0.8, "EU": 0.1}
    assert [s.mechanism for s in fetched.signals] == ["robots", "x_robots_tag"]
    signal_back = fetched.signals[1]
    assert signal_back.image_url == f"{SITE}/z.jpg"
    assert signal_back.to_record() == signal(
        "x_robots_tag", fetched.url, ai_train=Verdict.DISALLOWED
    )

    # Every context of the record is kept, in the record's order.
    assert cdn.page_urls == (f"{SITE}/gallery", f"{SITE}/")
    assert cdn.site == CDN
    assert cdn.gps is None  # EXIF not examined
    assert cdn.exif is None

    assert skipped.fetched is False
    assert skipped.skip_reason == "robots_disallowed"
    assert skipped.sha256 is None
    assert skipped.gps is None
    assert skipped.signals == ()
    assert set(skipped.usage.values()) == {Verdict.UNKNOWN}


def test_findings_are_ordered_by_severity_then_rule_then_subject(store: Store, run_id: int) -> None:
    findings = list(store.iter_findings(run_id))
    assert [(f.severity, f.rule_id, f.image_url) for f in findings] == [
        (Severity.CRITICAL, "R-CRIT", f"{SITE}/z.jpg"),
        (Severity.HIGH, "R-DECL", None),
        (Severity.HIGH, "R-HIGH", f"{CDN}/b.jpg"),
        (Severity.HIGH, "R-HIGH", f"{SITE}/z.jpg"),
        (Severity.LOW, "R-LOW", None),
    ]
    first = findings[0]
    original = finding("R-CRIT", severity=Severity.CRITICAL, image_url=f"{SITE}/z.jpg")
    assert first.to_finding() == original.__class__(
        **{
            **original.__dict__,
            "evidence": {"faces": 2, "purposes": ["facial-recognition"], "nested": {"a": 1}},
        }
    )
    assert first.subject is Subject.IMAGE
    assert first.outcome is Outcome.FAIL
    assert first.references == ("UK GDPR Art. 9(1)",)
    assert first.subject_url == f"{SITE}/z.jpg"


def test_duplicate_fingerprints_are_ignored_within_and_across_batches(store: Store) -> None:
    run_id = begin(store)
    with store.writer(run_id, batch_size=2) as writer:
        writer.add_findings([finding("R1", message="first"), finding("R1", message="second")])
        writer.add_findings([finding("R2")])
        writer.flush()
        writer.add_findings([finding("R1", message="third"), finding("R2", message="again")])
    stored = {f.rule_id: f.message for f in store.iter_findings(run_id)}
    assert stored == {"R1": "first", "R2": "something is wrong"}


def test_same_fingerprint_in_another_run_is_kept(store: Store) -> None:
    first, second = begin(store), begin(store)
    for run_id in (first, second):
        with store.writer(run_id) as writer:
            writer.add_findings([finding("R1")])
    assert len(list(store.iter_findings(first))) == 1
    assert len(list(store.iter_findings(second))) == 1


def test_passes_are_not_findings(store: Store) -> None:
    with (
        store.writer(begin(store)) as writer,
        pytest.raises(ValueError, match="counted in rule stats"),
    ):
        writer.add_findings([finding("R1", outcome=Outcome.PASS)])


def test_signals_and_skips_read_back_in_order(store: Store, run_id: int) -> None:
    signals = list(store.iter_signals(run_id))
    assert [(s.image_url, s.mechanism) for s in signals] == [
        (f"{CDN}/b.jpg", "robots"),
        (f"{CDN}/b.jpg", "x_robots_tag"),
        (f"{SITE}/z.jpg", "robots"),
        (f"{SITE}/z.jpg", "x_robots_tag"),
    ]
    assert signals[1].purposes == {"ai-train": Verdict.DISALLOWED}
    assert signals[1].notes == ("heuristic",)
    assert list(store.iter_skips(run_id)) == [
        SkipRecord(f"{SITE}/m.jpg", "image", "robots_disallowed", "Disallow: /m", AT)
    ]


def test_rule_stats_round_trip_and_later_calls_replace(store: Store, run_id: int) -> None:
    stats = store.rule_stats(run_id)
    assert [(s.pack, s.rule_id) for s in stats] == [("uk-gdpr", "R-HIGH"), ("uk-gdpr", "R-PASS")]
    high, passing = stats
    assert (high.title, high.severity, high.fails, high.passes, high.findings) == (
        "High rule",
        Severity.HIGH,
        2,
        1,
        2,
    )
    assert (passing.passes, passing.not_applicable, passing.reviews) == (5, 2, 0)

    with store.writer(run_id) as writer:
        writer.add_rule_stats(
            {("uk-gdpr", "R-HIGH"): {"review": 4}},
            rules={("uk-gdpr", "R-HIGH"): Rule("Renamed", Severity.CRITICAL)},
        )
    high = store.rule_stats(run_id)[0]
    assert (high.title, high.severity, high.fails, high.reviews) == (
        "Renamed",
        Severity.CRITICAL,
        0,
        4,
    )


def test_rule_stats_need_metadata_and_known_outcomes(store: Store) -> None:
    with store.writer(begin(store)) as writer:
        with pytest.raises(ValueError, match="no title and severity"):
            writer.add_rule_stats({("p", "R"): {"fail": 1}}, rules={})
        with pytest.raises(ValueError, match="unknown outcome 'failed'"):
            writer.add_rule_stats(
                {("p", "R"): {"failed": 1}}, rules={("p", "R"): Rule("t", Severity.LOW)}
            )


def test_run_summary_counts_what_was_stored(store: Store, run_id: int) -> None:
    summary = store.run_summary(run_id)
    assert (summary.pages, summary.images, summary.images_fetched, summary.skips) == (2, 3, 2, 1)
    assert summary.findings == {
        ("critical", "fail"): 1,
        ("high", "fail"): 2,
        ("high", "review"): 1,
        ("low", "insufficient_data"): 1,
    }
    assert summary.finding_total == 5
    assert summary.skip_reasons == (("image", "robots_disallowed", 1),)


def test_a_later_image_record_replaces_the_earlier_one(store: Store) -> None:
    run_id = begin(store)
    url = f"{SITE}/a.jpg"
    with store.writer(run_id) as writer:
        writer.add_image(image(url))
        writer.flush()
        writer.add_image(
            image(url, pages=(f"{SITE}/other",), signals=(signal("ai_txt", f"{SITE}/ai.txt"),))
        )
        writer.add_image(image(f"{SITE}/b.jpg"))
        writer.add_image(image(f"{SITE}/b.jpg", fetched=False))  # same batch: last one wins
    images = {i.url: i for i in store.iter_images(run_id)}
    assert len(images) == 2
    assert images[url].page_urls == (f"{SITE}/other",)
    assert [s.mechanism for s in images[url].signals] == ["ai_txt"]
    assert images[f"{SITE}/b.jpg"].fetched is False
    # The first record's signals went with it (ON DELETE CASCADE): 1 for a.jpg, 2 for b.jpg.
    assert [s.image_url for s in store.iter_signals(run_id)].count(url) == 1
    assert len(list(store.iter_signals(run_id))) == 3


def test_add_site_updates_and_pages_create_sites_implicitly(store: Store) -> None:
    run_id = begin(store)
    with store.writer(run_id) as writer:
        writer.add_image(image(f"{CDN}/x.jpg", site=CDN))
        writer.flush()
        writer.add_site(CDN, [OriginFileRecord("robots", "unavailable", 404, None, AT)])
        writer.flush()
        writer.add_site(CDN, [OriginFileRecord("robots", "available", 200, "s" * 64, AT)])
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT origin, robots_status, robots_http_status FROM sites WHERE run_id = ?",
            (run_id,),
        ).all()
    assert [tuple(row) for row in rows] == [(CDN, "available", 200)]


def test_a_closed_writer_refuses_records(store: Store) -> None:
    writer = store.writer(begin(store))
    writer.close()
    writer.close()  # a second close does nothing
    with pytest.raises(RuntimeError, match="closed"):
        writer.add_skip(SkipRecord(SITE, "page", "x", None, AT))


def test_unknown_purposes_are_rejected_when_added(store: Store) -> None:
    with store.writer(begin(store)) as writer, pytest.raises(ValueError, match="unknown purpose"):
        writer.add_image(image(f"{SITE}/a.jpg", usage={"facial-recognition": Verdict.ALLOWED}))


def test_buffered_records_survive_an_exception_in_the_with_block(store: Store) -> None:
    run_id = begin(store)
    with pytest.raises(KeyboardInterrupt), store.writer(run_id) as writer:
        writer.add_image(image(f"{SITE}/a.jpg"))
        raise KeyboardInterrupt
    assert [i.url for i in store.iter_images(run_id)] == [f"{SITE}/a.jpg"]


def test_streaming_keeps_children_with_their_image_across_chunks(tmp_path: Path) -> None:
    with open_store(tmp_path / "big.db") as store:
        run_id = begin(store)
        with store.writer(run_id, batch_size=97) as writer:
            for n in reversed(range(1234)):
                url = f"{SITE}/img/{n:05d}.jpg"
                writer.add_image(image(url, pages=(f"{SITE}/p/{n}",)))
        count = 0
        previous = ""
        for stored in store.iter_images(run_id):
            number = int(stored.url.rsplit("/", 1)[1].split(".")[0])
            assert stored.url > previous
            assert stored.page_urls == (f"{SITE}/p/{number}",)
            assert stored.signals[1].source_url == stored.url
            previous = stored.url
            count += 1
        assert count == 1234
