"""Fuzzing the ``xmp`` extractor: no bytes make it (or extract_image) raise or misbehave."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.extract import ImageFacts, extract_image
from auditor.extract.embedded import XmpFacts
from auditor.extract.imagefacts import MAX_DETAIL, MAX_TEXT
from auditor.extract.xmp import MAX_VALUES, XmpParseError, parse_packet, read_xmp

from . import FIXTURE_IMAGES
from .test_xmp import gen

FUZZ = settings(
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
XMP_FIXTURES = sorted(path.name for path in (FIXTURE_IMAGES / "xmp").iterdir())
BLOBS = {name: (FIXTURE_IMAGES / "xmp" / name).read_bytes() for name in XMP_FIXTURES}
MAGIC = [
    b"\xff\xd8",
    b"\xff\xd8\xff\xe1",
    b"\xff\xd8\xff\xe1\x01\x00http://ns.adobe.com/xap/1.0/\x00",
    b"\xff\xd8\xff\xe1\x01\x00http://ns.adobe.com/xmp/extension/\x00",
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x01\x00iTXtXML:com.adobe.xmp\x00",
    b"RIFF\x00\x01\x00\x00WEBP",
    b"RIFF\xff\xff\xff\xffWEBPXMP ",
    b"GIF89a",
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(6) + b"\x21\xff\x0bXMP DataXMP",
]
BAD_ERRORS = {"extractor_failed", "internal_error"}


def check_xmp(xmp: XmpFacts | None) -> None:
    if xmp is None:
        return
    assert isinstance(xmp, XmpFacts)
    assert len(xmp.data_mining) <= MAX_VALUES
    for value in xmp.data_mining:
        assert value.form in {"text", "resource"}
        assert 0 < len(value.value) <= MAX_TEXT
    if xmp.error is not None:
        assert not xmp.error.startswith("internal_error"), xmp.error
        assert "internal_error" not in xmp.error
        assert len(xmp.error) <= MAX_DETAIL


def check_facts(facts: ImageFacts) -> None:
    assert facts.error not in BAD_ERRORS, facts.error_detail
    check_xmp(facts.xmp)


@FUZZ
@given(
    st.sampled_from(XMP_FIXTURES),
    st.lists(st.tuples(st.integers(0, 40_000), st.integers(0, 255)), min_size=1, max_size=16),
    st.integers(1, 40_000),
)
def test_extract_image_never_raises_on_mutated_xmp_fixtures(
    name: str, flips: list[tuple[int, int]], keep: int
) -> None:
    data = bytearray(BLOBS[name])
    for position, value in flips:
        data[position % len(data)] = value
    check_facts(extract_image(bytes(data[:keep])))


@FUZZ
@given(st.sampled_from(XMP_FIXTURES), st.integers(0, 3_000), st.binary(min_size=1, max_size=64))
def test_extract_image_never_raises_on_spliced_junk(name: str, offset: int, junk: bytes) -> None:
    blob = BLOBS[name]
    offset %= len(blob)
    check_facts(extract_image(blob[:offset] + junk + blob[offset + len(junk) :]))


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_read_xmp_never_raises_behind_container_magic(magic: bytes, tail: bytes) -> None:
    check_xmp(read_xmp(magic + tail))


@FUZZ
@given(st.binary(max_size=512))
def test_read_xmp_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    check_xmp(read_xmp(data))


GUIDS = ["A" * 32, "B" * 32, "0123456789ABCDEF0123456789ABCDEF"]


@FUZZ
@given(
    st.sampled_from(GUIDS),
    st.lists(
        st.tuples(
            st.sampled_from([*GUIDS, "short", "\u00e9" * 32]),
            st.integers(0, 2**32 - 1) | st.integers(0, 600),
            st.integers(0, 2**32 - 1) | st.integers(0, 600),
            st.binary(max_size=300) | st.sampled_from([b"<x:xmpmeta/>", b"<a>", b""]),
        ),
        max_size=12,
    ),
)
def test_extended_reassembly_never_raises(
    named: str, slices: list[tuple[str, int, int, bytes]]
) -> None:
    main = gen.app1_xmp(gen.xmp_packet(attributes=f'xmpNote:HasExtendedXMP="{named}"'))
    segments = []
    for guid, full, offset, chunk in slices:
        raw_guid = guid.encode("utf-8")[:32].ljust(32, b"_")
        payload = gen.EXT_SIG + raw_guid + struct.pack(">II", full, offset) + chunk
        segments.append(gen.app1(payload))
    check_xmp(read_xmp(gen.jpeg_with_segments([main, *segments])))


XML_ATOMS = [
    "<rdf:Description>",
    "</rdf:Description>",
    "<plus:DataMining>",
    "</plus:DataMining>",
    '<plus:DataMining rdf:resource="DMI-PROHIBITED"/>',
    "<rdf:Bag>",
    "</rdf:Bag>",
    "<rdf:li>",
    "</rdf:li>",
    '<rdf:li rdf:parseType="Resource">',
    "<rdf:value>",
    "</rdf:value>",
    "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED",
    "&amp;",
    "&undefined;",
    "<!DOCTYPE a>",
    "<![CDATA[x]]>",
    "<?pi x?>",
    "\u202e",
    "\x00",
]


@FUZZ
@given(st.lists(st.sampled_from(XML_ATOMS) | st.text(max_size=8), max_size=40))
def test_parse_packet_raises_only_xmp_parse_error(parts: list[str]) -> None:
    packet = gen.xmp_packet("".join(parts))
    try:
        parse_packet(packet)
    except XmpParseError as exc:
        assert exc.code in {"xml_malformed", "xml_forbidden", "xml_limit"}
    check_xmp(read_xmp(gen.jpeg_with_segments([gen.app1_xmp(packet)])))
