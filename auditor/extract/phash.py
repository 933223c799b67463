"""The ``phash`` extractor: a perceptual hash of the hash decode.

``imagehash.phash`` runs on :attr:`ImageContext.gray` (first frame, grayscale, short side about
``16 * hash_size`` px: :func:`auditor.extract.pixels.hash_decode`), never on a full decode. Its
own 32x32 resample makes the result practically independent of the decode scale: for
``fixtures/images/photo.jpg`` it equals the hash of a full decode, and whether face detection
ran does not change it (tests pin both). The hash is stored as the hex
string ``str(ImageHash)`` (16 hex digits for the default ``hash_size`` of 8), the form opt-out
lists and near-duplicate checks compare with Hamming distance.

``imagehash`` (and with it NumPy, about 0.16 s) is imported by the functions, not by the module:
the crawling process imports every extractor but hashes nothing unless an opt-out list needs a
distance, and the worker processes get it from the fork server's preload
(:data:`auditor.crawl.forkserver.PRELOAD`).
"""

from __future__ import annotations

from dataclasses import replace

from auditor.extract.imagefacts import ImageContext, ImageFacts


def extract_phash(context: ImageContext, facts: ImageFacts) -> ImageFacts:
    """Record the perceptual hash, or leave it ``None`` when the image was not decoded."""
    if context.gray is None:
        return facts
    import imagehash  # noqa: PLC0415 - see the module docstring

    value = imagehash.phash(context.gray, hash_size=context.limits.hash_size)
    return replace(facts, phash=str(value))


def phash_distance(first: str, second: str) -> int:
    """Hamming distance between two hex phash strings of the same hash size."""
    import imagehash  # noqa: PLC0415 - see the module docstring

    return int(imagehash.hex_to_hash(first) - imagehash.hex_to_hash(second))
