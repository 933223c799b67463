"""The ``xmp`` extractor: every location of 7.3, Extended XMP reassembly, hostile XML, limits."""

from __future__ import annotations

import importlib.util
import struct
import time
import zlib
from io import BytesIO
from types import ModuleType

import pytest
from PIL import Image

from auditor.extract import EXTRACTORS, extract_image
from auditor.extract import xmp as xmp_module
from auditor.extract.embedded import DataMiningValue, XmpFacts
from auditor.extract.xmp import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    MAX_PACKETS,
    MAX_XMP_BYTES,
    XmpParseError,
    extract_xmp,
    parse_packet,
    read_xmp,
)

from . import FIXTURE_IMAGES, encode

XMP_DIR = FIXTURE_IMAGES / "xmp"
VOCAB = "http://ns.useplus.org/ldf/vocab/"


def load_generator() -> ModuleType:
    path = FIXTURE_IMAGES / "make_xmp_images.py"
    spec = importlib.util.spec_from_file_location("make_xmp_images", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = load_generator()


def dm(key: str, form: str = "text") -> DataMiningValue:
    return DataMiningValue(f"{VOCAB}{key}", form)


def xmp_of(data: bytes) -> XmpFacts:
    facts = read_xmp(data)
    assert facts is not None
    return facts


def codes(facts: XmpFacts) -> set[str]:
    """The problem codes in ``facts.error`` (entries are ``code: detail``, joined by ``; ``)."""
    assert facts.error is not None
    return {entry.split(":", 1)[0] for entry in facts.error.split("; ") if ":" in entry}


def jpeg(*packets: bytes) -> bytes:
    data: bytes = gen.jpeg_with_segments([gen.app1_xmp(packet) for packet in packets])
    return data


def packet(body: str = "", attributes: str = "") -> bytes:
    data: bytes = gen.xmp_packet(body, attributes)
    return data


# --- the committed fixtures -------------------------------------------------------------------


def test_generator_is_deterministic_small_and_committed() -> None:
    first, second = gen.build(), gen.build()
    assert first == second
    assert len(first) == 10
    for name, data in first.items():
        assert len(data) < 40_000, name
        assert (XMP_DIR / name).read_bytes() == data, f"{name} is stale: rerun the generator"


EXPECTED: dict[str, XmpFacts] = {
    "datamining-genai.jpg": XmpFacts(
        locations=("jpeg_app1",), data_mining=(dm("DMI-PROHIBITED-GENAIMLTRAINING"),)
    ),
    "extended-only.jpg": XmpFacts(
        locations=("jpeg_app1", "jpeg_extended"),
        data_mining=(dm("DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"),),
        dc_rights="(c) Example Photo Agency",
    ),
    "seeconstraint-compressed.png": XmpFacts(
        locations=("png_itxt_compressed",),
        data_mining=(dm("DMI-PROHIBITED-SEECONSTRAINT"),),
        other_constraints=(
            "Text and data mining, including AI training, only under a written licence: "
            "see https://photos.example/licensing"
        ),
    ),
    "unspecified.png": XmpFacts(locations=("png_itxt",), data_mining=(dm("DMI-UNSPECIFIED"),)),
    "prohibited.webp": XmpFacts(
        locations=("webp_xmp",),
        data_mining=(dm("DMI-PROHIBITED"),),
        tdm_reservation="1",
        tdm_policy="https://photos.example/tdm-policy.json",
    ),
    "allowed.gif": XmpFacts(locations=("gif_xmp",), data_mining=(dm("DMI-ALLOWED"),)),
    "cc0-unmarked.jpg": XmpFacts(
        locations=("jpeg_app1",),
        rights_marked=False,
        cc_license="http://creativecommons.org/publicdomain/zero/1.0/",
        cc_attribution_name="Example Photo Agency",
    ),
    "bare-key-resource.jpg": XmpFacts(
        locations=("jpeg_app1",),
        data_mining=(DataMiningValue("DMI-PROHIBITED-AIMLTRAINING", "resource"),),
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_facts(name: str) -> None:
    facts = extract_image((XMP_DIR / name).read_bytes())
    assert facts.error is None, facts.error_detail
    assert facts.phash is not None
    assert facts.xmp == EXPECTED[name]


@pytest.mark.parametrize("name", ["billion-laughs.jpg", "external-entity.jpg"])
def test_hostile_dtd_fixtures_are_refused_and_recorded(name: str) -> None:
    started = time.perf_counter()
    facts = extract_image((XMP_DIR / name).read_bytes())
    assert time.perf_counter() - started < 2
    assert facts.error is None  # the image itself is fine; the problem is on the XMP facts
    assert facts.xmp is not None
    assert facts.xmp.locations == ("jpeg_app1",)
    assert facts.xmp.data_mining == ()  # the whole packet is refused, not half-read
    assert facts.xmp.dc_rights is None
    assert codes(facts.xmp) == {"xml_forbidden"}
    assert "DTDForbidden" in (facts.xmp.error or "")
    assert "root:" not in (facts.xmp.error or "")


def test_pillow_alone_would_miss_the_extended_value() -> None:
    # The reason the extractor walks the bytes: Pillow's getxmp() sees only the main packet.
    data = (XMP_DIR / "extended-only.jpg").read_bytes()
    with Image.open(BytesIO(data)) as image:
        assert "DataMining" not in repr(image.getxmp())
    assert xmp_of(data).data_mining == (dm("DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"),)


def test_registered_after_the_other_header_extractors() -> None:
    assert EXTRACTORS["xmp"] is extract_xmp
    assert list(EXTRACTORS).index("xmp") > list(EXTRACTORS).index("exif")


@pytest.mark.parametrize(
    "name", ["photo.jpg", "plain.jpg", "graphic.png", "anim.gif", "photo.webp", "truncated.jpg"]
)
def test_images_without_xmp_are_examined_and_empty(name: str) -> None:
    assert extract_image((FIXTURE_IMAGES / name).read_bytes()).xmp == XmpFacts()


def test_unread_containers_are_not_examined() -> None:
    bmp = encode(gen.base_image(), "BMP")
    facts = extract_image(bmp)
    assert (facts.format, facts.error, facts.xmp) == ("BMP", None, None)
    assert read_xmp(b"II*\x00" + bytes(40)) is None
    assert extract_image((FIXTURE_IMAGES / "notimage.jpg").read_bytes()).xmp is None


# --- Extended XMP -----------------------------------------------------------------------------


def extended_case(parts: int = 3) -> tuple[bytes, str, list[bytes]]:
    """(main packet naming the GUID, GUID, extended APP1 segments) with DMI-PROHIBITED."""
    extended = gen.xmp_packet(
        gen.data_mining("DMI-PROHIBITED") + f"<dc:rights>{'x' * 300}</dc:rights>", wrapper=False
    )
    guid, segments = gen.extended_segments(extended, parts)
    return packet(attributes=f'xmpNote:HasExtendedXMP="{guid}"'), guid, segments


def test_extended_slices_are_reassembled_in_any_order() -> None:
    main, _, segments = extended_case(4)
    shuffled = [segments[2], segments[0], segments[3], segments[1]]
    for order in (segments, shuffled, [*segments, segments[1]]):  # a repeated slice is harmless
        facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), *order]))
        assert facts.error is None
        assert facts.data_mining == (dm("DMI-PROHIBITED"),)
        assert facts.locations == ("jpeg_app1", "jpeg_extended")


def test_extended_before_the_main_packet_is_still_read() -> None:
    main, _, segments = extended_case()
    facts = xmp_of(gen.jpeg_with_segments([*segments, gen.app1_xmp(main)]))
    assert facts.data_mining == (dm("DMI-PROHIBITED"),)
    assert facts.locations == ("jpeg_extended", "jpeg_app1")


def test_guid_is_matched_without_regard_to_case() -> None:
    main, guid, segments = extended_case()
    main = main.replace(guid.encode(), guid.lower().encode())
    assert xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), *segments])).data_mining


def test_values_from_main_and_extended_packets_are_merged() -> None:
    extended = gen.xmp_packet(gen.data_mining("DMI-PROHIBITED"), wrapper=False)
    guid, segments = gen.extended_segments(extended, 2)
    main = packet(
        gen.data_mining("DMI-ALLOWED") + "<dc:rights>main</dc:rights>",
        f'xmpNote:HasExtendedXMP="{guid}"',
    )
    facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), *segments]))
    assert facts.data_mining == (dm("DMI-ALLOWED"), dm("DMI-PROHIBITED"))
    assert facts.dc_rights == "main"


def slice_segment(guid: str, full: int, offset: int, chunk: bytes) -> bytes:
    segment: bytes = gen.app1_extended(guid, full, offset, chunk)
    return segment


def payload_of(segment: bytes) -> tuple[int, int, bytes]:
    header = 4 + len(gen.EXT_SIG) + 32
    full, offset = struct.unpack_from(">II", segment, header)
    return full, offset, segment[header + 8 :]


def test_a_missing_slice_leaves_the_extended_part_unread() -> None:
    main, _, segments = extended_case(3)
    facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), segments[0], segments[2]]))
    assert facts.data_mining == ()
    assert codes(facts) == {"extended_incomplete"}
    assert "jpeg_extended" in facts.locations


def test_conflicting_slices_at_one_offset_are_refused() -> None:
    main, guid, segments = extended_case(2)
    full, offset, chunk = payload_of(segments[1])
    forged = slice_segment(guid, full, offset, chunk.replace(b"x", b"y"))
    facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), *segments, forged]))
    assert facts.data_mining == ()
    assert codes(facts) == {"extended_conflict"}


def test_an_identical_overlapping_slice_is_accepted() -> None:
    main, guid, segments = extended_case(2)
    full, offset, chunk = payload_of(segments[1])
    overlap = slice_segment(guid, full, offset - 10, payload_of(segments[0])[2][-10:] + chunk)
    facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), segments[0], overlap]))
    assert facts.error is None
    assert facts.data_mining == (dm("DMI-PROHIBITED"),)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda full, offset, chunk: (full, full + 5, chunk), "extended_bad_segment"),
        (lambda full, offset, chunk: (full, full - 3, chunk), "extended_bad_segment"),
        (lambda full, offset, chunk: (full + 1, offset, chunk), "extended_bad_segment"),
        (lambda full, offset, chunk: (2**32 - 1, offset, chunk), "extended_bad_segment"),
    ],
    ids=["offset-beyond-full-length", "slice-runs-past-end", "full-length-differs", "huge-full"],
)
def test_malformed_slices_are_dropped_and_recorded(mutate: object, code: str) -> None:
    main, guid, segments = extended_case(2)
    full, offset, chunk = payload_of(segments[1])
    bad = slice_segment(guid, *mutate(full, offset, chunk))  # type: ignore[operator]
    facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), segments[0], bad]))
    assert facts.data_mining == ()
    assert code in codes(facts)
    assert "extended_incomplete" in codes(facts)
    # the same bad slice next to the good one is dropped and the good data still used
    facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), *segments, bad]))
    assert facts.data_mining == (dm("DMI-PROHIBITED"),)
    assert codes(facts) == {code}


def test_first_slice_declaring_a_huge_length_is_refused_without_allocating() -> None:
    main, guid, _ = extended_case()
    facts = xmp_of(
        gen.jpeg_with_segments([gen.app1_xmp(main), slice_segment(guid, 2**32 - 1, 0, b"<")])
    )
    assert codes(facts) == {"too_large"}


def test_unreferenced_extended_xmp_is_reported_not_read() -> None:
    _, _, segments = extended_case()
    facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(packet()), *segments]))
    assert facts.data_mining == ()
    assert codes(facts) == {"extended_unreferenced"}
    assert facts.locations == ("jpeg_app1", "jpeg_extended")


def test_a_named_extended_part_that_is_absent_is_reported() -> None:
    main, _, _ = extended_case()
    facts = xmp_of(jpeg(main))
    assert codes(facts) == {"extended_missing"}


def test_short_extended_segment() -> None:
    segment = gen.app1(gen.EXT_SIG + b"ABCD")
    facts = xmp_of(gen.jpeg_with_segments([segment]))
    assert codes(facts) == {"extended_bad_segment"}
    assert facts.locations == ("jpeg_extended",)


def test_empty_declared_extended_serialization() -> None:
    main, guid, _ = extended_case()
    facts = xmp_of(gen.jpeg_with_segments([gen.app1_xmp(main), slice_segment(guid, 0, 0, b"")]))
    assert codes(facts) == {"extended_bad_segment"}


# --- hostile XML and limits -------------------------------------------------------------------


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE x:xmpmeta [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd"> %p;]>',
        '<!DOCTYPE x:xmpmeta SYSTEM "http://attacker.example/xmp.dtd">',
        "<!DOCTYPE x:xmpmeta>",
    ],
    ids=["parameter-entity", "external-dtd", "empty-doctype"],
)
def test_any_dtd_is_refused(prolog: str) -> None:
    facts = xmp_of(jpeg(gen.xmp_packet(gen.data_mining("DMI-ALLOWED"), prolog=prolog)))
    assert facts.data_mining == ()
    assert codes(facts) == {"xml_forbidden"}


def test_deep_nesting_is_bounded() -> None:
    depth = 100_000
    body = "<dc:rights>" + "<rdf:Description>" * depth + "</rdf:Description>" * depth
    started = time.perf_counter()
    facts = xmp_of(
        gen.png_with_chunks([gen.itxt_chunk(packet(body + "</dc:rights>"), compressed=True)])
    )
    assert time.perf_counter() - started < 5
    assert codes(facts) == {"xml_limit"}
    assert f"deeper than {MAX_DEPTH}" in (facts.error or "")


def test_element_count_is_bounded() -> None:
    body = (
        "<dc:creator><rdf:Seq>"
        + "<rdf:li>a</rdf:li>" * (MAX_ELEMENTS + 1)
        + "</rdf:Seq></dc:creator>"
    )
    facts = xmp_of(gen.png_with_chunks([gen.itxt_chunk(packet(body), compressed=True)]))
    assert codes(facts) == {"xml_limit"}


def test_nesting_at_the_limit_is_fine() -> None:
    # xmpmeta, RDF, Description, property, Bag, li, then nested structs up to MAX_DEPTH
    inner = MAX_DEPTH - 6
    body = (
        "<dc:creator><rdf:Bag><rdf:li>"
        + "<rdf:Description>" * inner
        + "</rdf:Description>" * inner
        + "</rdf:li></rdf:Bag></dc:creator>"
        + gen.data_mining("DMI-PROHIBITED")
    )
    facts = xmp_of(jpeg(packet(body)))
    assert facts.error is None
    assert facts.data_mining == (dm("DMI-PROHIBITED"),)


def test_huge_uncompressed_packet_is_refused_unparsed() -> None:
    huge = packet(gen.data_mining("DMI-ALLOWED") + " " * MAX_XMP_BYTES)
    facts = xmp_of(gen.png_with_chunks([gen.itxt_chunk(huge, compressed=False)]))
    assert facts.data_mining == ()
    assert codes(facts) == {"too_large"}
    assert facts.locations == ("png_itxt",)


def test_compressed_bomb_is_capped_while_inflating() -> None:
    head = packet(gen.data_mining("DMI-ALLOWED"))
    deflate = zlib.compressobj(9)
    stream = [deflate.compress(head)]
    stream += [deflate.compress(b" " * 2**20) for _ in range(4 * MAX_XMP_BYTES // 2**20)]
    stream.append(deflate.flush())
    compressed = b"".join(stream)
    assert len(compressed) < 100_000
    chunk = gen.png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + compressed)
    started = time.perf_counter()
    facts = xmp_of(gen.png_with_chunks([chunk]))
    assert time.perf_counter() - started < 2
    assert codes(facts) == {"too_large"}
    assert facts.data_mining == ()


def test_budget_is_shared_by_all_packets_of_an_image() -> None:
    big = packet(gen.data_mining("DMI-PROHIBITED") + " " * (MAX_XMP_BYTES // 2 + 10))
    chunks = [gen.itxt_chunk(big, compressed=True) for _ in range(3)]
    facts = xmp_of(gen.png_with_chunks(chunks))
    assert facts.data_mining == (dm("DMI-PROHIBITED"),)  # the first packet fits and is read
    assert codes(facts) == {"too_large"}


def test_number_of_packets_is_bounded() -> None:
    tiny = gen.app1_xmp(b"<x/>")
    facts = xmp_of(gen.jpeg_with_segments([tiny] * (MAX_PACKETS + 5)))
    assert codes(facts) == {"too_many_packets"}


def test_malformed_xml_is_recorded_and_other_packets_kept() -> None:
    good = packet(gen.data_mining("DMI-PROHIBITED"))
    facts = xmp_of(jpeg(b"<x:xmpmeta><unclosed>", good))
    assert facts.data_mining == (dm("DMI-PROHIBITED"),)
    assert codes(facts) == {"xml_malformed"}
    assert facts.error is not None
    assert "jpeg_app1" in facts.error


def test_parse_packet_raises_only_its_own_error() -> None:
    with pytest.raises(XmpParseError) as caught:
        parse_packet(b"\xff\xfe\x00garbage")
    assert caught.value.code == "xml_malformed"


def test_padding_after_the_packet_is_ignored() -> None:
    padded = packet(gen.data_mining("DMI-PROHIBITED")) + b" " * 2000 + b"\x00" * 50
    assert xmp_of(jpeg(padded)).error is None
    bare = gen.xmp_packet(gen.data_mining("DMI-PROHIBITED"), wrapper=False) + b"\x00\x00\n"
    assert xmp_of(jpeg(bare)).data_mining == (dm("DMI-PROHIBITED"),)


def test_utf16_packet_is_read() -> None:
    text = packet(gen.data_mining("DMI-PROHIBITED")).decode()
    text = text.replace('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n', "")
    data = '<?xml version="1.0" encoding="UTF-16"?>'.encode("utf-16") + text.encode("utf-16-le")
    assert xmp_of(jpeg(data)).data_mining == (dm("DMI-PROHIBITED"),)


def test_strings_are_cleaned_and_capped() -> None:
    body = f"<dc:rights>line one\nline two\u202e\t{'z' * 5000}</dc:rights>"
    facts = xmp_of(jpeg(packet(body)))
    assert facts.dc_rights is not None
    assert facts.dc_rights.startswith("line one line two zzz")
    assert len(facts.dc_rights) == 1000


# --- RDF forms --------------------------------------------------------------------------------


def test_properties_as_attributes_elements_resources_and_arrays() -> None:
    body = (
        '<plus:DataMining rdf:resource="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"/>'
        "<plus:DataMining><rdf:Bag><rdf:li>DMI-PROHIBITED-AIMLTRAINING</rdf:li></rdf:Bag>"
        "</plus:DataMining>"
        "<xmpRights:UsageTerms><rdf:Alt>"
        '<rdf:li xml:lang="fr">Licence requise</rdf:li>'
        '<rdf:li xml:lang="x-default">Licence required</rdf:li>'
        "</rdf:Alt></xmpRights:UsageTerms>"
        "<xmpRights:Owner><rdf:Bag><rdf:li>Owner A</rdf:li><rdf:li>Owner B</rdf:li>"
        "<rdf:li>Owner A</rdf:li></rdf:Bag></xmpRights:Owner>"
        "<dc:creator><rdf:Seq><rdf:li>Jo Example</rdf:li></rdf:Seq></dc:creator>"
        "<plus:Licensor><rdf:Seq>"
        '<rdf:li rdf:parseType="Resource"><plus:LicensorName>Agency One</plus:LicensorName>'
        "<plus:LicensorURL>https://agency.example</plus:LicensorURL></rdf:li>"
        "<rdf:li><rdf:Description plus:LicensorName='Agency Two'/></rdf:li>"
        "</rdf:Seq></plus:Licensor>"
        "<Iptc4xmpExt:LinkedEncRightsExpr><rdf:Bag><rdf:li rdf:parseType='Resource'>"
        "<Iptc4xmpExt:LinkedRightsExpr>https://rights.example/odrl.json</Iptc4xmpExt:LinkedRightsExpr>"
        "<Iptc4xmpExt:RightsExprEncType>application/ld+json</Iptc4xmpExt:RightsExprEncType>"
        "</rdf:li></rdf:Bag></Iptc4xmpExt:LinkedEncRightsExpr>"
        "<Iptc4xmpExt:EmbdEncRightsExpr><rdf:Bag><rdf:li>"
        "<rdf:Description Iptc4xmpExt:EncRightsExpr='{&quot;odrl&quot;: 1}'/>"
        "</rdf:li></rdf:Bag></Iptc4xmpExt:EmbdEncRightsExpr>"
        '<xmpRights:WebStatement rdf:resource="https://photos.example/rights"/>'
        '<cc:attributionURL rdf:resource="https://photos.example/"/>'
        "<cc:morePermissions>https://photos.example/licensing</cc:morePermissions>"
        "<plus:CopyrightStatus>http://ns.useplus.org/ldf/vocab/CS-PRO</plus:CopyrightStatus>"
    )
    facts = xmp_of(jpeg(packet(body, 'xmpRights:Marked="True" tdm:reservation="0"')))
    assert facts.error is None
    assert facts.data_mining == (
        dm("DMI-PROHIBITED", "resource"),
        DataMiningValue("DMI-PROHIBITED-AIMLTRAINING", "text"),
    )
    assert facts.usage_terms == "Licence required"
    assert facts.rights_owners == ("Owner A", "Owner B")
    assert facts.dc_creators == ("Jo Example",)
    assert facts.plus_licensors == ("Agency One", "Agency Two")
    assert facts.linked_rights_expr == "https://rights.example/odrl.json"
    assert facts.embedded_rights_expr == '{"odrl": 1}'
    assert facts.web_statement == "https://photos.example/rights"
    assert facts.cc_attribution_url == "https://photos.example/"
    assert facts.cc_more_permissions == "https://photos.example/licensing"
    assert facts.plus_copyright_status == "http://ns.useplus.org/ldf/vocab/CS-PRO"
    assert facts.rights_marked is True
    assert facts.tdm_reservation == "0"


def test_rdf_value_and_language_alternatives_without_default() -> None:
    body = (
        "<dc:rights><rdf:Alt><rdf:li xml:lang='de'>Alle Rechte</rdf:li>"
        "<rdf:li xml:lang='en'>All rights</rdf:li></rdf:Alt></dc:rights>"
        "<plus:DataMining rdf:parseType='Resource'><rdf:value>"
        "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED</rdf:value>"
        "<xmpNote:qualifier>ignored</xmpNote:qualifier></plus:DataMining>"
    )
    facts = xmp_of(jpeg(packet(body)))
    assert facts.dc_rights == "Alle Rechte"
    assert facts.data_mining == (dm("DMI-PROHIBITED"),)


def test_namespaces_are_matched_by_uri_not_prefix() -> None:
    xml = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:p="http://ns.useplus.org/ldf/xmp/1.0/" '
        b'xmlns:plus="http://example.org/not-plus/" p:DataMining="DMI-PROHIBITED">'
        b"<plus:DataMining>DMI-ALLOWED</plus:DataMining>"
        b"</rdf:Description>"
        # a typed node element (old Creative Commons XMP) and a second description
        b'<cc:Work xmlns:cc="http://creativecommons.org/ns#" rdf:about="">'
        b'<cc:license rdf:resource="https://creativecommons.org/licenses/by/4.0/"/></cc:Work>'
        b'<rdf:Description xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/">'
        b"<xmpRights:Marked>false</xmpRights:Marked></rdf:Description>"
        b"</rdf:RDF></x:xmpmeta>"
    )
    facts = xmp_of(jpeg(xml))
    assert facts.data_mining == (DataMiningValue("DMI-PROHIBITED", "text"),)
    assert facts.cc_license == "https://creativecommons.org/licenses/by/4.0/"
    assert facts.rights_marked is False


def test_rdf_outside_xmpmeta_and_odd_booleans() -> None:
    xml = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
        b'xmpRights:Marked="yes"/></rdf:RDF>'
    )
    facts = xmp_of(jpeg(xml))
    assert facts.error is None
    assert facts.rights_marked is None
    assert facts.locations == ("jpeg_app1",)


def test_first_packet_wins_for_single_values() -> None:
    first = packet("<dc:rights>first</dc:rights>" + gen.data_mining("DMI-ALLOWED"))
    second = packet("<dc:rights>second</dc:rights>" + gen.data_mining("DMI-ALLOWED"))
    facts = xmp_of(jpeg(first, second))
    assert facts.dc_rights == "first"
    assert facts.data_mining == (dm("DMI-ALLOWED"),)  # duplicates collapse


# --- containers -------------------------------------------------------------------------------


def test_jpeg_segments_after_sos_and_fill_bytes() -> None:
    good = gen.app1_xmp(packet(gen.data_mining("DMI-PROHIBITED")))
    base = encode(gen.base_image(), "JPEG")
    with_fill = base[:2] + b"\xff\xff\xff" + good + base[2:]
    assert xmp_of(with_fill).data_mining == (dm("DMI-PROHIBITED"),)
    before_eoi = base[:-2] + good + base[-2:]  # after the scan data: not metadata
    assert xmp_of(before_eoi) == XmpFacts()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xff\xd8\xff\xe1\x00\x01", "container_malformed"),
        (b"\xff\xd8\x00\x00", "container_malformed"),
        (
            b"\xff\xd8\xff\xe1\x40\x00" + b"http://ns.adobe.com/xap/1.0/\x00<x/>",
            "container_truncated",
        ),
        (b"\xff\xd8", "container_truncated"),
        (b"\xff\xd8\xff\xe1\x00", "container_truncated"),
    ],
    ids=["length-1", "no-marker", "segment-past-end", "only-soi", "cut-length"],
)
def test_jpeg_structure_problems(data: bytes, code: str) -> None:
    assert codes(xmp_of(data)) == {code}


def test_png_variants() -> None:
    text = packet(gen.data_mining("DMI-PROHIBITED"))
    legacy_text = gen.png_chunk(b"tEXt", b"XML:com.adobe.xmp\x00" + text)
    legacy_z = gen.png_chunk(b"zTXt", b"XML:com.adobe.xmp\x00\x00" + zlib.compress(text))
    other_keyword = gen.itxt_chunk(text, compressed=False, keyword=b"Comment")
    for chunks, location in (
        ([legacy_text], "png_text"),
        ([legacy_z], "png_ztxt"),
        ([other_keyword, gen.itxt_chunk(text, compressed=False)], "png_itxt"),
    ):
        facts = xmp_of(gen.png_with_chunks(chunks))
        assert facts.error is None
        assert facts.locations == (location,)
        assert facts.data_mining == (dm("DMI-PROHIBITED"),)
    assert xmp_of(gen.png_with_chunks([other_keyword])) == XmpFacts()


def test_png_itxt_after_the_image_data_is_read() -> None:
    png = encode(gen.base_image(seed=1), "PNG")
    chunk = gen.itxt_chunk(packet(gen.data_mining("DMI-PROHIBITED")), compressed=True)
    late = png[:-12] + chunk + png[-12:]  # just before IEND
    assert xmp_of(late).data_mining == (dm("DMI-PROHIBITED"),)


@pytest.mark.parametrize(
    ("chunk", "code"),
    [
        (
            gen.png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00not zlib"),
            "decompress_failed",
        ),
        (gen.png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x07\x00\x00x"), "decompress_failed"),
        (
            gen.png_chunk(
                b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(b"<x/>" * 99)[:-6]
            ),
            "decompress_failed",
        ),
        (gen.png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00"), "container_malformed"),
        (gen.png_chunk(b"zTXt", b"XML:com.adobe.xmp\x00\x05abc"), "decompress_failed"),
    ],
    ids=["bad-zlib", "unknown-method", "truncated-stream", "no-header-fields", "ztxt-method"],
)
def test_png_text_chunk_problems(chunk: bytes, code: str) -> None:
    facts = xmp_of(gen.png_with_chunks([chunk]))
    assert codes(facts) == {code}
    assert facts.locations


def test_png_chunk_length_past_the_end() -> None:
    png = encode(gen.base_image(seed=1), "PNG")
    broken = png[:33] + struct.pack(">I", 10**9) + b"iTXt" + b"XML:com.adobe.xmp\x00"
    assert codes(xmp_of(broken)) == {"container_truncated"}
    assert codes(xmp_of(png[:-12])) == {"container_truncated"}  # no IEND


def test_webp_chunks() -> None:
    text = packet(gen.data_mining("DMI-PROHIBITED"))
    odd = text + b" " if len(text) % 2 == 0 else text
    assert len(odd) % 2 == 1
    webp = gen.webp_with_xmp(odd)
    body = webp[8:] + gen.riff_chunk(b"XMP ", packet(gen.data_mining("DMI-ALLOWED")))
    two = b"RIFF" + struct.pack("<I", len(body)) + body
    facts = xmp_of(two)
    assert facts.error is None
    assert facts.data_mining == (dm("DMI-PROHIBITED"), dm("DMI-ALLOWED"))
    # a simple (non-VP8X) file with an XMP chunk anyway
    simple = encode(gen.base_image(), "WEBP")
    body = simple[8:] + gen.riff_chunk(b"XMP ", text)
    facts = xmp_of(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert facts.data_mining == (dm("DMI-PROHIBITED"),)


def test_webp_chunk_past_riff_end() -> None:
    webp = gen.webp_with_xmp(packet(gen.data_mining("DMI-PROHIBITED")))
    cut = webp[:-40]
    assert codes(xmp_of(cut)) == {"container_truncated"}
    riff_says_less = webp[:4] + struct.pack("<I", len(webp) - 8 - 40) + webp[8:]
    assert codes(xmp_of(riff_says_less)) == {"container_truncated"}


@pytest.mark.parametrize("padding", range(0, 600, 37))
def test_gif_magic_trailer_lets_the_walk_reach_the_gif_trailer(padding: int) -> None:
    # Whatever the packet length, a reader walking sub-blocks lands on the terminator.
    data = gen.gif_with_xmp(packet(gen.data_mining("DMI-ALLOWED")) + b" " * padding)
    facts = xmp_of(data)
    assert facts.error is None
    assert facts.data_mining == (dm("DMI-ALLOWED"),)


def test_gif_problems() -> None:
    base = encode(gen.base_image((16, 16)).quantize(8), "GIF")
    no_trailer = base[:-1] + b"\x21\xff\x0bXMP DataXMP" + packet()
    facts = xmp_of(no_trailer)
    assert "container_malformed" in codes(facts)
    assert facts.locations == ("gif_xmp",)
    assert codes(xmp_of(base[:-1])) == {"container_truncated"}
    assert codes(xmp_of(base[:-1] + b"\x99")) == {"container_malformed"}
    assert codes(xmp_of(b"GIF89a\x01")) == {"container_truncated"}


def test_context_data_is_what_the_extractor_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []
    real = xmp_module.read_xmp

    def spy(data: bytes) -> XmpFacts | None:
        seen.append(data)
        return real(data)

    monkeypatch.setattr(xmp_module, "read_xmp", spy)
    data = (XMP_DIR / "allowed.gif").read_bytes()
    assert extract_image(data).xmp == EXPECTED["allowed.gif"]
    assert seen == [data]


def test_typical_jpeg_is_fast() -> None:
    data = (XMP_DIR / "datamining-genai.jpg").read_bytes()
    started = time.perf_counter()
    for _ in range(50):
        read_xmp(data)
    assert (time.perf_counter() - started) / 50 < 0.02


def test_internal_failure_is_recorded_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(xmp_module, "_facts_from_scan", broken)
    facts = xmp_of(jpeg(packet()))
    assert facts.locations == ("jpeg_app1",)
    assert codes(facts) == {"internal_error"}
