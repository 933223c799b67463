"""The fact catalogue: every fact a rule may name, as data.

A subject's facts are a flat mapping keyed by dotted path. A key that is absent is **missing**
(unknown); a key present with ``None`` means the fact was declared or observed as "not provided".
The catalogue below is the single source for load-time checks (unknown facts, facts used on the
wrong subject, operand types), the JSON Schema, ``docs/facts.md`` and ``policies explain``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from auditor.model import Subject
from auditor.policy.declaration_facts import DECLARATION_FACTS
from auditor.policy.factspec import (
    DATASET_SUBJECTS,
    FETCH_NOTE,
    IMAGE_SUBJECTS,
    JURISDICTIONS,
    LAWFUL_BASES,
    PURPOSES,
    SITE_CATEGORIES,
    SITE_SUBJECTS,
    USAGE_PURPOSES,
    VERDICTS,
    FactSpec,
    FactType,
)
from auditor.policy.factspec import FactType as T
from auditor.policy.factspec import dataset_fact as _dataset
from auditor.policy.factspec import image_fact as _image
from auditor.policy.factspec import site_fact as _site

__all__ = [
    "FACTS",
    "JURISDICTIONS",
    "LAWFUL_BASES",
    "PURPOSES",
    "SITE_CATEGORIES",
    "FactSpec",
    "FactType",
    "fact_names",
    "fact_spec",
    "facts_for",
    "lookup_fact",
    "render_fact_catalogue_markdown",
]

_CATALOGUE: tuple[FactSpec, ...] = (
    *DECLARATION_FACTS,
    # -- the site an image or page belongs to
    _site("url", T.STR, "The site's origin (scheme://host[:port])."),
    _site("host", T.STR, "The site's host name."),
    _site(
        "cctld",
        T.STR,
        "Country-code top-level domain of the host; null for generic TLDs.",
        nullable=True,
    ),
    _site(
        "categories",
        T.LIST,
        "Categories of the site as declared for its target (health, adult, news ...); missing "
        "when none were declared (the auditor does not classify sites itself).",
    ),
    _site("pages", T.INT, "Pages crawled on the site in this run."),
    _site("images", T.INT, "Images found on the site in this run."),
    FactSpec(
        "site.robots_status",
        T.ENUM,
        SITE_SUBJECTS,
        "Outcome of fetching the site's robots.txt.",
        values=("parsed", "unavailable", "unreachable"),
    ),
    # -- one image
    _image("url", T.STR, "The image URL."),
    _image("page_url", T.STR, "The first page that embeds the image.", nullable=True),
    _image("page_urls", T.LIST, "Every page that embeds the image, in discovery order."),
    _image("fetched", T.BOOL, "Whether the auditor fetched the image bytes."),
    _image(
        "skip_reason",
        T.STR,
        "Why the image was not fetched; null when it was.",
        nullable=True,
    ),
    _image("status", T.INT, "HTTP status of the image fetch; null if not fetched.", nullable=True),
    _image("content_type", T.STR, "Content-Type of the image response.", nullable=True),
    _image("format", T.STR, f"Decoded image format (JPEG, PNG ...). {FETCH_NOTE}", nullable=True),
    _image("width", T.INT, f"Width in pixels. {FETCH_NOTE}"),
    _image("height", T.INT, f"Height in pixels. {FETCH_NOTE}"),
    _image("size_bytes", T.INT, f"Size of the image body in bytes. {FETCH_NOTE}"),
    _image("sha256", T.STR, f"SHA-256 of the image bytes. {FETCH_NOTE}"),
    _image("phash", T.STR, f"Perceptual hash of the image. {FETCH_NOTE}"),
    _image("gps", T.BOOL, f"Whether embedded metadata carries GPS coordinates. {FETCH_NOTE}"),
    _image(
        "camera_serial",
        T.BOOL,
        f"Whether embedded metadata carries a camera or lens serial number. {FETCH_NOTE}",
    ),
    _image("exif_artist", T.STR, f"EXIF Artist. {FETCH_NOTE}", nullable=True),
    _image("exif_copyright", T.STR, f"EXIF Copyright. {FETCH_NOTE}", nullable=True),
    _image(
        "exif_datetime", T.STR, f"EXIF DateTimeOriginal as written. {FETCH_NOTE}", nullable=True
    ),
    _image(
        "faces",
        T.INT,
        "Number of faces detected (docs/faces.md). Missing when the image was not decoded or "
        "no detector is installed, so rules that need it never pass on it.",
    ),
    _image(
        "gps_country",
        T.STR,
        "ISO 3166 country of the EXIF GPS position (offline, coarse); null when the image has "
        "no usable position. Missing when EXIF was not examined.",
        nullable=True,
    ),
    _image("collected_at", T.DATETIME, "When the image was collected (ISO 8601)."),
    _image(
        "age_days",
        T.FLOAT,
        "Days between collected_at and the evaluation time; missing without collected_at.",
    ),
    FactSpec(
        "image.optout_match",
        T.ENUM,
        IMAGE_SUBJECTS,
        "Whether the image is on the operator's opt-out list (optout_list in audit.yaml): "
        "exact (its URL, a parent domain, or a listed photo within the Hamming threshold), near "
        "(a listed photo just beyond it: for review) or none. Missing when no list was checked.",
        values=("exact", "near", "none"),
    ),
    _image(
        "optout_received",
        T.DATETIME,
        "When the matching opt-out or erasure request was received (an ISO date: the start of "
        "that day, UTC); the earliest request when several match. Null when nothing matched.",
        nullable=True,
    ),
    _image(
        "optout_age_days",
        T.FLOAT,
        "Days between optout_received and the evaluation time, to compare with "
        "crawler.erasure_sla_days. Null when nothing matched.",
        nullable=True,
    ),
    _image(
        "optout_distance",
        T.INT,
        "Hamming distance between the image's perceptual hash and the listed photo's; null "
        "unless the match is by photo.",
        nullable=True,
    ),
    _image("license", T.STR, "Licence URL or name declared for the image.", nullable=True),
    _image("alt", T.STR, "The alt text of the first embedding.", nullable=True),
    # -- usage verdicts per purpose (optout-signals.md 9)
    *(
        FactSpec(
            f"usage.{purpose}",
            T.ENUM,
            IMAGE_SUBJECTS,
            f"Usage verdict for {purpose}, for the declared crawler's robots tokens; unknown is "
            "never permission. Missing when no verdict was computed.",
            values=VERDICTS,
        )
        for purpose in USAGE_PURPOSES
    ),
    FactSpec(
        "usage.conflicts",
        T.LIST,
        IMAGE_SUBJECTS,
        "Purposes on which one mechanism allows and another disallows (the verdict is the "
        "disallow; the conflict shows publisher inconsistency).",
        values=USAGE_PURPOSES,
    ),
    # -- the evidence behind the verdicts (optout-signals.md 9.6-9.7)
    FactSpec(
        "signals.mechanisms",
        T.LIST,
        IMAGE_SUBJECTS,
        "Mechanisms that produced evidence for the image (robots, x_robots_tag, tdmrep.file, "
        "iptc.data_mining, ...), whether or not it changed a verdict.",
    ),
    FactSpec(
        "signals.disallowing",
        T.LIST,
        IMAGE_SUBJECTS,
        "Mechanisms whose evidence disallows at least one purpose for the image.",
    ),
    FactSpec(
        "signals.reserving",
        T.LIST,
        IMAGE_SUBJECTS,
        "Mechanisms whose own (non-heuristic) evidence disallows crawl, tdm, ai-train or "
        "genai-train for the image: machine-readable reservations in the DSM Art 4(3) sense.",
    ),
    FactSpec(
        "signals.heuristic_reserving",
        T.LIST,
        IMAGE_SUBJECTS,
        "Mechanisms that reserve only by heuristic (robots.txt groups for AI crawler tokens).",
    ),
    FactSpec(
        "signals.not_evaluated",
        T.LIST,
        IMAGE_SUBJECTS,
        "Mechanisms that could not be evaluated for the image (not fetched, file refused, "
        "support not installed, or not recorded by a manifest): their silence is not evidence.",
    ),
    FactSpec(
        "signals.reserving_now",
        T.LIST,
        IMAGE_SUBJECTS,
        "Like signals.reserving, for the live source as it is now (auditor manifest --refetch); "
        "the signals.* facts above describe the image as collected. Missing unless refetched.",
    ),
    # -- manifest mode: the collected copy (docs/manifests.md)
    FactSpec(
        "manifest.key",
        T.STR,
        IMAGE_SUBJECTS,
        "The manifest row the image came from (file#row, shard.tar#sample). Missing in a crawl.",
    ),
    FactSpec(
        "manifest.local_path",
        T.STR,
        IMAGE_SUBJECTS,
        "The stored copy the bytes were read from; null when the row has none. Missing in a crawl.",
        nullable=True,
    ),
    FactSpec(
        "manifest.columns",
        T.LIST,
        IMAGE_SUBJECTS,
        "Names of the row's other columns, each readable as manifest.extra.<column>. Missing in "
        "a crawl.",
    ),
    # -- jurisdiction likelihoods (law.md 4)
    *(
        FactSpec(
            f"jurisdiction.{code}",
            T.FLOAT,
            SITE_SUBJECTS,
            f"Likelihood (0..1) that the people concerned are in {code}. Missing when no "
            "jurisdiction evidence was computed.",
        )
        for code in JURISDICTIONS
    ),
    # -- dataset aggregates over every image of the run (law.md 2, agg.*)
    _dataset("images", T.INT, "Images found in the run, fetched or not."),
    _dataset(
        "optout_collected",
        T.INT,
        "Images fetched although they match the operator's opt-out list (objections, erasure "
        "requests). Missing when no opt-out list was configured (optout_list in audit.yaml): "
        "then nothing could be checked.",
    ),
    _dataset("images_fetched", T.INT, "Images whose bytes were fetched."),
    _dataset("faces_examined", T.INT, "Images on which face detection ran."),
    _dataset("images_with_faces", T.INT, "Images with at least one detected face."),
    _dataset(
        "faces_share",
        T.FLOAT,
        "Share (0..1) of examined images with a face; missing when none was examined.",
    ),
    _dataset("images_with_gps", T.INT, "Images whose metadata carries GPS coordinates."),
    _dataset(
        "gps_share",
        T.FLOAT,
        "Share (0..1) of images with readable EXIF that carry GPS; missing when none had EXIF.",
    ),
    _dataset(
        "reserved_collected",
        T.INT,
        "Images fetched although a machine-readable reservation (signals.reserving) covered "
        "them: collected despite an opt-out.",
    ),
    _dataset(
        "images_refetched",
        T.INT,
        "Images whose live source auditor manifest --refetch read; missing without a refetch.",
    ),
    _dataset(
        "reserved_since_collection",
        T.INT,
        "Refetched images reserved now (signals.reserving_now) with no reservation at "
        "collection: consent withdrawn since. Missing without a refetch.",
    ),
    _dataset(
        "reserved_share",
        T.FLOAT,
        "Share (0..1) of fetched images collected despite a reservation.",
    ),
    _dataset(
        "jurisdiction_unknown",
        T.FLOAT,
        "Share (0..1) of images with no jurisdiction evidence at all.",
    ),
    *(
        FactSpec(
            f"dataset.jurisdiction.{code}",
            T.FLOAT,
            DATASET_SUBJECTS,
            f"Expected share (0..1) of the images concerning {code}: the mean likelihood over "
            "images with jurisdiction evidence. Missing when no image had any.",
        )
        for code in JURISDICTIONS
    ),
)

#: Every fact by name, in catalogue order.
FACTS: Mapping[str, FactSpec] = MappingProxyType({spec.name: spec for spec in _CATALOGUE})


def fact_names() -> tuple[str, ...]:
    """All fact names, in catalogue order."""
    return tuple(FACTS)


def facts_for(subject: Subject) -> tuple[FactSpec, ...]:
    """List the facts available when evaluating rules of ``subject``."""
    return tuple(spec for spec in FACTS.values() if subject in spec.subjects)


#: ``manifest.extra.<column>``: a manifest's other columns, as text (docs/facts.md).
EXTRA_PREFIX = "manifest.extra."
EXTRA_PATTERN = r"^manifest\.extra\.[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
_EXTRA = re.compile(EXTRA_PATTERN)


def _find(name: str) -> FactSpec | None:
    """Return the spec of a catalogued fact or of a ``manifest.extra.<column>`` fact."""
    spec = FACTS.get(name)
    if spec is None and _EXTRA.match(name):
        column = name.removeprefix(EXTRA_PREFIX)
        text = f"The manifest's {column} column, as one line of text; missing when absent."
        return FactSpec(name, T.STR, IMAGE_SUBJECTS, text)
    return spec


def fact_spec(name: str) -> FactSpec:
    """Return the spec of fact ``name``; ``KeyError`` if it is none (check with lookup_fact)."""
    spec = _find(name)
    if spec is None:
        raise KeyError(name)
    return spec


def lookup_fact(name: object, subject: Subject) -> tuple[FactSpec | None, str | None]:
    """Find ``name`` for a rule of ``subject``: the spec, or a one-line problem."""
    if not isinstance(name, str):
        return None, f"a fact name must be a string like 'image.faces'; got {name!r}"
    spec = _find(name)
    if spec is None:
        match = difflib.get_close_matches(name, list(FACTS), n=1, cutoff=0.6)
        hint = f" (did you mean '{match[0]}'?)" if match else " (see docs/facts.md)"
        return None, f"unknown fact '{name}'{hint}"
    if subject not in spec.subjects:
        where = _subjects_label(spec.subjects)
        return None, f"fact '{name}' is not available for {subject} rules (only for: {where})"
    return spec, None


def _subjects_label(subjects: Iterable[Subject]) -> str:
    chosen = set(subjects)
    return ", ".join(subject.value for subject in Subject if subject in chosen)


def render_fact_catalogue_markdown() -> str:
    """Render ``docs/facts.md`` from the catalogue (a test checks the committed copy)."""
    out = [
        "# Fact catalogue",
        "",
        "<!-- Generated by auditor.policy.facts.render_fact_catalogue_markdown(); do not edit. -->",
        "",
        "Rules name facts by dotted path. A subject's facts are a flat mapping; a fact that is",
        "absent is **missing** (unknown, so rules cannot pass on it), while a fact present with",
        "`null` was declared or observed as *not provided*. Naming a fact that is not listed",
        "here, or one not available for the rule's subject, is a load error.",
        "",
        "Per-jurisdiction facts may hold a mapping such as `{UK: consent, EU: none}`; the",
        "engine resolves it with the evaluating pack's `jurisdiction`, a missing entry",
        "resolving to `null`.",
        "",
    ]
    groups: dict[str, list[FactSpec]] = {}
    for spec in FACTS.values():
        groups.setdefault(spec.name.split(".", 1)[0], []).append(spec)
    for group, specs in groups.items():
        out += [f"## `{group}.*`", "", "| Fact | Type | Subjects | Meaning |", "|---|---|---|---|"]
        for spec in specs:
            flag = " (per jurisdiction)" if spec.per_jurisdiction else ""
            label = spec.type_label.replace("|", "\\|")
            subjects = _subjects_label(spec.subjects)
            out.append(f"| `{spec.name}` | {label}{flag} | {subjects} | {spec.description} |")
        if group == "manifest":
            out.append(
                "| `manifest.extra.<column>` | str | image | The manifest's column of that name "
                "(letters, digits, `_`, `.`, `-`; up to 64), as one line of text. Missing when "
                "the row has no such column, and in a crawl. |"
            )
        out.append("")
    return "\n".join(out)
