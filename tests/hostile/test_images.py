"""Hostile images: bombs, huge claims, truncation, corruption, wrong types, frame floods, XML
entity attacks in XMP, malformed EXIF and oversized C2PA boxes.

The shared audit crawls every case site of ``fixtures/hostile/images/``; each test checks that its
hostile image became a recorded image with a clear ``extract_error`` (or embedded-metadata
error), that nothing was decoded it should not have been, and that the good photo and page on
the same site were recorded as usual.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .harness import HostileRun, Record, verdict
from .payloads import GOOD_JPEG


@pytest.fixture
def run(hostile_run: HostileRun) -> HostileRun:
    return hostile_run


def extract_error(run: HostileRun, case: str, path: str) -> tuple[str | None, str | None]:
    image = run.image(run.url(case, path))
    assert image is not None, f"{path} was not recorded"
    assert image["fetched"], f"{path} was not fetched: {image['skip_reason']}"
    return image["extract_error"], image["extract_error_detail"]


@pytest.mark.parametrize(
    ("case", "path", "dimensions"),
    [
        pytest.param("images/bomb", "/bomb.png", (50_000, 50_000), id="png-50000-squared"),
        pytest.param(
            "images/huge_dimensions", "/huge.jpg", (65_000, 65_000), id="jpeg-65000-squared"
        ),
    ],
)
def test_pixel_bombs_are_refused_before_decoding(
    run: HostileRun, record_property: Record, case: str, path: str, dimensions: tuple[int, int]
) -> None:
    error, detail = extract_error(run, case, path)
    image = run.image(run.url(case, path)) or {}
    verdict(
        record_property, run, case,
        survived=error == "decompression_bomb"
        and (image["width"], image["height"]) == dimensions  # the claim is kept as evidence
        and image["phash"] is None,  # nothing was decoded
        why=f"{error}: {detail}",
    )  # fmt: skip


def test_truncated_image_is_an_error_fact(run: HostileRun, record_property: Record) -> None:
    error, detail = extract_error(run, "images/truncated", "/cut.jpg")
    verdict(
        record_property, run, "images/truncated", survived=error == "truncated", why=str(detail)
    )


def test_corrupt_images_are_error_facts(run: HostileRun, record_property: Record) -> None:
    noise = extract_error(run, "images/corrupt", "/noise.jpg")
    garbled = extract_error(run, "images/corrupt", "/garbled.png")
    verdict(
        record_property, run, "images/corrupt",
        survived=noise[0] == "not_an_image" and garbled[0] == "corrupt",
        why=f"noise: {noise}, garbled: {garbled}",
    )  # fmt: skip


def test_content_type_neither_trusted_nor_required(
    run: HostileRun, record_property: Record
) -> None:
    # The bytes decide what an image is: a JPEG sent as text/html or with no type is examined
    # (and its declared type kept as evidence); an HTML page sent as image/jpeg is no image.
    as_html = run.image(run.url("images/content_type", "/photo-as-html.jpg")) or {}
    untyped = run.image(run.url("images/content_type", "/untyped.jpg")) or {}
    fake = extract_error(run, "images/content_type", "/page-as-image.jpg")
    verdict(
        record_property, run, "images/content_type",
        survived=(as_html.get("format"), as_html.get("content_type")) == ("JPEG", "text/html")
        and (untyped.get("format"), untyped.get("content_type")) == ("JPEG", None)
        and fake[0] == "not_an_image",
        why=f"as html: {as_html.get('format')}, untyped: {untyped.get('format')}, fake: {fake}",
    )  # fmt: skip


def test_frame_flood_is_counted_not_decoded(run: HostileRun, record_property: Record) -> None:
    error, detail = extract_error(run, "images/frames", "/flood.gif")
    image = run.image(run.url("images/frames", "/flood.gif")) or {}
    verdict(
        record_property, run, "images/frames",
        survived=error == "too_many_frames" and image["frames"] == 3_000,
        why=f"{error}: {detail}",
    )  # fmt: skip


@pytest.mark.parametrize("path", ["/laughs.jpg", "/xxe.jpg"])
def test_xmp_entities_are_refused(run: HostileRun, record_property: Record, path: str) -> None:
    image = run.image(run.url("images/xmp_entities", path)) or {}
    xmp = json.loads(image.get("xmp_json") or "{}")
    verdict(
        record_property, run, "images/xmp_entities", label=path.strip("/").removesuffix(".jpg"),
        survived=image.get("fetched") == 1
        and str(xmp.get("error", "")).startswith("xml_forbidden")
        and image.get("width") == 400,  # the rest of the image was still examined
        why=f"xmp: {xmp}",
    )  # fmt: skip


def test_malformed_exif_is_an_error_fact(run: HostileRun, record_property: Record) -> None:
    error, detail = extract_error(run, "images/exif", "/exif.jpg")
    image = run.image(run.url("images/exif", "/exif.jpg")) or {}
    verdict(
        record_property, run, "images/exif",
        survived=error == "exif_malformed" and image["phash"] is not None,
        why=f"{error}: {detail}",
    )  # fmt: skip


def test_oversized_c2pa_box_is_an_error_fact(run: HostileRun, record_property: Record) -> None:
    image = run.image(run.url("images/c2pa", "/c2pa.jpg")) or {}
    c2pa = json.loads(image.get("c2pa_json") or "{}")
    verdict(
        record_property, run, "images/c2pa",
        survived=bool(c2pa.get("error")) and image.get("phash") is not None,
        why=f"c2pa: {c2pa}",
    )  # fmt: skip


def test_no_image_bytes_are_stored(run: HostileRun) -> None:
    # Hostile input must not change the store's promise: metadata and hashes, never bytes.
    assert GOOD_JPEG[100:164] not in Path(run.db).read_bytes()
