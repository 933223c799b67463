"""img2dataset output folders: webdataset tar shards, their Parquet metadata, "files" folders.

img2dataset writes, per shard, ``NNNNN.parquet`` (one row per URL it tried: ``url``, ``key``,
``status``, ``error_message``, sizes, ``exif``, ``sha256`` and any saved extra columns) and,
with ``--output_format webdataset``, ``NNNNN.tar`` holding ``<key>.jpg``, ``<key>.json`` (the
same metadata) and ``<key>.txt`` (the caption) for each image it kept; with the default
``files`` format the same members lie in a ``NNNNN/`` folder instead.

A shard is read as two sources, in this order: the tar (a row per sample, its URL from the
``.json`` member and its bytes located in the tar), then the Parquet file for the rows the tar
does not hold (failed downloads, with their ``status``), keyed ``NNNNN.parquet#<row>``.

Tar members are never extracted. The shard is walked header by header (``tarfile`` seeks over
the data of members it does not need); only ``.json`` and ``.txt`` members are read, each
capped; an image member is recorded as a (shard, offset, size) :class:`LocalImage`. Member
names that are absolute or contain ``..`` are refused, and so are links, devices and other
non-regular members, without touching the file system outside the shard.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final
from urllib.parse import quote as percent_encode

from auditor.errors import UsageError
from auditor.extract.imagefacts import clean_text, describe
from auditor.manifest.formats import Record, parquet_records
from auditor.manifest.model import LocalImage, ManifestItem, ManifestRow, RowProblem
from auditor.manifest.values import RowBuilder, quote

IMAGE_SUFFIXES: Final = frozenset({"jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"})
"""Member suffixes taken as the sample's image (img2dataset's ``--encode_format`` choices)."""
_SHARD_FILE = re.compile(r"([0-9]+)\.(parquet|tar)")
_SHARD_DIR = re.compile(r"[0-9]+")
_MAX_MEMBER_NAME: Final = 1_024
_IMG2DATASET_COLUMNS: Final = ("key", "status")  # matched against the shard's samples
_SUCCESS: Final = "success"


@dataclass(frozen=True)
class Shard:
    """One img2dataset shard: its Parquet metadata, tar and "files" folder, where present."""

    number: str
    parquet: Path | None = None
    tar: Path | None = None
    folder: Path | None = None


def list_shards(folder: Path) -> list[Shard]:
    """Return the shards of an img2dataset output folder in shard-number order."""
    found: dict[str, dict[str, Path]] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            match = _SHARD_FILE.fullmatch(entry.name)
            if match and entry.is_file():
                found.setdefault(match[1], {})[match[2]] = Path(entry.path)
            elif _SHARD_DIR.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                found.setdefault(entry.name, {})["folder"] = Path(entry.path)
    return [
        Shard(number, parts.get("parquet"), parts.get("tar"), parts.get("folder"))
        for number, parts in sorted(found.items(), key=lambda item: (int(item[0]), item[0]))
    ]


@dataclass
class _Sample:
    """Adjacent tar members sharing a name up to the first dot of its last part."""

    stem: str
    key: str
    refused: str | None = None
    image: tarfile.TarInfo | None = None
    meta: tarfile.TarInfo | None = None
    caption: tarfile.TarInfo | None = None
    problems: list[str] = field(default_factory=list)

    def add(self, member: tarfile.TarInfo, suffix: str) -> None:
        """Take a member as the image, metadata or caption, or note why it is refused."""
        kind = _member_kind(member)
        if kind is not None:
            self.problems.append(f"member {quote(member.name)} is {kind}: refused")
        elif suffix in IMAGE_SUFFIXES and self.image is None:
            self.image = member
        elif suffix == "json" and self.meta is None:
            self.meta = member
        elif suffix == "txt" and self.caption is None:
            self.caption = member


def _member_kind(member: tarfile.TarInfo) -> str | None:
    """Return what a non-regular member is (a link, a device ...), ``None`` for a regular one."""
    if member.issym():
        return "a symbolic link"
    if member.islnk():
        return "a hard link"
    if member.issparse():
        return "a sparse file"
    if member.isdev():
        return "a device or FIFO"
    return None if member.isreg() else "not a regular file"


def _split(name: str) -> tuple[str, str]:
    """Split a member name as webdataset does: ``dir/000.seg.png`` -> (``dir/000``, ``seg.png``)."""
    folder, _, base = name.rpartition("/")
    stem, _, suffix = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), suffix.lower()


def _unsafe(name: str) -> str | None:
    """Return why a member name is refused, or ``None``: only plain relative names are read."""
    if not name or len(name) > _MAX_MEMBER_NAME or not name.isprintable():
        return "not a usable name"
    if name.startswith("/") or "\\" in name:
        return "an absolute or Windows path"
    if ".." in name.split("/"):
        return "a path that climbs out with '..'"
    return None


class TarShard:
    """A webdataset tar walked sample by sample: ``with TarShard.open(...) as shard``."""

    def __init__(self, tar: tarfile.TarFile, real: Path, rel: str, max_metadata_bytes: int) -> None:
        self.tar = tar
        self.real = real
        self.rel = rel
        self.max_metadata_bytes = max_metadata_bytes

    @classmethod
    def open(cls, path: Path, rel: str, max_metadata_bytes: int) -> TarShard:
        """Open a shard; raises ``tarfile.TarError`` or ``OSError`` if it is not a tar."""
        real = Path(os.path.realpath(path))
        # Uncompressed only ("r:"), so member offsets are file offsets; closed by __exit__.
        tar = tarfile.open(real, mode="r:")  # noqa: SIM115
        return cls(tar, real, rel, max_metadata_bytes)

    def __enter__(self) -> TarShard:
        """Return the open shard."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the shard."""
        self.tar.close()

    def samples(self) -> Iterator[_Sample | RowProblem]:
        """Yield each group of adjacent members, ending with a problem if the tar is damaged."""
        occurrences: dict[str, int] = {}
        current: _Sample | None = None
        for member in self._members():
            if isinstance(member, RowProblem):
                if current is not None:
                    yield current
                yield member
                return
            if member.isdir():
                continue
            name = member.name.removeprefix("./")
            stem, suffix = _split(name)
            if current is None or stem != current.stem:
                if current is not None:
                    yield current
                count = occurrences[stem] = occurrences.get(stem, 0) + 1
                current = _Sample(stem, self._key(stem, count))
                why = _unsafe(name)
                if why:
                    current.refused = f"member {quote(member.name)} is {why}: refused"
                elif count > 1:
                    current.refused = (
                        f"{quote(stem)} occurs again, apart from its first members: refused"
                    )
            if current.refused is None:
                current.add(member, suffix)
        if current is not None:
            yield current

    def _members(self) -> Iterator[tarfile.TarInfo | RowProblem]:
        tar = self.tar
        while True:
            try:
                member = tar.next()
            except (tarfile.TarError, OSError, EOFError, UnicodeError) as exc:
                yield RowProblem(self.rel, f"{self.rel} is damaged: {describe(exc)}")
                return
            # tarfile keeps every header it has read (an attribute typeshed omits); a shard holds
            # tens of thousands, so forget each once it is seen.
            tar.members.clear()  # type: ignore[attr-defined]
            if member is None:
                damage = self._damage_at(tar.offset)
                if damage:
                    yield RowProblem(self.rel, damage)
                return
            yield member

    def _damage_at(self, offset: int) -> str | None:
        """Tell a real end of the archive from a bad header, which ``tarfile`` treats alike."""
        with self.real.open("rb") as handle:
            handle.seek(offset)
            block = handle.read(tarfile.BLOCKSIZE)
        if block.strip(b"\0"):
            return f"{self.rel} is damaged: no valid member header at byte {offset}"
        return None

    def _key(self, stem: str, occurrence: int) -> str:
        encoded = percent_encode(stem, safe="", errors="surrogateescape")
        return f"{self.rel}#{encoded}" + (f";{occurrence}" if occurrence > 1 else "")

    def read_member(self, member: tarfile.TarInfo) -> bytes | str:
        """Return a metadata member's bytes, or a problem if it is over the cap or unreadable."""
        if member.size > self.max_metadata_bytes:
            return f"member {quote(member.name)} is over {self.max_metadata_bytes} bytes"
        try:
            handle = self.tar.extractfile(member)
            data = handle.read() if handle is not None else b""
        except (tarfile.TarError, OSError) as exc:
            return f"member {quote(member.name)} cannot be read: {describe(exc)}"
        if len(data) != member.size:
            return f"member {quote(member.name)} is truncated"
        return data

    def locate(self, member: tarfile.TarInfo) -> LocalImage:
        """Return where an image member's bytes are, for reading later without the tar."""
        return LocalImage(
            path=self.real,
            label=f"{self.rel}:{member.name}",
            member=member.name,
            offset=member.offset_data,
            size=member.size,
        )


def tar_items(shard: TarShard, builder: RowBuilder, after: str | None) -> Iterator[ManifestItem]:
    """Yield one item per sample of an open shard, starting after the sample keyed ``after``."""
    skipping = after is not None
    for sample in shard.samples():
        if isinstance(sample, RowProblem):
            yield sample
            return
        if skipping:
            skipping = sample.key != after
            continue
        yield _sample_item(shard, sample, builder)
    if skipping:
        raise UsageError(
            f"cannot resume after {after}: {shard.rel} has no such sample any more; it changed "
            "since the interrupted run, so start again without resuming"
        )


def _sample_item(shard: TarShard, sample: _Sample, builder: RowBuilder) -> ManifestItem:
    if sample.refused:
        return RowProblem(sample.key, sample.refused)
    if sample.meta is None:
        why = "; ".join([f"no {quote(sample.stem + '.json')} member, so no URL", *sample.problems])
        return RowProblem(sample.key, why)
    record = _metadata(shard, sample.meta)
    if isinstance(record, str):
        return RowProblem(sample.key, record)
    if sample.caption is not None and "caption" not in record:
        text = shard.read_member(sample.caption)
        if isinstance(text, bytes):
            record = {**record, "caption": text.decode("utf-8", "replace")}
        else:
            sample.problems.append(text)
    local = shard.locate(sample.image) if sample.image is not None else None
    if local is None:
        sample.problems.append("the sample has no image member")
    item = builder.build(sample.key, record, local)
    if isinstance(item, ManifestRow) and sample.problems:
        return replace(item, problems=(*sample.problems, *item.problems))
    return item


def _metadata(shard: TarShard, member: tarfile.TarInfo) -> Record | str:
    """Return a sample's ``.json`` member as a mapping, or the problem with it."""
    data = shard.read_member(member)
    if isinstance(data, str):
        return data
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        return f"member {quote(member.name)} is not JSON: {clean_text(str(exc), 120)}"
    if not isinstance(value, dict):
        return f"member {quote(member.name)} is not a JSON object"
    return value


def tar_stems(shard: TarShard) -> set[str]:
    """Return the names of the samples the tar pass turns into items, from headers alone."""
    return {
        sample.stem
        for sample in shard.samples()
        if isinstance(sample, _Sample) and sample.refused is None and sample.meta is not None
    }


def shard_table_items(
    shard: Shard, parquet: Path, rel: str, builder: RowBuilder, after: int
) -> Iterator[ManifestItem]:
    """Yield the rows of a shard's Parquet file that its tar does not already hold.

    With a tar, a row whose ``key`` names one of its samples was read from the tar; a
    ``success`` row missing from it is kept, without bytes, with a problem saying so. Without
    a tar, a ``success`` row's image is looked up in the shard's "files" folder.
    """
    stems: set[str] | None = None
    if shard.tar is not None:
        try:
            with TarShard.open(shard.tar, rel, builder.limits.max_metadata_bytes) as tar:
                stems = tar_stems(tar)
        except (tarfile.TarError, OSError):
            stems = set()  # the tar pass reported it; every row here stands on its own
    records = parquet_records(
        parquet, rel, builder.mapping, builder.limits, after=after, also=_IMG2DATASET_COLUMNS
    )
    for entry in records:
        if isinstance(entry, RowProblem):
            yield entry
            continue
        index, record = entry
        sample = record.get("key")
        if stems is not None and isinstance(sample, str) and sample in stems:
            continue
        local, why = None, None
        if record.get("status") == _SUCCESS:
            if shard.tar is not None:
                why = f"listed as downloaded, but {shard.tar.name} has no such sample"
            elif shard.folder is not None:
                local, why = _files_image(shard.folder, sample, builder)
        item = builder.build(f"{rel}#{index}", record, local)
        if isinstance(item, ManifestRow) and why:
            item = replace(item, problems=(why, *item.problems))
        yield item


def _files_image(
    folder: Path, sample: object, builder: RowBuilder
) -> tuple[LocalImage | None, str | None]:
    """Find a sample's image in a "files" shard folder (``00000/<key>.jpg``)."""
    if not isinstance(sample, str) or _unsafe(sample) or "/" in sample:
        return None, f"the row's key {quote(sample)} is not a file name"
    for suffix in sorted(IMAGE_SUFFIXES):
        if (folder / f"{sample}.{suffix}").is_file():
            # The folder sits next to the Parquet file, whose folder is the builder's base.
            return builder.policy.resolve(f"{folder.name}/{sample}.{suffix}", builder.base)
    return None, f"listed as downloaded, but {folder.name}/ has no image named {quote(sample)}"
