"""YuNet on onnxruntime (``auditor.extract.yunet``) finds exactly what ``yuface.detect`` finds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps

from auditor.extract import faces as faces_module
from auditor.extract.faces import detect_faces, faces_available

from . import FIXTURE_IMAGES

# Through the extractor first: it imports yuface with one OpenMP thread (see test_faces.py).
if not faces_available():
    pytest.skip("yuface is not installed (wheels exist for x86-64 only)", allow_module_level=True)
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: yuface.detect is used")

import yuface  # after the extractor has imported it with one OpenMP thread

from auditor.extract import yunet  # after the skip: it imports onnxruntime

YUFACE_DIR = Path(yuface.__file__).parent
SIZES = ((512, 512), (512, 384), (480, 360), (333, 250), (200, 137), (64, 48), (31, 40), (960, 720))


def variants() -> Iterator[tuple[str, np.ndarray[Any, Any]]]:
    """Every face fixture at sizes on and off the 32 px grid, mirrored and in grey."""
    for path in sorted((FIXTURE_IMAGES / "faces").glob("*.jpg")):
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        for width, height in SIZES:
            resized = photo.resize((width, height), Image.Resampling.BOX)
            yield f"{path.stem} {width}x{height}", np.asarray(resized)
        yield f"{path.stem} mirrored", np.asarray(ImageOps.mirror(photo))
        yield f"{path.stem} grey", np.asarray(ImageOps.grayscale(photo).convert("RGB"))


@pytest.fixture(scope="module")
def onnx_detect() -> yunet.Detect:
    built = yunet.build(YUFACE_DIR)
    assert built is not None
    return built[0]


def test_onnxruntime_finds_exactly_the_faces_yuface_finds(onnx_detect: yunet.Detect) -> None:
    found_any = 0
    for name, rgb in variants():
        expected = yuface.detect(np.ascontiguousarray(rgb[:, :, ::-1]), conf=0.0)
        got = onnx_detect(rgb, 0.0)
        parts = ("confidences", "boxes", "landmarks")
        for part, want, have in zip(parts, expected, got, strict=True):
            assert have.tolist() == want.tolist(), f"{name}: {part}"
        found_any += len(expected[0]) > 0
    assert found_any >= 15  # the comparison covers images with faces, not only empty results


def test_the_confidence_argument_filters_as_yuface_does(onnx_detect: yunet.Detect) -> None:
    rgb = next(image for name, image in variants() if name == "group 512x512")
    everything = onnx_detect(rgb, 0.0)[0].tolist()
    assert any(percent < 50 for percent in everything)  # low candidates come back at conf=0 ...
    above = onnx_detect(rgb, 0.5)[0].tolist()
    assert above == [p for p in everything if p > 50]  # ... and yuface keeps "> conf" only
    assert above == yuface.detect(np.ascontiguousarray(rgb[:, :, ::-1]), conf=0.5)[0].tolist()


def test_the_extractor_runs_yunet_on_onnxruntime() -> None:
    with Image.open(FIXTURE_IMAGES / "faces" / "portrait.jpg") as image:
        found = detect_faces(image.convert("RGB"), image.size)
    assert found is not None
    assert found.count == 1
    assert "(libfacedetection YuNet, onnxruntime " in found.detector


def test_detection_starts_no_threads(onnx_detect: yunet.Detect) -> None:
    # One worker process per core is the pool's parallelism; a detector with its own threads
    # would oversubscribe the machine.
    tasks = Path("/proc/self/task")
    before = sorted(tasks.iterdir())
    for _name, rgb in variants():
        onnx_detect(rgb, 0.0)
    assert sorted(tasks.iterdir()) == before


def test_a_library_with_another_layer_table_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Another yuface release could ship another network: the table is checked layer by layer.
    changed = list(yunet._LAYERS)
    changed[5] = (16, 64, "pointwise")
    monkeypatch.setattr(yunet, "_LAYERS", tuple(changed))
    assert yunet.build(YUFACE_DIR) is None


def test_a_package_without_the_library_is_not_used(tmp_path: Path) -> None:
    assert yunet.build(tmp_path) is None


def test_without_onnxruntime_yuface_detects_the_same_faces(monkeypatch: pytest.MonkeyPatch) -> None:
    with Image.open(FIXTURE_IMAGES / "faces" / "group.jpg") as image:
        group = image.convert("RGB")
    on_onnxruntime = detect_faces(group, group.size)
    monkeypatch.setattr(yunet, "build", lambda _directory: None)
    faces_module._detector.cache_clear()
    try:
        on_yuface = detect_faces(group, group.size)
    finally:
        faces_module._detector.cache_clear()
    assert on_onnxruntime is not None
    assert on_yuface is not None
    assert on_yuface.boxes == on_onnxruntime.boxes
    assert on_yuface.count == 3
    assert "onnxruntime" not in on_yuface.detector
