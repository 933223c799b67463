"""Fact types, the shared vocabularies and the builders the fact catalogue is written with.

Split from :mod:`auditor.policy.facts` so the catalogue's data (here the types, in
:mod:`auditor.policy.declaration_facts` the declaration's facts, in ``facts.py`` the rest) stays
readable; import the catalogue itself from ``auditor.policy.facts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from auditor.model import Subject


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


ALL_SUBJECTS = frozenset(Subject)
SITE_SUBJECTS = frozenset({Subject.SITE, Subject.IMAGE})
IMAGE_SUBJECTS = frozenset({Subject.IMAGE})
DATASET_SUBJECTS = frozenset({Subject.DATASET})

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
SITE_CATEGORIES = (
    "health",
    "adult",
    "religion",
    "politics",
    "sexuality",
    "children",
    "trade-union",
    "social-media",
    "news",
    "stock-photo",
    "ecommerce",
    "government",
    "education",
    "other",
)

DECLARED_NOTE = "Missing when the declaration does not set it; null means declared as not provided."
FETCH_NOTE = "Missing when the image was not fetched or could not be decoded."

T = FactType


def decl_fact(
    name: str,
    type_: FactType,
    text: str,
    *,
    values: tuple[str, ...] = (),
    per_jurisdiction: bool = False,
) -> FactSpec:
    """Build a declaration fact: nullable, on every subject, with the missing/null note."""
    return FactSpec(
        f"crawler.{name}",
        type_,
        ALL_SUBJECTS,
        f"{text} {DECLARED_NOTE}",
        nullable=True,
        values=values,
        per_jurisdiction=per_jurisdiction,
    )


def dataset_fact(name: str, type_: FactType, text: str) -> FactSpec:
    """Build a dataset aggregate fact, for dataset rules only."""
    return FactSpec(f"dataset.{name}", type_, DATASET_SUBJECTS, text)


def site_fact(name: str, type_: FactType, text: str, *, nullable: bool = False) -> FactSpec:
    """Build a site fact, for site rules and image rules (an image is read with its site)."""
    return FactSpec(f"site.{name}", type_, SITE_SUBJECTS, text, nullable)


def image_fact(name: str, type_: FactType, text: str, *, nullable: bool = False) -> FactSpec:
    """Build an image fact, for image rules only."""
    return FactSpec(f"image.{name}", type_, IMAGE_SUBJECTS, text, nullable)
