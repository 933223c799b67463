"""Discovery: everything the crawler needs from one fetched HTML page.

:func:`discover` parses the page once (BeautifulSoup with lxml, which is fast and repairs broken
markup) and walks every element once. It returns the links to follow, every image reference with
its context, and the page facts the signal and jurisdiction stages read (robots and TDMRep meta
tags, licence links, ``lang``, ``hreflang``). The walk records raw values in document order;
they are resolved at the end, against the ``<base href>`` wherever it appears in the document.

Decisions (each a judgement call, recorded so the lead can revisit them):

- **Image links by extension.** ``<a href>`` / ``<area href>`` whose path ends in a raster image
  extension, or ``.svg``/``.svgz``, is an image reference (kind ``link``), not a page link. SVG is
  vector, but it is an image file a scraper collects and rights holders reserve like any other;
  fetching it as a page would find nothing. Icons (``.ico``) are not counted.
- **Lazy attributes.** On ``<img>`` and ``<source>`` every lazy attribute counts. On any other
  element ``data-src``-style attributes count only when the URL has an image extension, because
  the same attributes lazy-load iframes, scripts and video; ``data-srcset`` style attributes
  always count (srcset syntax is image-only), and so do ``data-bg``/``data-background-image``.
- **nofollow.** ``links`` holds every ``<a>``/``<area>`` target, followed or not, because the
  audit covers what any crawler could reach. ``nofollow_links`` holds those a nofollow-respecting
  crawler would never take from this page: every occurrence carries ``rel=nofollow``.
- **Alt text.** Refs from an ``<img>`` (``src``, ``srcset``, lazy attributes) carry its ``alt``;
  ``<picture><source>`` candidates carry the alt of the picture's ``<img>``. ``alt=""`` (a
  decorative image) stays ``""``, distinct from a missing alt (None).
- **JSON-LD duplicates.** When one URL is named by JSON-LD several times, the ref that carries
  rights fields wins (Yoast names the image as ``thumbnailUrl`` before its ImageObject).
- **srcset** follows the WHATWG algorithm, including dropping candidates with invalid
  descriptors, as browsers do (see :mod:`auditor.crawl.srcset`). **JSON-LD** images also come
  from ``thumbnailUrl``, ``thumbnail``, ``logo`` and ``primaryImageOfPage`` (see
  :mod:`auditor.crawl.jsonld`).
- **Not covered** (no ``RefKind`` for them yet): ``<video poster>``, ``<input type=image>``,
  SVG ``<image href>``, ``<link rel=preload as=image>`` / ``rel=image_src``, microdata
  ``itemprop=image``, ``<style>`` blocks and external stylesheets.
- **Signals are never capped.** Caps bound images, links, licence links and ``hreflang`` pairs;
  robots and TDMRep meta tags are always kept, so a padded page cannot push an opt-out out of
  reach.
- **URLs** are resolved as browsers do in the cases that matter: surrounding whitespace and C0
  controls stripped, tabs and newlines removed, backslashes read as slashes before the query,
  scheme and host lower-cased, fragment dropped. Only http(s) URLs are returned; ``data:`` image
  references are counted in ``data_uri_images``. Further canonicalisation (percent-escapes,
  default ports) is the frontier's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Tag
from bs4.exceptions import ParserRejectedMarkup

from auditor.crawl.jsonld import jsonld_images
from auditor.crawl.refs import (
    IMAGE_EXTENSIONS,
    ImageRef,
    PageDiscovery,
    RawRef,
    RefCollector,
    RefKind,
    has_image_extension,
)
from auditor.crawl.resolve import C0_AND_SPACE, resolve_url
from auditor.crawl.srcset import css_background_urls, parse_srcset

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageRef",
    "PageDiscovery",
    "RefKind",
    "css_background_urls",
    "discover",
    "parse_srcset",
]


_LAZY_URL_ATTRIBUTES = ("data-src", "data-lazy-src", "data-original", "data-lazy")
_LAZY_SRCSET_ATTRIBUTES = ("data-srcset", "data-lazy-srcset")
_LAZY_BACKGROUND_ATTRIBUTES = ("data-bg", "data-background-image")
_OG_IMAGE_KEYS = frozenset({"og:image", "og:image:url", "og:image:secure_url"})
_TWITTER_IMAGE_KEYS = frozenset({"twitter:image", "twitter:image:src"})
_TDM_META_NAMES = frozenset({"tdm-reservation", "tdm-policy"})
_ASCII_WS = " \t\n\r\f"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ENCODING_NAME = re.compile(r"[A-Za-z0-9._:\-]{1,40}")
#: How far up from a ``<source>`` to look for its ``<picture>`` (lxml nests unclosed sources),
#: and how many elements of a picture to search for its ``<img>``.
_PICTURE_SEARCH = 64


def discover_job(
    body: bytes, url: str, encoding: str | None, bot_names: tuple[str, ...]
) -> PageDiscovery:
    """:func:`discover` with positional arguments, for a worker process to run by reference."""
    return discover(body, url, encoding=encoding, bot_names=bot_names)


def discover(
    html: bytes | str,
    url: str,
    *,
    encoding: str | None = None,
    bot_names: tuple[str, ...] = (),
    max_images: int = 10_000,
    max_links: int = 10_000,
) -> PageDiscovery:
    """Parse one HTML page fetched from ``url`` and return what it links to and embeds.

    ``encoding`` is the charset from the HTTP ``Content-Type``, when known; otherwise the parser
    sniffs it (BOM, ``<meta charset>``). ``bot_names`` are the robots product tokens whose
    ``<meta name=...>`` tags are collected besides ``robots``. Never raises on hostile markup.
    """
    scan = _Scan(bot_names)
    soup = _parse(html, encoding)
    if soup is not None:
        for element in soup.find_all(True):
            scan.visit(element)
    return scan.finish(url, max_images=max_images, max_links=max_links)


def _parse(html: bytes | str, encoding: str | None) -> BeautifulSoup | None:
    """Parse with lxml; None when the input cannot contain a single tag.

    Inputs bs4 would warn about are steered around its warnings (the crawler must not print):
    short text without ``<`` holds no tag, and an XML declaration at the very start only
    triggers the "XML parsed as HTML" warning, so a newline goes in front of it.
    """
    if len(html) <= 256 and (  # noqa: PLR2004 - bs4's "looks like a filename/URL" threshold
        ("<" not in html and "\n" not in html)
        if isinstance(html, str)
        else (b"<" not in html and b"\n" not in html)
    ):
        return None
    if isinstance(html, bytes):
        markup = b"\n" + html if html.startswith(b"<?xml") else html
        from_encoding = encoding if encoding and _ENCODING_NAME.fullmatch(encoding) else None
        try:
            return BeautifulSoup(
                markup, "lxml", from_encoding=from_encoding, multi_valued_attributes=None
            )
        except (ParserRejectedMarkup, ValueError, LookupError):
            html = html.decode("utf-8", "replace")
    for attempt in range(2):
        if attempt:  # lone surrogates make lxml reject the whole text: replace them
            html = _SURROGATE.sub("\ufffd", html)
        text = "\n" + html if html.startswith("<?xml") else html
        try:
            return BeautifulSoup(text, "lxml", multi_valued_attributes=None)
        except (ParserRejectedMarkup, ValueError):
            continue
    return None


def _attr(element: Tag, name: str) -> str | None:
    """Return an attribute as a string (multi-valued attributes are off, so values are str)."""
    value = element.attrs.get(name)
    return value if isinstance(value, str) else None


def _ancestor(element: Tag, name: str, *, through: str | None) -> Tag | None:
    """Return the nearest ``name`` ancestor within ``_PICTURE_SEARCH`` levels.

    With ``through`` set, only ancestors of that name may lie in between.
    """
    parent = element.parent
    for _ in range(_PICTURE_SEARCH):
        if parent is None or parent.name == name:
            return parent
        if through is not None and parent.name != through:
            return None
        parent = parent.parent
    return None


def _rel_tokens(element: Tag) -> set[str]:
    rel = _attr(element, "rel")
    return set(rel.lower().split()) if rel else set()


@dataclass
class _Scan:
    """Single-pass collector: raw values during the walk, resolution and caps in ``finish``."""

    bot_names: tuple[str, ...]
    raw: list[RawRef] = field(default_factory=list)
    base_href: str | None = None
    title: str | None = None
    lang: str | None = None
    seen_html: bool = False
    meta_robots: list[tuple[str, str]] = field(default_factory=list)
    tdm_meta: list[tuple[str, str]] = field(default_factory=list)
    license_hrefs: list[str] = field(default_factory=list)
    hreflang: list[tuple[str, str]] = field(default_factory=list)
    picture_alts: dict[int, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.robots_names = {"robots", *(name.strip().lower() for name in self.bot_names)}

    # --- the walk -----------------------------------------------------------------------------

    def visit(self, element: Tag) -> None:
        """Record what one element contributes."""
        name = element.name
        handler = _TAG_HANDLERS.get(name)
        if handler is not None:
            handler(self, element)
        if name not in ("img", "source"):
            self._lazy_elsewhere(element)
        if "style" in element.attrs:
            for value in css_background_urls(_attr(element, "style") or ""):
                self.raw.append(RawRef(value, RefKind.CSS_BACKGROUND))

    def _base(self, element: Tag) -> None:
        href = _attr(element, "href")
        if self.base_href is None and href is not None:
            self.base_href = href

    def _title(self, element: Tag) -> None:
        if self.title is None:
            self.title = " ".join(element.get_text().split()) or None

    def _html(self, element: Tag) -> None:
        if not self.seen_html:
            self.seen_html = True
            self.lang = (_attr(element, "lang") or "").strip(_ASCII_WS) or None

    def _image(self, element: Tag) -> None:
        alt = _attr(element, "alt")
        src = _attr(element, "src")
        if src is not None:
            self.raw.append(RawRef(src, RefKind.IMG, alt))
        self._srcset(_attr(element, "srcset"), RefKind.SRCSET, alt)
        self._lazy(element, alt)

    def _source(self, element: Tag) -> None:
        alt = self._picture_alt(element)
        self._srcset(_attr(element, "srcset"), RefKind.PICTURE_SOURCE, alt)
        self._lazy(element, alt)

    def _srcset(self, value: str | None, kind: RefKind, alt: str | None) -> None:
        if value:
            for url, descriptor in parse_srcset(value):
                self.raw.append(RawRef(url, kind, alt, descriptor))

    def _lazy(self, element: Tag, alt: str | None) -> None:
        """Lazy-loading attributes of an ``<img>`` or ``<source>``: all of them count."""
        attrs = element.attrs
        for name in _LAZY_URL_ATTRIBUTES:
            if name in attrs:
                value = _attr(element, name)
                if value:
                    self.raw.append(RawRef(value, RefKind.LAZY, alt))
        for name in _LAZY_SRCSET_ATTRIBUTES:
            if name in attrs:
                self._srcset(_attr(element, name), RefKind.LAZY, alt)
        self._lazy_backgrounds(element)

    def _lazy_elsewhere(self, element: Tag) -> None:
        """Lazy attributes on other elements: ``data-src``-style ones need an image extension."""
        attrs = element.attrs
        for name in _LAZY_URL_ATTRIBUTES:
            if name in attrs:
                value = _attr(element, name)
                if value and has_image_extension(value.strip(C0_AND_SPACE)):
                    self.raw.append(RawRef(value, RefKind.LAZY))
        for name in _LAZY_SRCSET_ATTRIBUTES:
            if name in attrs:
                self._srcset(_attr(element, name), RefKind.LAZY, None)
        self._lazy_backgrounds(element)

    def _lazy_backgrounds(self, element: Tag) -> None:
        attrs = element.attrs
        for name in _LAZY_BACKGROUND_ATTRIBUTES:
            if name in attrs:
                value = _attr(element, name) or ""
                lowered = value.lower()
                if "url(" in lowered or "image-set(" in lowered:
                    urls = css_background_urls(f"background:{value}")
                else:
                    urls = [value]
                self.raw.extend(RawRef(url, RefKind.LAZY) for url in urls if url.strip())

    def _picture_alt(self, source: Tag) -> str | None:
        """Return the alt of the ``<img>`` of the ``<picture>`` this source belongs to.

        Both searches are bounded: bs4's ``.descendants``/``.find`` first walk to the end of
        the subtree, which is quadratic over nested pictures.
        """
        picture = _ancestor(source, "picture", through="source")
        if picture is None:
            return None
        key = id(picture)
        if key not in self.picture_alts:
            alt = None
            node = picture.next_element
            for _ in range(_PICTURE_SEARCH):
                if node is None:
                    break
                if isinstance(node, Tag) and node.name == "img":
                    if _ancestor(node, "picture", through=None) is picture:
                        alt = _attr(node, "alt")
                    break
                node = node.next_element
            self.picture_alts[key] = alt
        return self.picture_alts[key]

    def _meta(self, element: Tag) -> None:
        name = (_attr(element, "name") or "").strip(_ASCII_WS).lower()
        prop = (_attr(element, "property") or "").strip(_ASCII_WS).lower()
        content = _attr(element, "content")
        if name in self.robots_names:
            self.meta_robots.append((name, content or ""))
        elif name in _TDM_META_NAMES:
            self.tdm_meta.append((name, content or ""))
        if content is None:
            return
        if name in _OG_IMAGE_KEYS or prop in _OG_IMAGE_KEYS:
            self.raw.append(RawRef(content, RefKind.OG_IMAGE))
        elif name in _TWITTER_IMAGE_KEYS or prop in _TWITTER_IMAGE_KEYS:
            self.raw.append(RawRef(content, RefKind.TWITTER_IMAGE))

    def _anchor(self, element: Tag) -> None:
        href = _attr(element, "href")
        if href is None:
            return
        rel = _rel_tokens(element)
        if "license" in rel:
            self.license_hrefs.append(href)
        self.raw.append(RawRef(href, None, nofollow="nofollow" in rel))

    def _link(self, element: Tag) -> None:
        href = _attr(element, "href")
        if href is None:
            return
        rel = _rel_tokens(element)
        if "license" in rel:
            self.license_hrefs.append(href)
        hreflang = _attr(element, "hreflang")
        if "alternate" in rel and hreflang is not None and hreflang.strip(_ASCII_WS):
            self.hreflang.append((hreflang.strip(_ASCII_WS), href))

    def _script(self, element: Tag) -> None:
        media_type = (_attr(element, "type") or "").split(";", 1)[0].strip(_ASCII_WS).lower()
        if media_type != "application/ld+json":
            return
        text = "".join(str(child) for child in element.children if not isinstance(child, Tag))
        for image in jsonld_images(text):
            self.raw.append(RawRef(image.url, RefKind.JSONLD, rights=image))

    # --- resolution and caps ------------------------------------------------------------------

    def finish(self, url: str, *, max_images: int, max_links: int) -> PageDiscovery:
        """Resolve every raw value against the document base, de-duplicate and apply caps."""
        base = url
        if self.base_href is not None:
            base = resolve_url(self.base_href, url) or url
        out = RefCollector(base, max_images=max_images, max_links=max_links)
        for raw in self.raw:
            out.add(raw)
        license_links = out.capped_unique(
            resolved for href in self.license_hrefs if (resolved := out.resolve(href))
        )
        hreflang = out.capped_unique(
            (lang, resolved) for lang, href in self.hreflang if (resolved := out.resolve(href))
        )
        return PageDiscovery(
            base_url=base,
            title=self.title,
            lang=self.lang,
            hreflang=hreflang,
            meta_robots=tuple(self.meta_robots),
            tdm_meta=tuple(self.tdm_meta),
            license_links=license_links,
            links=tuple(out.links),
            nofollow_links=tuple(link for link, nofollow in out.links.items() if nofollow),
            images=tuple(out.images.values()),
            data_uri_images=out.data_uri_images,
            truncated=out.truncated,
        )


_TAG_HANDLERS: dict[str, Callable[[_Scan, Tag], None]] = {
    "img": _Scan._image,
    "source": _Scan._source,
    "meta": _Scan._meta,
    "a": _Scan._anchor,
    "area": _Scan._anchor,
    "link": _Scan._link,
    "script": _Scan._script,
    "base": _Scan._base,
    "title": _Scan._title,
    "html": _Scan._html,
}
