"""Hostile input: decompression bombs, frame floods, truncation, non-images, exotic formats."""

from __future__ import annotations

import struct
import time
from io import BytesIO

import pytest
from PIL import Image, ImageFile

from auditor.extract import ExtractLimits, extract_image

from . import encode, fixture_bytes, png_claiming, spy_on_decoders


def test_png_header_claiming_50000_squared_is_a_bomb_without_decoding() -> None:
    data = png_claiming(50_000, 50_000)
    assert len(data) < 100
    started = time.perf_counter()
    facts = extract_image(data)
    elapsed = time.perf_counter() - started
    # 2.5 Gpx: Pillow itself refuses at open (above 2 x MAX_IMAGE_PIXELS); the header is still
    # read so the claim is recorded as evidence. Decoding would need 7.5 GB and minutes.
    assert facts.error == "decompression_bomb"
    assert (facts.format, facts.width, facts.height) == ("PNG", 50_000, 50_000)
    assert facts.phash is None
    assert elapsed < 1.0


def test_bomb_between_pillows_warning_and_error_thresholds() -> None:
    # 100 Mpx is above MAX_IMAGE_PIXELS (Pillow would only warn) and below 2x (Pillow's error).
    # It is refused, the header's claim is kept, and no warning escapes (pytest turns warnings
    # into errors in this project, so an escaped warning would fail this test).
    facts = extract_image(png_claiming(10_000, 10_000))
    assert facts.error == "decompression_bomb"
    assert (facts.width, facts.height) == (10_000, 10_000)
    assert facts.error_detail is not None
    assert "10000x10000" in facts.error_detail


def ico_around(png: bytes) -> bytes:
    """An .ico whose directory says 16x16 while the embedded PNG says something else."""
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(png), 22)
    return header + entry + png


@pytest.mark.parametrize("side", [10_000, 50_000])
def test_bomb_hidden_in_an_ico_entry(side: int, monkeypatch: pytest.MonkeyPatch) -> None:
    decoders = spy_on_decoders(monkeypatch)
    # Pillow decodes ICO entries at open, before any header check of ours could run; its own
    # alarm (warning or error) must stop that, and nothing may be decoded.
    facts = extract_image(ico_around(png_claiming(side, side)))
    assert facts.error == "decompression_bomb"
    assert decoders == []


def test_ordinary_ico() -> None:
    data = encode(Image.new("RGBA", (32, 32), (255, 0, 0, 128)), "ICO", sizes=[(32, 32)])
    facts = extract_image(data)
    assert (facts.format, facts.width, facts.height, facts.error) == ("ICO", 32, 32, None)
    assert facts.phash is not None


def test_max_pixels_is_checked_before_decoding_and_keeps_header_facts() -> None:
    facts = extract_image(fixture_bytes("photo.jpg"), ExtractLimits(max_pixels=640 * 480 - 1))
    assert facts.error == "decompression_bomb"
    assert (facts.format, facts.width, facts.height) == ("JPEG", 640, 480)
    assert facts.phash is None
    assert facts.exif is not None
    assert facts.exif.gps_present


def test_at_the_pixel_limit_is_fine() -> None:
    facts = extract_image(fixture_bytes("photo.jpg"), ExtractLimits(max_pixels=640 * 480))
    assert facts.error is None


def test_too_many_frames_is_recorded_not_decoded() -> None:
    data = fixture_bytes("anim.gif")
    facts = extract_image(data, ExtractLimits(max_frames=3))
    assert facts.error == "too_many_frames"
    assert facts.frames == 4
    assert facts.phash is None
    assert extract_image(data, ExtractLimits(max_frames=4)).error is None


def test_animated_webp_frame_count() -> None:
    frames = [Image.new("RGB", (32, 32), (i * 60, 20, 200 - i * 60)) for i in range(3)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50)
    facts = extract_image(data)
    assert (facts.format, facts.frames, facts.error) == ("WEBP", 3, None)
    assert facts.phash is not None


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"hello world", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"\xff\xd8"],
    ids=["empty", "nul", "text", "svg", "jpeg-magic-only"],
)
def test_not_an_image(data: bytes) -> None:
    facts = extract_image(data)
    assert facts.error in {"not_an_image", "corrupt", "truncated"}
    assert facts.size_bytes == len(data)
    assert (facts.width, facts.phash, facts.exif) == (None, None, None)


def test_html_with_a_jpg_name_is_not_an_image() -> None:
    facts = extract_image(fixture_bytes("notimage.jpg"))
    assert (facts.error, facts.format, facts.mime) == ("not_an_image", None, None)


def test_truncated_png_and_webp() -> None:
    image = Image.effect_mandelbrot((200, 150), (-2, -1.5, 1, 1.5), 50).convert("RGB")
    png = encode(image, "PNG")
    webp = encode(image, "WEBP", quality=80)
    png_facts = extract_image(png[: len(png) // 2])
    assert (png_facts.error, png_facts.width, png_facts.height) == ("truncated", 200, 150)
    assert extract_image(webp[: len(webp) // 2]).error == "truncated"


def test_truncation_does_not_switch_on_pillows_global() -> None:
    before = (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS)
    extract_image(fixture_bytes("truncated.jpg"))
    extract_image(png_claiming(50_000, 50_000))
    extract_image(png_claiming(10_000, 10_000))
    assert before == (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS)
    assert before[0] is False


def test_formats_outside_the_web_set_are_identified_but_not_decoded() -> None:
    data = encode(Image.new("RGB", (30, 20), (1, 2, 3)), "PPM")
    facts = extract_image(data)
    assert (facts.format, facts.width, facts.height) == ("PPM", 30, 20)
    assert facts.error == "unsupported_format"
    assert facts.phash is None


def test_corrupt_pixel_data_keeps_header_facts() -> None:
    png = bytearray(encode(Image.new("RGB", (64, 64), (9, 9, 9)), "PNG"))
    idat = png.index(b"IDAT")
    png[idat + 4 : idat + 12] = b"\xff" * 8  # wreck the zlib stream (CRC left stale too)
    facts = extract_image(bytes(png))
    assert facts.error in {"corrupt", "truncated"}
    assert (facts.format, facts.width, facts.height) == ("PNG", 64, 64)


def test_error_detail_is_one_short_line() -> None:
    for data in (fixture_bytes("truncated.jpg"), png_claiming(50_000, 50_000), b"junk"):
        detail = extract_image(data).error_detail
        assert detail is not None
        assert "\n" not in detail
        assert len(detail) <= 300


@pytest.mark.parametrize(
    "kwargs",
    [{"max_pixels": 0}, {"max_frames": 0}, {"reduce_to": 0}, {"hash_size": 1}],
)
def test_impossible_limits_are_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="ExtractLimits"):
        ExtractLimits(**kwargs)


def test_icc_and_cmyk_jpeg() -> None:
    cmyk = Image.new("CMYK", (80, 60), (0, 128, 255, 10))
    facts = extract_image(encode(cmyk, "JPEG"))
    assert (facts.format, facts.error) == ("JPEG", None)
    assert facts.phash is not None


def test_palette_with_transparency_and_16_bit_png() -> None:
    palette = Image.new("P", (40, 40), 3)
    palette.info["transparency"] = 3
    sixteen = Image.new("I;16", (40, 40), 4000)
    for image in (palette, sixteen):
        facts = extract_image(encode(image, "PNG"))
        assert facts.error is None, facts.error_detail
        assert facts.phash is not None


def test_bytes_like_input() -> None:
    data = fixture_bytes("plain.jpg")
    expected = extract_image(data)
    assert extract_image(bytearray(data)) == expected  # type: ignore[arg-type]
    assert extract_image(memoryview(data)) == expected  # type: ignore[arg-type]
    assert extract_image(BytesIO(data).getbuffer()) == expected  # type: ignore[arg-type]
