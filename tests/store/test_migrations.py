"""Upgrading databases that older auditors wrote: revision 0001 to the newest, data kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from sqlalchemy import Connection, inspect, text

from auditor.model import (
    Evaluation,
    ImageContext,
    OriginFileRecord,
    Outcome,
    PageRecord,
    Scope,
    Severity,
    SkipRecord,
    Verdict,
)
from auditor.store import Store, head_revision, open_store
from auditor.store.engine import alembic_config, create_store_engine, migrate

from . import AT, SITE, begin, image, populate, signal

IMAGE = f"{SITE}/a.jpg"
PAGE = f"{SITE}/gallery"


def _insert(connection: Connection, table: str, **values: object) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING id")  # noqa: S608
    new_id = connection.execute(statement, values).scalar()
    assert isinstance(new_id, int)
    return new_id


def _write_0001_run(store: Store) -> int:
    """Write a run the way revision 0001's writer did: only the columns 0001 has."""
    run_id = begin(store)
    with store.engine.begin() as connection:
        site_id = _insert(
            connection,
            "sites",
            run_id=run_id,
            origin=SITE,
            robots_status="parsed",
            robots_http_status=200,
            robots_sha256="r" * 64,
            robots_fetched_at=AT,
        )
        _insert(
            connection,
            "pages",
            run_id=run_id,
            site_id=site_id,
            url=PAGE,
            final_url=PAGE,
            depth=1,
            status=200,
            content_type="text/html",
            fetched_at=AT,
            title="Gallery",
            hreflang_json='[["en","https://photos.example.org/gallery"]]',
            meta_robots_json='[["robots","noai"]]',
            license_links_json="[]",
            image_count=1,
            link_count=0,
            truncated=False,
        )
        image_id = _insert(
            connection,
            "images",
            run_id=run_id,
            site_id=site_id,
            url=IMAGE,
            fetched=True,
            fetched_at=AT,
            status=200,
            content_type="image/jpeg",
            headers_json='[["x-robots-tag","noai"]]',
            size_bytes=2048,
            sha256="a" * 64,
            gps=False,
            usage_ai_train="disallowed",
            jurisdictions_json='{"UK":0.8}',
        )
        _insert(connection, "image_contexts", image_id=image_id, page_url=PAGE, kind="img")
        _insert(
            connection,
            "signals",
            run_id=run_id,
            image_id=image_id,
            mechanism="x_robots_tag",
            scope="response",
            source_url=IMAGE,
            raw_value="noai",
            purposes_json='{"ai-train":"disallowed"}',
            notes_json='["heuristic"]',
        )
        _insert(
            connection,
            "findings",
            run_id=run_id,
            rule_id="R-CRIT",
            pack="uk-gdpr",
            jurisdiction="UK",
            outcome="fail",
            severity="critical",
            subject="image",
            title="Critical rule",
            image_url=IMAGE,
            message="collected without permission",
            fingerprint="fp-1",
        )
        _insert(
            connection,
            "skips",
            run_id=run_id,
            url=f"{SITE}/x",
            kind="page",
            reason="timeout",
            at=AT,
        )
    return run_id


def _make_0001_database(path: Path) -> int:
    engine, where = create_store_engine(path, create=True)
    try:
        migrate(engine, where=where, create=True, revision="0001")
        with engine.connect() as connection:
            assert "page_id" not in {c["name"] for c in inspect(connection).get_columns("signals")}
        return _write_0001_run(Store(engine, where=where))
    finally:
        engine.dispose()


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0])


def test_a_0001_database_is_upgraded_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    run_id = _make_0001_database(path)
    assert _revision(path) == "0001"

    with open_store(path, create=False) as store:
        assert _revision(path) == head_revision() == "0007"
        (stored,) = store.iter_images(run_id)
        assert (stored.url, stored.sha256, stored.size_bytes, stored.gps) == (
            IMAGE,
            "a" * 64,
            2048,
            False,
        )
        assert stored.page_urls == (PAGE,)
        assert stored.usage["ai-train"] is Verdict.DISALLOWED
        assert stored.headers == (("x-robots-tag", "noai"),)
        assert (stored.usage_conflicts, stored.xmp, stored.c2pa) == ((), None, None)
        (kept,) = stored.signals
        assert (kept.mechanism, kept.scope, kept.evaluation) == (
            "x_robots_tag",
            Scope.RESPONSE,
            Evaluation.EVALUATED,
        )
        assert kept.purposes == {"ai-train": Verdict.DISALLOWED}

        (page,) = store.iter_pages(run_id)
        assert (page.url, page.title, page.meta_robots) == (PAGE, "Gallery", (("robots", "noai"),))
        assert (page.headers, page.tdm_meta, page.signals) == ((), (), ())

        (site,) = store.iter_sites(run_id)
        assert site.files == (OriginFileRecord("robots", "parsed", 200, "r" * 64, AT),)

        assert [(s.image_url, s.page_url) for s in store.iter_signals(run_id)] == [(IMAGE, None)]
        (finding,) = store.iter_findings(run_id)
        assert (finding.rule_id, finding.outcome, finding.severity) == (
            "R-CRIT",
            Outcome.FAIL,
            Severity.CRITICAL,
        )
        assert list(store.iter_skips(run_id)) == [
            SkipRecord(f"{SITE}/x", "page", "timeout", None, AT)
        ]
        with store.engine.connect() as connection:
            hits = connection.exec_driver_sql(
                "SELECT rowid FROM findings_fts WHERE findings_fts MATCH 'collected'"
            ).all()
            counts = connection.exec_driver_sql(
                "SELECT mechanism, count FROM signals_by_mechanism"
            ).all()
        assert len(hits) == 1  # the full-text index survived
        assert [tuple(row) for row in counts] == [("x_robots_tag", 1)]

        # The upgraded database takes the new records, in the run it already had.
        with store.writer(run_id) as writer:
            writer.add_site(SITE, [OriginFileRecord("ai_txt", "unavailable", 404, None, AT)])
            writer.add_page(
                PageRecord(
                    url=PAGE,
                    final_url=PAGE,
                    site=SITE,
                    depth=1,
                    status=200,
                    content_type="text/html",
                    fetched_at=AT,
                    headers=(("x-robots-tag", "noai"),),
                    signals=(signal("x_robots_tag", PAGE, ai_train=Verdict.DISALLOWED),),
                )
            )
            # The image again, now with both its page contexts (a later record replaces it).
            writer.add_image(
                image(
                    IMAGE,
                    pages=(PAGE,),
                    extra_contexts=(ImageContext(page_url=f"{SITE}/", kind="css"),),
                    signals=(signal("x_robots_tag", IMAGE, ai_train=Verdict.DISALLOWED),),
                )
            )
        (page,) = store.iter_pages(run_id)
        assert page.headers == (("x-robots-tag", "noai"),)
        assert [s.page_url for s in page.signals] == [PAGE]
        (site,) = store.iter_sites(run_id)
        assert [f.kind for f in site.files] == ["robots", "ai_txt"]
        (stored,) = store.iter_images(run_id)
        assert stored.page_urls == (PAGE, f"{SITE}/")
        assert len(stored.signals) == 1  # the new record's own signal; the page's stays apart


def test_an_upgraded_database_is_shaped_like_a_new_one(tmp_path: Path) -> None:
    _make_0001_database(tmp_path / "old.db")
    open_store(tmp_path / "old.db").close()
    open_store(tmp_path / "new.db").close()

    def schema(path: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(path) as connection:
            rows = connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
            ).fetchall()
        return [(str(name), str(sql)) for name, sql in rows]

    assert schema(tmp_path / "old.db") == schema(tmp_path / "new.db")


def test_downgrading_to_0001_keeps_image_signals_and_drops_page_signals(tmp_path: Path) -> None:
    with open_store(tmp_path / "audit.db") as store:
        run_id = begin(store)
        with store.writer(run_id) as writer:
            writer.add_page(
                PageRecord(
                    url=PAGE,
                    final_url=PAGE,
                    site=SITE,
                    depth=0,
                    status=200,
                    content_type="text/html",
                    fetched_at=AT,
                    signals=(signal("x_robots_tag", PAGE),),
                )
            )
            writer.add_image(image(IMAGE))
        with store.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0001")
        with store.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("signals")}
            kept = connection.exec_driver_sql("SELECT count(*) FROM signals").scalar()
            images = connection.exec_driver_sql("SELECT count(*) FROM images").scalar()
            contexts = connection.exec_driver_sql("SELECT count(*) FROM image_contexts").scalar()
            views = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name"
            ).all()
        assert "page_id" not in columns
        assert (kept, images, contexts) == (2, 1, 1)  # the image's two signals, nothing cascaded
        assert [row[0] for row in views] == ["findings_by_severity", "images_without_permission"]
    assert _revision(tmp_path / "audit.db") == "0001"
    with open_store(tmp_path / "audit.db") as store:  # and up again
        (stored,) = store.iter_images(run_id)
        assert len(stored.signals) == 2


def test_the_runner_never_goes_backwards(tmp_path: Path) -> None:
    with open_store(tmp_path / "audit.db") as store:
        run_id = populate(store)
    engine, where = create_store_engine(tmp_path / "audit.db", create=False)
    try:
        migrate(engine, where=where, create=False, revision="0001")
    finally:
        engine.dispose()
    assert _revision(tmp_path / "audit.db") == head_revision()
    with open_store(tmp_path / "audit.db", create=False) as store:
        assert len(list(store.iter_images(run_id))) == 3
