"""What the manifest readers yield: one :class:`ManifestRow` or :class:`RowProblem` per key.

Every item carries a ``key`` that is unique within one read and stable across reads of the same
files, so an interrupted run can resume after the last key it finished (docs/manifests.md):

- ``<file>#<n>`` for row ``n`` (0-based) of a CSV/TSV (records after the header), JSONL (lines)
  or Parquet (rows) file;
- ``<shard>.tar#<sample>`` for a webdataset sample, ``<sample>`` being the members' shared name
  percent-encoded (img2dataset's ``000000012`` stays as it is), with ``;<n>`` appended for the
  ``n``-th repeat of a name that occurs more than once;
- ``<file>`` alone for a problem that ends the reading of a file: it cannot be opened, or it is
  damaged part way (the items before the damage stand).

``<file>`` is the POSIX path relative to the folder that was given (or to the file's own folder
when a single file was given). All items are plain frozen data and can be pickled, so a caller
may hand a :class:`LocalImage` to a worker process that reads the bytes there.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Open flags for local images: never follow a final symlink swapped in after the path was
# checked, and never block on a FIFO (it is refused as "not a regular file" right after).
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)


class LocalImageError(Exception):
    """A row's local image cannot be read: gone, changed, not a regular file or over the cap."""


@dataclass(frozen=True)
class LocalImage:
    """Where a row's image bytes are on disk, read only when :meth:`read` is called.

    Either a whole file (``member`` is ``None``) or a member of an uncompressed tar shard, whose
    data starts ``offset`` bytes into ``path`` and is ``size`` bytes long (taken from the member
    header while the shard was scanned, so reading never walks the tar again). ``path`` is the
    real path, already checked to lie inside the manifest's folder; ``label`` is how reports
    should name the image (``images/photo.jpg``, ``00000.tar:000000012.jpg``).
    """

    path: Path
    label: str
    member: str | None = None
    offset: int = 0
    size: int | None = None

    def read(self, max_bytes: int) -> bytes:
        """Return the image's bytes, or raise :class:`LocalImageError` if over ``max_bytes``."""
        if self.size is not None and self.size > max_bytes:
            raise LocalImageError(f"{self.label} is {self.size} bytes, over the {max_bytes} limit")
        try:
            fd = os.open(self.path, _OPEN_FLAGS)
        except OSError as exc:
            raise LocalImageError(f"{self.label} cannot be opened: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise LocalImageError(f"{self.label} is not a regular file")
            try:
                if self.size is None:
                    data = handle.read(max_bytes + 1)
                    if len(data) > max_bytes:
                        raise LocalImageError(f"{self.label} is over the {max_bytes}-byte limit")
                    return data
                handle.seek(self.offset)
                data = handle.read(self.size)
            except OSError as exc:
                raise LocalImageError(f"{self.label} cannot be read: {exc.strerror}") from None
        if len(data) != self.size:
            raise LocalImageError(f"{self.label} is truncated: the shard changed or is damaged")
        return data


@dataclass(frozen=True)
class ManifestRow:
    """One image the crawler collected, as its manifest describes it.

    ``url`` and ``page_url`` are normalised http(s) URLs (:func:`auditor.crawl.urls.normalise_url`)
    so they compare equal to what a crawl records. ``collected_at`` is UTC ISO 8601 to the second
    (``2024-01-01T00:00:00Z``). ``sha256`` and ``phash`` are lower-case hex. ``extra`` holds the
    manifest's other columns as single-line text (capped in number and length), kept as facts.
    A value that could not be used is ``None`` and ``problems`` says why, one line each: a row
    with a usable URL is never dropped for a bad optional field.

    ``sha256`` is what the manifest claims, which is not always the hash of ``local``: img2dataset
    hashes the bytes it downloaded, then stores a resized re-encoding.
    """

    key: str
    url: str
    page_url: str | None = None
    collected_at: str | None = None
    sha256: str | None = None
    phash: str | None = None
    local: LocalImage | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowProblem:
    """A row that yields no :class:`ManifestRow`, or (``key`` without ``#``) the end of a file."""

    key: str
    message: str


ManifestItem = ManifestRow | RowProblem
"""One item of a manifest read, in manifest order; no two items share a key."""
