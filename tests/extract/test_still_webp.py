"""Still WebPs decoded by libwebp's plain decoder (imagecodecs): Pillow's pixels, for less CPU.

The hash and the face detector must not be able to tell which decoder ran, so every kind of
still WebP is compared with Pillow's own decode pixel for pixel; animations are left to Pillow.
"""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from auditor.extract import ExtractLimits, extract_image
from auditor.extract.pixels import hash_decode, still_webp

from . import encode, fixture_bytes

HASH_SIZE = ExtractLimits().hash_size
EXIF = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"


def picture(mode: str) -> Image.Image:
    image = Image.effect_mandelbrot((160, 120), (-2, -1.5, 1, 1.5), 60).convert("RGB")
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(image.size))
    return image


def pillow_decode(data: bytes) -> Image.Image:
    with Image.open(BytesIO(data)) as image:
        image.load()
        return image.copy()


STILLS = {
    "lossy": (encode(picture("RGB"), "WEBP", quality=80), b"VP8 "),
    "lossless": (encode(picture("RGB"), "WEBP", lossless=True), b"VP8L"),
    "alpha-lossy": (encode(picture("RGBA"), "WEBP", quality=80), b"VP8X"),
    "alpha-lossless": (encode(picture("RGBA"), "WEBP", lossless=True), b"VP8L"),
    "extended-with-exif": (encode(picture("RGB"), "WEBP", exif=EXIF), b"VP8X"),
    "fixture": (fixture_bytes("photo.webp"), None),
}


@pytest.mark.parametrize("name", STILLS)
def test_a_still_webp_decodes_to_pillows_pixels(name: str) -> None:
    data, chunk = STILLS[name]
    assert chunk is None or data[12:16] == chunk  # each container layout is really covered
    decoded = still_webp(data)
    assert decoded is not None
    expected = pillow_decode(data)
    assert (decoded.mode, decoded.size) == (expected.mode, expected.size)
    assert decoded.tobytes() == expected.tobytes()


def test_an_animation_is_left_to_pillow() -> None:
    frames = [picture("RGB"), picture("RGBA")]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50)
    assert data[12:16] == b"VP8X"
    assert data[20] & 0x02  # the animation flag
    assert still_webp(data) is None
    facts = extract_image(data)
    assert (facts.frames, facts.error) == (2, None)
    assert facts.phash is not None


def test_the_hash_of_a_still_webp_is_the_hash_of_pillows_decode() -> None:
    import imagehash  # noqa: PLC0415 - as the extractor does

    for data, _chunk in STILLS.values():
        gray = hash_decode(pillow_decode(data), HASH_SIZE)
        assert extract_image(data).phash == str(imagehash.phash(gray, hash_size=HASH_SIZE))


def test_a_corrupt_bitstream_is_corrupt_and_a_short_file_truncated() -> None:
    data = bytearray(STILLS["lossy"][0])
    data[30:34] = b"\xff" * 4  # inside the first partition: the header opens, the frame cannot
    corrupt = extract_image(bytes(data))
    assert (corrupt.format, corrupt.width, corrupt.height) == ("WEBP", 160, 120)
    assert corrupt.error == "corrupt"
    assert corrupt.error_detail is not None
    assert corrupt.error_detail.startswith("cannot decode")
    whole = STILLS["lossless"][0]
    assert extract_image(whole[: len(whole) - 200]).error == "truncated"
