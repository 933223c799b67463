"""The evidence a mechanism reads: everything known about one image (or page) and its origin.

Every mechanism has the same shape, ``(ImageEvidence) -> list[SignalRecord]`` for images and
``(PageEvidence, OriginEvidence, tokens) -> list[SignalRecord]`` for pages, so the registry in
:mod:`auditor.signals` is a plain dict and the orchestrator never special-cases a mechanism.
Origin files are fetched and parsed once per origin (:mod:`auditor.crawl.origins`); the bundle
only points at them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.crawl.origins import FetchMeta

if TYPE_CHECKING:
    from auditor.crawl.origins import RobotsEntry
    from auditor.extract import ImageFacts
    from auditor.model import ImageContext
    from auditor.signals.aitxt import AiTxtFile
    from auditor.signals.tdmrep import TdmrepFile


@dataclass(frozen=True)
class OriginEvidence:
    """The origin files that govern a resource: robots.txt, tdmrep.json and ai.txt."""

    origin: str
    robots: RobotsEntry
    tdmrep_meta: FetchMeta
    tdmrep: TdmrepFile
    ai_txt_meta: FetchMeta
    ai_txt: AiTxtFile


@dataclass(frozen=True)
class PageEvidence:
    """What a page said about itself (and, for some values, about the images it embeds)."""

    url: str
    status: int | None
    fetched_at: str
    headers: tuple[tuple[str, str], ...]  # lower-cased names, every instance, in order
    meta_robots: tuple[tuple[str, str], ...]  # (lower-cased meta name, content as written)
    tdm_meta: tuple[tuple[str, str], ...]  # (lower-cased meta name, content as written)
    license_links: tuple[str, ...] = ()  # <link rel=license> / <a rel=license> targets

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, in order (repeated lines are never joined)."""
        return [value for key, value in self.headers if key == name]


@dataclass(frozen=True)
class ImageEvidence:
    """Everything the mechanisms may read about one image.

    ``tokens`` are the declared crawler's robots.txt product tokens (empty when none are
    declared: mechanisms then use the ``*`` group and note ``no_declared_token``).
    ``response_headers`` is ``None`` when no response was received (the auditor may not fetch
    the image, or the fetch failed): header mechanisms are then ``not_evaluated``, never
    "allowed". ``pages`` are the crawled pages that embed the image. ``claimed_sha256`` and
    ``claimed_phash`` are the hashes a manifest recorded, for look-ups (the opt-out list) when
    there are no bytes to hash.
    """

    url: str
    tokens: tuple[str, ...]
    origin: OriginEvidence
    response_headers: tuple[tuple[str, str], ...] | None
    status: int | None
    fetched_at: str | None
    facts: ImageFacts | None
    pages: tuple[PageEvidence, ...]
    contexts: tuple[ImageContext, ...] = ()  # how each page referenced it (JSON-LD rights ...)
    claimed_sha256: str | None = None
    claimed_phash: str | None = None

    def header_values(self, name: str) -> list[str]:
        """Every value of a response header, in order; empty when there was no response."""
        return [value for key, value in self.response_headers or () if key == name]


__all__ = ["FetchMeta", "ImageEvidence", "OriginEvidence", "PageEvidence"]
