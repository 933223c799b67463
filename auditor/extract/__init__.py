"""Per-image facts: format, size, dimensions, EXIF/GPS, perceptual hash, XMP, C2PA, faces.

Entry point
    :func:`extract_image` takes the bytes the crawler fetched and returns a frozen
    :class:`ImageFacts`. It is a top-level function taking and returning plain frozen data, so it
    can be submitted to a ``concurrent.futures.ProcessPoolExecutor`` as is. It never raises for
    any bytes: refusals and failures become ``ImageFacts.error`` (a stable code) and
    ``error_detail`` (one human line), with every fact obtained before or despite the problem.
    ``sha256`` and ``size_bytes`` are always set. No image bytes are kept in the result.

Pipeline for one image
    1. :func:`~auditor.extract.imagefacts.prepare` opens the bytes lazily with Pillow, reads the
       format and dimensions from the header, refuses non-web formats, images over
       ``ExtractLimits.max_pixels`` (before anything is decoded) and animations with more than
       ``max_frames`` frames, then decodes the first frame at reduced scale
       (:mod:`auditor.extract.pixels`): a small grayscale image for the perceptual hash and,
       when face detection is on, an RGB image whose longest side is at most ``reduce_to``.
       JPEG is decoded in draft mode at each scale (with faces on, the hash's own decode adds
       about 3 ms per image, mostly entropy decoding, which no scale avoids); other formats are
       loaded once and both are derived from that load.
    2. It builds one :class:`ImageContext` (raw bytes, limits, opened image, header facts, the
       decodes) and every extractor in :data:`EXTRACTORS` runs, in order, over it.

Extension point: :data:`EXTRACTORS`
    An explicit registry, name -> :data:`Extractor`, where an extractor is
    ``(context: ImageContext, facts: ImageFacts) -> ImageFacts``: it reads what it needs from
    the context (``context.data`` for byte-level parsers such as C2PA or XMP packets,
    ``context.image`` for header metadata, ``context.gray`` or ``context.reduced`` for pixel
    work such as hashing or faces) and
    returns ``dataclasses.replace(facts, <its fields>=...)``. Rules for extractors:

    - never decode, seek, load or mutate ``context.image``, ``context.gray`` or
      ``context.reduced``; the decoding has happened; ``context.gray is None`` means there
      are no pixels to look at (``context.reduced`` is also ``None`` when faces are off);
    - handle expected problems by returning ``with_error(facts, code, detail)`` (first error
      wins) and keep the facts found; an unexpected exception is caught by :func:`extract_image`
      and recorded as ``extractor_failed`` with the extractor's name, and later extractors
      still run;
    - cap every string taken from the file with :func:`clean_text`;
    - fact types live in :mod:`auditor.extract.imagefacts` (add the new field to
      :class:`ImageFacts` with a ``None`` default), so extractor modules import from there and
      never the other way round.

    To add one (``xmp``, ``c2pa``, ``faces`` ...): write ``auditor/extract/<name>.py`` with the
    function, add its field to :class:`ImageFacts` and add one line to :data:`EXTRACTORS` below.
    Nothing registers itself on import.

Process-wide state
    Pillow's globals are left alone: ``ImageFile.LOAD_TRUNCATED_IMAGES`` stays ``False`` (a
    truncated file is an error fact, not a guess) and ``Image.MAX_IMAGE_PIXELS`` is not changed.
    ``max_pixels`` is checked explicitly against the header before any decode, and Pillow's own
    bomb alarms (``DecompressionBombError``, and ``DecompressionBombWarning`` turned into an
    error) map to ``decompression_bomb`` too, so the effective ceiling is
    ``min(max_pixels, Image.MAX_IMAGE_PIXELS)``. Warnings are filtered for the duration of a call
    with ``warnings.catch_warnings``, which is process-global: run :func:`extract_image` in
    worker processes (its design) rather than in many threads at once.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Final

from auditor.extract.c2pa import extract_c2pa
from auditor.extract.exif import extract_exif
from auditor.extract.faces import extract_faces
from auditor.extract.imagefacts import (
    DECODABLE_FORMATS,
    ERROR_CODES,
    EXTRACTOR_FAILED,
    INTERNAL_ERROR,
    ExifFacts,
    ExtractLimits,
    ImageContext,
    ImageFacts,
    clean_text,
    describe,
    extract_basic,
    identity_facts,
    prepare,
    with_error,
)
from auditor.extract.phash import extract_phash
from auditor.extract.xmp import extract_xmp

Extractor = Callable[[ImageContext, ImageFacts], ImageFacts]
"""One per-image extractor: read the context, return the facts with its own fields set."""

EXTRACTORS: dict[str, Extractor] = {
    "basic": extract_basic,
    "exif": extract_exif,
    "phash": extract_phash,
    "xmp": extract_xmp,
    "c2pa": extract_c2pa,
    "faces": extract_faces,
}
"""The extractors :func:`extract_image` runs, in this order (see the module docstring)."""

DEFAULT_LIMITS: Final = ExtractLimits()


def extract_image(data: bytes, limits: ExtractLimits = DEFAULT_LIMITS) -> ImageFacts:
    """Return the facts about one image's bytes; never raises for any bytes.

    ``data`` may be any bytes-like object; it is hashed as received and not kept in the result.
    Anything that is not bytes-like is a programming error and raises ``TypeError``.
    """
    if not isinstance(data, bytes):
        data = bytes(memoryview(data))
    facts = identity_facts(data)
    context: ImageContext | None = None
    try:
        with warnings.catch_warnings():
            # Hostile files make Pillow warn (bomb warnings, corrupt EXIF, odd palettes); every
            # problem that matters is recorded on the facts instead.
            warnings.simplefilter("ignore")
            context, facts = prepare(data, limits, facts)
            if context is not None:
                facts = _run_extractors(context, facts)
    except Exception as exc:  # noqa: BLE001 - the contract: no bytes may crash the worker
        facts = with_error(facts, INTERNAL_ERROR, describe(exc))
    finally:
        if context is not None:
            _close(context)
    return facts


def _run_extractors(context: ImageContext, facts: ImageFacts) -> ImageFacts:
    for name, extractor in EXTRACTORS.items():
        try:
            facts = extractor(context, facts)
        except Exception as exc:  # noqa: BLE001 - one broken extractor must not lose the rest
            facts = with_error(facts, EXTRACTOR_FAILED, f"{name}: {describe(exc)}")
    return facts


def _close(context: ImageContext) -> None:
    for image in (context.reduced, context.gray, context.image):
        if image is not None:
            with contextlib.suppress(Exception):  # releasing memory; nothing to report
                image.close()


__all__ = [
    "DECODABLE_FORMATS",
    "DEFAULT_LIMITS",
    "ERROR_CODES",
    "EXTRACTORS",
    "ExifFacts",
    "ExtractLimits",
    "Extractor",
    "ImageContext",
    "ImageFacts",
    "clean_text",
    "extract_image",
    "with_error",
]
