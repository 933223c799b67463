"""Seeded synthetic image site for the benchmark, with its ground truth.

Run from the repository root::

    .venv/bin/python bench/sitegen.py --images 1000 --seed 7 --out /tmp/site [--mix realistic]

Why synthetic: the benchmark must run on a fresh machine with no network, be reproducible to
the byte for a seed, and check correctness on every run, so the site is generated together
with the answers the auditor must give (``ground_truth.json``). Nothing is downloaded; the only
photographs are the face fixtures the project already ships (``fixtures/images/faces``).

What it writes under ``--out``:

- ``index.html`` -> ``list/NNNN.html`` (at most :data:`LINKS_PER_LIST` page links each) ->
  ``pages/NNNNN.html``: about :data:`REFS_PER_PAGE` image references per page, written as
  ``<img src>``, ``<img srcset>`` (pairs of candidates), ``<picture><source srcset>``, lazy
  ``<img data-src>`` and inline CSS ``background-image``. A share of the images appears on
  more than one page (:data:`SHARED_SHARE`), and some pages carry ``<meta name="robots"
  content="noai">``, which reaches every image they embed.
- ``img/<dir>/<id>.<ext>``: JPEG, PNG and WebP files. The directory is the opt-out scenario:
  ``p`` plain, ``xrt`` (``X-Robots-Tag: noai``), ``tdmh`` (``TDM-Reservation: 1``), ``tdmf``
  (reserved by ``/.well-known/tdmrep.json``), ``cua`` (``Content-Usage: train-ai=y``), ``rb``
  (robots.txt disallows the declared crawler ``BenchBot``) and ``private`` (robots.txt
  disallows everyone, the auditor included, so it is listed unfetched).
- error cases: references to files that do not exist (404), URLs under ``img/r/`` that redirect
  twice (``img/r/`` -> ``img/r2/`` -> ``img/p/``), and files cut short (truncated).
- ``robots.txt``, ``.well-known/tdmrep.json``, ``site.json`` (the per-path response headers and
  redirects the web server must apply; ``bench/nginx.py`` reads it), ``ground_truth.json``,
  ``urls.txt`` (every image URL, one per line, the list img2dataset gets) and ``manifest.csv``.

Image mix (``--mix``): ``realistic`` is 60 % thumbnails (480x360, about 45 KB as JPEG), 30 %
1 MP, 9 % 3-5 MP and 1 % 12 MP; ``small`` is all thumbnails; ``1mp`` is all 1 MP. Counts are
apportioned exactly (largest remainder), so 1,000 realistic images are exactly 600/300/90/10.

Speed: generating 100k images must take minutes, not hours, so pixels are encoded once per
*variant* (size class x format x content x metadata) and cached; every file is then made unique
by inserting a per-image comment (JPEG ``COM`` segment, PNG ``tEXt`` chunk, WebP unknown RIFF
chunk). Every file therefore has its own sha256, but files of one variant share their pixels, so
perceptual hashes and face counts repeat across the site. That is harmless for throughput (every
image is still fetched, decoded and hashed) but means the dataset has few distinct phashes.
Disk: about 300 KB per image on average for the realistic mix (100k images: about 30 GB).

Ground truth (``ground_truth.json``) follows ``/work/shared/reference/optout-signals.md``
section 9 for the declared crawler token ``BenchBot``: robots.txt disallow -> crawl disallowed
and, by the implications of 9.4, every purpose disallowed; ``TDM-Reservation: 1`` (header or
file) -> tdm disallowed -> ai-train and genai-train disallowed; ``X-Robots-Tag: noai`` and a
page's ``noai`` meta -> ai-train disallowed; IPTC ``DMI-PROHIBITED-AIMLTRAINING`` -> ai-train
disallowed; ``DMI-PROHIBITED-GENAIMLTRAINING`` -> genai-train disallowed only; ``Content-Usage:
train-ai=y`` -> ai-train and genai-train allowed unless something disallows them; anything else
is ``unknown``. It also lists whether each image is fetched (and why not), its status, sha256,
dimensions, whether it has GPS, faces, an extraction error, and its IPTC data-mining value.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from siteimages import (
    DATA_MINING,
    FACE_SOURCES,
    SIZE_CLASSES,
    Format,
    encoded_variant,
    personalise,
)

BOT_TOKEN: Final = "BenchBot"
"""The declared crawler's robots.txt token; verdicts in the ground truth are for it."""
DEFAULT_BASE_URL: Final = "http://127.0.0.1:18080"
REFS_PER_PAGE: Final = 20
"""Primary image references per page (shared images add a few more)."""
SHARED_SHARE: Final = 0.15
"""Share of images that also appear on one or two other pages."""
NOAI_PAGE_SHARE: Final = 0.05
"""Share of pages with ``<meta name="robots" content="noai">``."""
LINKS_PER_LIST: Final = 200

EXTENSIONS: Final[dict[str, str]] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MIME: Final[dict[str, str]] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


MIXES: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "realistic": (("thumb", 0.60), ("1mp", 0.30), ("3mp", 0.045), ("5mp", 0.045), ("12mp", 0.01)),
    "small": (("thumb", 1.0),),
    "1mp": (("1mp", 1.0),),
}

# Scenario weights. Tuples of (value, weight); drawn per image with the seeded generator.
FORMATS: Final[tuple[tuple[Format, float], ...]] = (("JPEG", 0.75), ("WEBP", 0.15), ("PNG", 0.10))
CONTENTS: Final = (("texture", 0.92), ("portrait", 0.04), ("group", 0.02), ("noface", 0.02))
METADATA: Final = (
    ("none", 0.70), ("gps", 0.08), ("rights", 0.08), ("dm-aiml", 0.06), ("dm-genai", 0.04),
    ("gps-rights", 0.04),
)  # fmt: skip
SIGNAL_DIRS: Final = (
    ("p", 0.70), ("xrt", 0.06), ("tdmh", 0.05), ("tdmf", 0.05), ("cua", 0.06), ("rb", 0.05),
    ("private", 0.03),
)  # fmt: skip
ERRORS: Final = (("none", 0.96), ("missing", 0.015), ("redirect", 0.015), ("truncated", 0.01))
KINDS: Final = (("img", 0.40), ("srcset", 0.15), ("picture", 0.15), ("lazy", 0.15), ("css", 0.15))

PNG_CLASSES: Final = frozenset({"thumb", "1mp"})
"""PNG is used for small images only (a 12 MP PNG photo would be tens of MB)."""

HEADERS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "/img/xrt/": (("X-Robots-Tag", "noai"),),
    "/img/tdmh/": (("TDM-Reservation", "1"),),
    "/img/cua/": (("Content-Usage", "train-ai=y"),),
}
"""Response headers per path prefix (the web server adds them on 200 responses)."""
REDIRECTS: Final = (("/img/r/", "/img/r2/"), ("/img/r2/", "/img/p/"))
"""Permanent redirects, prefix to prefix: a two-hop chain ending at a real file."""
ROBOTS_TXT: Final = f"""# Synthetic benchmark site
User-agent: *
Disallow: /img/private/

User-agent: {BOT_TOKEN}
Disallow: /img/rb/
Disallow: /img/private/
"""
TDMREP: Final = [{"location": "/img/tdmf/", "tdm-reservation": 1}]


@dataclass
class ImageSpec:
    """One image of the site: what it is, where it lives, and the pages that show it."""

    number: int
    size: str
    format: Format
    content: str
    metadata: str
    signal: str
    error: str
    pages: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.number:06d}.{EXTENSIONS[self.format]}"

    @property
    def file_dir(self) -> str:
        """Directory the file is stored in (a redirect's chain ends in ``p``)."""
        return "p" if self.error == "redirect" else self.signal

    @property
    def url_path(self) -> str:
        """The path pages reference."""
        if self.error == "redirect":
            return f"/img/r/{self.name}"
        if self.error == "missing":
            return f"/img/missing/{self.name}"
        return f"/img/{self.signal}/{self.name}"


def apportion(total: int, weights: Sequence[tuple[str, float]]) -> dict[str, int]:
    """Split ``total`` by ``weights`` exactly (largest remainder), so a mix is what it says."""
    raw = [(name, total * weight) for name, weight in weights]
    counts = {name: math.floor(value) for name, value in raw}
    left = total - sum(counts.values())
    by_remainder = sorted(raw, key=lambda item: (-(item[1] - math.floor(item[1])), item[0]))
    for name, _ in by_remainder[:left]:
        counts[name] += 1
    return counts


def pick(rng: random.Random, weights: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in weights], [w for _, w in weights])[0]


def plan_images(count: int, mix: str, rng: random.Random) -> list[ImageSpec]:
    """Draw every image's scenario; sizes are apportioned exactly, then shuffled."""
    sizes = [name for name, n in apportion(count, MIXES[mix]).items() for _ in range(n)]
    rng.shuffle(sizes)
    specs = []
    for number, size in enumerate(sizes):
        fmt: Format = pick(rng, FORMATS)  # type: ignore[assignment]
        if fmt == "PNG" and size not in PNG_CLASSES:
            fmt = "JPEG"
        content = pick(rng, CONTENTS)
        metadata = pick(rng, METADATA)
        signal = pick(rng, SIGNAL_DIRS)
        error = pick(rng, ERRORS)
        if error in {"redirect", "missing"}:
            signal = "p"  # its own scenario: no opt-out on the path (a chain ends at a plain file)
        if error in {"truncated", "missing"}:
            # no bytes, or bytes whose metadata may or may not survive the cut: nothing embedded
            content, metadata = "texture", "none"
        specs.append(ImageSpec(number, size, fmt, content, metadata, signal, error))
    return specs


def assign_pages(specs: list[ImageSpec], rng: random.Random) -> int:
    """Give every image a home page and some a second or third one; return the page count."""
    pages = max(1, math.ceil(len(specs) / REFS_PER_PAGE))
    order = list(range(len(specs)))
    rng.shuffle(order)
    for position, index in enumerate(order):
        specs[index].pages.append(position // REFS_PER_PAGE)
    for spec in specs:
        if pages > 1 and rng.random() < SHARED_SHARE:
            others = [p for p in range(pages) if p not in spec.pages]
            extra = rng.sample(others, min(2, len(others)))
            spec.pages.extend(extra[: rng.randint(1, len(extra))])
    for spec in specs:
        spec.kinds = [pick(rng, KINDS) for _ in spec.pages]
    return pages


# --- pages ----------------------------------------------------------------------------------


def render_refs(refs: Sequence[tuple[ImageSpec, str]]) -> str:
    """HTML for one page's references; consecutive ``srcset`` refs share one element."""
    out: list[str] = []
    index = 0
    while index < len(refs):
        spec, kind = refs[index]
        url = spec.url_path
        alt = f"Photo {spec.number}"
        if kind == "srcset":
            if index + 1 < len(refs) and refs[index + 1][1] == "srcset":
                other = refs[index + 1][0].url_path
                out.append(f'<img alt="{alt}" src="{url}" srcset="{url} 1x, {other} 2x">')
                index += 2
                continue
            out.append(f'<img alt="{alt}" srcset="{url} 480w" sizes="100vw">')
        elif kind == "picture":
            out.append(f'<picture><source srcset="{url}"><img alt="{alt}"></picture>')
        elif kind == "lazy":
            out.append(f'<img class="lazyload" alt="{alt}" data-src="{url}">')
        elif kind == "css":
            out.append(f'<div class="hero" style="background-image:url(\'{url}\')"></div>')
        else:
            out.append(f'<img alt="{alt}" src="{url}" loading="lazy">')
        index += 1
    return "\n".join(out)


def page_html(number: int, refs: Sequence[tuple[ImageSpec, str]], noai: bool) -> str:
    meta = '<meta name="robots" content="noai">\n' if noai else ""
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n{meta}'
        f"<title>Gallery {number}</title></head><body>\n<h1>Gallery {number}</h1>\n"
        f"<p>Synthetic benchmark page.</p>\n{render_refs(refs)}\n</body></html>\n"
    )


def link_page(title: str, hrefs: Iterable[str]) -> str:
    links = "\n".join(f'<li><a href="{href}">{href}</a></li>' for href in hrefs)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body>\n<ul>\n{links}\n</ul>\n</body></html>\n"
    )


# --- ground truth ---------------------------------------------------------------------------


def expected_usage(spec: ImageSpec, noai_pages: set[int]) -> dict[str, str]:
    """Verdicts for BenchBot per optout-signals.md section 9 (mapping, implications, combine)."""
    crawl = "disallowed" if spec.signal in {"rb", "private"} else None
    tdm = "disallowed" if spec.signal in {"tdmh", "tdmf"} else None
    ai = "disallowed" if spec.signal == "xrt" else None
    genai: str | None = None
    if any(page in noai_pages for page in spec.pages):
        ai = "disallowed"
    if spec.metadata == "dm-aiml":
        ai = "disallowed"
    if spec.metadata == "dm-genai":
        genai = "disallowed"
    if spec.signal == "cua":
        ai = ai or "allowed"
        genai = genai or "allowed"
    # implications (9.4): crawl -> everything, tdm -> ai-train and genai-train, ai -> genai
    if crawl:
        tdm = ai = genai = "disallowed"
    if tdm == "disallowed":
        ai = genai = "disallowed"
    if ai == "disallowed":
        genai = "disallowed"
    return {
        "crawl": crawl or "allowed",
        "tdm": tdm or "unknown",
        "ai-train": ai or "unknown",
        "genai-train": genai or "unknown",
    }


def expected(spec: ImageSpec, data: bytes | None, noai_pages: set[int]) -> dict[str, object]:
    """What the auditor must report for one image (fields of the ``images`` export)."""
    usage = expected_usage(spec, noai_pages)
    if spec.signal == "private":
        return {"fetched": False, "skip_reason": "robots_disallowed", "status": None,
                "usage": usage}  # fmt: skip
    if spec.error == "missing" or data is None:
        return {"fetched": False, "skip_reason": "http_error", "status": 404, "usage": usage}
    truncated = spec.error == "truncated"
    size = SIZE_CLASSES[spec.size]
    faces = FACE_SOURCES[spec.content][1] if spec.content in FACE_SOURCES else 0
    found: dict[str, object] = {
        "fetched": True,
        "skip_reason": None,
        "status": 200,
        "content_type": MIME[spec.format],
        "sha256": hashlib.sha256(data).hexdigest(),
        "extract_error": truncated,
        "gps": "gps" in spec.metadata,
        "faces": None if truncated else faces > 0,
        "data_mining": DATA_MINING.get(spec.metadata),
        "usage": usage,
    }
    if not truncated:  # a cut WebP cannot even be opened, so its dimensions are unknown
        found |= {"width": size.width, "height": size.height}
    return found


# --- the whole site -------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteSummary:
    """What :func:`generate` wrote, for the harness and the smoke test."""

    out: Path
    images: int
    pages: int
    bytes: int
    sizes: dict[str, int]
    seconds: float


def generate(
    count: int,
    seed: int,
    out: Path,
    mix: str = "realistic",
    *,
    base_url: str = DEFAULT_BASE_URL,
    variants: int = 4,
) -> SiteSummary:
    """Write the site, its server rules and its ground truth to ``out`` (see module docstring)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    specs = plan_images(count, mix, rng)
    page_count = assign_pages(specs, rng)
    noai_pages = {p for p in range(page_count) if rng.random() < NOAI_PAGE_SHARE}
    truncate_at = [rng.uniform(0.4, 0.8) for _ in specs]

    out.mkdir(parents=True, exist_ok=True)
    for sub in ("pages", "list", ".well-known", *(f"img/{d}" for d, _ in SIGNAL_DIRS)):
        (out / sub).mkdir(parents=True, exist_ok=True)
    total_bytes = 0
    truth: dict[str, dict[str, object]] = {}
    variant_of = [rng.randrange(variants if spec.size in PNG_CLASSES else 2) for spec in specs]
    # Variant order, so each variant's pixels are made and encoded once (small caches).
    for spec in sorted(specs, key=lambda s: (s.size, s.content, variant_of[s.number], s.format)):
        data: bytes | None = None
        if spec.error != "missing":
            template = encoded_variant(
                spec.size, spec.format, spec.content, spec.metadata, variant_of[spec.number]
            )
            data = personalise(template, spec.format, f"bench image {spec.number}".encode())
            if spec.error == "truncated":
                data = data[: int(len(data) * truncate_at[spec.number])]
            (out / "img" / spec.file_dir / spec.name).write_bytes(data)
            total_bytes += len(data)
        truth[spec.url_path] = {
            "size": spec.size, "format": spec.format, "content": spec.content,
            "metadata": spec.metadata, "signal": spec.signal, "error": spec.error,
            "pages": [f"/pages/{p:05d}.html" for p in sorted(set(spec.pages))],
            "kinds": spec.kinds, "expect": expected(spec, data, noai_pages),
        }  # fmt: skip

    refs_by_page: dict[int, list[tuple[ImageSpec, str]]] = {}
    for spec in specs:
        for page, kind in zip(spec.pages, spec.kinds, strict=True):
            refs_by_page.setdefault(page, []).append((spec, kind))
    for page in range(page_count):
        refs = refs_by_page.get(page, [])
        rng.shuffle(refs)
        html = page_html(page, refs, page in noai_pages)
        (out / "pages" / f"{page:05d}.html").write_text(html, encoding="utf-8")
    page_paths = [f"/pages/{p:05d}.html" for p in range(page_count)]
    lists = [
        page_paths[start : start + LINKS_PER_LIST]
        for start in range(0, len(page_paths), LINKS_PER_LIST)
    ]
    for number, chunk in enumerate(lists):
        (out / "list" / f"{number:04d}.html").write_text(link_page(f"List {number}", chunk))
    (out / "index.html").write_text(
        link_page("Benchmark site", [f"/list/{n:04d}.html" for n in range(len(lists))])
    )
    (out / "robots.txt").write_text(ROBOTS_TXT)
    (out / ".well-known" / "tdmrep.json").write_text(json.dumps(TDMREP))

    server = {
        "headers": {prefix: [list(pair) for pair in pairs] for prefix, pairs in HEADERS.items()},
        "redirects": [list(pair) for pair in REDIRECTS],
    }
    (out / "site.json").write_text(json.dumps(server, indent=2) + "\n")
    sizes = dict(Counter(spec.size for spec in specs))
    meta = {
        "seed": seed, "mix": mix, "images": count, "pages": page_count, "lists": len(lists),
        "bot_token": BOT_TOKEN, "sizes": sizes, "bytes": total_bytes,
        "noai_pages": [f"/pages/{p:05d}.html" for p in sorted(noai_pages)],
    }  # fmt: skip
    (out / "ground_truth.json").write_text(
        json.dumps({"meta": meta, "images": truth}, indent=1, sort_keys=True) + "\n"
    )
    write_url_lists(out, base_url)
    return SiteSummary(out, count, page_count, total_bytes, sizes, time.perf_counter() - started)


def write_url_lists(out: Path, base_url: str) -> list[str]:
    """(Re)write ``urls.txt`` and ``manifest.csv`` for ``base_url``; return the URLs.

    The harness calls this again once it knows the port nginx listens on; the site itself
    only uses root-relative URLs, so it does not depend on the host or port.
    """
    truth = json.loads((out / "ground_truth.json").read_text())
    urls = [base_url.rstrip("/") + path for path in sorted(truth["images"])]
    (out / "urls.txt").write_text("".join(f"{url}\n" for url in urls))
    with (out / "manifest.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url"])
        writer.writerows([url] for url in urls)
    return urls


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="number of image URLs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="directory to write the site to")
    parser.add_argument("--mix", choices=sorted(MIXES), default="realistic")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="for urls.txt only")
    args = parser.parse_args(argv)
    summary = generate(args.images, args.seed, args.out, args.mix, base_url=args.base_url)
    print(
        f"{summary.images} images ({summary.sizes}), {summary.pages} pages, "
        f"{summary.bytes / 1e6:.1f} MB in {summary.seconds:.1f} s -> {summary.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
