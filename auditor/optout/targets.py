"""What a request names (a photo, a URL, a domain) and the normalised keys entries are stored by.

Entries and the images checked against them go through the same normalisation, so a request
for ``HTTPS://Example.org:443/a.jpg#top`` matches the image ``https://example.org/a.jpg``:
URLs use the crawler's own :func:`~auditor.crawl.urls.normalise_url`, and domains are validated
as the crawler validates hosts (UTS 46 via ``idna``, ASCII form, lower case, no trailing dot).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from auditor.crawl.urls import InvalidURLError, normalise_url
from auditor.errors import UsageError
from auditor.optout.listfile import EntryKind

__all__ = [
    "Target",
    "domain_key",
    "parse_received",
    "parse_target",
    "photo_hash",
    "url_key",
]

_HEX_HASH = re.compile(r"[0-9a-fA-F]{16,}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOT_IN_DOMAINS = frozenset("/\\?#@:[] \t")
# Final labels that mean a file name was meant: none of them is a top-level domain.
_IMAGE_SUFFIXES = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "avif", "heic", "heif", "tif", "tiff", "bmp"}
)


@dataclass(frozen=True)
class Target:
    """A normalised list entry to be: its kind, its stored value and, for photos, the file name."""

    kind: EntryKind
    value: str
    source: str | None = None


def url_key(url: str) -> str | None:
    """Return the normalised form of an http(s) URL, or None when it cannot be one."""
    try:
        return normalise_url(url)
    except InvalidURLError:
        return None


def domain_key(text: str) -> str:
    """Return a domain in its stored form, or raise :class:`UsageError` for anything else."""
    name = text.strip().rstrip(".")
    if not name or _NOT_IN_DOMAINS & set(name):
        raise UsageError(
            f"{text!r} is not a domain name: give a domain (example.org), an http(s):// URL "
            "or an image file"
        )
    try:
        host = urlsplit(normalise_url(f"http://{name}/")).hostname or ""
    except InvalidURLError as exc:
        raise UsageError(f"{text!r} is not a valid domain name: {exc}") from None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise UsageError(f"{text!r} is an IP address, not a domain: list image URLs instead")
    labels = host.split(".")
    if len(labels) < 2:  # noqa: PLR2004 - a name and a suffix
        raise UsageError(f"{text!r} is not a domain name: it needs a dot, as in example.org")
    if labels[-1] in _IMAGE_SUFFIXES:
        raise UsageError(f"no image file {text!r} (and .{labels[-1]} is not a top-level domain)")
    return host


def photo_hash(path: Path) -> str:
    """Return the perceptual hash of a photo, computed as the audit computes it for images."""
    from auditor.extract import extract_image  # noqa: PLC0415 - Pillow only when a photo is given

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    facts = extract_image(data)
    if facts.phash is None:
        why = facts.error_detail or facts.error or "not a decodable image"
        raise UsageError(f"cannot compute a perceptual hash of {path.name}: {why}")
    return facts.phash


def parse_target(text: str) -> Target:
    """Read a request target: an http(s) URL, an image file, a hex hash, else a domain.

    A photo becomes its perceptual hash and its file name; the bytes go no further.
    """
    if text.strip().lower().startswith(("http://", "https://")):
        try:
            return Target("url", normalise_url(text))
        except InvalidURLError as exc:
            raise UsageError(f"{text!r} is not a usable URL: {exc}") from None
    path = Path(text)
    if path.is_file():
        return Target("phash", photo_hash(path), source=path.name)
    if _HEX_HASH.fullmatch(text):
        return Target("phash", text.lower())
    return Target("domain", domain_key(text))


def parse_received(text: str | None, today: date) -> date:
    """Read ``--received`` (YYYY-MM-DD, default today); a future date is a typing error."""
    if text is None:
        return today
    if not _ISO_DATE.fullmatch(text):
        raise UsageError(f"--received {text!r}: write the date as YYYY-MM-DD")
    try:
        received = date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--received {text!r}: {exc}") from None
    if received > today:
        raise UsageError(f"--received {text} is in the future (today is {today.isoformat()})")
    return received
