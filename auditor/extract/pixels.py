"""Decoding an image's first frame at the scales the extractors need, and no larger.

Two consumers need pixels, at very different scales:

- the perceptual hash resamples to 32x32 (``4 * hash_size``), so :func:`hash_decode` gives it a
  grayscale image, for JPEG with a short side of 128-255 px (``HASH_DRAFT * hash_size``);
- the face detector needs faces of 10-20 px to stay visible, so :func:`faces_decode` gives it an
  RGB image whose longest side is ``reduce_to`` (512 px by default), and only when face
  detection is on.

JPEG (and MPO) are decoded in draft mode: libjpeg scales by 1/2, 1/4 or 1/8 inside the inverse
DCT and, for the hash, skips the colour planes, so a 4000x3000 photo is never decoded at full
size. On the benchmark's images this halves the cost of decoding and hashing a JPEG (480x360:
5.4 -> 2.6 ms; 1152x864: 14.6 -> 7.5 ms). Other formats have no reduced decode; they are
loaded once, at full size, and both consumers are derived from that one load.

A WebP holding one still image is decoded by libwebp's plain decoder through ``imagecodecs``
(:func:`still_webp`) rather than by Pillow, whose only WebP reader is libwebp's animation
decoder: that one renders onto an RGBA canvas which Pillow then copies and converts. Same
libwebp, same pixels (all 1,602 WebPs of the benchmark sites and the fixtures compare equal,
lossy, lossless and with alpha, and the tests pin it), for about 4.0 instead of 5.3 ms of CPU
on a 480x360 thumbnail and 85 instead of 142 ms on a 12 MP photo. Animations stay with Pillow,
which composes their first frame onto the canvas as a browser does.

Why the hash does not reuse the face detector's decode, although that costs JPEGs a second
decode when face detection is on (about 3 ms per image on the benchmark's realistic mix, 4 % of
its CPU with faces on; libjpeg's entropy decoding does not shrink with the scale): the hash
would then depend on a setting, and hashes recorded by two runs of the same crawl (or listed in
an opt-out list) must be comparable. Its input is a function of the bytes and ``hash_size``
only. The scales keep it faithful: of 819
benchmark and fixture images, 813 hash exactly as ``imagehash.phash`` of the full decode and 6
(JPEGs) within 2 bits; the former 512 px RGB input differed in 3 % of them.
"""

from __future__ import annotations

import math
from typing import Final

from PIL import Image

HASH_DRAFT: Final = 16
"""A JPEG's hash decode keeps a short side of at least ``HASH_DRAFT * hash_size`` px (4x the
32x32 that ``imagehash.phash`` resamples to), so its Lanczos filter still sees detail."""

HASH_REDUCE: Final = 24
"""Other formats are hashed at full size, exactly as ``imagehash.phash`` would, unless their
short side is at least twice ``HASH_REDUCE * hash_size`` px (384 by default): then they are
box-reduced by the integer factor that keeps it at least ``HASH_REDUCE * hash_size``, so a 1 MP
WebP does not cost a Lanczos pass over every pixel (about 5 ms). Reducing closer to the 32 px
the hash resamples to flips hash bits on sharp-edged graphics."""

_STANDARD_MODES: Final = frozenset({"RGB", "RGBA", "L", "LA"})

_VP8X_FLAGS: Final = 20
"""Offset of the flags byte of a ``VP8X`` chunk: RIFF header (12), chunk header (8)."""

_ANIMATED: Final = 0x02
"""The animation flag of a ``VP8X`` chunk (WebP container specification, RFC 9649 section 2.7)."""


def hash_decode(image: Image.Image, hash_size: int) -> Image.Image:
    """Decode the current frame of a freshly opened ``image`` for the perceptual hash, as ``L``.

    JPEG is decoded at the smallest draft scale whose short side is at least ``HASH_DRAFT *
    hash_size``; other formats are loaded at full size. Whatever is still very large (most
    other formats above 384 px, a JPEG only past what 1/8 reaches) is then box-reduced
    (:data:`HASH_REDUCE`). Images are never enlarged. ``image`` keeps its metadata; the result
    may be ``image`` itself.
    """
    width, height = image.size
    floor = HASH_DRAFT * hash_size
    short = min(width, height)
    if short > floor:
        scale = floor / short
        # draft() only changes JPEG/MPO; for them "L" means libjpeg outputs luma alone.
        image.draft("L", (math.ceil(width * scale), math.ceil(height * scale)))
    image.load()
    gray = _standard(image)
    if gray.mode != "L":
        gray = gray.convert("L")
    factor = min(gray.size) // (HASH_REDUCE * hash_size)
    return gray.reduce(factor) if factor >= 2 else gray  # noqa: PLR2004 - 1 would be a copy


def still_webp(data: bytes) -> Image.Image | None:
    """Decode the WebP ``data`` if it holds one still image; ``None`` for an animation.

    Still means a simple file (a ``VP8 `` or ``VP8L`` bitstream right after the RIFF header) or
    an extended one (``VP8X``) without its animation flag. The result is RGB, or RGBA when the
    image has alpha, exactly as Pillow decodes it. Sizes are the caller's to check first, from
    the header Pillow read: libwebp refuses a still whose bitstream disagrees with its canvas.
    Raises ``imagecodecs.WebpError`` (a ``RuntimeError``) on bytes libwebp cannot decode.
    """
    chunk = data[12:16]
    if chunk == b"VP8X":
        still = len(data) > _VP8X_FLAGS and not data[_VP8X_FLAGS] & _ANIMATED
    else:
        still = chunk in (b"VP8 ", b"VP8L")
    if not still:
        return None
    import imagecodecs  # noqa: PLC0415 - NumPy too: left to the workers (the fork server's preload)

    return Image.fromarray(imagecodecs.webp_decode(data))


def faces_decode(image: Image.Image, reduce_to: int) -> Image.Image:
    """Decode the current frame of ``image`` for face detection: RGB, longest side <= ``reduce_to``.

    On a freshly opened JPEG this decodes in draft mode at the largest DCT scale that keeps both
    sides at least the target (so a long panorama keeps its aspect ratio); on an image already
    loaded (any other format, after :func:`hash_decode`) it only converts and downscales. When
    ``image`` already is such an RGB image (most thumbnails) it is returned as it is: nothing
    mutates it, and a copy cost about 4 % of a worker's CPU on small images.
    """
    width, height = image.size
    scale = min(1.0, reduce_to / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    image.draft("RGB", target)
    image.load()
    source = _standard(image)
    if source.size != target:
        source = source.resize(target, Image.Resampling.BOX, reducing_gap=2.0)
    return source if source.mode == "RGB" else source.convert("RGB")


def _standard(image: Image.Image) -> Image.Image:
    """``image`` in one of RGB, RGBA, L or LA (palette, CMYK, 16-bit ... converted once)."""
    if image.mode in _STANDARD_MODES:
        return image
    has_alpha = "transparency" in image.info or image.mode == "PA"
    return image.convert("RGBA" if has_alpha else "RGB")
