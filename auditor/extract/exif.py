"""The ``exif`` extractor: GPS position (coarsened), capture time, camera serial, authorship.

EXIF comes from Pillow's ``getexif()`` on the opened image (header data; nothing is decoded for
it) and the nested IFDs via ``get_ifd``: Exif (0x8769) for DateTimeOriginal and
BodySerialNumber, GPSInfo (0x8825) for the position. Malformed EXIF never raises: whatever could
be read is kept and the problem is recorded as the error ``exif_malformed`` (Pillow reports most
EXIF damage as warnings, which are collected here for that purpose).

GPS is converted from degrees/minutes/seconds rationals plus the N/S/E/W reference to decimal
degrees and rounded to 2 decimal places (about 1 km) before it leaves this module: the precise
position of where a photo was taken is personal data the auditor does not need and never stores.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import replace
from typing import Any, Final

from PIL import ExifTags, Image, PngImagePlugin

from auditor.extract.imagefacts import (
    EXIF_MALFORMED,
    MAX_DETAIL,
    ExifFacts,
    ImageContext,
    ImageFacts,
    clean_text,
    describe,
    with_error,
)

GPS_DECIMALS: Final = 2
"""Decimal places kept for GPS coordinates (2 dp is ~1.1 km of latitude)."""

_AXES: Final = {
    # axis: (value tag, reference tag, positive/negative references, largest magnitude)
    "latitude": (ExifTags.GPS.GPSLatitude, ExifTags.GPS.GPSLatitudeRef, "NS", 90.0),
    "longitude": (ExifTags.GPS.GPSLongitude, ExifTags.GPS.GPSLongitudeRef, "EW", 180.0),
}
_DMS_PARTS: Final = 3
_RATIONAL_PAIR: Final = 2


def extract_exif(context: ImageContext, facts: ImageFacts) -> ImageFacts:
    """Record :class:`ExifFacts` for the image (see the module docstring)."""
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exif = _read_exif(context)
        except Exception as exc:  # noqa: BLE001 - hostile EXIF may break the parser anywhere
            return with_error(facts, EXIF_MALFORMED, f"EXIF unreadable: {describe(exc)}")
        found = exif_facts(exif, problems)
    problems = [str(w.message) for w in caught] + problems
    if problems:
        facts = with_error(facts, EXIF_MALFORMED, "; ".join(problems)[:MAX_DETAIL])
    return replace(facts, exif=found)


def exif_facts(exif: Image.Exif, problems: list[str]) -> ExifFacts:
    """Pull the facts out of a Pillow ``Exif``; problems are appended, never raised."""
    ifd0 = _ifd(exif, None, problems)
    exif_ifd = _ifd(exif, ExifTags.IFD.Exif, problems)
    gps = _ifd(exif, ExifTags.IFD.GPSInfo, problems)
    serial = (
        clean_text(exif_ifd.get(ExifTags.Base.BodySerialNumber))
        or clean_text(ifd0.get(ExifTags.Base.BodySerialNumber))  # misplaced by some writers
        or clean_text(ifd0.get(ExifTags.Base.CameraSerialNumber))  # DNG
    )
    lat_tag, lon_tag = ExifTags.GPS.GPSLatitude, ExifTags.GPS.GPSLongitude
    return ExifFacts(
        gps_present=lat_tag in gps or lon_tag in gps,
        gps_lat=_coordinate(gps, "latitude", problems),
        gps_lon=_coordinate(gps, "longitude", problems),
        datetime_original=clean_text(exif_ifd.get(ExifTags.Base.DateTimeOriginal))
        or clean_text(ifd0.get(ExifTags.Base.DateTimeOriginal)),
        camera_serial=serial,
        artist=clean_text(ifd0.get(ExifTags.Base.Artist)),
        copyright=clean_text(ifd0.get(ExifTags.Base.Copyright)),
        make=clean_text(ifd0.get(ExifTags.Base.Make)),
        model=clean_text(ifd0.get(ExifTags.Base.Model)),
    )


def coarsen(degrees: float) -> float:
    """Round decimal degrees to :data:`GPS_DECIMALS` places (and never return ``-0.0``)."""
    return round(degrees, GPS_DECIMALS) + 0.0


def dms_to_degrees(value: object) -> float | None:
    """Degrees/minutes/seconds (1 to 3 non-negative rationals) to degrees, or ``None``."""
    parts = value if isinstance(value, tuple) else (value,)
    if not 1 <= len(parts) <= _DMS_PARTS:
        return None
    degrees = 0.0
    for position, part in enumerate(parts):
        number = _number(part)
        if number is None or number < 0:
            return None
        degrees += number / 60**position
    return degrees if math.isfinite(degrees) else None


def _read_exif(context: ImageContext) -> Image.Exif:
    """Parse the EXIF block afresh, so that damage is seen here rather than swallowed.

    Pillow's JPEG opener already calls ``getexif()`` (for DPI) and silently discards any parse
    error; parsing ``info["exif"]`` into a new ``Exif`` surfaces errors and warnings to us.
    """
    image = context.image
    raw = image.info.get("exif")
    if isinstance(raw, bytes):  # JPEG APP1, WebP/AVIF EXIF chunk, PNG eXIf
        exif = Image.Exif()
        exif.load(raw)
        return exif
    if context.gray is None and isinstance(image, PngImagePlugin.PngImageFile):
        # PngImageFile.getexif() loads (decodes) the whole image to look for an eXIf chunk after
        # IDAT. Without a successful decode (bomb, truncation ...) read only what the header had.
        return Image.Image.getexif(image)
    return image.getexif()  # TIFF tags, PNG text "Raw profile type exif"


def _ifd(exif: Image.Exif, tag: int | None, problems: list[str]) -> dict[int, Any]:
    """IFD0 (``tag`` None) or a nested IFD as a plain dict; ``{}`` if absent or unreadable."""
    try:
        return dict(exif) if tag is None else dict(exif.get_ifd(tag))
    except Exception as exc:  # noqa: BLE001 - offsets and counts in hostile EXIF are arbitrary
        name = "IFD0" if tag is None else f"IFD 0x{tag:04X}"
        problems.append(f"{name} unreadable: {describe(exc)}")
        return {}


def _coordinate(gps: dict[int, Any], axis: str, problems: list[str]) -> float | None:
    """One GPS axis ("latitude" or "longitude") as coarsened signed decimal degrees."""
    tag, ref_tag, refs, bound = _AXES[axis]
    if tag not in gps:
        return None
    degrees = dms_to_degrees(gps[tag])
    if degrees is None:
        problems.append(f"GPS {axis} is not a degrees/minutes/seconds value")
        return None
    ref = (clean_text(gps.get(ref_tag), 4) or "").upper()
    if ref not in {refs[0], refs[1]}:
        # Without the hemisphere the sign is a guess; a wrong place is worse than none.
        problems.append(f"GPS {axis} has no valid {'/'.join(refs)} reference")
        return None
    signed = -degrees if ref == refs[1] else degrees
    if abs(signed) > bound:
        problems.append(f"GPS {axis} {signed:.2f} is out of range")
        return None
    return coarsen(signed)


def _number(part: object) -> float | None:
    """Return a finite float from an EXIF rational (IFDRational, number or (num, den))."""
    if isinstance(part, bool):
        return None
    if isinstance(part, tuple) and len(part) == _RATIONAL_PAIR:
        num, den = part
        if not isinstance(num, int) or not isinstance(den, int) or den == 0:
            return None
        number = num / den
    elif isinstance(part, numbers.Real):
        try:
            number = float(part)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None
    else:
        return None
    return number if math.isfinite(number) else None
