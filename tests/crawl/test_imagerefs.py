"""Image references between the crawl's phases, kept in a scratch SQLite database (imagerefs)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.crawl.imagerefs import BATCH, ImageRefs
from auditor.errors import ScratchError
from auditor.model import ImageContext


def context(page: str, kind: str = "img", **rights: str) -> ImageContext:
    return ImageContext(page_url=page, kind=kind, **rights)


def test_images_come_back_once_in_first_seen_order_with_every_context() -> None:
    with ImageRefs() as refs:
        refs.add("https://a.test/1.jpg", 0, context("https://a.test/p1", alt="one"))
        refs.add("https://a.test/2.jpg", 0, context("https://a.test/p1", "srcset"))
        refs.add("https://b.test/3.jpg", 1, context("https://b.test/", "css"))
        refs.add("https://a.test/1.jpg", 1, context("https://b.test/", license="CC-BY-4.0"))
        assert refs.urls() == [
            "https://a.test/1.jpg",
            "https://a.test/2.jpg",
            "https://b.test/3.jpg",
        ]
        assert list(refs.drain()) == [
            (
                "https://a.test/1.jpg",
                0,  # the target of the first page that referenced it
                (context("https://a.test/p1", alt="one"),
                 context("https://b.test/", license="CC-BY-4.0")),
            ),
            ("https://a.test/2.jpg", 0, (context("https://a.test/p1", "srcset"),)),
            ("https://b.test/3.jpg", 1, (context("https://b.test/", "css"),)),
        ]  # fmt: skip


def test_every_field_of_a_context_survives_the_round_trip() -> None:
    full = ImageContext(
        page_url="https://a.test/p", kind="picture", alt="Ålesund, \u00e9t\u00e9 \U0001f600",
        license="https://creativecommons.org/licenses/by/4.0/", credit_text="Photo: K. Ng",
        copyright_notice="\u00a9 2026 K. Ng", acquire_license_page="https://a.test/licence",
    )  # fmt: skip
    with ImageRefs() as refs:
        refs.add("https://a.test/x.jpg", 3, full)
        assert list(refs.drain()) == [("https://a.test/x.jpg", 3, (full,))]


def test_done_images_are_left_out() -> None:
    with ImageRefs() as refs:
        for n in range(3):
            refs.add(f"https://a.test/{n}.jpg", 0, context("https://a.test/"))
        drained = [url for url, _, _ in refs.drain(frozenset({"https://a.test/1.jpg"}))]
    assert drained == ["https://a.test/0.jpg", "https://a.test/2.jpg"]


def test_more_references_than_one_batch_keep_their_order() -> None:
    count = BATCH * 2 + 7
    with ImageRefs() as refs:
        for n in range(count):
            refs.add(
                f"https://a.test/{n % (count // 2)}.jpg", n % 5, context(f"https://a.test/p{n}")
            )
        drained = list(refs.drain())
    assert [url for url, _, _ in drained] == [f"https://a.test/{n}.jpg" for n in range(count // 2)]
    first = drained[0]
    assert first[1] == 0
    assert [c.page_url for c in first[2]] == [
        "https://a.test/p0",
        f"https://a.test/p{count // 2}",
        f"https://a.test/p{count - 1}",
    ]


def test_consumers_sharing_the_iterator_each_get_different_images() -> None:
    with ImageRefs() as refs:
        for n in range(10):
            refs.add(f"https://a.test/{n}.jpg", 0, context("https://a.test/"))
        pending = refs.drain()
        first = [next(pending)[0] for _ in range(4)]
        rest = [url for url, _, _ in pending]
    assert first + rest == [f"https://a.test/{n}.jpg" for n in range(10)]


def test_nothing_collected_drains_nothing() -> None:
    with ImageRefs() as refs:
        assert refs.urls() == []
        assert list(refs.drain()) == []


def test_a_closed_store_refuses_further_use() -> None:
    refs = ImageRefs()
    refs.add("https://a.test/1.jpg", 0, context("https://a.test/"))
    refs.close()
    with pytest.raises(ScratchError, match="closed"):
        refs.urls()


@pytest.fixture
def full_tmpdir(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs: a real temporary directory that really fills up."""
    point = tmp_path / "tmp"
    point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point)],
        capture_output=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); cannot fill a temporary dir")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


# SQLite reads SQLITE_TMPDIR once per process, so the collecting runs in a fresh one.
_COLLECT = """
from auditor.crawl.imagerefs import ImageRefs
from auditor.errors import ScratchError
from auditor.model import ImageContext
context = ImageContext("https://a.test/", "img", "x" * 500)
with ImageRefs() as refs:
    try:
        for n in range(20_000):
            refs.add(f"https://a.test/{n}.jpg", 0, context)
        refs.urls()
    except ScratchError as exc:
        print(exc)
"""


def test_a_full_temporary_directory_is_one_line_of_advice(full_tmpdir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _COLLECT], capture_output=True, text=True, check=False,
        env={"SQLITE_TMPDIR": str(full_tmpdir), "PATH": "/usr/bin:/bin"}, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cannot keep the crawl's image references")
    assert "full" in done.stdout
    assert "TMPDIR" in done.stdout
