"""Container walkers of the ``xmp`` extractor: where XMP packets sit in JPEG, PNG, WebP and GIF.

Split out of :mod:`auditor.extract.xmp` so each module can be read in one sitting: this one finds
and bounds the raw packet bytes (JPEG APP1 and Extended XMP reassembly, PNG text chunks, WebP RIFF
chunks, the GIF application extension), :mod:`auditor.extract.xmp` parses them and reduces them to
facts. The container layouts and the limits are described in the docstring of
:mod:`auditor.extract.xmp`; every public name here is re-exported from there.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from auditor.extract.imagefacts import MAX_DETAIL, clean_text, describe

__all__ = [
    "CONTAINER_LIMIT",
    "CONTAINER_MALFORMED",
    "CONTAINER_TRUNCATED",
    "DECOMPRESS_FAILED",
    "EXTENDED_BAD_SEGMENT",
    "EXTENDED_CONFLICT",
    "EXTENDED_INCOMPLETE",
    "GIF_XMP_APP_ID",
    "GUID_LEN",
    "JPEG_EXT_SIG",
    "JPEG_XMP_SIG",
    "MAX_CONTAINER_STEPS",
    "MAX_PACKETS",
    "MAX_XMP_BYTES",
    "PNG_SIG",
    "PNG_XMP_KEYWORD",
    "TOO_LARGE",
    "TOO_MANY_PACKETS",
    "Scan",
    "Slice",
    "container_walker",
    "reassemble",
]

# --- limits -----------------------------------------------------------------------------------

MAX_XMP_BYTES: Final = 4 * 1024 * 1024
"""XMP bytes accepted per image: raw packets, extended slices and decompressed text together."""
MAX_PACKETS: Final = 512
"""XMP-bearing JPEG segments, PNG chunks, WebP chunks or GIF extensions read per image."""
MAX_CONTAINER_STEPS: Final = 1_000_000
"""Segments, chunks, blocks and sub-blocks walked per image before the walk gives up."""

# --- problem codes (the ``code`` part of XmpFacts.error entries) -------------------------------

TOO_LARGE: Final = "too_large"
TOO_MANY_PACKETS: Final = "too_many_packets"
CONTAINER_MALFORMED: Final = "container_malformed"
CONTAINER_TRUNCATED: Final = "container_truncated"
CONTAINER_LIMIT: Final = "container_limit"
DECOMPRESS_FAILED: Final = "decompress_failed"
EXTENDED_BAD_SEGMENT: Final = "extended_bad_segment"
EXTENDED_CONFLICT: Final = "extended_conflict"
EXTENDED_INCOMPLETE: Final = "extended_incomplete"

# --- container signatures ---------------------------------------------------------------------

JPEG_XMP_SIG: Final = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_EXT_SIG: Final = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_SIG: Final = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEYWORD: Final = b"XML:com.adobe.xmp"
GIF_XMP_APP_ID: Final = b"XMP DataXMP"

GUID_LEN: Final = 32
_EXT_HEADER: Final = len(JPEG_EXT_SIG) + GUID_LEN + 8
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RST0-7, SOI
_JPEG_SOS, _JPEG_EOI, _JPEG_APP1 = 0xDA, 0xD9, 0xE1
_FILL = re.compile(rb"\xff+")
_GIF_APP_BLOCK = 11
_MAX_PROBLEMS = 32  # XmpFacts.error is capped at MAX_DETAIL characters anyway


# --- locating packets -------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """One Extended XMP slice from a JPEG APP1 segment."""

    full_length: int
    offset: int
    data: bytes


@dataclass
class Scan:
    """What a container walk found: packets, extended slices, problems, and the budgets used."""

    locations: dict[str, None] = field(default_factory=dict)  # an ordered set
    packets: list[tuple[str, bytes]] = field(default_factory=list)
    extended: dict[str, list[Slice]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    budget: int = MAX_XMP_BYTES
    taken: int = 0
    steps: int = 0

    def problem(self, code: str, detail: str) -> None:
        entry = f"{code}: {detail}"
        if entry not in self.problems and len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(entry)

    def found(self, location: str) -> None:
        self.locations[location] = None

    def error(self) -> str | None:
        return clean_text("; ".join(self.problems), MAX_DETAIL) if self.problems else None

    def step(self) -> bool:
        """Count one container step; False (and a problem) once the walk is too long."""
        self.steps += 1
        if self.steps > MAX_CONTAINER_STEPS:
            self.problem(CONTAINER_LIMIT, f"more than {MAX_CONTAINER_STEPS} blocks; walk stopped")
            return False
        return True

    def take(self, location: str, size: int) -> bool:
        """Reserve ``size`` XMP bytes for one packet or slice at ``location``; False if refused."""
        self.found(location)
        self.taken += 1
        if self.taken > MAX_PACKETS:
            self.problem(TOO_MANY_PACKETS, f"more than {MAX_PACKETS} XMP blocks; rest ignored")
            return False
        if size > self.budget:
            self.problem(TOO_LARGE, f"{location}: XMP over {MAX_XMP_BYTES} bytes; not read")
            return False
        self.budget -= size
        return True

    def add(self, location: str, packet: bytes) -> None:
        if self.take(location, len(packet)):
            self.packets.append((location, packet))


_Walker = Callable[[bytes, Scan], None]


def container_walker(data: bytes) -> _Walker | None:
    if data[:2] == b"\xff\xd8":
        return _walk_jpeg
    if data[:8] == PNG_SIG:
        return _walk_png
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _walk_webp
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _walk_gif
    return None


def _walk_jpeg(data: bytes, scan: Scan) -> None:
    """APP1 segments from SOI up to the first SOS (metadata never follows the scan data)."""
    pos, size = 2, len(data)
    while scan.step():
        if pos >= size:
            break
        if data[pos] != 0xFF:  # noqa: PLR2004 - marker prefix
            scan.problem(CONTAINER_MALFORMED, f"JPEG: no marker at byte {pos}")
            return
        fill = _FILL.match(data, pos)
        pos = fill.end() if fill else pos + 1
        if pos >= size:
            break
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (_JPEG_SOS, _JPEG_EOI):
            return
        if pos + 2 > size:
            break
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:  # noqa: PLR2004 - the length counts its own two bytes
            scan.problem(CONTAINER_MALFORMED, f"JPEG: segment length {length} at byte {pos}")
            return
        end = pos + length
        if end > size:
            break
        if marker == _JPEG_APP1:
            _jpeg_app1(data[pos + 2 : end], scan)
        pos = end
    else:
        return  # step limit; already recorded
    scan.problem(CONTAINER_TRUNCATED, "JPEG ends inside its metadata segments")


def _jpeg_app1(payload: bytes, scan: Scan) -> None:
    if payload.startswith(JPEG_XMP_SIG):
        scan.add("jpeg_app1", payload[len(JPEG_XMP_SIG) :])
    elif payload.startswith(JPEG_EXT_SIG):
        if len(payload) < _EXT_HEADER:
            scan.found("jpeg_extended")
            scan.problem(EXTENDED_BAD_SEGMENT, f"extended XMP segment of {len(payload)} bytes")
            return
        start = len(JPEG_EXT_SIG)
        guid = payload[start : start + GUID_LEN].decode("ascii", "replace").upper()
        full_length, offset = struct.unpack_from(">II", payload, start + GUID_LEN)
        chunk = payload[_EXT_HEADER:]
        if scan.take("jpeg_extended", len(chunk)):
            scan.extended.setdefault(guid, []).append(Slice(full_length, offset, chunk))


def _walk_png(data: bytes, scan: Scan) -> None:
    """Every chunk up to IEND; text chunks with the XMP keyword are read."""
    pos, size = len(PNG_SIG), len(data)
    while scan.step():
        if pos + 8 > size:
            scan.problem(CONTAINER_TRUNCATED, "PNG ends before IEND")
            return
        length, kind = struct.unpack_from(">I4s", data, pos)
        start = pos + 8
        end = start + length
        if end + 4 > size:
            scan.problem(CONTAINER_TRUNCATED, f"PNG chunk {_show(kind)} runs past the file end")
            return
        if kind in (b"iTXt", b"tEXt", b"zTXt"):
            _png_text(kind, data[start:end], scan)
        elif kind == b"IEND":
            return
        pos = end + 4


def _png_text(kind: bytes, chunk: bytes, scan: Scan) -> None:
    keyword, sep, rest = chunk.partition(b"\x00")
    if keyword != PNG_XMP_KEYWORD or not sep:
        return
    if kind == b"tEXt":
        scan.add("png_text", rest)
        return
    if kind == b"zTXt":
        _png_inflate("png_ztxt", rest[1:], rest[:1] == b"\x00", scan)
        return
    # iTXt: compression flag, compression method, language tag NUL, translated keyword NUL, text
    fields = rest[2:].split(b"\x00", 2)
    if len(rest) < 2 or len(fields) != 3:  # noqa: PLR2004 - flag and method bytes
        scan.found("png_itxt")
        scan.problem(CONTAINER_MALFORMED, "PNG iTXt XMP chunk without its header fields")
        return
    flag, method, text = rest[0], rest[1], fields[2]
    if flag == 0:
        scan.add("png_itxt", text)
    else:
        _png_inflate("png_itxt_compressed", text, flag == 1 and method == 0, scan)


def _png_inflate(location: str, compressed: bytes, known_method: bool, scan: Scan) -> None:
    if not known_method:
        scan.found(location)
        scan.problem(DECOMPRESS_FAILED, f"{location}: unknown compression flag or method")
        return
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(compressed, scan.budget + 1)
    except zlib.error as exc:
        scan.found(location)
        scan.problem(DECOMPRESS_FAILED, f"{location}: {describe(exc)}")
        return
    if len(text) <= scan.budget and not inflater.eof:
        scan.found(location)
        scan.problem(DECOMPRESS_FAILED, f"{location}: zlib stream is truncated")
        return
    scan.add(location, text)


def _walk_webp(data: bytes, scan: Scan) -> None:
    """RIFF chunks inside the declared RIFF size (or the file, if it is shorter)."""
    (declared,) = struct.unpack_from("<I", data, 4)
    size = min(len(data), declared + 8)
    pos = 12
    while pos + 8 <= size and scan.step():
        kind, length = struct.unpack_from("<4sI", data, pos)
        start = pos + 8
        end = start + length
        if end > size:
            scan.problem(CONTAINER_TRUNCATED, f"WebP chunk {_show(kind)} runs past the RIFF end")
            return
        if kind == b"XMP ":
            scan.add("webp_xmp", data[start:end])
        pos = end + (length & 1)
    if pos < size:
        scan.problem(CONTAINER_TRUNCATED, "WebP ends inside a chunk header")


def _walk_gif(data: bytes, scan: Scan) -> None:
    """Blocks from the logical screen descriptor to the trailer."""
    size = len(data)
    flags = data[10] if size > 10 else 0  # noqa: PLR2004 - packed field of the screen descriptor
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while scan.step():
        if pos >= size:
            break
        introducer = data[pos]
        if introducer == 0x3B:  # noqa: PLR2004 - trailer
            return
        if introducer == 0x2C:  # noqa: PLR2004 - image descriptor
            if pos + 10 > size:
                break
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1  # + LZW code size
        elif introducer == 0x21:  # noqa: PLR2004 - extension
            app_id = data[pos + 3 : pos + 3 + _GIF_APP_BLOCK]
            if data[pos + 1 : pos + 3] == b"\xff\x0b" and app_id == GIF_XMP_APP_ID:
                _gif_xmp(data, pos + 3 + _GIF_APP_BLOCK, scan)
            pos += 2
        else:
            scan.problem(CONTAINER_MALFORMED, f"GIF: unknown block 0x{introducer:02x} at {pos}")
            return
        pos = _skip_sub_blocks(data, pos, scan)
        if pos < 0:
            return
    else:
        return  # step limit; already recorded
    scan.problem(CONTAINER_TRUNCATED, "GIF ends before its trailer")


def _gif_xmp(data: bytes, start: int, scan: Scan) -> None:
    # The packet is stored raw (UTF-8 XML never contains the byte 0x01) and ends where the
    # magic trailer 01 FF FE ... 01 00 00 begins.
    end = data.find(b"\x01", start, start + scan.budget + 1)
    if end < 0:
        scan.found("gif_xmp")
        if len(data) - start > scan.budget:
            scan.problem(TOO_LARGE, f"gif_xmp: XMP over {MAX_XMP_BYTES} bytes; not read")
        else:
            scan.problem(CONTAINER_MALFORMED, "GIF XMP extension without its magic trailer")
        return
    scan.add("gif_xmp", data[start:end])


def _skip_sub_blocks(data: bytes, pos: int, scan: Scan) -> int:
    """Position after the sub-blocks starting at ``pos``; -1 (and a problem) if cut or too long."""
    size = len(data)
    while pos < size:
        if not scan.step():
            return -1
        length = data[pos]
        pos += 1 + length
        if length == 0:
            return pos
    scan.problem(CONTAINER_TRUNCATED, "GIF ends inside a block")
    return -1


def _show(raw: bytes) -> str:
    return repr(raw.decode("latin-1"))


# --- Extended XMP -----------------------------------------------------------------------------


def reassemble(guid: str, slices: list[Slice], scan: Scan) -> bytes | None:
    """Return the extended serialization named ``guid``, or ``None`` (with a problem)."""
    full = slices[0].full_length
    if full > MAX_XMP_BYTES:
        scan.problem(TOO_LARGE, f"extended XMP {guid} declares {full} bytes; not read")
        return None
    if full == 0:
        scan.problem(EXTENDED_BAD_SEGMENT, f"{guid}: declares an empty serialization")
        return None
    usable = []
    for piece in slices:
        if piece.full_length != full:
            scan.problem(EXTENDED_BAD_SEGMENT, f"{guid}: full length {piece.full_length} != {full}")
        elif piece.offset + len(piece.data) > full:
            detail = f"{guid}: slice at {piece.offset} (+{len(piece.data)}) is beyond {full} bytes"
            scan.problem(EXTENDED_BAD_SEGMENT, detail)
        elif piece.data:
            usable.append(piece)
    usable.sort(key=lambda piece: piece.offset)  # stable: file order among equal offsets
    assembled = bytearray()
    for piece in usable:
        if piece.offset > len(assembled):
            break  # a gap: reported below
        overlap = min(len(assembled) - piece.offset, len(piece.data))
        if assembled[piece.offset : piece.offset + overlap] != piece.data[:overlap]:
            scan.problem(EXTENDED_CONFLICT, f"{guid}: slices at offset {piece.offset} disagree")
            return None
        assembled += piece.data[overlap:]
    if len(assembled) != full:
        scan.problem(EXTENDED_INCOMPLETE, f"{guid}: {len(assembled)} of {full} bytes present")
        return None
    return bytes(assembled)
