"""The fact catalogue: every fact a rule may name, as data.

A subject's facts are a flat mapping keyed by dotted path. A key that is absent is **missing**
(unknown); a key present with ``None`` means the fact was declared or observed as "not provided".
The catalogue below is the single source for load-time checks (unknown facts, facts used on the
wrong subject, operand types), the JSON Schema, ``docs/facts.md`` and ``policies explain``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from auditor.model import Subject

__all__ = [
    "FACTS",
    "FactSpec",
    "FactType",
    "fact_names",
    "facts_for",
    "lookup_fact",
    "render_fact_catalogue_markdown",
]


class FactType(StrEnum):
    """The value type of a fact; decides which operators and operands are accepted."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    LIST = "list[str]"
    DATETIME = "date-time"
    ENUM = "enum"


@dataclass(frozen=True)
class FactSpec:
    """One catalogue entry.

    ``values`` lists the allowed values of an enum fact, or of the items of a list fact when the
    vocabulary is closed. ``per_jurisdiction`` facts may hold ``{"UK": ..., "EU": ...}``; the
    engine resolves them with the evaluating pack's jurisdiction (a missing entry is ``None``).
    """

    name: str
    type: FactType
    subjects: frozenset[Subject]
    description: str
    nullable: bool = False
    values: tuple[str, ...] = ()
    per_jurisdiction: bool = False

    @property
    def type_label(self) -> str:
        """Human-readable type, e.g. ``enum (a | b)`` or ``int | null``."""
        label = str(self.type)
        if self.values:
            label += " (" + " | ".join(self.values) + ")"
        if self.nullable:
            label += " | null"
        return label


_ALL = frozenset(Subject)
_SITE = frozenset({Subject.SITE, Subject.IMAGE})
_IMAGE = frozenset({Subject.IMAGE})

PURPOSES = (
    "ai-train",
    "genai-train",
    "facial-recognition",
    "biometric-identification",
    "search",
    "research",
    "tdm",
    "dataset-resale",
    "safety",
    "other",
)
LAWFUL_BASES = (
    "consent",
    "contract",
    "legal-obligation",
    "vital-interests",
    "public-task",
    "legitimate-interests",
    "none",
)
USAGE_PURPOSES = ("crawl", "search", "tdm", "ai-train", "genai-train", "ai-input")
VERDICTS = ("allowed", "disallowed", "unknown")
JURISDICTIONS = ("UK", "EU", "US", "US-IL", "US-TX", "US-CA", "AU", "CA")

_DECL = "Missing when the declaration does not set it; null means declared as not provided."
_FETCH = "Missing when the image was not fetched or could not be decoded."

T = FactType


def _decl(
    name: str,
    type_: FactType,
    text: str,
    *,
    values: tuple[str, ...] = (),
    per_jurisdiction: bool = False,
) -> FactSpec:
    return FactSpec(
        f"crawler.{name}",
        type_,
        _ALL,
        f"{text} {_DECL}",
        nullable=True,
        values=values,
        per_jurisdiction=per_jurisdiction,
    )


def _site(name: str, type_: FactType, text: str, *, nullable: bool = False) -> FactSpec:
    return FactSpec(f"site.{name}", type_, _SITE, text, nullable)


def _image(name: str, type_: FactType, text: str, *, nullable: bool = False) -> FactSpec:
    return FactSpec(f"image.{name}", type_, _IMAGE, text, nullable)


_CATALOGUE: tuple[FactSpec, ...] = (
    # -- the declaration (DESIGN 4.1): available on every subject
    _decl("name", T.STR, "The audited crawler's name."),
    _decl("operator", T.STR, "The controller operating the crawler."),
    _decl("user_agent", T.STR, "The User-Agent string the crawler sends."),
    _decl("robots_tokens", T.LIST, "Product tokens the crawler answers to in robots.txt."),
    _decl("purposes", T.LIST, "What the collected images are used for.", values=PURPOSES),
    _decl(
        "collection",
        T.ENUM,
        "Whether collection is targeted at chosen sources or untargeted.",
        values=("targeted", "untargeted"),
    ),
    _decl(
        "lawful_basis",
        T.ENUM,
        "The UK/EU GDPR Art. 6 basis claimed; may be given per jurisdiction "
        "({UK: ..., EU: ...}) and is then resolved with the pack's jurisdiction, a missing "
        "entry resolving to null.",
        values=LAWFUL_BASES,
        per_jurisdiction=True,
    ),
    _decl(
        "legitimate_interests_assessment",
        T.STR,
        "Reference to the legitimate interests assessment.",
    ),
    _decl(
        "special_category_condition",
        T.STR,
        "The Art. 9(2) condition claimed for special-category (biometric) data.",
    ),
    _decl("retention_days", T.INT, "Days collected images are kept; null means no limit set."),
    _decl("dpia", T.STR, "Reference to the data protection impact assessment."),
    _decl("privacy_notice", T.STR, "URL of the public privacy notice covering the crawler."),
    _decl("optout_channel", T.STR, "URL or address where people can object or opt out."),
    _decl(
        "optout_requires_photo",
        T.BOOL,
        "Whether the opt-out channel asks people for a photo of themselves.",
    ),
    _decl("honours", T.LIST, "Opt-out mechanisms the crawler honours (robots.txt, tdmrep ...)."),
    _decl("markets", T.LIST, "Jurisdictions where it operates or whose residents it targets."),
    _decl("sells_access", T.BOOL, "Whether access to the collection or its outputs is sold."),
    _decl(
        "customers",
        T.LIST,
        "Who uses the outputs (internal, law-enforcement, private, public).",
    ),
    _decl(
        "targeting_criteria",
        T.STR,
        "How a 'targeted' collection chooses its sources (a claim a person must check).",
    ),
    _decl(
        "gpai_provider",
        T.BOOL,
        "Whether the operator provides a general-purpose AI model (EU AI Act Art 53 duties).",
    ),
    _decl("copyright_policy", T.STR, "Reference to the copyright policy (AI Act Art 53(1)(c))."),
    _decl("training_summary", T.STR, "URL of the public training-content summary (Art 53(1)(d))."),
    _decl("rightholder_contact", T.STR, "Where rights holders can complain (GPAI Code M1.5)."),
    _decl("crawler_info_url", T.STR, "Public page describing the crawler and its tokens (M1.3)."),
    # -- the site an image or page belongs to
    _site("url", T.STR, "The site's origin (scheme://host[:port])."),
    _site("host", T.STR, "The site's host name."),
    _site(
        "cctld",
        T.STR,
        "Country-code top-level domain of the host; null for generic TLDs.",
        nullable=True,
    ),
    _site("pages", T.INT, "Pages crawled on the site in this run."),
    _site("images", T.INT, "Images found on the site in this run."),
    FactSpec(
        "site.robots_status",
        T.ENUM,
        _SITE,
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
    _image("format", T.STR, f"Decoded image format (JPEG, PNG ...). {_FETCH}", nullable=True),
    _image("width", T.INT, f"Width in pixels. {_FETCH}"),
    _image("height", T.INT, f"Height in pixels. {_FETCH}"),
    _image("size_bytes", T.INT, f"Size of the image body in bytes. {_FETCH}"),
    _image("sha256", T.STR, f"SHA-256 of the image bytes. {_FETCH}"),
    _image("phash", T.STR, f"Perceptual hash of the image. {_FETCH}"),
    _image("gps", T.BOOL, f"Whether embedded metadata carries GPS coordinates. {_FETCH}"),
    _image(
        "camera_serial",
        T.BOOL,
        f"Whether embedded metadata carries a camera or lens serial number. {_FETCH}",
    ),
    _image("exif_artist", T.STR, f"EXIF Artist. {_FETCH}", nullable=True),
    _image("exif_copyright", T.STR, f"EXIF Copyright. {_FETCH}", nullable=True),
    _image("exif_datetime", T.STR, f"EXIF DateTimeOriginal as written. {_FETCH}", nullable=True),
    _image(
        "faces",
        T.INT,
        "Number of faces detected. No extractor produces it yet, so it is missing and rules "
        "that need it give insufficient_data.",
    ),
    _image("collected_at", T.DATETIME, "When the image was collected (ISO 8601)."),
    _image(
        "age_days",
        T.FLOAT,
        "Days between collected_at and the evaluation time; missing without collected_at.",
    ),
    _image("license", T.STR, "Licence URL or name declared for the image.", nullable=True),
    _image("alt", T.STR, "The alt text of the first embedding.", nullable=True),
    # -- usage verdicts per purpose (optout-signals.md 9)
    *(
        FactSpec(
            f"usage.{purpose}",
            T.ENUM,
            _IMAGE,
            f"Usage verdict for {purpose}, for the declared crawler's robots tokens; unknown is "
            "never permission. Missing when no verdict was computed.",
            values=VERDICTS,
        )
        for purpose in USAGE_PURPOSES
    ),
    FactSpec(
        "usage.conflicts",
        T.LIST,
        _IMAGE,
        "Purposes on which one mechanism allows and another disallows (the verdict is the "
        "disallow; the conflict shows publisher inconsistency).",
        values=USAGE_PURPOSES,
    ),
    # -- the evidence behind the verdicts (optout-signals.md 9.6-9.7)
    FactSpec(
        "signals.mechanisms",
        T.LIST,
        _IMAGE,
        "Mechanisms that produced evidence for the image (robots, x_robots_tag, tdmrep.file, "
        "iptc.data_mining, ...), whether or not it changed a verdict.",
    ),
    FactSpec(
        "signals.disallowing",
        T.LIST,
        _IMAGE,
        "Mechanisms whose evidence disallows at least one purpose for the image.",
    ),
    FactSpec(
        "signals.reserving",
        T.LIST,
        _IMAGE,
        "Mechanisms whose own (non-heuristic) evidence disallows crawl, tdm, ai-train or "
        "genai-train for the image: machine-readable reservations in the DSM Art 4(3) sense.",
    ),
    FactSpec(
        "signals.heuristic_reserving",
        T.LIST,
        _IMAGE,
        "Mechanisms that reserve only by heuristic (robots.txt groups for AI crawler tokens).",
    ),
    FactSpec(
        "signals.not_evaluated",
        T.LIST,
        _IMAGE,
        "Mechanisms that could not be evaluated for the image (not fetched, file refused, "
        "support not installed): their silence is not evidence.",
    ),
    # -- jurisdiction likelihoods (law.md 4)
    *(
        FactSpec(
            f"jurisdiction.{code}",
            T.FLOAT,
            _SITE,
            f"Likelihood (0..1) that the people concerned are in {code}. Missing when no "
            "jurisdiction evidence was computed.",
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


def lookup_fact(name: object, subject: Subject) -> tuple[FactSpec | None, str | None]:
    """Find ``name`` for a rule of ``subject``: the spec, or a one-line problem."""
    if not isinstance(name, str):
        return None, f"a fact name must be a string like 'image.faces'; got {name!r}"
    spec = FACTS.get(name)
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
        out.append("")
    return "\n".join(out)
