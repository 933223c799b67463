"""The one reduced decode (JPEG draft mode) and the perceptual hash computed on it."""

from __future__ import annotations

from io import BytesIO

import imagehash
import pytest
from PIL import Image, ImageDraw

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


def test_jpeg_is_decoded_in_draft_mode_then_bounded() -> None:
    context = context_of(fixture_bytes("large-progressive.jpg"))
    assert (context.width, context.height) == (2000, 1500)
    assert context.image.size == (1000, 750)  # libjpeg decoded at 1/2 scale
    assert context.reduced is not None
    assert context.reduced.size == (512, 384)
    assert context.reduced.mode == "RGB"


def test_draft_target_keeps_the_aspect_ratio_of_panoramas() -> None:
    strip = Image.linear_gradient("L").resize((4000, 100)).convert("RGB")
    context = context_of(encode(strip, "JPEG", quality=30))
    assert context.image.size == (1000, 25)  # 1/4 scale, not 1/1 as a square target would give
    assert context.reduced is not None
    assert context.reduced.size == (512, 13)


def test_small_images_are_not_enlarged() -> None:
    context = context_of(fixture_bytes("anim.gif"))
    assert context.reduced is not None
    assert context.reduced.size == (64, 64)


def test_non_jpeg_is_loaded_once_and_downscaled() -> None:
    image = Image.new("RGBA", (1200, 800), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((100, 100, 1100, 700), fill=(200, 30, 30, 255))
    context = context_of(encode(image, "PNG"))
    assert context.reduced is not None
    assert context.reduced.size == (512, 341)
    assert context.reduced.mode == "RGB"


@pytest.mark.parametrize(
    "name", ["photo.jpg", "large-progressive.jpg", "graphic.png", "anim.gif", "plain.jpg"]
)
def test_exactly_one_decode_per_image(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    decoders = spy_on_decoders(monkeypatch)
    facts = extract_image(fixture_bytes(name))
    assert facts.phash is not None
    assert len(decoders) == 1, decoders


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
    assert context.image.size == (160, 120)  # 1/4 draft scale
    assert context.reduced is not None
    assert context.reduced.size == (100, 75)
