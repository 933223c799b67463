"""The extractor's data model, and opening plus the reduced-scale decodes of an image.

This module is the bottom of :mod:`auditor.extract`: it defines the frozen boundary types
(:class:`ExtractLimits`, :class:`ImageFacts`, :class:`ExifFacts`), the per-image
:class:`ImageContext` every extractor receives, the helpers extractors share
(:func:`clean_text`, :func:`with_error`), :func:`prepare` (open, limit checks, the reduced-scale
decodes of :mod:`auditor.extract.pixels`) and the ``basic`` extractor (format, MIME type,
dimensions, frame count). Extractor modules (``exif.py``, ``phash.py`` ...) import from here,
never the other way round.

Hostile input is normal input here: :func:`prepare` never raises for bad bytes; every refusal or
failure becomes an ``error`` code on the facts. It reads dimensions from the header and checks
them against ``max_pixels`` before anything is decoded, decodes only formats a browser would
render (:data:`DECODABLE_FORMATS`), and decodes only the first frame, at reduced scale.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass, replace
from typing import Final

from PIL import Image, UnidentifiedImageError

from auditor.extract.embedded import C2paFacts, XmpFacts
from auditor.extract.pixels import faces_decode, hash_decode, still_webp

MAX_TEXT: Final = 1_000
"""Longest string kept from a hostile file (EXIF text fields, later XMP/IPTC ...)."""

MAX_DETAIL: Final = 300
"""Longest ``error_detail`` line."""

DECODABLE_FORMATS: Final = frozenset(
    {"JPEG", "MPO", "PNG", "GIF", "WEBP", "AVIF", "BMP", "ICO", "TIFF"}
)
"""Pillow formats whose pixels we decode. Anything else Pillow can identify (EPS, PSD, FITS ...)
is reported with its format and header dimensions and the error ``unsupported_format``: web image
formats only, so hostile bytes never reach an exotic decoder (or Ghostscript, for EPS)."""

DRAFT_FORMATS: Final = frozenset({"JPEG", "MPO"})
"""Formats Pillow can decode at reduced scale (libjpeg's DCT scaling)."""

_BOMB: Final = (Image.DecompressionBombError, Image.DecompressionBombWarning)

# Stable, machine-friendly error codes (the ``error`` field).
NOT_AN_IMAGE: Final = "not_an_image"
UNSUPPORTED_FORMAT: Final = "unsupported_format"
DECOMPRESSION_BOMB: Final = "decompression_bomb"
TOO_MANY_FRAMES: Final = "too_many_frames"
TRUNCATED: Final = "truncated"
CORRUPT: Final = "corrupt"
EXIF_MALFORMED: Final = "exif_malformed"
EXTRACTOR_FAILED: Final = "extractor_failed"
INTERNAL_ERROR: Final = "internal_error"
ERROR_CODES: Final = frozenset(
    {
        NOT_AN_IMAGE,
        UNSUPPORTED_FORMAT,
        DECOMPRESSION_BOMB,
        TOO_MANY_FRAMES,
        TRUNCATED,
        CORRUPT,
        EXIF_MALFORMED,
        EXTRACTOR_FAILED,
        INTERNAL_ERROR,
    }
)
"""Every value ``ImageFacts.error`` can take besides ``None`` (extractors added later may extend
it with their own codes)."""


@dataclass(frozen=True)
class ExtractLimits:
    """Resource limits for one image; the defaults suit a crawl of the public web."""

    max_pixels: int = 89_478_485
    """Pillow's default bomb threshold; more pixels than this -> ``decompression_bomb``."""
    max_frames: int = 1_000
    """Only the first frame is ever decoded; more frames than this -> ``too_many_frames``."""
    hash_size: int = 8
    """``imagehash.phash`` hash size (8 gives a 64-bit hash, 16 hex digits)."""
    reduce_to: int = 512
    """Longest side of the decode face detection runs on (the hash uses a smaller one)."""
    detect_faces: bool = True
    """Off: no face detection, so ``faces`` stays ``None`` (not examined), never 0."""

    def __post_init__(self) -> None:
        """Reject limits that cannot work (a programming error, not hostile input)."""
        if self.max_pixels < 1 or self.max_frames < 1 or self.reduce_to < 1:
            raise ValueError("ExtractLimits: max_pixels, max_frames and reduce_to must be >= 1")
        if self.hash_size < 2:  # noqa: PLR2004 - imagehash's own minimum
            raise ValueError("ExtractLimits: hash_size must be >= 2")


@dataclass(frozen=True)
class ExifFacts:
    """What the EXIF block says that matters for privacy and provenance.

    Every text field is cleaned by :func:`clean_text` (NULs, control characters, at most
    :data:`MAX_TEXT` characters); ``None`` means the tag is absent or unusable.
    """

    gps_present: bool
    """The GPS IFD carries a latitude or a longitude tag (even one that could not be parsed)."""
    gps_lat: float | None
    """Decimal degrees, north positive, coarsened to 2 decimal places (~1 km). Never finer."""
    gps_lon: float | None
    """Decimal degrees, east positive, coarsened to 2 decimal places."""
    datetime_original: str | None
    """As written in EXIF, normally ``YYYY:MM:DD HH:MM:SS``."""
    camera_serial: str | None
    """BodySerialNumber (0xA431), else the DNG CameraSerialNumber (0xC62F)."""
    artist: str | None
    copyright: str | None
    make: str | None
    model: str | None


@dataclass(frozen=True)
class FaceBox:
    """One detected face, in pixel coordinates of the full-size image (not the reduced decode)."""

    x: int
    y: int
    width: int
    height: int
    confidence: float
    """Detector confidence, 0..1."""


@dataclass(frozen=True)
class FaceFacts:
    """What face detection found in the reduced decode of one image.

    Only counts and boxes: nothing about who the people are, and never age, ethnicity or
    nationality. ``count == len(boxes)``; ``detector`` names the model and its version so a
    stored count can be traced to what produced it.
    """

    count: int
    boxes: tuple[FaceBox, ...]
    detector: str


@dataclass(frozen=True)
class ImageFacts:
    """Facts about one image; ``sha256`` and ``size_bytes`` are always set.

    ``error`` is a machine-friendly code when the bytes could not be (fully) analysed; whatever
    facts were obtained before or despite the problem are kept. When several problems occur the
    first one is recorded. ``exif`` is ``None`` when EXIF was not examined (no image, or the
    block was unreadable) and an :class:`ExifFacts` with ``gps_present=False`` and ``None``
    fields when it was examined and nothing was found.
    """

    sha256: str
    size_bytes: int
    format: str | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    phash: str | None = None
    exif: ExifFacts | None = None
    error: str | None = None
    error_detail: str | None = None
    xmp: XmpFacts | None = None  # None: not examined; XmpFacts(): examined, no packet found
    c2pa: C2paFacts | None = None  # None: not examined (no C2PA support installed, or no image)
    faces: FaceFacts | None = None  # None: not examined (no pixels, or no detector installed)


@dataclass(frozen=True)
class ImageContext:
    """Everything an extractor may use for one image, built once by :func:`prepare`.

    Extractors must not decode, seek or mutate anything here: ``image`` is the opened Pillow
    object for header-level metadata (``info``, ``getexif()``); after the hash decode its
    pixel size and mode may be those of a JPEG draft, so use ``width``/``height`` for the real
    size. ``gray`` is the perceptual hash's input (first frame, grayscale; a JPEG draft of
    128-255 px on its short side, other formats at full size unless very large: see
    :mod:`auditor.extract.pixels`), or ``None`` when decoding was refused or failed (see the
    facts' ``error``): ``gray is None`` means "no pixels". ``reduced``
    is the face detector's input (first frame, RGB, longest side <= ``limits.reduce_to``), or
    ``None`` when there are no pixels or face detection is off. Either may be the same object
    as ``image``.
    """

    data: bytes
    limits: ExtractLimits
    image: Image.Image
    format: str
    width: int
    height: int
    frames: int | None
    gray: Image.Image | None
    reduced: Image.Image | None


def clean_text(value: object, limit: int = MAX_TEXT) -> str | None:
    """Return ``value`` as one safe line of text, or ``None`` if it holds no text.

    Accepts ``str`` or ``bytes`` (decoded as UTF-8 with replacement). NUL-separated parts (the
    EXIF Copyright tag holds "photographer NUL editor") are joined with ``"; "``; control and
    format characters (newlines, terminal escapes, bidi overrides) become spaces; runs of
    whitespace collapse; the result is capped at ``limit`` characters.
    """
    if isinstance(value, bytes):
        text = value[: limit * 4].decode("utf-8", "replace")
    elif isinstance(value, str):
        text = value[: limit * 4]
    else:
        return None
    parts = (part.strip() for part in text.split("\x00"))
    text = "; ".join(part for part in parts if part)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())[:limit].rstrip()
    return text or None


def describe(exc: BaseException) -> str:
    """One short human line for an exception raised by a parser or decoder."""
    message = clean_text(str(exc), MAX_DETAIL) or "no detail"
    return f"{type(exc).__name__}: {message}"[:MAX_DETAIL]


def with_error(facts: ImageFacts, code: str, detail: str) -> ImageFacts:
    """Record a problem on ``facts`` unless an earlier one is already recorded."""
    if facts.error is not None:
        return facts
    return replace(facts, error=code, error_detail=clean_text(detail, MAX_DETAIL))


def identity_facts(data: bytes) -> ImageFacts:
    """Return the facts every outcome carries: SHA-256 and size of the bytes as received."""
    return ImageFacts(sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


def prepare(
    data: bytes, limits: ExtractLimits, facts: ImageFacts
) -> tuple[ImageContext | None, ImageFacts]:
    """Open ``data``, check it against ``limits`` and decode it at the reduced scales needed.

    Returns the context for the extractors (``None`` when there is no usable image header) and
    ``facts`` with the error recorded when something went wrong. The caller closes
    ``context.image``.

    Pillow's ``DecompressionBombWarning`` is turned into an error for the duration: besides the
    header check at open, Pillow checks sizes it only learns while reading (an ICO entry, which
    Pillow decodes already at open, or a GIF frame larger than the header said), and each of
    those alarms must be a refusal rather than a line on stderr. So the effective pixel ceiling
    is ``min(limits.max_pixels, Image.MAX_IMAGE_PIXELS)``. Pillow's other warnings ("possibly
    corrupt" notes ...) are left to the caller; :func:`auditor.extract.extract_image` silences
    them.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image, facts = _open(data, facts)
        if image is None:
            return None, facts
        width, height = image.size
        fmt = image.format or "UNKNOWN"
        context = ImageContext(data, limits, image, fmt, width, height, None, None, None)
        refusal = _refusal_before_decode(context)
        if refusal is not None:
            return context, with_error(facts, *refusal)
        return _count_and_decode(context, facts)


def _count_and_decode(context: ImageContext, facts: ImageFacts) -> tuple[ImageContext, ImageFacts]:
    image, limits = context.image, context.limits
    try:
        context = replace(context, frames=int(getattr(image, "n_frames", 1)))
    except _BOMB as exc:
        return context, with_error(facts, DECOMPRESSION_BOMB, describe(exc))
    except Exception as exc:  # noqa: BLE001 - frame walking reads hostile headers
        facts = with_error(facts, CORRUPT, f"cannot count frames: {describe(exc)}")
    if context.frames is not None and context.frames > limits.max_frames:
        detail = f"{context.frames} frames exceeds the limit of {limits.max_frames}; not decoded"
        return context, with_error(facts, TOO_MANY_FRAMES, detail)

    try:
        if context.frames != 1:
            image.seek(0)  # counting frames may leave a multi-frame reader elsewhere
        source = (still_webp(context.data) if context.format == "WEBP" else None) or image
        context = replace(context, gray=hash_decode(source, limits.hash_size))
        if limits.detect_faces:
            context = replace(context, reduced=_faces_pixels(context, source))
    except _BOMB as exc:
        return context, with_error(facts, DECOMPRESSION_BOMB, describe(exc))
    except Exception as exc:  # noqa: BLE001 - decoders fail in many ways on hostile bytes
        truncated = _is_truncation(exc) or _riff_truncated(context.data)
        code = TRUNCATED if truncated else CORRUPT
        return context, with_error(facts, code, f"cannot decode: {describe(exc)}")
    return context, facts


def _faces_pixels(context: ImageContext, source: Image.Image) -> Image.Image:
    """Decode for the face detector: a second, draft-scaled decode for JPEG, else derived.

    Other formats were decoded at full size for :func:`hash_decode` (``source``: the image
    itself once loaded, or a still WebP's own decode); that decode is converted and downscaled
    (see :mod:`auditor.extract.pixels` for why JPEG gets its own decode).
    """
    if context.format not in DRAFT_FORMATS:
        return faces_decode(source, context.limits.reduce_to)
    second = Image.open(io.BytesIO(context.data))
    reduced = faces_decode(second, context.limits.reduce_to)
    if reduced is not second:
        second.close()
    return reduced


def extract_basic(context: ImageContext, facts: ImageFacts) -> ImageFacts:
    """Record format, MIME type, header dimensions and frame count."""
    return replace(
        facts,
        format=context.format,
        mime=Image.MIME.get(context.format),
        width=context.width,
        height=context.height,
        frames=context.frames,
    )


def _open(data: bytes, facts: ImageFacts) -> tuple[Image.Image | None, ImageFacts]:
    """Open lazily (header only); on failure return ``None`` and the facts with the error."""
    try:
        return Image.open(io.BytesIO(data)), facts
    except _BOMB as exc:
        # Pillow's own check at open (see prepare); keep what the header claimed.
        return None, _bomb_facts(facts, data, exc)
    except UnidentifiedImageError:
        detail = "Pillow cannot identify these bytes as an image"
        return None, with_error(facts, NOT_AN_IMAGE, detail)
    except Exception as exc:  # noqa: BLE001 - a header parser may fail in any way on hostile bytes
        code = TRUNCATED if _riff_truncated(data) else CORRUPT
        return None, with_error(facts, code, f"cannot open: {describe(exc)}")


def _refusal_before_decode(context: ImageContext) -> tuple[str, str] | None:
    """Why the header alone rules out decoding (error code, detail), or ``None``."""
    fmt, width, height = context.format, context.width, context.height
    if fmt not in DECODABLE_FORMATS:
        return UNSUPPORTED_FORMAT, f"{fmt} is not a web image format; header read, not decoded"
    if width < 1 or height < 1:
        return CORRUPT, f"header claims a {width}x{height} image"
    limit = context.limits.max_pixels
    if width * height > limit:
        return DECOMPRESSION_BOMB, f"{width}x{height} = {width * height} pixels exceeds {limit}"
    return None


def _bomb_facts(facts: ImageFacts, data: bytes, exc: Exception) -> ImageFacts:
    """Facts for an image Pillow refused to open as a bomb, with the header's claims if we can."""
    header = _header_despite_bomb(data)
    if header is not None:
        fmt, (width, height) = header
        facts = replace(facts, format=fmt, mime=Image.MIME.get(fmt), width=width, height=height)
        detail = f"{width}x{height} = {width * height} pixels; Pillow refuses to open it"
    else:
        detail = describe(exc)
    return with_error(facts, DECOMPRESSION_BOMB, detail)


def _header_despite_bomb(data: bytes) -> tuple[str, tuple[int, int]] | None:
    """Read format and size from the header of an image Pillow's open() refused as a bomb.

    Image.open parses the header and then raises, discarding it. Running the registered plugin
    openers ourselves (the public ``Image.OPEN`` registry, header parsing only, nothing decoded)
    recovers what the file claims, which is evidence worth storing, without touching the
    process-wide ``Image.MAX_IMAGE_PIXELS``.
    """
    Image.init()
    prefix = data[:16]
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        try:
            verdict = True if accept is None else accept(prefix)  # as Image.open decides
            if isinstance(verdict, str) or not verdict:
                continue
            image = factory(io.BytesIO(data), "")
        except Exception:  # noqa: BLE001, S112 - hostile header; try the next plugin
            continue
        try:
            return (image.format or fmt), image.size
        finally:
            image.close()
    return None


def _is_truncation(exc: Exception) -> bool:
    """Whether a decoder error means the data ended early (Pillow says so in the message)."""
    if isinstance(exc, EOFError):
        return True
    message = str(exc).lower()
    return isinstance(exc, OSError) and ("truncated" in message or "premature end" in message)


def _riff_truncated(data: bytes) -> bool:
    """Whether a RIFF container (WebP) is shorter than its own header says it is."""
    if len(data) < 12 or data[:4] != b"RIFF":  # noqa: PLR2004 - RIFF header length
        return False
    (declared,) = struct.unpack_from("<I", data, 4)
    return bool(len(data) < declared + 8)
