"""Revision 0002: page evidence, page-level signals, origin files, usage conflicts, XMP and C2PA."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from auditor.extract.embedded import C2paFacts, DataMiningValue, XmpFacts
from auditor.model import (
    Evaluation,
    OriginFileRecord,
    PageRecord,
    Purpose,
    Scope,
    SignalRecord,
    Verdict,
    frozen_map,
)
from auditor.store import PageExport, Store
from auditor.store.facts_json import facts_from_json
from auditor.store.rows import dumps

from . import AT, CDN, SITE, begin, c2pa_facts, facts, image, new_store, xmp_facts

ALL_UNKNOWN = dict.fromkeys((purpose.value for purpose in Purpose), Verdict.UNKNOWN)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with new_store(tmp_path) as opened:
        yield opened


def page_signal(mechanism: str, url: str, raw: str, **purposes: Verdict) -> SignalRecord:
    """A signal about the page resource itself (its response header or its HTML)."""
    return SignalRecord(
        mechanism=mechanism,
        scope=Scope.PAGE,
        source_url=url,
        raw_value=raw,
        purposes=frozen_map({key.replace("_", "-"): value for key, value in purposes.items()}),
        fetched_at=AT,
        http_status=200,
        parsed=raw.lower(),
        notes=("non_canonical",),
        token="AcmeImageBot",  # noqa: S106 - a robots.txt product token, not a secret
        evaluation=Evaluation.EVALUATED,
    )


def page(
    url: str, *, signals: tuple[SignalRecord, ...] | None = None, site: str = SITE
) -> PageRecord:
    """A page with evidence headers, TDMRep meta and (by default) two page-level signals."""
    return PageRecord(
        url=url,
        final_url=url + "?final",
        site=site,
        depth=1,
        status=200,
        content_type="text/html",
        fetched_at=AT,
        title="Gallery",
        lang="en",
        hreflang=(("en", url),),
        meta_robots=(("robots", "noai"),),
        license_links=("https://creativecommons.org/licenses/by/4.0/",),
        headers=(("x-robots-tag", "noai"), ("tdm-reservation", "1"), ("X-Robots-Tag", "noimageai")),
        tdm_meta=(("tdm-reservation", "1"), ("tdm-policy", "https://photos.example.org/p.json")),
        signals=signals
        if signals is not None
        else (
            page_signal("x_robots_tag", url, "noai", ai_train=Verdict.DISALLOWED),
            page_signal("tdmrep.html", url, "1", tdm=Verdict.DISALLOWED),
        ),
        image_count=2,
        link_count=5,
        truncated=True,
    )


# -- pages -----------------------------------------------------------------------------------


def test_page_evidence_and_page_signals_round_trip(store: Store) -> None:
    run_id = begin(store)
    original = page(f"{SITE}/gallery")
    bare = PageRecord(f"{SITE}/", f"{SITE}/", SITE, 0, None, None, AT)
    with store.writer(run_id) as writer:
        writer.add_page(original)
        writer.add_page(bare)
    pages = list(store.iter_pages(run_id))
    assert [p.url for p in pages] == [f"{SITE}/", f"{SITE}/gallery"]
    assert pages[0].to_record() == bare
    assert pages[0].signals == ()
    stored = pages[1]
    assert isinstance(stored, PageExport)
    assert stored.headers == original.headers  # order and repeats kept
    assert stored.tdm_meta == original.tdm_meta
    assert [(s.image_url, s.page_url) for s in stored.signals] == [(None, original.url)] * 2
    assert stored.to_record() == original


def test_a_later_page_record_replaces_its_signals_too(store: Store) -> None:
    run_id = begin(store)
    url = f"{SITE}/gallery"
    with store.writer(run_id) as writer:
        writer.add_page(page(url))
        writer.add_page(page(f"{SITE}/b"))
        writer.flush()
        writer.add_page(page(url, signals=(page_signal("meta_robots", url, "noimageai"),)))
        writer.add_page(page(f"{SITE}/b", signals=()))
        writer.add_page(page(f"{SITE}/c"))
        writer.add_page(page(f"{SITE}/c", signals=()))  # same batch: the last one wins
    pages = {p.url: p for p in store.iter_pages(run_id)}
    assert [s.mechanism for s in pages[url].signals] == ["meta_robots"]
    assert pages[f"{SITE}/b"].signals == ()
    assert pages[f"{SITE}/c"].signals == ()
    assert [s.page_url for s in store.iter_signals(run_id)] == [url]
    assert store.run_summary(run_id).pages == 3


def test_page_signals_are_batched_with_their_pages(store: Store) -> None:
    run_id = begin(store)
    with store.writer(run_id, batch_size=7) as writer:
        for n in range(40):
            writer.add_page(page(f"{SITE}/p/{n:03d}"))
    pages = list(store.iter_pages(run_id))
    assert len(pages) == 40
    for stored in pages:
        assert [s.page_url for s in stored.signals] == [stored.url, stored.url]
    assert len(list(store.iter_signals(run_id))) == 80


def test_signal_export_lists_page_signals_with_a_page_url(store: Store) -> None:
    run_id = begin(store)
    with store.writer(run_id) as writer:
        writer.add_page(page(f"{SITE}/a.jpg"))  # a page whose URL sorts with the image's
        writer.add_image(image(f"{SITE}/a.jpg"))
        writer.add_image(image(f"{CDN}/z.jpg", site=CDN))
    rows = [(s.image_url, s.page_url, s.mechanism) for s in store.iter_signals(run_id)]
    assert rows == [
        (f"{CDN}/z.jpg", None, "robots"),
        (f"{CDN}/z.jpg", None, "x_robots_tag"),
        (None, f"{SITE}/a.jpg", "tdmrep.html"),  # page-level first on a tie of subject URL
        (None, f"{SITE}/a.jpg", "x_robots_tag"),
        (f"{SITE}/a.jpg", None, "robots"),
        (f"{SITE}/a.jpg", None, "x_robots_tag"),
    ]
    exported = next(s for s in store.iter_signals(run_id) if s.page_url is not None)
    assert exported.to_json()["image_url"] is None
    assert exported.to_json()["page_url"] == f"{SITE}/a.jpg"
    assert "page_url" not in exported.to_json(with_image_url=False)
    assert exported.to_record() == page(f"{SITE}/a.jpg").signals[1]
    # Image signals are not mixed into the page, nor page signals into the image.
    (stored_page,) = store.iter_pages(run_id)
    assert {s.mechanism for s in stored_page.signals} == {"x_robots_tag", "tdmrep.html"}
    stored_image = next(i for i in store.iter_images(run_id) if i.url == f"{SITE}/a.jpg")
    assert [s.page_url for s in stored_image.signals] == [None, None]


# -- the signals table -----------------------------------------------------------------------


def _ids(store: Store, run_id: int) -> tuple[int, int]:
    with store.engine.connect() as connection:
        image_id = connection.exec_driver_sql("SELECT min(id) FROM images").scalar()
        page_id = connection.exec_driver_sql("SELECT min(id) FROM pages").scalar()
    assert isinstance(image_id, int)
    assert isinstance(page_id, int)
    return image_id, page_id


def test_a_signal_cannot_belong_to_an_image_and_a_page(store: Store) -> None:
    run_id = begin(store)
    with store.writer(run_id) as writer:
        writer.add_page(page(f"{SITE}/"))
        writer.add_image(image(f"{SITE}/a.jpg"))
    image_id, page_id = _ids(store, run_id)
    insert = text(
        "INSERT INTO signals (run_id, image_id, page_id, mechanism, scope, source_url) "
        "VALUES (:run, :image, :page, 'robots', 'origin', :url)"
    )
    values = {"run": run_id, "image": image_id, "page": page_id, "url": SITE}
    with pytest.raises(IntegrityError, match="CHECK"), store.engine.begin() as connection:
        connection.execute(insert, values)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), store.engine.begin() as connection:
        connection.execute(insert, {**values, "image": None, "page": page_id + 99})
    # Either one alone, or neither (a run-level record), is accepted.
    with store.engine.begin() as connection:
        connection.execute(insert, {**values, "image": None})
        connection.execute(insert, {**values, "page": None})
        connection.execute(insert, {**values, "image": None, "page": None})


def test_deleting_a_page_deletes_its_signals(store: Store) -> None:
    run_id = begin(store)
    with store.writer(run_id) as writer:
        writer.add_page(page(f"{SITE}/"))
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM pages")
    assert list(store.iter_signals(run_id)) == []


def test_signals_by_mechanism_view(store: Store) -> None:
    run_id = begin(store)
    with store.writer(run_id) as writer:
        writer.add_page(page(f"{SITE}/"))
        writer.add_image(image(f"{SITE}/a.jpg"))
        writer.add_image(image(f"{SITE}/b.jpg"))
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT mechanism, scope, evaluation, count FROM signals_by_mechanism "
            "WHERE run_id = ? ORDER BY mechanism, scope",
            (run_id,),
        ).all()
    assert [tuple(row) for row in rows] == [
        ("robots", "origin", "evaluated", 2),
        ("tdmrep.html", "page", "evaluated", 1),
        ("x_robots_tag", "page", "evaluated", 1),
        ("x_robots_tag", "response", "evaluated", 2),
    ]


# -- sites -----------------------------------------------------------------------------------


def test_origin_files_round_trip_and_later_calls_update_only_their_kinds(store: Store) -> None:
    run_id = begin(store)
    robots = OriginFileRecord("robots", "parsed", 200, "r" * 64, AT)
    tdmrep = OriginFileRecord("tdmrep", "unavailable", 404, None, AT)
    ai_txt = OriginFileRecord("ai_txt", "invalid", 200, "a" * 64, AT)
    with store.writer(run_id) as writer:
        writer.add_site(SITE, [robots, OriginFileRecord("tdmrep", "unreachable", None, None, AT)])
        writer.add_site(SITE, [tdmrep])  # same buffer: merged, tdmrep replaced
        writer.add_page(page(f"{CDN}/", site=CDN))  # a site known only from a page
        writer.flush()
        writer.add_site(SITE, [ai_txt])  # a later flush: robots and tdmrep stay
        writer.add_site(CDN, [])
    sites = {site.origin: site for site in store.iter_sites(run_id)}
    assert list(sites) == [CDN, SITE]
    assert sites[SITE].files == (robots, tdmrep, ai_txt)
    assert sites[SITE].file("ai_txt") == ai_txt
    assert sites[CDN].files == ()
    assert sites[CDN].file("robots") is None

    with store.writer(run_id) as writer:
        writer.add_site(SITE, [OriginFileRecord("robots", "unreachable", None, None, AT)])
    (site,) = [s for s in store.iter_sites(run_id) if s.origin == SITE]
    assert site.files[0] == OriginFileRecord("robots", "unreachable", None, None, AT)
    assert site.files[1:] == (tdmrep, ai_txt)


def test_unknown_origin_file_kinds_are_rejected(store: Store) -> None:
    with store.writer(begin(store)) as writer, pytest.raises(ValueError, match="'humans_txt'"):
        writer.add_site(SITE, [OriginFileRecord("humans_txt", "parsed", 200, None, AT)])


# -- images ----------------------------------------------------------------------------------


def test_usage_conflicts_xmp_and_c2pa_round_trip(store: Store) -> None:
    run_id = begin(store)
    usage = {**ALL_UNKNOWN, "crawl": Verdict.ALLOWED, "ai-train": Verdict.DISALLOWED}
    original = dataclasses.replace(
        image(f"{SITE}/a.jpg", gps=True, usage=usage),
        facts=facts(gps=True, xmp=xmp_facts(), c2pa=c2pa_facts()),
        usage_conflicts=(Purpose.AI_TRAIN, "tdm"),
    )
    examined_nothing = dataclasses.replace(
        image(f"{SITE}/b.jpg", usage=ALL_UNKNOWN),
        facts=facts(xmp=XmpFacts(), c2pa=C2paFacts(present=False)),
    )
    not_fetched = image(f"{SITE}/c.jpg", fetched=False, signals=(), usage=ALL_UNKNOWN)
    with store.writer(run_id) as writer:
        for record in (original, examined_nothing, not_fetched):
            writer.add_image(record)
    first, second, third = store.iter_images(run_id)

    assert first.usage_conflicts == ("ai-train", "tdm")
    assert first.xmp == xmp_facts()
    assert first.c2pa == c2pa_facts()
    assert first.xmp is not None
    assert first.xmp.data_mining[0] == DataMiningValue(
        "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED", "resource"
    )
    assert first.xmp.rights_owners == ("Jo Photographer",)  # personal data kept as found
    assert first.to_record() == dataclasses.replace(original, usage_conflicts=("ai-train", "tdm"))

    assert second.xmp == XmpFacts()  # examined, nothing found: not the same as None
    assert second.c2pa == C2paFacts(present=False)
    assert second.usage_conflicts == ()
    assert second.to_record() == examined_nothing

    assert (third.xmp, third.c2pa) == (None, None)
    assert third.to_record() == not_fetched

    data = first.to_json()
    assert data["usage_conflicts"] == ["ai-train", "tdm"]
    assert data["xmp"]["data_mining"] == [
        {"value": "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED", "form": "resource"},
        {"value": "DMI-PROHIBITED-AIMLTRAINING", "form": "text"},
    ]
    assert data["c2pa"]["training_mining"][1]["active"] is False
    assert data["c2pa"]["training_mining"][0]["entries"][1]["constraint_info"] == "ask first"
    assert third.to_json()["xmp"] is None


def test_facts_without_xmp_or_c2pa_are_stored_as_null(store: Store) -> None:
    run_id = begin(store)
    with store.writer(run_id) as writer:
        writer.add_image(image(f"{SITE}/a.jpg"))
    with store.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT usage_conflicts_json, xmp_json, c2pa_json FROM images"
        ).one()
    assert tuple(row) == ("[]", None, None)


def test_unknown_conflict_purposes_are_rejected(store: Store) -> None:
    record = dataclasses.replace(image(f"{SITE}/a.jpg"), usage_conflicts=("facial-recognition",))
    with store.writer(begin(store)) as writer, pytest.raises(ValueError, match="usage conflicts"):
        writer.add_image(record)


def test_facts_from_json_ignores_unknown_keys_and_defaults_missing_ones() -> None:
    stored = {"locations": ["png_itxt"], "from_a_newer_extractor": 1, "data_mining": []}
    assert facts_from_json(XmpFacts, stored) == XmpFacts(locations=("png_itxt",))
    assert facts_from_json(C2paFacts, {"present": True}) == C2paFacts(present=True)


@given(st.from_type(XmpFacts), st.from_type(C2paFacts))
def test_any_embedded_facts_survive_the_json_round_trip(xmp: XmpFacts, c2pa: C2paFacts) -> None:
    for value in (xmp, c2pa):
        stored = dumps(value)  # as the writer stores it: the encoder walks the fields itself
        assert stored == dumps(dataclasses.asdict(value))
        assert facts_from_json(type(value), json.loads(stored)) == value
