"""The ``faces`` extractor: how many human faces the reduced decode shows, and where.

What is recorded, and what never is
    Only a count and boxes (:class:`~auditor.extract.imagefacts.FaceFacts`): each box is a
    rectangle in pixel coordinates of the full-size image with the detector's confidence. The
    auditor needs to know *that* an image shows people (personal data; a reason for stricter
    rules), never *who*: no face crops, embeddings, templates or landmarks are kept, and nothing
    about a person (age, sex, ethnicity, nationality, expression, identity) is inferred or
    stored, by this module or from its output.

Detector
    ``yuface`` (libfacedetection's YuNet CNN, weights compiled into a 0.5 MB wheel, BSD-3-Clause,
    x86-64 wheels only; see ``docs/faces.md`` for why this one and the measurements), its
    network run by onnxruntime (:mod:`auditor.extract.yunet`: the same weights and results,
    about a fifth of the CPU), or by ``yuface.detect`` itself when onnxruntime is missing. It
    runs on :attr:`ImageContext.reduced` (the RGB decode made for it, longest side
    ``reduce_to`` = 512 by default, the audit.yaml setting ``crawl.face_detection_size``; see
    :mod:`auditor.extract.pixels`). Boxes are mapped back to the full-size pixel grid
    (``context.width`` x ``context.height``, as stored: EXIF orientation is not applied, like
    the ``width`` and ``height`` facts; YuNet finds faces turned by 90 or 180 degrees too, so
    sideways-stored photos are still counted) and clamped to it.

Outcomes
    - ``faces=None`` ("not examined"): face detection is off (``ExtractLimits.detect_faces``),
      there are no pixels (``context.reduced is None``) or ``yuface`` cannot be imported on
      this platform (:func:`faces_available`). Never an error.
    - ``FaceFacts(0, (), detector)``: examined, no face at or above
      :data:`CONFIDENCE_THRESHOLD`. Images whose reduced decode is shorter than :data:`MIN_SIDE`
      on either side get this without running the detector.
    - otherwise the :data:`MAX_FACES` most confident boxes, most confident first; ``count`` is
      the number of boxes kept, so a crowd reports at most ``MAX_FACES``.

Threads
    The wheel bundles its own copy of libgomp (OpenMP), which by default runs every detection
    on one thread per core. Extraction already runs one worker process per core, so that would
    oversubscribe the machine. libgomp reads ``OMP_NUM_THREADS`` once, when it is loaded,
    i.e. when ``yuface`` is first imported; :func:`_detector` sets it to ``1`` for the duration
    of that import only and restores the previous value, so no other library in the process is
    affected. (If something imported ``yuface`` earlier, that import decided; ``docs/faces.md``
    has the measurement.)
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from PIL import Image

from auditor.extract.imagefacts import ExtractLimits, FaceBox, FaceFacts, ImageContext, ImageFacts

CONFIDENCE_THRESHOLD: Final = 0.7
"""Lowest detector confidence kept (0..1), chosen on the labelled set in ``bench/faces``.

Portraits score 0.89-0.94 and non-faces on their own at most 0.44, but inside a collage a
coffee cup scored 0.68 and a cat's face 0.52, while small faces (16-40 px tall in the 512 px
decode) and a three-quarter profile score from 0.63 up. 0.7 is the lowest of 0.5/0.6/0.7/0.8
with no false positive on the set: against 0.6 it loses 2 of 72 small faces and no face of
normal size, and every image with faces still has one found; 0.8 loses the profile face in two
group images (``docs/faces.md`` has the tables)."""

MAX_FACES: Final = 100
"""Most boxes kept per image (the most confident ones); bounds the stored facts for crowds."""

MIN_SIDE: Final = 20
"""Reduced decodes shorter than this (px) on either side are not run through the detector.

A face filling a square image scores 0.61 at 20 px and 0.87 at 24 px in ``bench/faces``; with
this cut-off lowered nothing smaller scored above 0.34, far below the threshold. So the answer
for such images is 0 faces, without handing degenerate arrays (1x1, a 5000x20 strip reduced to
512x2) to native code."""

_MAX_DETECTOR_SIDE: Final = 960
"""``yuface`` warns above this size; ``crawl.face_detection_size`` stops there, so only
``ExtractLimits(reduce_to=...)`` set by a program reaches it."""

DEFAULT_DECODE_SIDE: Final = ExtractLimits().reduce_to
"""The default longest side of the detector's decode (``crawl.face_detection_size``)."""


@dataclass(frozen=True)
class _Detector:
    detect: Callable[..., Any]
    """``detect(rgb, conf) -> (confidences 0..100, boxes XYWH, landmarks)``, as ``yuface.detect``
    but on an RGB array (H x W x 3, uint8)."""
    name: str
    """``yuface <version> (libfacedetection YuNet, <engine>)``."""


def extract_faces(context: ImageContext, facts: ImageFacts) -> ImageFacts:
    """Record the faces in the reduced decode; ``None`` without pixels, detector or the switch."""
    if context.reduced is None or not context.limits.detect_faces:
        return facts
    found = detect_faces(
        context.reduced, (context.width, context.height), decode_side=context.limits.reduce_to
    )
    if found is None:
        return facts
    return replace(facts, faces=found)


def faces_available() -> bool:
    """Whether ``yuface`` could be imported (tried once per process)."""
    return _detector() is not None


def detect_faces(
    reduced: Image.Image,
    size: tuple[int, int],
    threshold: float = CONFIDENCE_THRESHOLD,
    *,
    decode_side: int = DEFAULT_DECODE_SIDE,
) -> FaceFacts | None:
    """Detect faces in ``reduced`` and return them in the coordinates of a ``size`` image.

    ``size`` is (width, height) of the full image ``reduced`` was decoded from, and
    ``decode_side`` the longest side it was decoded to at most (``ExtractLimits.reduce_to``);
    the detector's name records it, since it decides how small a face can be found.
    ``threshold`` exists for the evaluation in ``bench/faces``; the extractor always uses
    :data:`CONFIDENCE_THRESHOLD`. Returns ``None`` when ``yuface`` cannot be imported.
    """
    detector = _detector()
    if detector is None:
        return None
    name = f"{detector.name}, decode<={decode_side}px, conf>={threshold:.2f}"
    if min(reduced.size) < MIN_SIDE:
        return FaceFacts(count=0, boxes=(), detector=name)
    # Imported here: the crawling process imports this module but never detects; NumPy would
    # add about 0.16 s to its start-up (the workers have it from the fork server's preload).
    import numpy as np  # noqa: PLC0415

    rgb = np.asarray(reduced if reduced.mode == "RGB" else reduced.convert("RGB"))
    # conf=0 keeps every candidate; ">= threshold" is applied below (yuface keeps "> conf").
    confidences, xywh, _landmarks = detector.detect(rgb, 0.0)
    scale = (size[0] / reduced.width, size[1] / reduced.height)
    boxes = sorted(
        _full_size_boxes(confidences.tolist(), xywh.tolist(), scale, size, threshold),
        key=lambda box: (-box.confidence, box.y, box.x),
    )[:MAX_FACES]
    return FaceFacts(count=len(boxes), boxes=tuple(boxes), detector=name)


def _full_size_boxes(
    confidences: list[int],
    xywh: list[list[int]],
    scale: tuple[float, float],
    size: tuple[int, int],
    threshold: float,
) -> Iterator[FaceBox]:
    """Boxes at or above ``threshold``, scaled to the full image and clamped to it.

    YuNet reports boxes that reach past the border (negative x for a face cut by the left
    edge); the part inside the image is kept, and a box with nothing inside is dropped.
    """
    for percent, (x, y, w, h) in zip(confidences, xywh, strict=True):
        confidence = percent / 100
        if confidence < threshold:
            continue
        left, right = (min(max(round(v * scale[0]), 0), size[0]) for v in (x, x + w))
        top, bottom = (min(max(round(v * scale[1]), 0), size[1]) for v in (y, y + h))
        if right > left and bottom > top:
            yield FaceBox(left, top, right - left, bottom - top, confidence)


@functools.cache
def _detector() -> _Detector | None:
    """Import ``yuface`` once per process with one OpenMP thread; ``None`` if it is unavailable."""
    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import yuface  # noqa: PLC0415 - native library; loaded (and its OpenMP set up) on first use
    except ImportError:  # not installed (no wheel for this platform) or its libraries won't load
        return None
    finally:
        if previous is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = previous
    try:
        version = importlib.metadata.version("yuface")
    except importlib.metadata.PackageNotFoundError:  # importable from a path, not installed
        version = "unknown"
    try:
        from auditor.extract import yunet  # noqa: PLC0415 - NumPy and onnxruntime, workers only
    except ImportError:  # onnxruntime or onnx is not installed
        built = None
    else:
        built = yunet.build(Path(yuface.__file__).parent)
    if built is None:
        return _Detector(_on_yuface(yuface.detect), f"yuface {version} (libfacedetection YuNet)")
    detect, engine = built
    return _Detector(detect, f"yuface {version} (libfacedetection YuNet, {engine})")


def _on_yuface(detect: Callable[..., Any]) -> Callable[..., Any]:
    """``yuface.detect`` on an RGB array, the way :mod:`auditor.extract.yunet` takes it.

    yuface reads packed BGR rows, so the channels are reversed into a contiguous copy. It
    warns "Image size ... is too large" above :data:`_MAX_DETECTOR_SIDE` (only with
    ``reduce_to`` > 960); the result is still valid, so that one warning is silenced rather
    than left to the caller.
    """
    import numpy as np  # noqa: PLC0415 - see detect_faces

    def on_rgb(rgb: Any, conf: float) -> Any:
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        if max(rgb.shape[:2]) <= _MAX_DETECTOR_SIDE:
            return detect(bgr, conf=conf)
        with warnings.catch_warnings(action="ignore", category=UserWarning):
            return detect(bgr, conf=conf)

    return on_rgb
