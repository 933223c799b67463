"""The image references the page phase finds, kept on disk until the image phase takes them.

Every image is examined with every page that embeds it, so all references are collected before
the first image is fetched. Held as Python objects, they made the crawling process grow with the
crawl: about 0.6 KB per image, 229 MB at 100,000 images (bench/README.md). Here they go to a
private temporary SQLite database (an empty file name: SQLite deletes it when the connection
closes, and keeps only a small page cache in memory), written in batches, and come back one
image at a time, in the order the images were first seen, each with its pages' contexts in the
order they were found and the target of the first page that referenced it.

The database is the crawl's scratch space, not the audit's store: nothing here outlives the run,
and a resumed run crawls its pages, and so collects its references, again.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from itertools import groupby
from typing import Final, Self

from auditor.errors import ScratchError
from auditor.model import ImageContext

BATCH: Final = 1000
"""References buffered before they are written (one ``executemany``)."""

_CREATE: Final = """
CREATE TABLE refs (
    seq INTEGER PRIMARY KEY, url TEXT NOT NULL, target INTEGER NOT NULL,
    page_url TEXT NOT NULL, kind TEXT NOT NULL, alt TEXT, license TEXT, credit_text TEXT,
    copyright_notice TEXT, acquire_license_page TEXT
)"""
_INSERT: Final = """
INSERT INTO refs (url, target, page_url, kind, alt, license, credit_text, copyright_notice,
                  acquire_license_page)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_URLS: Final = "SELECT url FROM refs GROUP BY url ORDER BY MIN(seq)"
_BY_IMAGE: Final = """
SELECT r.url, r.target, r.page_url, r.kind, r.alt, r.license, r.credit_text, r.copyright_notice,
       r.acquire_license_page
FROM refs AS r JOIN (SELECT url, MIN(seq) AS first FROM refs GROUP BY url) AS f ON r.url = f.url
ORDER BY f.first, r.seq"""


class ImageRefs:
    """Image URL -> (target of the first reference, every page context), on disk.

    Use as a context manager; :meth:`add` during the page phase, then :meth:`urls` and
    :meth:`drain` once. Not thread-safe: the crawl's event loop is its only user.
    """

    def __init__(self) -> None:
        with _scratch():
            # Private and on disk, deleted on close; autocommit: no transaction is held open.
            self._db = sqlite3.connect("", isolation_level=None)
            self._db.execute("PRAGMA journal_mode = OFF")  # scratch data: nothing to roll back
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute(_CREATE)
        self._pending: list[tuple[object, ...]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the scratch database."""
        self._pending.clear()
        self._db.close()

    def add(self, url: str, target: int, context: ImageContext) -> None:
        """Record that a page of ``target`` references ``url`` as ``context`` says."""
        self._pending.append(
            (
                url, target, context.page_url, context.kind, context.alt, context.license,
                context.credit_text, context.copyright_notice, context.acquire_license_page,
            )
        )  # fmt: skip
        if len(self._pending) >= BATCH:
            self._flush()

    def urls(self) -> list[str]:
        """Every image URL once, in the order first seen."""
        self._finish()
        with _scratch():
            return [url for (url,) in self._db.execute(_URLS)]

    def drain(
        self, done: frozenset[str] = frozenset()
    ) -> Iterator[tuple[str, int, tuple[ImageContext, ...]]]:
        """Yield each image not in ``done`` with its target and contexts, in the order first seen.

        One query streams the references grouped by image, so only the image being handed out
        is in memory. Meant to be consumed once; several consumers may share the iterator.
        """
        self._finish()
        with _scratch():
            rows = self._db.execute(_BY_IMAGE)
            for url, group in groupby(rows, key=lambda row: row[0]):
                references = list(group)
                if url in done:
                    continue
                contexts = tuple(ImageContext(*row[2:]) for row in references)
                yield url, references[0][1], contexts

    def _finish(self) -> None:
        """Write what is buffered and index the references by image (once the page phase ends)."""
        self._flush()
        with _scratch():
            self._db.execute("CREATE INDEX IF NOT EXISTS refs_url ON refs (url, seq)")

    def _flush(self) -> None:
        if self._pending:
            with _scratch():
                self._db.executemany(_INSERT, self._pending)
            self._pending.clear()


@contextlib.contextmanager
def _scratch() -> Iterator[None]:
    """Turn SQLite's errors (a full or unwritable temporary directory) into one-line advice."""
    try:
        yield
    except sqlite3.Error as exc:
        raise ScratchError(
            f"cannot keep the crawl's image references in the temporary directory: {exc}; "
            "free space there or point TMPDIR at a larger one"
        ) from exc
