"""The ``faces`` extractor: counts and full-size boxes from the reduced decode, never raising."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from io import BytesIO
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from PIL import Image

import auditor.extract
from auditor.extract import DEFAULT_LIMITS, EXTRACTORS, ExtractLimits, extract_image
from auditor.extract import faces as faces_module
from auditor.extract.faces import (
    CONFIDENCE_THRESHOLD,
    MAX_FACES,
    _Detector,
    detect_faces,
    extract_faces,
    faces_available,
)
from auditor.extract.imagefacts import FaceBox, FaceFacts, identity_facts, prepare

from . import FIXTURE_IMAGES, encode, png_claiming

# Through the extractor, not pytest.importorskip: importing yuface directly would load its
# libgomp before the extractor can ask for one thread.
if not faces_available():
    pytest.skip(
        "yuface is not installed (wheels exist for x86-64 only): faces are not examined",
        allow_module_level=True,
    )

FACES = FIXTURE_IMAGES / "faces"
Box = tuple[int, int, int, int]

# Hand-labelled face regions (x, y, width, height) in the fixtures' own pixels.
PORTRAIT_FACE = (174, 66, 100, 118)
GROUP_FACES = (
    (109, 41, 62, 74),  # astronaut, top left
    (428, 60, 118, 122),  # Grace Hopper, top right
    (111, 386, 50, 59),  # camera operator, bottom left, three-quarter profile
)  # the cat, bottom right, is not a human face


def face_bytes(name: str) -> bytes:
    return (FACES / name).read_bytes()


def faces_of(data: bytes, limits: ExtractLimits = DEFAULT_LIMITS) -> FaceFacts:
    facts = extract_image(data, limits)
    assert facts.error is None
    assert facts.faces is not None
    return facts.faces


def as_box(box: FaceBox) -> Box:
    return box.x, box.y, box.width, box.height


def iou(a: Box, b: Box) -> float:
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / (a[2] * a[3] + b[2] * b[3] - width * height)


def portrait() -> Image.Image:
    with Image.open(FACES / "portrait.jpg") as image:
        return image.convert("RGB")


def test_portrait_has_one_face_over_the_known_region() -> None:
    found = faces_of(face_bytes("portrait.jpg"))
    assert found.count == 1
    (box,) = found.boxes
    assert iou(as_box(box), PORTRAIT_FACE) >= 0.6
    assert CONFIDENCE_THRESHOLD <= box.confidence <= 1.0
    assert found.detector.startswith("yuface ")
    assert "YuNet" in found.detector
    assert found.detector.endswith(f", decode<=512px, conf>={CONFIDENCE_THRESHOLD:.2f}")


def test_a_smaller_decode_misses_the_small_profile_face_and_says_so() -> None:
    # group.jpg is 640 px square; its three-quarter profile is 50 px wide.
    smaller = faces_of(face_bytes("group.jpg"), ExtractLimits(reduce_to=384))
    assert smaller.count == 2
    assert "decode<=384px" in smaller.detector
    assert faces_of(face_bytes("group.jpg")).count == 3


def test_a_larger_decode_finds_faces_the_default_one_shrinks_too_far() -> None:
    canvas = Image.new("RGB", (1280, 1280), (128, 128, 128))
    with Image.open(FACES / "group.jpg") as group:
        canvas.paste(group.convert("RGB"), (0, 0))
    data = encode(canvas, "PNG")
    assert faces_of(data).count == 2  # at 512 px the profile is 20 px wide
    larger = faces_of(data, ExtractLimits(reduce_to=960))
    assert larger.count == 3
    assert "decode<=960px" in larger.detector
    for label in GROUP_FACES:
        assert max(iou(as_box(box), label) for box in larger.boxes) >= 0.4, label


def test_group_counts_the_three_people_and_not_the_cat() -> None:
    found = faces_of(face_bytes("group.jpg"))
    assert found.count == len(found.boxes) == 3
    for label in GROUP_FACES:
        assert max(iou(as_box(box), label) for box in found.boxes) >= 0.4, label
    confidences = [box.confidence for box in found.boxes]
    assert confidences == sorted(confidences, reverse=True)


def test_a_cat_is_not_a_face() -> None:
    found = faces_of(face_bytes("noface.jpg"))
    assert found == FaceFacts(count=0, boxes=(), detector=found.detector)


@pytest.mark.parametrize("size", [(1, 1), (8, 8), (19, 300), (300, 19)])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
def test_tiny_images_have_no_faces_and_never_raise(size: tuple[int, int], fmt: str) -> None:
    data = encode(portrait().resize(size), fmt)
    assert faces_of(data).count == 0


@pytest.mark.parametrize("size", [(5000, 20), (20, 5000), (5000, 60), (3, 4000)])
def test_extreme_aspect_ratios_never_raise(size: tuple[int, int]) -> None:
    strip = Image.linear_gradient("L").resize(size).convert("RGB")
    for fmt in ("PNG", "JPEG"):
        found = faces_of(encode(strip, fmt))
        assert found.count == 0


def test_boxes_are_scaled_to_the_full_size_image() -> None:
    image = portrait()
    large = image.resize((2048, 2048), Image.Resampling.LANCZOS)
    small = faces_of(encode(image, "JPEG", quality=90))
    big = faces_of(encode(large, "JPEG", quality=90))
    assert small.count == big.count == 1
    x, y, w, h = as_box(small.boxes[0])
    scaled = (x * 4, y * 4, w * 4, h * 4)
    assert iou(as_box(big.boxes[0]), scaled) >= 0.85
    assert all(abs(a - b) <= 0.04 * 2048 for a, b in zip(as_box(big.boxes[0]), scaled, strict=True))
    x, y, w, h = PORTRAIT_FACE
    assert iou(as_box(big.boxes[0]), (x * 4, y * 4, w * 4, h * 4)) >= 0.6


def test_width_and_height_are_scaled_separately() -> None:
    # The reduced decode of portrait.jpg is the file itself (512 px); as if from 1024x2048.
    found = detect_faces(portrait(), (1024, 2048))
    assert found is not None
    (box,) = found.boxes
    x, y, w, h = as_box(faces_of(face_bytes("portrait.jpg")).boxes[0])
    assert as_box(box) == (x * 2, y * 4, w * 2, h * 4)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK"])
def test_other_colour_modes_are_examined(mode: str) -> None:
    image = portrait().convert(mode)
    data = encode(image, "JPEG" if mode == "CMYK" else "PNG")
    found = faces_of(data)
    assert found.count == 1
    assert iou(as_box(found.boxes[0]), PORTRAIT_FACE) >= 0.6


def test_detect_faces_accepts_any_mode() -> None:
    found = detect_faces(portrait().convert("L"), (512, 512))
    assert found is not None
    assert found.count == 1


def test_a_sideways_portrait_is_still_counted() -> None:
    # EXIF orientation is not applied (boxes are in the stored pixel grid); YuNet copes.
    for turn in (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270):
        found = faces_of(encode(portrait().transpose(turn), "JPEG", quality=90))
        assert found.count == 1


def test_faces_cut_by_the_border_are_clamped_to_the_image() -> None:
    # Part of the face is outside the picture: YuNet reports x = -3 for this crop.
    x, y, _, _ = PORTRAIT_FACE
    cut = portrait().crop((x + 40, y + 10, 512, 512))
    found = faces_of(encode(cut, "PNG"))
    assert found.count == 1
    box = found.boxes[0]
    assert (box.x, box.y) == (0, 0)
    assert 0 < box.width <= cut.width
    assert 0 < box.height <= cut.height


def test_boxes_are_clamped_and_those_outside_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(image: np.ndarray[Any, Any], conf: float) -> tuple[np.ndarray[Any, Any], ...]:
        assert image.shape == (100, 200, 3)
        assert image.flags.c_contiguous
        assert conf == 0.0
        confidences = np.array([95, 80, 90, 69], dtype=np.int16)
        boxes = np.array(
            [[-10, -5, 50, 60], [150, 90, 80, 40], [210, 10, 30, 30], [10, 10, 20, 20]],
            dtype=np.int16,
        )
        return confidences, boxes, np.zeros((4, 10), dtype=np.int16)

    monkeypatch.setattr(faces_module, "_detector", lambda: _Detector(fake, "fake 1.0"))
    found = detect_faces(Image.new("RGB", (200, 100)), (400, 300))
    assert found is not None
    # x scales by 2 and y by 3; the third box is wholly outside, the fourth below 0.7.
    assert found.boxes == (FaceBox(0, 0, 80, 165, 0.95), FaceBox(300, 270, 100, 30, 0.8))
    assert found.detector == f"fake 1.0, decode<=512px, conf>={CONFIDENCE_THRESHOLD:.2f}"


def test_the_number_of_boxes_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MAX_FACES == 100
    monkeypatch.setattr(faces_module, "MAX_FACES", 2)
    found = faces_of(face_bytes("group.jpg"))
    assert found.count == len(found.boxes) == 2
    # The most confident boxes are kept: the two frontal faces, not the profile.
    assert all(max(iou(as_box(b), label) for label in GROUP_FACES[:2]) >= 0.4 for b in found.boxes)


def test_faces_is_the_last_extractor() -> None:
    assert list(EXTRACTORS)[-1] == "faces"
    assert EXTRACTORS["faces"] is extract_faces


@pytest.mark.parametrize(
    "data",
    [b"<!DOCTYPE html><title>404</title>", b"", png_claiming(100_000, 100_000)],
    ids=["html", "empty", "bomb"],
)
def test_no_pixels_means_not_examined(data: bytes) -> None:
    facts = extract_image(data)
    assert facts.error is not None
    assert facts.faces is None


def test_without_the_detector_faces_are_not_examined(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faces_module, "_detector", lambda: None)
    facts = extract_image(face_bytes("portrait.jpg"))
    assert facts.error is None
    assert facts.faces is None
    assert facts.phash is not None


@pytest.fixture(params=["onnxruntime", "yuface"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The detector on each engine: onnxruntime, or yuface's own code (its fallback)."""
    if request.param == "yuface":  # as where onnxruntime is not installed: the import fails
        monkeypatch.delattr(auditor.extract, "yunet", raising=False)
        monkeypatch.setitem(sys.modules, "auditor.extract.yunet", None)
    faces_module._detector.cache_clear()
    yield request.param
    faces_module._detector.cache_clear()


def test_a_decode_larger_than_yuface_likes_does_not_warn(engine: str) -> None:
    # yuface warns above 960 px; only a non-default reduce_to gets there.
    large = portrait().resize((1200, 1200), Image.Resampling.LANCZOS)
    data = encode(large, "PNG")
    context, facts = prepare(data, ExtractLimits(reduce_to=1200), identity_facts(data))
    assert context is not None
    assert context.reduced is not None
    assert context.reduced.size == (1200, 1200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = extract_faces(context, facts).faces
    assert found is not None
    assert ("onnxruntime" in found.detector) == (engine == "onnxruntime")


OPENMP_PROBE = """
import ctypes, os, pathlib, importlib.util
from auditor.extract import extract_image
facts = extract_image(pathlib.Path({path!r}).read_bytes())
assert facts.faces is not None and facts.faces.count == 1, facts
libs = pathlib.Path(importlib.util.find_spec("yuface").origin).parent.parent / "yuface.libs"
gomp = ctypes.CDLL(str(next(libs.glob("libgomp*.so*"))))
print(gomp.omp_get_max_threads(), os.environ.get("OMP_NUM_THREADS"))
"""


@pytest.mark.parametrize("outside", [None, "3"])
def test_detection_uses_one_openmp_thread_and_leaves_the_environment(outside: str | None) -> None:
    # A fresh interpreter, as a pool worker is: the first import decides libgomp's threads.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if outside is not None:
        env["OMP_NUM_THREADS"] = outside
    code = OPENMP_PROBE.format(path=str(FACES / "portrait.jpg"))
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    threads, seen = result.stdout.split()
    assert threads == "1"
    assert seen == str(outside)


def load_generator() -> ModuleType:
    path = FIXTURE_IMAGES / "make_face_images.py"
    spec = importlib.util.spec_from_file_location("make_face_images", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_is_deterministic_and_its_files_are_committed() -> None:
    pytest.importorskip("skimage", reason="the faces-eval extra is not installed")
    pytest.importorskip("matplotlib", reason="the faces-eval extra is not installed")
    build: Callable[[], dict[str, bytes]] = load_generator().build
    first, second = build(), build()
    assert first == second
    assert set(first) == {path.name for path in FACES.iterdir()}
    assert all(len(data) < 150_000 for data in first.values())
    assert first["LICENSES.md"] == face_bytes("LICENSES.md")


def test_committed_fixtures_are_small_jpegs() -> None:
    for name in ("portrait.jpg", "group.jpg", "noface.jpg"):
        data = face_bytes(name)
        assert len(data) < 150_000
        with Image.open(BytesIO(data)) as image:
            assert image.format == "JPEG"


def test_the_switch_turns_detection_off_and_leaves_faces_unexamined() -> None:
    data = (FIXTURE_IMAGES / "faces" / "portrait.jpg").read_bytes()
    assert extract_image(data).faces is not None
    facts = extract_image(data, ExtractLimits(detect_faces=False))
    assert facts.faces is None  # not examined, never "no faces"
    assert facts.phash is not None and facts.error is None
