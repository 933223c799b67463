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

from collections.abc import Iterator
from dataclasses import replace
from typing import Final, NamedTuple

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser

from auditor.extract.embedded import DataMiningValue, XmpFacts
from auditor.extract.imagefacts import (
    MAX_TEXT,
    ImageContext,
    ImageFacts,
    clean_text,
    describe,
)

# The container walkers, their limits, problem codes and signatures live in xmp_containers;
# the public ones are re-exported here so this module keeps its whole public surface.
from auditor.extract.xmp_containers import (
    CONTAINER_LIMIT,
    CONTAINER_MALFORMED,
    CONTAINER_TRUNCATED,
    DECOMPRESS_FAILED,
    EXTENDED_BAD_SEGMENT,
    EXTENDED_CONFLICT,
    EXTENDED_INCOMPLETE,
    GIF_XMP_APP_ID,
    GUID_LEN,
    JPEG_EXT_SIG,
    JPEG_XMP_SIG,
    MAX_CONTAINER_STEPS,
    MAX_PACKETS,
    MAX_XMP_BYTES,
    PNG_SIG,
    PNG_XMP_KEYWORD,
    TOO_LARGE,
    TOO_MANY_PACKETS,
    Scan,
    container_walker,
    reassemble,
)

# --- limits (the container limits are in xmp_containers) ---------------------------------------

MAX_DEPTH: Final = 64
"""Deepest element nesting accepted in one packet (real XMP stays under 15)."""
MAX_ELEMENTS: Final = 50_000
"""Elements accepted in one packet."""
MAX_VALUES: Final = 64
"""Values kept per list field (DataMining values, owners, creators, licensors)."""

# --- problem codes (the ``code`` part of XmpFacts.error entries; container codes are in
# xmp_containers) --------------------------------------------------------------------------------

XML_FORBIDDEN: Final = "xml_forbidden"
XML_MALFORMED: Final = "xml_malformed"
XML_LIMIT: Final = "xml_limit"
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
    walker = container_walker(data)
    if walker is None:
        return None
    scan = Scan()
    try:
        walker(data, scan)
        return _facts_from_scan(scan)
    except Exception as exc:  # noqa: BLE001 - a bug here must not lose the other image facts
        scan.problem(INTERNAL, describe(exc))
        return XmpFacts(locations=tuple(scan.locations), error=scan.error())


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


def _facts_from_scan(scan: Scan) -> XmpFacts:
    values: list[XmpValue] = []
    for location, packet in scan.packets:
        values.extend(_parse_into(location, packet, scan))
    referenced = {
        guid.upper() for guid in _texts(_index(values), _HAS_EXTENDED) if len(guid) == GUID_LEN
    }
    for guid, slices in scan.extended.items():
        if guid not in referenced:
            scan.problem(EXTENDED_UNREFERENCED, f"{guid} is not named by xmpNote:HasExtendedXMP")
            continue
        assembled = reassemble(guid, slices, scan)
        if assembled is not None:
            values.extend(_parse_into("jpeg_extended", assembled, scan))
    for guid in sorted(referenced - set(scan.extended)):
        scan.problem(EXTENDED_MISSING, f"HasExtendedXMP names {guid}, which is not in the file")
    locations = tuple(scan.locations)
    if not values:
        return XmpFacts(locations=locations, error=scan.error())
    return _facts(_index(values), locations, scan.error())


def _parse_into(location: str, packet: bytes, scan: Scan) -> list[XmpValue]:
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
    "CONTAINER_LIMIT",
    "CONTAINER_MALFORMED",
    "CONTAINER_TRUNCATED",
    "DECOMPRESS_FAILED",
    "EXTENDED_BAD_SEGMENT",
    "EXTENDED_CONFLICT",
    "EXTENDED_INCOMPLETE",
    "GIF_XMP_APP_ID",
    "JPEG_EXT_SIG",
    "JPEG_XMP_SIG",
    "MAX_CONTAINER_STEPS",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_PACKETS",
    "MAX_VALUES",
    "MAX_XMP_BYTES",
    "PNG_SIG",
    "PNG_XMP_KEYWORD",
    "TOO_LARGE",
    "TOO_MANY_PACKETS",
    "XmpParseError",
    "XmpValue",
    "extract_xmp",
    "parse_packet",
    "read_xmp",
]
