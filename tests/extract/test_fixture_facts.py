"""The facts extracted from every generated fixture image: found where present, absent where not."""

from __future__ import annotations

import hashlib

import pytest

from auditor.extract import ExifFacts, ImageFacts, extract_image

from . import fixture_bytes

# name -> (format, mime, width, height, frames, error)
EXPECTED = {
    "photo.jpg": ("JPEG", "image/jpeg", 640, 480, 1, None),
    "photo-resized.jpg": ("JPEG", "image/jpeg", 320, 240, 1, None),
    "photo.webp": ("WEBP", "image/webp", 640, 480, 1, None),
    "plain.jpg": ("JPEG", "image/jpeg", 400, 300, 1, None),
    "graphic.png": ("PNG", "image/png", 256, 256, 1, None),
    "anim.gif": ("GIF", "image/gif", 64, 64, 4, None),
    "large-progressive.jpg": ("JPEG", "image/jpeg", 2000, 1500, 1, None),
    "truncated.jpg": ("JPEG", "image/jpeg", 640, 480, 1, "truncated"),
    "notimage.jpg": (None, None, None, None, None, "not_an_image"),
}
WITH_EXIF = {"photo.jpg", "photo.webp", "truncated.jpg"}
NO_EXIF = {"photo-resized.jpg", "plain.jpg", "graphic.png", "anim.gif", "large-progressive.jpg"}
EMPTY_EXIF = ExifFacts(
    gps_present=False,
    gps_lat=None,
    gps_lon=None,
    datetime_original=None,
    camera_serial=None,
    artist=None,
    copyright=None,
    make=None,
    model=None,
)


def facts_of(name: str) -> ImageFacts:
    return extract_image(fixture_bytes(name))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_identity_is_always_recorded(name: str) -> None:
    data = fixture_bytes(name)
    facts = extract_image(data)
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert facts.size_bytes == len(data)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_facts(name: str) -> None:
    facts = facts_of(name)
    got = (facts.format, facts.mime, facts.width, facts.height, facts.frames, facts.error)
    assert got == EXPECTED[name]
    assert (facts.error_detail is None) == (facts.error is None)


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e[-1] is None))
def test_phash_found_for_every_decodable_image(name: str) -> None:
    phash = facts_of(name).phash
    assert phash is not None
    assert len(phash) == 16
    int(phash, 16)


@pytest.mark.parametrize("name", ["truncated.jpg", "notimage.jpg"])
def test_no_phash_without_a_complete_decode(name: str) -> None:
    assert facts_of(name).phash is None


@pytest.mark.parametrize("name", sorted(WITH_EXIF))
def test_exif_found(name: str) -> None:
    assert facts_of(name).exif == ExifFacts(
        gps_present=True,
        gps_lat=51.51,
        gps_lon=-0.13,
        datetime_original="2024:05:17 14:32:10",
        camera_serial="SN-0042-FIXTURE",
        artist="Jane Fixture",
        copyright="(c) 2024 Jane Fixture",
        make="Synthetic Optics",
        model="Fixture Cam 1",
    )


@pytest.mark.parametrize("name", sorted(NO_EXIF))
def test_exif_examined_and_absent(name: str) -> None:
    # Examined (an ExifFacts, not None) and nothing found: gps_present is False, not unknown.
    assert facts_of(name).exif == EMPTY_EXIF


def test_exif_unknown_when_not_an_image() -> None:
    assert facts_of("notimage.jpg").exif is None


def test_truncated_keeps_header_facts_and_says_why() -> None:
    facts = facts_of("truncated.jpg")
    assert facts.error == "truncated"
    assert facts.error_detail is not None
    assert "truncated" in facts.error_detail
    assert (facts.format, facts.width, facts.height) == ("JPEG", 640, 480)


def test_no_image_bytes_in_the_facts() -> None:
    facts = facts_of("photo.jpg")
    assert all(not isinstance(value, bytes | bytearray) for value in vars(facts).values())
