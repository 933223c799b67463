"""The reduced-scale decodes (JPEG draft mode) and the perceptual hash computed on them."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import imagehash
import pytest
from PIL import Image, ImageDraw, JpegImagePlugin

from auditor.extract import ExtractLimits, ImageContext, extract_image
from auditor.extract.imagefacts import identity_facts, prepare
from auditor.extract.phash import phash_distance

from . import encode, fixture_bytes, spy_on_decoders


def full_decode_phash(data: bytes) -> str:
    with Image.open(BytesIO(data)) as image:
        image.load()
        return str(imagehash.phash(image))


def context_of(data: bytes, limits: ExtractLimits | None = None) -> ImageContext:
    context, facts = prepare(data, limits or ExtractLimits(), identity_facts(data))
    assert facts.error is None
    assert context is not None
    return context


@pytest.mark.parametrize("name", ["photo.jpg", "large-progressive.jpg"])
def test_phash_of_the_draft_decode_equals_the_full_decode(name: str) -> None:
    # Stated precisely: for these JPEG fixtures the hashes are identical (distance 0).
    data = fixture_bytes(name)
    assert extract_image(data).phash == full_decode_phash(data)


@pytest.mark.parametrize("name", ["photo.webp", "graphic.png", "anim.gif", "plain.jpg"])
def test_phash_of_the_reduced_decode_is_close_to_the_full_decode(name: str) -> None:
    data = fixture_bytes(name)
    phash = extract_image(data).phash
    assert phash is not None
    assert phash_distance(phash, full_decode_phash(data)) <= 2


def phash_of(name: str) -> str:
    phash = extract_image(fixture_bytes(name)).phash
    assert phash is not None
    return phash


def test_near_duplicate_is_near() -> None:
    assert phash_distance(phash_of("photo.jpg"), phash_of("photo-resized.jpg")) <= 4
    assert phash_distance(phash_of("photo.jpg"), phash_of("photo.webp")) <= 4


def test_different_images_are_far() -> None:
    assert phash_distance(phash_of("photo.jpg"), phash_of("graphic.png")) >= 20
    assert phash_distance(phash_of("photo.jpg"), phash_of("anim.gif")) >= 20


def test_jpeg_hash_decode_is_a_small_luma_draft() -> None:
    context = context_of(fixture_bytes("large-progressive.jpg"))
    assert (context.width, context.height) == (2000, 1500)
    assert context.gray is not None
    assert context.gray.size == (250, 188)  # libjpeg decoded luma only, at 1/8 scale
    assert context.gray.mode == "L"


def test_jpeg_faces_decode_is_a_draft_bounded_by_reduce_to() -> None:
    context = context_of(fixture_bytes("large-progressive.jpg"))
    assert context.reduced is not None
    assert context.reduced.size == (512, 384)
    assert context.reduced.mode == "RGB"


def test_draft_target_keeps_the_aspect_ratio_of_panoramas(monkeypatch: pytest.MonkeyPatch) -> None:
    strip = Image.linear_gradient("L").resize((4000, 100)).convert("RGB")
    data = encode(strip, "JPEG", quality=30)
    drafts = spy_on_drafts(monkeypatch)
    context = context_of(data)
    # The faces decode asks for 512x13: 1/4 scale (1000x25), not 1/1 as a square target gives.
    assert drafts == [("RGB", (512, 13))]
    assert context.reduced is not None
    assert context.reduced.size == (512, 13)
    assert context.gray is not None
    assert context.gray.size == (4000, 100)  # a short side under 128 px: hashed as it is


def spy_on_drafts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[int, int]]]:
    """Record every JPEG draft request that changes the decode scale or mode."""
    calls: list[tuple[str, tuple[int, int]]] = []
    real = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: Any) -> Any:
        result = real(self, mode, size)
        if result is not None:
            calls.append((str(mode), tuple(size)))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    return calls


def test_small_images_are_not_enlarged() -> None:
    context = context_of(fixture_bytes("anim.gif"))
    assert context.reduced is not None
    assert context.reduced.size == (64, 64)
    assert context.gray is not None
    assert context.gray.size == (64, 64)


def test_non_jpeg_is_loaded_once_and_both_decodes_derived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = Image.new("RGBA", (1200, 800), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((100, 100, 1100, 700), fill=(200, 30, 30, 255))
    data = encode(image, "PNG")
    decoders = spy_on_decoders(monkeypatch)
    context = context_of(data)
    assert decoders == ["zip"]
    assert context.reduced is not None
    assert (context.reduced.size, context.reduced.mode) == ((512, 341), "RGB")
    assert context.gray is not None
    assert (context.gray.size, context.gray.mode) == ((300, 200), "L")  # box-reduced by 4


def test_very_large_non_jpeg_is_box_reduced_for_the_hash() -> None:
    with Image.open(BytesIO(fixture_bytes("photo.jpg"))) as photo:
        data = encode(photo.resize((2800, 2100), Image.Resampling.BICUBIC), "PNG")
    context = context_of(data, ExtractLimits(detect_faces=False))
    assert context.gray is not None
    assert context.gray.size == (280, 210)  # reduced by 10, keeping the short side >= 192
    phash = extract_image(data).phash
    assert phash is not None
    assert phash_distance(phash, full_decode_phash(data)) <= 2


DECODE_FIXTURES = ["photo.jpg", "large-progressive.jpg", "graphic.png", "anim.gif", "plain.jpg"]


@pytest.mark.parametrize("name", DECODE_FIXTURES)
def test_without_face_detection_exactly_one_decode(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoders = spy_on_decoders(monkeypatch)
    context = context_of(fixture_bytes(name), ExtractLimits(detect_faces=False))
    assert context.reduced is None
    assert context.gray is not None
    assert len(decoders) == 1, decoders


@pytest.mark.parametrize("name", DECODE_FIXTURES)
def test_with_face_detection_a_jpeg_gets_a_second_decode(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoders = spy_on_decoders(monkeypatch)
    facts = extract_image(fixture_bytes(name))
    assert facts.phash is not None
    assert len(decoders) == (2 if name.endswith(".jpg") else 1), decoders


@pytest.mark.parametrize("name", [*DECODE_FIXTURES, "photo.webp", "photo-resized.jpg"])
def test_phash_does_not_depend_on_face_detection(name: str) -> None:
    data = fixture_bytes(name)
    with_faces = extract_image(data).phash
    assert with_faces is not None
    assert extract_image(data, ExtractLimits(detect_faces=False)).phash == with_faces


def test_a_failed_faces_decode_is_recorded_and_the_hash_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(image: Image.Image, reduce_to: int) -> Image.Image:
        raise OSError("image file is truncated (3 bytes not processed)")

    monkeypatch.setattr("auditor.extract.imagefacts.faces_decode", broken)
    facts = extract_image(fixture_bytes("photo.jpg"))
    assert facts.error == "truncated"
    assert facts.phash is not None  # the hash's own decode succeeded
    assert facts.faces is None  # not examined: no pixels for the detector


def test_animation_hashes_the_first_frame_only() -> None:
    data = fixture_bytes("anim.gif")
    with Image.open(BytesIO(data)) as image:
        first = str(imagehash.phash(image.convert("RGB")))
        image.seek(3)
        last = str(imagehash.phash(image.convert("RGB")))
    assert first != last
    assert extract_image(data).phash == first


def test_hash_size_is_configurable() -> None:
    phash = extract_image(fixture_bytes("photo.jpg"), ExtractLimits(hash_size=16)).phash
    assert phash is not None
    assert len(phash) == 64


def test_reduce_to_is_configurable() -> None:
    context = context_of(fixture_bytes("photo.jpg"), ExtractLimits(reduce_to=100))
    assert context.reduced is not None
    assert context.reduced.size == (100, 75)
    assert context.gray is not None
    assert context.gray.size == (320, 240)  # the hash's draft does not follow reduce_to
