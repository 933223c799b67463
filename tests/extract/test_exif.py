"""EXIF: GPS conversion and coarsening, text fields, fallbacks and malformed blocks."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, TiffImagePlugin

from auditor.extract import ExtractLimits, ImageFacts, clean_text, extract_image
from auditor.extract.exif import coarsen, dms_to_degrees

from . import encode, small_jpeg

Base, GPS, IFD = ExifTags.Base, ExifTags.GPS, ExifTags.IFD


def gps_exif(lat: object, lat_ref: str | None, lon: object, lon_ref: str | None) -> Image.Exif:
    exif = Image.Exif()
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitude] = lat
    gps[GPS.GPSLongitude] = lon
    if lat_ref is not None:
        gps[GPS.GPSLatitudeRef] = lat_ref
    if lon_ref is not None:
        gps[GPS.GPSLongitudeRef] = lon_ref
    return exif


def with_exif(exif: Image.Exif | bytes) -> ImageFacts:
    return extract_image(small_jpeg(exif))


def test_southern_and_eastern_hemispheres_are_signed_and_coarsened() -> None:
    # Sydney Opera House, 33 deg 51' 24.1" S, 151 deg 12' 54.6" E
    facts = with_exif(gps_exif((33.0, 51.0, 24.1), "S", (151.0, 12.0, 54.6), "E"))
    assert facts.exif is not None
    assert facts.exif.gps_present
    assert (facts.exif.gps_lat, facts.exif.gps_lon) == (-33.86, 151.22)
    assert facts.error is None


def test_gps_is_never_stored_finer_than_two_decimals() -> None:
    facts = with_exif(gps_exif((51.0, 30.0, 26.64), "N", (0.0, 7.0, 40.08), "W"))
    assert facts.exif is not None
    for value in (facts.exif.gps_lat, facts.exif.gps_lon):
        assert value is not None
        assert round(value, 2) == value
    assert facts.exif.gps_lat != pytest.approx(51.5074, abs=1e-4)


def test_decimal_degrees_in_a_single_rational() -> None:
    facts = with_exif(gps_exif((48.8566,), "N", (2.3522,), "E"))
    assert facts.exif is not None
    assert (facts.exif.gps_lat, facts.exif.gps_lon) == (48.86, 2.35)


def test_missing_hemisphere_reference_is_not_guessed() -> None:
    facts = with_exif(gps_exif((51.0, 30.0, 0.0), None, (0.0, 7.0, 0.0), "W"))
    assert facts.exif is not None
    assert facts.exif.gps_present
    assert facts.exif.gps_lat is None
    assert facts.exif.gps_lon == -0.12
    assert facts.error == "exif_malformed"
    assert facts.error_detail is not None
    assert "latitude" in facts.error_detail


def test_zero_denominator_and_out_of_range_values_are_dropped() -> None:
    zero = TiffImagePlugin.IFDRational(5, 0)
    facts = with_exif(gps_exif((zero, 0.0, 0.0), "N", (200.0, 0.0, 0.0), "E"))
    assert facts.exif is not None
    assert facts.exif.gps_present
    assert (facts.exif.gps_lat, facts.exif.gps_lon) == (None, None)
    assert facts.error == "exif_malformed"
    assert facts.phash is not None  # the rest of the image is still analysed


def test_gps_ifd_without_a_position_is_not_gps() -> None:
    exif = Image.Exif()
    exif.get_ifd(IFD.GPSInfo)[GPS.GPSVersionID] = b"\x02\x03\x00\x00"
    exif[Base.Artist] = "Someone"
    facts = with_exif(exif)
    assert facts.exif is not None
    assert not facts.exif.gps_present
    assert facts.exif.artist == "Someone"


def test_camera_serial_fallbacks() -> None:
    dng = Image.Exif()
    dng[Base.CameraSerialNumber] = "DNG-77"
    misplaced = Image.Exif()
    misplaced[Base.BodySerialNumber] = "IFD0-88"
    lens_only = Image.Exif()
    lens_only.get_ifd(IFD.Exif)[Base.LensSerialNumber] = "LENS-1"
    serials = [with_exif(e).exif for e in (dng, misplaced, lens_only)]
    assert [s.camera_serial if s else "?" for s in serials] == ["DNG-77", "IFD0-88", None]


def test_strings_are_cleaned_and_capped() -> None:
    exif = Image.Exif()
    exif[Base.Artist] = "A" * 5000
    exif[Base.Copyright] = "Jane Doe\x00Editor Ltd\x00\x00"
    exif[Base.Make] = "  \x1b[31mEvil\nCam\t  "
    exif[Base.Model] = "\x00\x00   "
    facts = with_exif(exif)
    assert facts.exif is not None
    assert facts.exif.artist == "A" * 1000
    assert facts.exif.copyright == "Jane Doe; Editor Ltd"
    assert facts.exif.make == "[31mEvil Cam"
    assert facts.exif.model is None


def test_clean_text_replaces_format_characters_and_decodes_bytes() -> None:
    assert clean_text("abc\u202edef") == "abc def"  # bidi override
    assert clean_text("Zoë".encode()) == "Zoë"
    assert clean_text(b"\xff\xfeok") == "\ufffd\ufffdok"
    assert clean_text(12345) is None
    assert clean_text(("a", "b")) is None
    assert clean_text("x" * 50, limit=10) == "x" * 10


def test_exif_in_png_and_webp() -> None:
    exif = Image.Exif()
    exif[Base.Artist] = "Png Person"
    image = Image.new("RGB", (40, 30), (10, 200, 30))
    for fmt in ("PNG", "WEBP"):
        facts = extract_image(encode(image, fmt, exif=exif))
        assert facts.exif is not None, fmt
        assert facts.exif.artist == "Png Person", fmt


MALFORMED = {
    "not a TIFF header": b"Exif\x00\x00" + b"\xde\xad\xbe\xef" * 8,
    "IFD claims 65535 entries": b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff",
    "IFD offset past the end": b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",
    "GPS IFD offset past the end": b"Exif\x00\x00II*\x00\x08\x00\x00\x00"
    + struct.pack("<HHHII", 1, 0x8825, 4, 1, 0x7FFFFFFF)
    + b"\x00\x00\x00\x00",
    "Artist data past the end": b"Exif\x00\x00II*\x00\x08\x00\x00\x00"
    + struct.pack("<HHHII", 1, 0x013B, 2, 5000, 0x7FFFF)
    + b"\x00\x00\x00\x00",
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_exif_is_recorded_not_raised(raw: bytes) -> None:
    facts = with_exif(raw)
    assert facts.error == "exif_malformed"
    assert facts.error_detail
    assert "\n" not in facts.error_detail
    assert (facts.format, facts.width, facts.height) == ("JPEG", 48, 32)
    assert facts.phash is not None
    if facts.exif is not None:
        assert not facts.exif.gps_present


def test_exif_read_from_the_header_of_an_image_that_is_not_decoded() -> None:
    exif = Image.Exif()
    exif[Base.Artist] = "Header Only"
    data = small_jpeg(exif)
    facts = extract_image(data, ExtractLimits(max_pixels=100))
    assert facts.error == "decompression_bomb"
    assert facts.exif is not None
    assert facts.exif.artist == "Header Only"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ((51.0, 30.0, 26.64), 51.5074),
        ((10.0, 30.0), 10.5),
        ((12.25,), 12.25),
        (7, 7.0),
        (((51, 1), (30, 1), (2664, 100)), 51.5074),
        ((TiffImagePlugin.IFDRational(1, 0), 0.0, 0.0), None),
        ((-1.0, 0.0, 0.0), None),
        ((1.0, 2.0, 3.0, 4.0), None),
        ((), None),
        ("51.5", None),
        ((True, 0.0, 0.0), None),
        (((1, 0), 0.0, 0.0), None),
        ((math.inf, 0.0, 0.0), None),
    ],
)
def test_dms_to_degrees(value: object, expected: float | None) -> None:
    got = dms_to_degrees(value)
    assert got == (None if expected is None else pytest.approx(expected))


def test_coarsen_never_returns_negative_zero() -> None:
    assert math.copysign(1.0, coarsen(-0.001)) == 1.0
    assert coarsen(51.5074) == 51.51
    assert coarsen(-0.1278) == -0.13


@settings(database=None, max_examples=300)
@given(st.one_of(st.text(max_size=3000), st.binary(max_size=3000)))
def test_clean_text_is_one_capped_printable_line(value: str | bytes) -> None:
    text = clean_text(value)
    if text is not None:
        assert 0 < len(text) <= 1000
        assert text.isprintable()
        assert text == text.strip()
