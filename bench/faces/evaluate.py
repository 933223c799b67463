"""Measure the ``faces`` extractor on a small labelled set of real, permissively licensed photos.

Run from the repository root (needs the ``faces-eval`` extra: ``pip install -e '.[faces-eval]'``)::

    .venv/bin/python bench/faces/evaluate.py [--repeat N] [--face-detection-size PX]

The set is built from images that ship inside PyPI wheels (scikit-image's sample data and
matplotlib's ``grace_hopper.jpg``), read from the installed packages; nothing is downloaded.
``labels.json`` next to this script names every source image, its licence and its hand-labelled
face boxes. From those the script derives, deterministically (Pillow only), composites with
several faces per image: mirrored copies, an upscaled and a downscaled copy, collages of faces
and non-faces, and a face-size sweep (the three portraits pasted nine times on a 512x512 canvas
so each face is 16 ... 64 px tall in the reduced decode).

Every sample goes through the production path: ``auditor.extract.extract_image`` on the encoded
bytes (so the reduced decode is the production one). Detections are matched one-to-one to
labels by IoU >= 0.3, greedily by IoU. The script prints precision and recall for the
thresholds 0.5/0.6/0.7/0.8 (from one detection at 0.5, filtered), recall by face size, the
per-image counts, and the median/p95 milliseconds per image of ``extract_faces`` alone and of
``extract_image`` as a whole, pinned to one core (as one worker of the process pool runs).
``--face-detection-size`` evaluates another size of the detector's decode (the
``crawl.face_detection_size`` setting); face heights are then still reported as at 512 px, so
tables for several sizes line up by the faces' share of the image.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps

from auditor.extract import DEFAULT_LIMITS, ExtractLimits, extract_image
from auditor.extract.faces import CONFIDENCE_THRESHOLD, detect_faces, extract_faces
from auditor.extract.imagefacts import FaceBox, ImageContext, identity_facts, prepare

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels.json"
THRESHOLDS = (0.5, 0.6, 0.7, 0.8)
IOU_MATCH = 0.3
SWEEP_SIZES = (16, 20, 24, 28, 32, 40, 48, 64)
"""Face heights (px in the 512 px reduced decode) of the face-size sweep."""
TINY_SIDES = (20, 24, 28, 32)
"""Heights of the whole-image face crops of :func:`tiny_confidences`."""
PORTRAITS = ("astronaut", "camera", "grace_hopper")
NATURAL = frozenset({"photo", "composite", "negative"})
"""Every group but the face-size sweep."""
JPEG_QUALITY = 90

Box = tuple[int, int, int, int]
"""x, y, width, height in pixels of the full-size image."""


@dataclass(frozen=True)
class Source:
    """One labelled image read from an installed package."""

    name: str
    data: bytes
    image: Image.Image
    faces: tuple[Box, ...]


@dataclass(frozen=True)
class Sample:
    """One image of the evaluation set: encoded bytes and the faces they show."""

    name: str
    group: str
    """``photo`` (as shipped), ``composite``, ``negative`` or ``sweep-<px>``."""
    data: bytes
    faces: tuple[Box, ...]


@dataclass
class Tally:
    """Matched (tp), unmatched detections (fp) and missed labels (fn)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, detected: Sequence[Box], labelled: Sequence[Box]) -> None:
        """Count one image."""
        matched = match(detected, labelled)
        self.tp += matched
        self.fp += len(detected) - matched
        self.fn += len(labelled) - matched

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was detected."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when nothing was labelled."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass(frozen=True)
class Outcome:
    """What the pipeline found in one sample."""

    sample: Sample
    boxes: tuple[FaceBox, ...]
    """Every detection at or above the lowest evaluated threshold."""
    faces_ms: float
    total_ms: float

    def detected(self, threshold: float) -> list[Box]:
        """The boxes at or above ``threshold``."""
        return [(b.x, b.y, b.width, b.height) for b in self.boxes if b.confidence >= threshold]


@dataclass
class Evaluation:
    """Outcomes of one run over the set, and the tallies the report is made of."""

    outcomes: list[Outcome] = field(default_factory=list)

    def tally(self, threshold: float, groups: Collection[str] | None = None) -> Tally:
        """Precision/recall counts at ``threshold`` over the samples in ``groups`` (all: None)."""
        tally = Tally()
        for outcome in self.outcomes:
            if groups is None or outcome.sample.group in groups:
                tally.add(outcome.detected(threshold), outcome.sample.faces)
        return tally

    def images(self, threshold: float) -> tuple[int, int, int, int]:
        """Image-level counts, what a "shows people" fact depends on.

        Returns (images with faces where at least one was found, images with faces, images
        without faces where something was detected, images without faces).
        """
        with_faces = [o for o in self.outcomes if o.sample.faces]
        without = [o for o in self.outcomes if not o.sample.faces]
        return (
            sum(1 for o in with_faces if match(o.detected(threshold), o.sample.faces)),
            len(with_faces),
            sum(1 for o in without if o.detected(threshold)),
            len(without),
        )


# --- the set ---------------------------------------------------------------------------------


def load_sources(labels: Path = LABELS) -> dict[str, Source]:
    """Read every labelled image from its installed package."""
    manifest = json.loads(labels.read_text(encoding="utf-8"))
    sources = {}
    for entry in manifest["images"]:
        data = resources.files(entry["module"]).joinpath(entry["resource"]).read_bytes()
        with Image.open(BytesIO(data)) as opened:
            image = opened.convert("RGB")
        faces = tuple((x, y, w, h) for x, y, w, h in entry["faces"])
        sources[entry["name"]] = Source(entry["name"], data, image, faces)
    return sources


def encode(image: Image.Image) -> bytes:
    """JPEG at quality 90, as a composite would be published."""
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def transformed(boxes: Iterable[Box], scale: float, dx: float = 0, dy: float = 0) -> list[Box]:
    """Boxes scaled by ``scale`` and then moved by (dx, dy)."""
    return [
        (round(x * scale + dx), round(y * scale + dy), round(w * scale), round(h * scale))
        for x, y, w, h in boxes
    ]


def mirrored(source: Source) -> tuple[Image.Image, list[Box]]:
    """Left-right mirror image and its boxes."""
    width = source.image.width
    return ImageOps.mirror(source.image), [(width - x - w, y, w, h) for x, y, w, h in source.faces]


def square(image: Image.Image, boxes: Sequence[Box], side: int) -> tuple[Image.Image, list[Box]]:
    """Centre square crop resized to ``side`` x ``side``, with the boxes moved along."""
    short = min(image.size)
    left, top = (image.width - short) // 2, (image.height - short) // 2
    crop = image.crop((left, top, left + short, top + short))
    scale = side / short
    resized = crop.resize((side, side), Image.Resampling.LANCZOS)
    return resized, transformed(boxes, scale, -left * scale, -top * scale)


def collage(
    cells: Sequence[tuple[Image.Image, Sequence[Box]]], columns: int, side: int
) -> tuple[Image.Image, list[Box]]:
    """Square cells of ``side`` px in a grid of ``columns`` columns."""
    rows = -(-len(cells) // columns)
    canvas = Image.new("RGB", (columns * side, rows * side), (128, 128, 128))
    boxes: list[Box] = []
    for index, (image, faces) in enumerate(cells):
        tile, tile_faces = square(image, faces, side)
        dx, dy = (index % columns) * side, (index // columns) * side
        canvas.paste(tile, (dx, dy))
        boxes += transformed(tile_faces, 1.0, dx, dy)
    return canvas, boxes


def row(sources: Sequence[Source], height: int) -> tuple[Image.Image, list[Box]]:
    """Images side by side, each resized to ``height``."""
    scaled = [(s, height / s.image.height) for s in sources]
    widths = [round(s.image.width * k) for s, k in scaled]
    canvas = Image.new("RGB", (sum(widths), height), (128, 128, 128))
    boxes: list[Box] = []
    left = 0
    for (source, k), width in zip(scaled, widths, strict=True):
        canvas.paste(source.image.resize((width, height), Image.Resampling.LANCZOS), (left, 0))
        boxes += transformed(source.faces, k, left)
        left += width
    return canvas, boxes


def head(source: Source) -> tuple[Image.Image, Box]:
    """Head-and-shoulders crop: the (single) face box grown to twice its size, in the image."""
    x, y, w, h = source.faces[0]
    left, top = max(0, x - w // 2), max(0, y - h // 2)
    right = min(source.image.width, x + w + w // 2)
    bottom = min(source.image.height, y + h + h // 2)
    return source.image.crop((left, top, right, bottom)), (x - left, y - top, w, h)


def sweep(sources: dict[str, Source], face_px: int) -> tuple[Image.Image, list[Box]]:
    """512x512 canvas, 3x3 heads with faces ``face_px`` tall (row: portrait; column: variant).

    Columns: as is, mirrored, as is shifted by a few pixels (a different alignment with the
    detector's stride grid).
    """
    cell = 170
    canvas = Image.new("RGB", (512, 512), (128, 128, 128))
    boxes: list[Box] = []
    for r, name in enumerate(PORTRAITS):
        crop, (x, y, w, h) = head(sources[name])
        scale = face_px / h
        small = crop.resize(
            (round(crop.width * scale), round(crop.height * scale)), Image.Resampling.LANCZOS
        )
        for c, (flip, shift) in enumerate(((False, 0), (True, 0), (False, 7))):
            tile, fx = (ImageOps.mirror(small), crop.width - x - w) if flip else (small, x)
            dx = c * cell + (cell - tile.width) // 2 + shift
            dy = r * cell + (cell - tile.height) // 2 + shift
            canvas.paste(tile, (dx, dy))
            boxes += transformed([(fx, y, w, h)], scale, dx, dy)
    return canvas, boxes


def tiny_confidences(sources: dict[str, Source]) -> dict[int, float]:
    """Best confidence over the portraits' faces cropped square and resized to ``side`` px.

    The face fills the whole image, the most favourable case for a tiny image; this is what
    ``MIN_SIDE`` (no detection below it) rests on.
    """
    best = {}
    for side in TINY_SIDES:
        confidences = [0.0]
        for name in PORTRAITS:
            x, y, w, h = sources[name].faces[0]
            half = max(w, h) // 2
            cx, cy = x + w // 2, y + h // 2
            face = sources[name].image.crop((cx - half, cy - half, cx + half, cy + half))
            face = face.resize((side, side), Image.Resampling.LANCZOS)
            found = detect_faces(face, face.size, threshold=0.01)
            confidences += [b.confidence for b in found.boxes] if found is not None else []
        best[side] = max(confidences)
    return best


def build_samples(sources: dict[str, Source]) -> list[Sample]:
    """The evaluation set: the shipped files plus the derived composites."""
    samples = [
        Sample(s.name, "photo" if s.faces else "negative", s.data, s.faces)
        for s in sources.values()
    ]

    def add(name: str, group: str, built: tuple[Image.Image, Sequence[Box]]) -> None:
        samples.append(Sample(name, group, encode(built[0]), tuple(built[1])))

    portraits = [sources[name] for name in PORTRAITS]
    for source in portraits:
        add(f"{source.name}-mirrored", "composite", mirrored(source))
    astronaut, camera, hopper = portraits
    big = astronaut.image.resize((2048, 2048), Image.Resampling.LANCZOS)
    add("astronaut-2048", "composite", (big, transformed(astronaut.faces, 4.0)))
    small = hopper.image.resize((256, 300), Image.Resampling.LANCZOS)
    add("grace_hopper-256", "composite", (small, transformed(hopper.faces, 0.5)))

    def cell(name: str) -> tuple[Image.Image, tuple[Box, ...]]:
        return sources[name].image, sources[name].faces

    add(
        "collage-2x2",
        "composite",
        collage([cell("astronaut"), cell("grace_hopper"), cell("coffee"), cell("chelsea")], 2, 512),
    )
    add("row-3", "composite", row(portraits, 512))
    group = [cell("astronaut"), cell("coffee"), mirrored(camera)]
    group += [cell("rocket"), cell("grace_hopper"), cell("chelsea")]
    add("group-3x2", "composite", collage(group, 3, 400))
    # Non-faces at the sizes they have inside collages (256 and 128 px in the reduced decode):
    # a coffee cup that scores 0.35 on its own scores 0.67 as a quarter of a collage.
    negatives = [cell(s.name) for s in sources.values() if not s.faces]
    for number, start in enumerate(range(0, len(negatives), 4), 1):
        add(f"negatives-2x2-{number}", "negative", collage(negatives[start : start + 4], 2, 512))
    mirrors = [(ImageOps.mirror(image), boxes) for image, boxes in negatives]
    add("negatives-4x3", "negative", collage(negatives, 4, 256))
    add("negatives-mirrored-4x3", "negative", collage(mirrors, 4, 256))
    for face_px in SWEEP_SIZES:
        add(f"sweep-{face_px}px", f"sweep-{face_px}", sweep(sources, face_px))
    return samples


# --- matching --------------------------------------------------------------------------------


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def match(detected: Sequence[Box], labelled: Sequence[Box]) -> int:
    """How many detections match a label one-to-one (IoU >= 0.3, best pairs first)."""
    pairs = sorted(
        ((iou(d, t), i, j) for i, d in enumerate(detected) for j, t in enumerate(labelled)),
        reverse=True,
    )
    used_d: set[int] = set()
    used_t: set[int] = set()
    for overlap, i, j in pairs:
        if overlap < IOU_MATCH:
            break
        if i not in used_d and j not in used_t:
            used_d.add(i)
            used_t.add(j)
    return len(used_d)


# --- running ---------------------------------------------------------------------------------


def run(
    samples: Sequence[Sample], repeat: int = 3, limits: ExtractLimits = DEFAULT_LIMITS
) -> Evaluation:
    """Run every sample through the production pipeline ``repeat`` times (timings: median)."""
    evaluation = Evaluation()
    for sample in samples:
        faces_ms, total_ms = [], []
        boxes: tuple[FaceBox, ...] = ()
        for _ in range(repeat):
            start = time.perf_counter()
            facts = extract_image(sample.data, limits)
            total_ms.append((time.perf_counter() - start) * 1000)
            context, prepared = prepare(sample.data, limits, identity_facts(sample.data))
            if context is None or context.reduced is None or facts.faces is None:
                raise SystemExit(f"{sample.name}: not examined ({facts.error}); yuface missing?")
            try:
                start = time.perf_counter()
                extract_faces(context, prepared)
                faces_ms.append((time.perf_counter() - start) * 1000)
                boxes = _lowest_threshold_boxes(context)
            finally:
                _close(context)
            production = [b for b in boxes if b.confidence >= CONFIDENCE_THRESHOLD]
            if tuple(production) != facts.faces.boxes:  # the harness must see what production sees
                raise SystemExit(f"{sample.name}: harness and extract_image disagree")
        outcome = Outcome(sample, boxes, statistics.median(faces_ms), statistics.median(total_ms))
        evaluation.outcomes.append(outcome)
    return evaluation


def _lowest_threshold_boxes(context: ImageContext) -> tuple[FaceBox, ...]:
    assert context.reduced is not None  # noqa: S101 - checked by the caller
    found = detect_faces(context.reduced, (context.width, context.height), min(THRESHOLDS))
    assert found is not None  # noqa: S101 - the detector was there a moment ago
    return found.boxes


def _close(context: ImageContext) -> None:
    context.image.close()
    if context.reduced is not None:
        context.reduced.close()


def pin_to_one_core() -> str:
    """Restrict this process to one CPU (Linux), as one worker of the pool effectively runs."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity); yuface runs one thread anyway"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


# --- report ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method); the value itself for one sample."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(
    evaluation: Evaluation, tiny: dict[int, float], pinning: str, detection_size: int = 512
) -> str:
    """The printed report (markdown tables, ready to paste into docs/faces.md)."""
    outcomes = evaluation.outcomes
    faces = sum(len(o.sample.faces) for o in outcomes)
    sweep_faces = sum(len(o.sample.faces) for o in outcomes if o.sample.group.startswith("sweep"))
    lines = [
        f"Set: {len(outcomes)} images, {faces} labelled faces ({sweep_faces} of them in the "
        f"face-size sweep); production threshold {CONFIDENCE_THRESHOLD:.2f}; detector's decode "
        f"{detection_size} px; {pinning}.",
        "",
        "| threshold | precision (all) | recall (all) | FP | precision (no sweep) "
        "| recall (no sweep) |",
        "|---|---|---|---|---|---|",
    ]
    for t in THRESHOLDS:
        every = evaluation.tally(t)
        natural = evaluation.tally(t, NATURAL)
        lines.append(
            f"| {t:.1f} | {every.precision:.3f} ({every.tp}/{every.tp + every.fp}) "
            f"| {every.recall:.3f} ({every.tp}/{every.tp + every.fn}) | {every.fp} "
            f"| {natural.precision:.3f} | {natural.recall:.3f} ({natural.tp}/"
            f"{natural.tp + natural.fn}) |"
        )
    lines += [
        "",
        "| threshold | images with faces: found | images without faces: any detection |",
        "|---|---|---|",
    ]
    for t in THRESHOLDS:
        found, with_faces, spurious, without = evaluation.images(t)
        lines.append(f"| {t:.1f} | {found}/{with_faces} | {spurious}/{without} |")
    lines += [
        "",
        "Recall by face height in a 512 px decode, i.e. x 100 / 512 % of the image's longest side "
        "(9 faces each):",
        "",
    ]
    lines.append("| face px | " + " | ".join(f"@{t:.1f}" for t in THRESHOLDS) + " |")
    lines.append("|---" * (len(THRESHOLDS) + 1) + "|")
    for px in SWEEP_SIZES:
        cells = [evaluation.tally(t, {f"sweep-{px}"}) for t in THRESHOLDS]
        lines.append(f"| {px} | " + " | ".join(f"{c.tp}/{c.tp + c.fn}" for c in cells) + " |")
    lines += ["", "Per image (detected count per threshold; confidences >= 0.5):", ""]
    lines.append(
        "| image | group | faces | " + " | ".join(f"@{t:.1f}" for t in THRESHOLDS) + " | conf |"
    )
    lines.append("|---" * (len(THRESHOLDS) + 4) + "|")
    for o in outcomes:
        counts = " | ".join(str(len(o.detected(t))) for t in THRESHOLDS)
        confs = " ".join(f"{b.confidence:.2f}" for b in o.boxes) or "-"
        name = f"{o.sample.name} | {o.sample.group} | {len(o.sample.faces)}"
        lines.append(f"| {name} | {counts} | {confs} |")
    lines += [
        "",
        "Square whole-image face crops (the face is the image): best confidence by side:",
        "",
        "| image px | " + " | ".join(str(side) for side in tiny) + " |",
        "|---" * (len(tiny) + 1) + "|",
        "| best conf | " + " | ".join(f"{conf:.2f}" for conf in tiny.values()) + " |",
    ]
    faces_ms = [o.faces_ms for o in outcomes]
    total_ms = [o.total_ms for o in outcomes]
    lines += [
        "",
        "| ms per image, one core | median | p95 | max |",
        "|---|---|---|---|",
        f"| extract_faces | {statistics.median(faces_ms):.1f} | {percentile(faces_ms, 95):.1f} "
        f"| {max(faces_ms):.1f} |",
        f"| extract_image (all extractors) | {statistics.median(total_ms):.1f} "
        f"| {percentile(total_ms, 95):.1f} | {max(total_ms):.1f} |",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Build the set, run it and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per image (median timing)")
    parser.add_argument(
        "--face-detection-size", type=int, default=DEFAULT_LIMITS.reduce_to,
        help="longest side of the detector's decode, px (default: the production default)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    limits = ExtractLimits(reduce_to=args.face_detection_size)
    pinning = pin_to_one_core()
    sources = load_sources()
    samples = build_samples(sources)
    extract_image(samples[0].data)  # warm-up: imports yuface and c2pa once, outside the timings
    evaluation = run(samples, args.repeat, limits)
    print(report(evaluation, tiny_confidences(sources), pinning, limits.reduce_to))


if __name__ == "__main__":
    main()
