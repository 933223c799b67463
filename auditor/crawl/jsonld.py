"""Image references and their rights metadata in schema.org JSON-LD blocks.

One ``<script type="application/ld+json">`` body goes in; the image URLs it names come out, as
written (the caller resolves them), in document order. What counts as an image:

- a node typed ``ImageObject`` (or its subtype ``ImageObjectSnapshot``; the type may be written
  as ``schema:ImageObject`` or ``https://schema.org/ImageObject``): its ``contentUrl``, or its
  ``url`` when it has no ``contentUrl`` (``url`` often names the image's landing page when both
  are present). Its ``license``, ``creditText``, ``copyrightNotice`` and ``acquireLicensePage``
  travel with the URL: they are the rights evidence Google Images shows as "Licensable";
- the value of an image-valued property of any node: ``image``, ``thumbnailUrl``,
  ``thumbnail``, ``logo``, ``primaryImageOfPage``. A string is an image URL; an untyped object
  with ``contentUrl``/``url`` is read as an ImageObject; a bare ``{"@id": ...}`` is only a
  reference to a node elsewhere in the graph (Yoast's ``#primaryimage``) and is not itself a URL.

Nodes are found anywhere: top-level arrays, ``@graph``, ``mainEntity`` and any other nesting. The
walk is iterative with a depth bound, so hostile nesting cannot exhaust the stack; text that is
not JSON (or nests deeper than the JSON decoder allows) yields nothing and never raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonLdImage", "jsonld_images", "looks_relative"]

#: Nodes nested deeper than this are not visited; real JSON-LD rarely exceeds depth 10.
MAX_DEPTH = 32
#: At most this many JSON values are visited per block.
MAX_NODES = 200_000

_IMAGE_TYPES = frozenset({"imageobject", "imageobjectsnapshot"})
_IMAGE_PROPERTIES = ("image", "thumbnailUrl", "thumbnail", "logo", "primaryImageOfPage")
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Wrappers some CMSs put around the JSON: HTML comments and (commented-out) CDATA markers.
_PREFIXES = ("<!--", "//<![CDATA[", "/*<![CDATA[*/", "<![CDATA[")
_SUFFIXES = ("-->", "//]]>", "/*]]>*/", "]]>")


@dataclass(frozen=True)
class JsonLdImage:
    """One image URL named by JSON-LD, with the rights fields of its ImageObject (if any)."""

    url: str
    license: str | None = None
    credit_text: str | None = None
    copyright_notice: str | None = None
    acquire_license_page: str | None = None

    @property
    def has_rights(self) -> bool:
        """Whether any rights field is set."""
        return any(
            (self.license, self.credit_text, self.copyright_notice, self.acquire_license_page)
        )


def jsonld_images(text: str) -> list[JsonLdImage]:
    """Return the images one JSON-LD block names; ``[]`` when it is not valid JSON."""
    data = _load(text)
    if data is None:
        return []
    found: list[JsonLdImage] = []
    # (value, depth, is the value of an image-valued property); popped in document order.
    stack: list[tuple[Any, int, bool]] = [(data, 0, False)]
    visited = 0
    while stack and visited < MAX_NODES:
        value, depth, image_valued = stack.pop()
        visited += 1
        if isinstance(value, str):
            if image_valued and value.strip():
                found.append(JsonLdImage(url=value))
            continue
        if depth >= MAX_DEPTH:
            continue
        if isinstance(value, list):
            stack.extend((item, depth + 1, image_valued) for item in reversed(value))
        elif isinstance(value, dict):
            found.extend(_images_of_node(value, image_valued=image_valued))
            children = [
                (child, depth + 1, key in _IMAGE_PROPERTIES)
                for key, child in value.items()
                if isinstance(child, dict | list) or key in _IMAGE_PROPERTIES
            ]
            stack.extend(reversed(children))
    return found


def _load(text: str) -> Any:
    """Decode a JSON-LD body, tolerating comment/CDATA wrappers; None when it is not JSON."""
    for candidate in (text, _unwrap(text)):
        try:
            return json.loads(candidate, strict=False)
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            continue
    return None


def _unwrap(text: str) -> str:
    """Remove one comment or CDATA wrapper from each end of ``text``."""
    text = text.strip()
    prefix = next((p for p in _PREFIXES if text.startswith(p)), "")
    suffix = next((s for s in _SUFFIXES if text.endswith(s)), "")
    return text[len(prefix) : len(text) - len(suffix)]


def _images_of_node(node: dict[str, Any], *, image_valued: bool) -> list[JsonLdImage]:
    """Return the URLs of a node that is an ImageObject (or, as a property value, acts as one)."""
    types = _local_types(node.get("@type"))
    if not (types & _IMAGE_TYPES or (image_valued and not types)):
        return []
    urls = _strings(node.get("contentUrl")) or _strings(node.get("url"))
    if not urls:
        return []
    rights = {
        "license": _rights_url(node.get("license")),
        "credit_text": _text(node.get("creditText")),
        "copyright_notice": _text(node.get("copyrightNotice")),
        "acquire_license_page": _rights_url(node.get("acquireLicensePage")),
    }
    return [JsonLdImage(url=url, **rights) for url in urls]


def _local_types(value: Any) -> set[str]:
    """Lower-cased local names of ``@type``: ``https://schema.org/ImageObject`` -> imageobject."""
    names: set[str] = set()
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            names.add(re.split(r"[/#:]", item.strip())[-1].lower())
    return names


def _strings(value: Any) -> list[str]:
    """Non-empty strings of a value that may be one string or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str) and item.strip()]


def _text(value: Any) -> str | None:
    """Read a text-valued property.

    A string is itself; an object gives the first of name/text/url/@id/@value; a list gives its
    first usable item (nested lists are not descended into).
    """
    if isinstance(value, list):
        return next((text for item in value[:16] if (text := _scalar_text(item))), None)
    return _scalar_text(value)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ("name", "text", "url", "@id", "@value"):
            item = value.get(key)
            if isinstance(item, str) and item.strip():
                return item.strip()
    return None


def _rights_url(value: Any) -> str | None:
    """Read a URL-valued rights property (``license``, ``acquireLicensePage``).

    Objects give their ``url`` or ``@id``. The value is kept as written; the caller resolves
    values that look like relative paths.
    """
    if isinstance(value, dict):
        for key in ("url", "@id"):
            url = value.get(key)
            if isinstance(url, str) and url.strip():
                return url.strip()
    return _text(value)


def looks_relative(value: str) -> bool:
    """Whether a rights URL is a relative reference to resolve against the page."""
    return not _HAS_SCHEME.match(value) and value.startswith(("/", "./", "../", "?"))
