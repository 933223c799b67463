"""Image references with their context, and the collector that resolves and caps them.

The collector resolves, de-duplicates and caps the references of one page.

Kept apart from :mod:`auditor.crawl.discover` (which walks the parsed HTML) so each module reads
in one sitting; ``discover`` re-exports the public records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from auditor.crawl.jsonld import JsonLdImage, looks_relative
from auditor.crawl.resolve import C0_AND_SPACE, UrlResolver, clean_reference

_T = TypeVar("_T")


class RefKind(StrEnum):
    """How a page referenced an image."""

    IMG = "img"
    SRCSET = "srcset"
    PICTURE_SOURCE = "picture_source"
    LAZY = "lazy"
    OG_IMAGE = "og_image"
    TWITTER_IMAGE = "twitter_image"
    CSS_BACKGROUND = "css_background"
    LINK = "link"
    JSONLD = "jsonld"


@dataclass(frozen=True)
class ImageRef:
    """One image reference on a page, with its context."""

    url: str
    kind: RefKind
    alt: str | None
    descriptor: str | None
    license: str | None = None
    credit_text: str | None = None
    copyright_notice: str | None = None
    acquire_license_page: str | None = None


@dataclass(frozen=True)
class PageDiscovery:
    """Everything :func:`discover` found on one page."""

    base_url: str
    title: str | None
    lang: str | None
    hreflang: tuple[tuple[str, str], ...]
    meta_robots: tuple[tuple[str, str], ...]
    tdm_meta: tuple[tuple[str, str], ...]
    license_links: tuple[str, ...]
    links: tuple[str, ...]
    nofollow_links: tuple[str, ...]
    images: tuple[ImageRef, ...]
    data_uri_images: int
    truncated: bool


#: Path extensions (lower-case, without the dot) that make an ``<a href>`` an image reference.
IMAGE_EXTENSIONS = frozenset(
    {
        *("jpg", "jpeg", "jpe", "jfif", "pjpeg", "pjp", "png", "apng", "gif", "webp", "avif"),
        *("tif", "tiff", "bmp", "heic", "heif", "jxl", "svg", "svgz"),
    }
)


def has_image_extension(url: str) -> bool:
    """Whether the last path segment of a URL (or URL reference) ends in an image extension."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    segment = path.rsplit("/", 1)[-1].split(";", 1)[0]
    _, dot, extension = segment.rpartition(".")
    return bool(dot) and extension.lower() in IMAGE_EXTENSIONS


@dataclass(slots=True)
class RawRef:
    """One URL-bearing value as found, before resolution. ``kind`` None marks an a/area link."""

    value: str
    kind: RefKind | None
    alt: str | None = None
    descriptor: str | None = None
    rights: JsonLdImage | None = None
    nofollow: bool = False


class RefCollector:
    """Resolved, de-duplicated and capped results."""

    def __init__(self, base: str, *, max_images: int, max_links: int) -> None:
        self.base = base
        self.max_images = max_images
        self.max_links = max_links
        self.images: dict[tuple[str, RefKind], ImageRef] = {}
        self.links: dict[str, bool] = {}  # url -> every occurrence is rel=nofollow
        self.data_uri_images = 0
        self.truncated = False
        self.resolve = UrlResolver(base)

    def add(self, raw: RawRef) -> None:
        head = raw.value[:64].lstrip(C0_AND_SPACE)
        if head[:1] in ("d", "D") and (scheme := clean_reference(head)[:11].lower()).startswith(
            "data:"
        ):
            if raw.kind is not None or scheme == "data:image/":
                self.data_uri_images += 1
            return
        url = self.resolve(raw.value)
        if url is None:
            return
        if raw.kind is None and not has_image_extension(url):
            self._add_link(url, nofollow=raw.nofollow)
            return
        kind = RefKind.LINK if raw.kind is None else raw.kind
        self._add_image(url, kind, raw)

    def _add_link(self, url: str, *, nofollow: bool) -> None:
        if url in self.links:
            self.links[url] = self.links[url] and nofollow
        elif len(self.links) >= self.max_links:
            self.truncated = True
        else:
            self.links[url] = nofollow

    def _add_image(self, url: str, kind: RefKind, raw: RawRef) -> None:
        key = (url, kind)
        existing = self.images.get(key)
        if existing is not None:
            if raw.rights is not None and raw.rights.has_rights and not _has_rights(existing):
                self.images[key] = self._ref(url, kind, raw)  # same position, richer evidence
            return
        if len(self.images) >= self.max_images:
            self.truncated = True
            return
        self.images[key] = self._ref(url, kind, raw)

    def _ref(self, url: str, kind: RefKind, raw: RawRef) -> ImageRef:
        rights = raw.rights
        if rights is None:
            return ImageRef(url, kind, raw.alt, raw.descriptor)
        return ImageRef(
            url,
            kind,
            raw.alt,
            raw.descriptor,
            license=self._rights_url(rights.license),
            credit_text=rights.credit_text,
            copyright_notice=rights.copyright_notice,
            acquire_license_page=self._rights_url(rights.acquire_license_page),
        )

    def _rights_url(self, value: str | None) -> str | None:
        if value is not None and looks_relative(value):
            return self.resolve(value) or value
        return value

    def capped_unique(self, items: Iterable[_T]) -> tuple[_T, ...]:
        """De-duplicate in order, keeping at most ``max_links`` items."""
        unique: dict[_T, None] = {}
        for item in items:
            if item in unique:
                continue
            if len(unique) >= self.max_links:
                self.truncated = True
                break
            unique[item] = None
        return tuple(unique)


def _has_rights(ref: ImageRef) -> bool:
    return any((ref.license, ref.credit_text, ref.copyright_notice, ref.acquire_license_page))
