r"""The ``xmp`` extractor: every XMP packet in the raw bytes, parsed safely, reduced to facts.

Packets are located in ``context.data`` by walking the container, never through Pillow (which
misses WebP, GIF and Extended XMP), following optout-signals.md 7.3:

- **JPEG**: APP1 segments before the first SOS. ``http://ns.adobe.com/xap/1.0/\0`` holds a
  standard packet (``jpeg_app1``). ``http://ns.adobe.com/xmp/extension/\0`` + 32-byte GUID +
  4-byte full length + 4-byte offset (big-endian) holds one slice of an Extended XMP
  serialization (``jpeg_extended``). Slices are grouped by GUID and reassembled by offset; only
  the GUID named by a standard packet's ``xmpNote:HasExtendedXMP`` is parsed (XMP Part 3), so a
  stale extended part left behind by an editor is reported, not read. Reassembly refuses slices
  whose full length disagrees with the first slice, slices that run past the full length,
  overlapping slices with different bytes (``extended_conflict``) and gaps
  (``extended_incomplete``); identical duplicates are harmless.
- **PNG**: ``iTXt`` chunks with keyword ``XML:com.adobe.xmp``, uncompressed (``png_itxt``) or
  zlib-compressed (``png_itxt_compressed``, decompressed with an output cap). Legacy ``tEXt`` and
  ``zTXt`` chunks with that keyword, written by old tools, are read too (``png_text``,
  ``png_ztxt``).
- **WebP**: RIFF chunks ``XMP `` (``webp_xmp``), whether or not VP8X announces them.
- **GIF**: the application extension ``XMP DataXMP``, whose packet is stored raw up to the first
  ``0x01`` byte of its 258-byte "magic trailer"; the walk then continues over the extension's
  sub-blocks as any GIF reader would (``gif_xmp``).

Each packet is parsed with defusedxml's expat parser with DTDs, entity declarations and external
references forbidden (billion laughs and XXE fail at the DOCTYPE and are recorded as
``xml_forbidden``), into a small private tree whose depth and element count are capped while it
is built. The RDF is then walked generically: properties may be attributes of a node element,
child elements with text, ``rdf:resource`` attributes, ``rdf:Bag``/``Seq``/``Alt`` lists,
``rdf:parseType="Resource"`` or nested ``rdf:Description`` structs and ``rdf:value``. The
properties the auditor needs are picked out by namespace URI, never by prefix.

Limits (module constants): at most :data:`MAX_XMP_BYTES` of XMP per image (raw packets,
extended slices and decompressed text together), :data:`MAX_PACKETS` XMP-bearing segments or
chunks, :data:`MAX_CONTAINER_STEPS` segments, chunks or sub-blocks walked, :data:`MAX_DEPTH`
nested elements and :data:`MAX_ELEMENTS` elements per packet; every text is cleaned and capped
by :func:`~auditor.extract.imagefacts.clean_text`.

Problems never raise: each becomes ``code: detail`` in ``XmpFacts.error`` (joined with ``"; "``;
codes are the ``*`` constants below) and the facts of every packet that could be read are kept.
``ImageFacts.error`` is left alone: an unreadable packet is a fact about the metadata, which the
``iptc.data_mining`` mechanism reports with the evaluation status ``error``.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Final, NamedTuple

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser

from auditor.extract.embedded import DataMiningValue, XmpFacts
from auditor.extract.imagefacts import (
    MAX_DETAIL,
    MAX_TEXT,
    ImageContext,
    ImageFacts,
    clean_text,
    describe,
)

# --- limits -----------------------------------------------------------------------------------

MAX_XMP_BYTES: Final = 4 * 1024 * 1024
"""XMP bytes accepted per image: raw packets, extended slices and decompressed text together."""
MAX_PACKETS: Final = 512
"""XMP-bearing JPEG segments, PNG chunks, WebP chunks or GIF extensions read per image."""
MAX_CONTAINER_STEPS: Final = 1_000_000
"""Segments, chunks, blocks and sub-blocks walked per image before the walk gives up."""
MAX_DEPTH: Final = 64
"""Deepest element nesting accepted in one packet (real XMP stays under 15)."""
MAX_ELEMENTS: Final = 50_000
"""Elements accepted in one packet."""
MAX_VALUES: Final = 64
"""Values kept per list field (DataMining values, owners, creators, licensors)."""

# --- problem codes (the ``code`` part of XmpFacts.error entries) -------------------------------

XML_FORBIDDEN: Final = "xml_forbidden"
XML_MALFORMED: Final = "xml_malformed"
XML_LIMIT: Final = "xml_limit"
TOO_LARGE: Final = "too_large"
TOO_MANY_PACKETS: Final = "too_many_packets"
CONTAINER_MALFORMED: Final = "container_malformed"
CONTAINER_TRUNCATED: Final = "container_truncated"
CONTAINER_LIMIT: Final = "container_limit"
DECOMPRESS_FAILED: Final = "decompress_failed"
EXTENDED_BAD_SEGMENT: Final = "extended_bad_segment"
EXTENDED_CONFLICT: Final = "extended_conflict"
EXTENDED_INCOMPLETE: Final = "extended_incomplete"
EXTENDED_MISSING: Final = "extended_missing"
EXTENDED_UNREFERENCED: Final = "extended_unreferenced"
INTERNAL: Final = "internal_error"

# --- namespaces -------------------------------------------------------------------------------

RDF_NS: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
PLUS_NS: Final = "http://ns.useplus.org/ldf/xmp/1.0/"
XMP_RIGHTS_NS: Final = "http://ns.adobe.com/xap/1.0/rights/"
DC_NS: Final = "http://purl.org/dc/elements/1.1/"
CC_NS: Final = "http://creativecommons.org/ns#"
IPTC_EXT_NS: Final = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
TDM_NS: Final = "http://www.w3.org/ns/tdmrep/"
XMP_NOTE_NS: Final = "http://ns.adobe.com/xmp/note/"

# --- container signatures ---------------------------------------------------------------------

JPEG_XMP_SIG: Final = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_EXT_SIG: Final = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_SIG: Final = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEYWORD: Final = b"XML:com.adobe.xmp"
GIF_XMP_APP_ID: Final = b"XMP DataXMP"

_GUID_LEN: Final = 32
_EXT_HEADER: Final = len(JPEG_EXT_SIG) + _GUID_LEN + 8
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RST0-7, SOI
_JPEG_SOS, _JPEG_EOI, _JPEG_APP1 = 0xDA, 0xD9, 0xE1
_FILL = re.compile(rb"\xff+")
_GIF_APP_BLOCK = 11
_MAX_PROBLEMS = 32  # XmpFacts.error is capped at MAX_DETAIL characters anyway


def _q(namespace: str, local: str) -> str:
    """Clark notation, as expat reports namespaced names."""
    return f"{{{namespace}}}{local}"


_RDF_RDF = _q(RDF_NS, "RDF")
_RDF_LI = _q(RDF_NS, "li")
_RDF_VALUE = _q(RDF_NS, "value")
_RDF_RESOURCE = _q(RDF_NS, "resource")
_RDF_PARSE_TYPE = _q(RDF_NS, "parseType")
_RDF_CONTAINERS = frozenset(_q(RDF_NS, name) for name in ("Bag", "Seq", "Alt"))
_XML_LANG = _q(XML_NS, "lang")


# --- public entry points ----------------------------------------------------------------------


def extract_xmp(context: ImageContext, facts: ImageFacts) -> ImageFacts:
    """Record :class:`XmpFacts` for the image from its raw bytes (see the module docstring)."""
    return replace(facts, xmp=read_xmp(context.data))


def read_xmp(data: bytes) -> XmpFacts | None:
    """Return what every XMP packet in ``data`` says; never raises.

    ``None`` when ``data`` is not a container this module reads (JPEG, PNG, WebP, GIF);
    ``XmpFacts()`` when it is and holds no XMP.
    """
    walker = _container_walker(data)
    if walker is None:
        return None
    scan = _Scan()
    try:
        walker(data, scan)
        return _facts_from_scan(scan)
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the other image facts
        scan.problem(INTERNAL, describe(exc))
        return XmpFacts(locations=tuple(scan.locations), error=scan.error())


# --- locating packets -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slice:
    """One Extended XMP slice from a JPEG APP1 segment."""

    full_length: int
    offset: int
    data: bytes


@dataclass
class _Scan:
    """What a container walk found: packets, extended slices, problems, and the budgets used."""

    locations: dict[str, None] = field(default_factory=dict)  # an ordered set
    packets: list[tuple[str, bytes]] = field(default_factory=list)
    extended: dict[str, list[_Slice]] = field(default_factory=dict)
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


_Walker = Callable[[bytes, _Scan], None]


def _container_walker(data: bytes) -> _Walker | None:
    if data[:2] == b"\xff\xd8":
        return _walk_jpeg
    if data[:8] == PNG_SIG:
        return _walk_png
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _walk_webp
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _walk_gif
    return None


def _walk_jpeg(data: bytes, scan: _Scan) -> None:
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


def _jpeg_app1(payload: bytes, scan: _Scan) -> None:
    if payload.startswith(JPEG_XMP_SIG):
        scan.add("jpeg_app1", payload[len(JPEG_XMP_SIG) :])
    elif payload.startswith(JPEG_EXT_SIG):
        if len(payload) < _EXT_HEADER:
            scan.found("jpeg_extended")
            scan.problem(EXTENDED_BAD_SEGMENT, f"extended XMP segment of {len(payload)} bytes")
            return
        start = len(JPEG_EXT_SIG)
        guid = payload[start : start + _GUID_LEN].decode("ascii", "replace").upper()
        full_length, offset = struct.unpack_from(">II", payload, start + _GUID_LEN)
        chunk = payload[_EXT_HEADER:]
        if scan.take("jpeg_extended", len(chunk)):
            scan.extended.setdefault(guid, []).append(_Slice(full_length, offset, chunk))


def _walk_png(data: bytes, scan: _Scan) -> None:
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


def _png_text(kind: bytes, chunk: bytes, scan: _Scan) -> None:
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


def _png_inflate(location: str, compressed: bytes, known_method: bool, scan: _Scan) -> None:
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


def _walk_webp(data: bytes, scan: _Scan) -> None:
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


def _walk_gif(data: bytes, scan: _Scan) -> None:
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


def _gif_xmp(data: bytes, start: int, scan: _Scan) -> None:
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


def _skip_sub_blocks(data: bytes, pos: int, scan: _Scan) -> int:
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


def _reassemble(guid: str, slices: list[_Slice], scan: _Scan) -> bytes | None:
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


# --- parsing ----------------------------------------------------------------------------------


class _LimitError(Exception):
    """A packet exceeded MAX_DEPTH or MAX_ELEMENTS while it was being parsed."""


class _Node:
    __slots__ = ("attrib", "children", "tag", "text", "text_len")

    def __init__(self, tag: str, attrib: dict[str, str]) -> None:
        self.tag = tag
        self.attrib = attrib
        self.children: list[_Node] = []
        self.text: list[str] = []
        self.text_len = 0


class _TreeBuilder:
    """Parser target building a bounded tree (depth, element count, text kept per element)."""

    def __init__(self) -> None:
        self.root: _Node | None = None
        self.stack: list[_Node] = []
        self.count = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _LimitError(f"more than {MAX_ELEMENTS} elements")
        if len(self.stack) >= MAX_DEPTH:
            raise _LimitError(f"elements nested deeper than {MAX_DEPTH}")
        node = _Node(tag, dict(attrib))
        if self.stack:
            self.stack[-1].children.append(node)
        elif self.root is None:
            self.root = node
        self.stack.append(node)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            node = self.stack[-1]
            if node.text_len < 4 * MAX_TEXT:  # clean_text keeps at most MAX_TEXT characters
                node.text.append(text)
                node.text_len += len(text)

    def close(self) -> _Node | None:
        return self.root


class XmpValue(NamedTuple):
    """One property value: its path of Clark names from the top-level property down."""

    path: tuple[str, ...]
    value: str
    form: str  # "text" or "resource"
    lang: str | None


def _trim(packet: bytes) -> bytes:
    """Drop padding around a UTF-8 packet (NULs and text after ``<?xpacket end=...?>``)."""
    if packet[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00<" in packet[:8]:
        return packet  # UTF-16/32: expat reads the BOM; byte trimming would break it
    packet = packet.lstrip(b"\x00 \t\r\n")
    end_pi = packet.rfind(b"<?xpacket end=")
    if end_pi >= 0:
        close = packet.find(b"?>", end_pi)
        if close >= 0:
            return packet[: close + 2]
    return packet.rstrip(b"\x00 \t\r\n")


def parse_packet(packet: bytes) -> list[XmpValue]:
    """Every property value in one XMP packet; raises :class:`XmpParseError` when unusable."""
    builder = _TreeBuilder()
    parser = XMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(_trim(packet))
        root = parser.close()
    except DefusedXmlException as exc:
        raise XmpParseError(XML_FORBIDDEN, describe(exc)) from None
    except _LimitError as exc:
        raise XmpParseError(XML_LIMIT, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - expat reports hostile XML in several ways
        raise XmpParseError(XML_MALFORMED, describe(exc)) from None
    values: list[XmpValue] = []
    if isinstance(root, _Node):
        for rdf in _find_rdf(root):
            for node in rdf.children:
                _node_element(node, (), values)
    return values


class XmpParseError(Exception):
    """A packet that cannot be used: ``code`` is one of the problem codes, ``detail`` a line."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _find_rdf(root: _Node) -> Iterator[_Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.tag == _RDF_RDF:
            yield node
        else:
            stack.extend(reversed(node.children))


def _is_syntax(name: str) -> bool:
    """RDF syntax and xml: attributes, which are not properties."""
    return name.startswith((f"{{{RDF_NS}}}", f"{{{XML_NS}}}")) or not name.startswith("{")


def _node_element(node: _Node, path: tuple[str, ...], out: list[XmpValue]) -> None:
    """Collect the properties of a node element (``rdf:Description``, typed node, struct)."""
    for name, value in node.attrib.items():
        if name == _RDF_VALUE:
            out.append(XmpValue(path, value, "text", None))
        elif not _is_syntax(name):
            out.append(XmpValue((*path, name), value, "text", None))
    for child in node.children:
        _property_element(child, path if child.tag == _RDF_VALUE else (*path, child.tag), out)


def _property_element(elem: _Node, path: tuple[str, ...], out: list[XmpValue]) -> None:
    """Collect a property element: a simple value, a resource, an array or a struct."""
    lang = elem.attrib.get(_XML_LANG)
    resource = elem.attrib.get(_RDF_RESOURCE)
    if resource is not None:
        out.append(XmpValue(path, resource, "resource", lang))
    if elem.attrib.get(_RDF_PARSE_TYPE) == "Resource":
        _node_element(elem, path, out)
        return
    for name, value in elem.attrib.items():  # shorthand struct fields
        if not _is_syntax(name):
            out.append(XmpValue((*path, name), value, "text", None))
    if not elem.children:
        if resource is None:
            out.append(XmpValue(path, "".join(elem.text), "text", lang))
        return
    for child in elem.children:
        if child.tag in _RDF_CONTAINERS:
            for item in child.children:
                if item.tag == _RDF_LI:
                    _property_element(item, path, out)
        else:
            _node_element(child, path, out)


# --- from packets to facts --------------------------------------------------------------------


def _facts_from_scan(scan: _Scan) -> XmpFacts:
    values: list[XmpValue] = []
    for location, packet in scan.packets:
        values.extend(_parse_into(location, packet, scan))
    referenced = {
        guid.upper() for guid in _texts(_index(values), _HAS_EXTENDED) if len(guid) == _GUID_LEN
    }
    for guid, slices in scan.extended.items():
        if guid not in referenced:
            scan.problem(EXTENDED_UNREFERENCED, f"{guid} is not named by xmpNote:HasExtendedXMP")
            continue
        assembled = _reassemble(guid, slices, scan)
        if assembled is not None:
            values.extend(_parse_into("jpeg_extended", assembled, scan))
    for guid in sorted(referenced - set(scan.extended)):
        scan.problem(EXTENDED_MISSING, f"HasExtendedXMP names {guid}, which is not in the file")
    locations = tuple(scan.locations)
    if not values:
        return XmpFacts(locations=locations, error=scan.error())
    return _facts(_index(values), locations, scan.error())


def _parse_into(location: str, packet: bytes, scan: _Scan) -> list[XmpValue]:
    try:
        return parse_packet(packet)
    except XmpParseError as exc:
        scan.problem(exc.code, f"{location}: {exc.detail}")
        return []


_Index = dict[tuple[str, ...], list[XmpValue]]


def _index(values: list[XmpValue]) -> _Index:
    """Values grouped by property path, in document order."""
    index: _Index = {}
    for value in values:
        index.setdefault(value.path, []).append(value)
    return index


def _texts(index: _Index, path: tuple[str, ...]) -> tuple[str, ...]:
    found = (clean_text(value.value) for value in index.get(path, ()))
    return tuple(dict.fromkeys(text for text in found if text))[:MAX_VALUES]


def _first(index: _Index, path: tuple[str, ...]) -> str | None:
    texts = _texts(index, path)
    return texts[0] if texts else None


def _lang_alt(index: _Index, path: tuple[str, ...]) -> str | None:
    """Pick from a language alternative: the ``x-default`` item, else the first one."""
    matching = [value for value in index.get(path, ()) if clean_text(value.value)]
    for value in matching:
        if (value.lang or "").lower() == "x-default":
            return clean_text(value.value)
    return clean_text(matching[0].value) if matching else None


def _boolean(text: str | None) -> bool | None:
    """Read an XMP Boolean (``True``/``False``, any case); anything else is unknown."""
    return {"true": True, "false": False}.get((text or "").lower())


def _plus(local: str) -> tuple[str, ...]:
    return (_q(PLUS_NS, local),)


def _rights(local: str) -> tuple[str, ...]:
    return (_q(XMP_RIGHTS_NS, local),)


def _cc(local: str) -> tuple[str, ...]:
    return (_q(CC_NS, local),)


_HAS_EXTENDED: Final = (_q(XMP_NOTE_NS, "HasExtendedXMP"),)
_DATA_MINING: Final = _plus("DataMining")
_EMBEDDED_EXPR: Final = (_q(IPTC_EXT_NS, "EmbdEncRightsExpr"), _q(IPTC_EXT_NS, "EncRightsExpr"))
_LINKED_EXPR: Final = (_q(IPTC_EXT_NS, "LinkedEncRightsExpr"), _q(IPTC_EXT_NS, "LinkedRightsExpr"))
_LICENSOR_NAME: Final = (_q(PLUS_NS, "Licensor"), _q(PLUS_NS, "LicensorName"))
_LICENSOR_ID: Final = (_q(PLUS_NS, "Licensor"), _q(PLUS_NS, "LicensorID"))


def _facts(index: _Index, locations: tuple[str, ...], error: str | None) -> XmpFacts:
    mining: dict[DataMiningValue, None] = {}
    for value in index.get(_DATA_MINING, ()):
        text = clean_text(value.value)
        if text and len(mining) < MAX_VALUES:
            mining[DataMiningValue(text, value.form)] = None
    return XmpFacts(
        locations=locations,
        data_mining=tuple(mining),
        other_constraints=_lang_alt(index, _plus("OtherConstraints")),
        embedded_rights_expr=_first(index, _EMBEDDED_EXPR),
        linked_rights_expr=_first(index, _LINKED_EXPR),
        rights_marked=_boolean(_first(index, _rights("Marked"))),
        usage_terms=_lang_alt(index, _rights("UsageTerms")),
        web_statement=_first(index, _rights("WebStatement")),
        rights_owners=_texts(index, _rights("Owner")),
        dc_rights=_lang_alt(index, (_q(DC_NS, "rights"),)),
        dc_creators=_texts(index, (_q(DC_NS, "creator"),)),
        cc_license=_first(index, _cc("license")),
        cc_attribution_name=_first(index, _cc("attributionName")),
        cc_attribution_url=_first(index, _cc("attributionURL")),
        cc_more_permissions=_first(index, _cc("morePermissions")),
        plus_copyright_status=_first(index, _plus("CopyrightStatus")),
        plus_licensors=_texts(index, _LICENSOR_NAME) or _texts(index, _LICENSOR_ID),
        tdm_reservation=_first(index, (_q(TDM_NS, "reservation"),)),
        tdm_policy=_first(index, (_q(TDM_NS, "policy"),)),
        error=error,
    )


__all__ = [
    "MAX_CONTAINER_STEPS",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_PACKETS",
    "MAX_VALUES",
    "MAX_XMP_BYTES",
    "XmpParseError",
    "XmpValue",
    "extract_xmp",
    "parse_packet",
    "read_xmp",
]
