"""Turn one raw manifest record into a :class:`ManifestRow` or a :class:`RowProblem`.

Every reader hands :class:`RowBuilder` a mapping of column name to the value its format produced
(text from CSV; JSON values; Python values from Parquet) and gets back one item. Values are
hostile input: each field is validated on its own, a bad optional field becomes ``None`` plus a
line in ``ManifestRow.problems``, and only a row without a usable URL is dropped.

Local paths are resolved here too, against the manifest file's folder, and must stay inside the
folder that was given (:class:`PathPolicy`), whatever ``..`` segments or symlinks they contain.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final, TypeAlias

from auditor.crawl.urls import normalise_url
from auditor.extract.imagefacts import clean_text
from auditor.manifest.mapping import ColumnMapping
from auditor.manifest.model import LocalImage, ManifestItem, ManifestRow, RowProblem

MAX_URL_CHARS: Final = 8_192
"""Longest URL accepted; longer ones are not URLs a crawler fetched (data: URIs, garbage)."""
MAX_PATH_CHARS: Final = 4_096
_MAX_DATE_CHARS: Final = 64
_MAX_COLUMN_NAME_CHARS: Final = 100
_MAX_QUOTED: Final = 80  # characters of a bad value quoted back in a problem message
_EPOCH_LIMIT: Final = 32_503_680_000  # 3000-01-01 in Unix seconds: later is not a timestamp
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-f]+")
_EPOCH = re.compile(r"\d{9,11}(?:\.\d+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MIN_PHASH_HEX, _MAX_PHASH_HEX = 16, 256  # imagehash hash_size 8 to 32
_SHA256_BYTES = 32


@dataclass(frozen=True)
class ManifestLimits:
    """Caps that keep one hostile record from costing more than a bounded amount of memory."""

    max_extra_columns: int = 32
    """Extra columns kept per row, in column order; the rest are dropped."""
    max_extra_chars: int = 1_000
    """Characters kept of each extra value (after control characters become spaces)."""
    max_line_bytes: int = 1 << 20
    """Longest CSV/TSV or JSONL line; a longer line is a :class:`RowProblem`, read past unkept."""
    max_metadata_bytes: int = 1 << 20
    """Largest ``.json`` or ``.txt`` member of a webdataset sample that is read."""
    batch_size: int = 1_024
    """Parquet rows converted to Python at a time."""


DEFAULT_LIMITS: Final = ManifestLimits()

_Parser: TypeAlias = Callable[[object, str], tuple[str | None, str | None]]
"""Validate one field's raw value: ``(normalised value or None, problem or None)``."""


@dataclass(frozen=True)
class PathPolicy:
    """Where local image paths may lead: inside ``root`` (a real path) unless ``allow_outside``."""

    root: str
    allow_outside: bool = False

    def resolve(self, text: str, base: str) -> tuple[LocalImage | None, str | None]:
        """Return the image at ``text`` (relative to the real folder ``base``), or why not."""
        shown = quote(text)
        if len(text) > MAX_PATH_CHARS or _CONTROL.search(text):
            return None, f"local path {shown} is not a usable path"
        if Path(text).is_absolute() and not self.allow_outside:
            return None, f"local path {shown} is absolute; give it relative to the manifest"
        real = os.path.realpath(Path(base) / text)
        inside = real == self.root or real.startswith(self.root.rstrip(os.sep) + os.sep)
        if not inside and not self.allow_outside:
            return None, f"local path {shown} leads outside the manifest's folder"
        try:
            mode = Path(real).stat().st_mode
        except OSError:
            return None, f"local path {shown} does not exist"
        if not stat.S_ISREG(mode):
            return None, f"local path {shown} is not a regular file"
        label = Path(os.path.relpath(real, self.root)).as_posix() if inside else real
        return LocalImage(path=Path(real), label=label), None


def quote(value: object) -> str:
    """Quote a bad value back to the user: one short line, never a terminal escape."""
    if not isinstance(value, str):
        value = repr(value)
        return value if len(value) <= _MAX_QUOTED else value[:_MAX_QUOTED] + "..."
    shown = repr(value[:_MAX_QUOTED])
    return shown if len(value) <= _MAX_QUOTED else shown + "..."


class RowBuilder:
    """Build rows for one manifest file with one column mapping, policy and limits."""

    def __init__(
        self, mapping: ColumnMapping, policy: PathPolicy, limits: ManifestLimits, base: str
    ) -> None:
        self.mapping = mapping
        self.policy = policy
        self.limits = limits
        self.base = base
        self.mapped = frozenset(mapping.columns().values())

    def build(
        self, key: str, record: Mapping[str, object], local: LocalImage | None = None
    ) -> ManifestItem:
        """Return the row for ``record``; ``local`` is an image the reader already located."""
        columns = self.mapping
        problems: list[str] = []
        url, why = _url(record.get(columns.url), columns.url)
        if url is None:
            return RowProblem(key, why or f"no '{columns.url}' value: the image URL is unknown")
        page_url = self._optional(record, columns.page_url, _url, problems)
        if local is None and columns.local_path is not None:
            path = _text(record.get(columns.local_path))
            if path is not None:
                local, why = self.policy.resolve(path, self.base)
                if why:
                    problems.append(why)
        return ManifestRow(
            key=key,
            url=url,
            page_url=page_url,
            collected_at=self._optional(record, columns.collected_at, _timestamp, problems),
            sha256=self._optional(record, columns.sha256, _sha256, problems),
            phash=self._optional(record, columns.phash, _phash, problems),
            local=local,
            extra=self.extras(record),
            problems=tuple(problems),
        )

    def extras(self, record: Mapping[str, object]) -> dict[str, str]:
        """Return the unmapped columns as capped single-line text, empty values left out."""
        kept: dict[str, str] = {}
        for name, value in record.items():
            if len(kept) >= self.limits.max_extra_columns:
                break
            if name in self.mapped:
                continue
            label = _clean(name, _MAX_COLUMN_NAME_CHARS)
            text = _extra_text(value, self.limits.max_extra_chars)
            if label is not None and text is not None and label not in kept:
                kept[label] = text
        return kept

    @staticmethod
    def _optional(
        record: Mapping[str, object],
        column: str | None,
        parse: _Parser,
        problems: list[str],
    ) -> str | None:
        if column is None:
            return None
        value, why = parse(record.get(column), column)
        if why:
            problems.append(why)
        return value


def _text(value: object) -> str | None:
    """Return a string value stripped, or ``None`` for null, blank and non-string values."""
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _url(value: object, column: str) -> tuple[str | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if not isinstance(value, str):
        return None, f"'{column}' is not text: {quote(value)}"
    text = value.strip()
    if len(text) > MAX_URL_CHARS:
        return None, f"'{column}' {quote(text)} is longer than {MAX_URL_CHARS} characters"
    if _CONTROL.search(text):
        return None, f"'{column}' {quote(text)} contains control characters"
    try:
        return normalise_url(text), None
    except ValueError as exc:  # InvalidURLError, and urlsplit's own ("Invalid IPv6 URL")
        return None, f"'{column}': {clean_text(str(exc), 200)}"


def _timestamp(value: object, column: str) -> tuple[str | None, str | None]:
    """Normalise a collection time to UTC ``YYYY-MM-DDTHH:MM:SSZ``; naive times are read as UTC.

    Accepts ISO 8601 text (``2024-01-01``, ``2024-01-01T12:00:00+02:00``, ``...Z``), Unix seconds
    as a number or as 9 to 11 digits, and the date and timestamp types of Parquet.
    """
    moment: datetime | None = None
    try:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None, None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            moment = _from_epoch(float(value))
        elif isinstance(value, str) and len(value) <= _MAX_DATE_CHARS:
            text = value.strip()
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                if _EPOCH.fullmatch(text):
                    moment = _from_epoch(float(text))
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
            return utc.isoformat() + "Z", None
    except (OverflowError, ValueError, OSError):
        pass  # out of datetime's range: reported below like any other unreadable value
    return None, f"'{column}' {quote(value)} is not an ISO 8601 date-time"


def _from_epoch(seconds: float) -> datetime | None:
    if not math.isfinite(seconds) or not 0 <= seconds < _EPOCH_LIMIT:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _sha256(value: object, column: str) -> tuple[str | None, str | None]:
    if isinstance(value, bytes) and len(value) == _SHA256_BYTES:  # a raw digest column
        return value.hex(), None
    text, why = _lower_text(value, column)
    if text is None:
        return None, why
    digest = text.removeprefix("sha256:")
    if _SHA256.fullmatch(digest):
        return digest, None
    return None, f"'{column}' {quote(text)} is not a SHA-256 hex digest"


def _phash(value: object, column: str) -> tuple[str | None, str | None]:
    text, why = _lower_text(value, column)
    if text is None:
        return None, why
    bits = len(text) * 4  # imagehash only makes square hashes: hash_size ** 2 bits
    square = math.isqrt(bits) ** 2 == bits
    if _HEX.fullmatch(text) and _MIN_PHASH_HEX <= len(text) <= _MAX_PHASH_HEX and square:
        return text, None
    return None, f"'{column}' {quote(text)} is not a perceptual hash in hex"


def _lower_text(value: object, column: str) -> tuple[str | None, str | None]:
    """Return a text value stripped and lower-cased; a non-text value is a problem."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, f"'{column}' is not text: {quote(value)}"
    return value.strip().lower() or None, None


def _extra_text(value: object, limit: int) -> str | None:
    """Render one extra value as text: strings as they are, anything else as compact JSON."""
    if value is None or isinstance(value, bytes | bytearray):
        return None
    if isinstance(value, str):
        return _clean(value, limit)
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    try:
        rendered = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return None
    return _clean(rendered, limit)


def _clean(text: str, limit: int) -> str | None:
    """Return :func:`clean_text` of ``text``, skipping its per-character work for clean text."""
    if len(text) <= limit and text.isprintable() and "  " not in text and text == text.strip():
        return text or None
    return clean_text(text, limit)
