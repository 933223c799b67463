"""Embedded licence evidence (xmp.rights, cc.license, exif.copyright): never a verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.extract import ExifFacts, ImageFacts, extract_image
from auditor.extract.embedded import XmpFacts
from auditor.model import Evaluation, Scope, SignalRecord, Verdict
from auditor.signals import image_mechanisms
from auditor.signals.evidence import ImageEvidence, OriginEvidence
from auditor.signals.iptc import iptc_signals
from auditor.signals.licence import cc_licence_id, licence_signals
from auditor.signals.usage import combine

IMAGES = Path(__file__).resolve().parents[2] / "fixtures" / "images"
IMAGE = "https://cdn.example/photos/a.jpg"
FETCHED = "2026-11-22T12:00:00+00:00"
SHA = "ef" * 32
NO_EXIF = ExifFacts(
    gps_present=False,
    gps_lat=None,
    gps_lon=None,
    datetime_original=None,
    camera_serial=None,
    artist=None,
    copyright=None,
    make=None,
    model=None,
)


def evidence(facts: ImageFacts | None) -> ImageEvidence:
    return ImageEvidence(
        url=IMAGE,
        tokens=("mybot",),
        origin=cast(OriginEvidence, None),
        response_headers=(("content-type", "image/jpeg"),) if facts is not None else None,
        status=200 if facts is not None else None,
        fetched_at=FETCHED if facts is not None else None,
        facts=facts,
        pages=(),
    )


def facts_with(
    xmp: XmpFacts | None = None, exif: ExifFacts | None = NO_EXIF, **extra: object
) -> ImageFacts:
    return ImageFacts(sha256=SHA, size_bytes=10, format="JPEG", xmp=xmp, exif=exif, **extra)  # type: ignore[arg-type]


def by_mechanism(records: list[SignalRecord]) -> dict[str, SignalRecord]:
    found = {record.mechanism: record for record in records}
    assert len(found) == len(records), records
    return found


def fixture(name: str) -> ImageFacts:
    return extract_image((IMAGES / name).read_bytes())


def test_registered_as_an_image_mechanism() -> None:
    assert image_mechanisms(None)["licence.embedded"] is licence_signals


def test_e38_public_domain_mark_and_cc0_are_evidence_only() -> None:
    facts = fixture("xmp/cc0-unmarked.jpg")
    records = by_mechanism(licence_signals(evidence(facts)))
    assert set(records) == {"xmp.rights", "cc.license"}  # no EXIF in the file: no record
    rights, cc = records["xmp.rights"], records["cc.license"]
    assert rights.raw_value == '{"xmpRights:Marked":"False"}'
    assert json.loads(rights.parsed or "") == {"marked": False}
    assert json.loads(cc.raw_value or "") == {
        "cc:license": "http://creativecommons.org/publicdomain/zero/1.0/",
        "cc:attributionName": "Example Photo Agency",
    }
    assert json.loads(cc.parsed or "") == {
        "license": "http://creativecommons.org/publicdomain/zero/1.0/",
        "licence_id": "CC0-1.0",
        "attribution_name": "Example Photo Agency",
    }
    assert cc.notes == ("personal_data",)
    for record in records.values():
        assert dict(record.purposes) == {}
        assert record.scope is Scope.EMBEDDED
        assert record.source_url == IMAGE
        assert record.applies_to is None
        assert record.sha256 == facts.sha256
        assert record.evaluation is Evaluation.EVALUATED
    # no opt-out verdict from the image at all
    every = [*records.values(), *iptc_signals(evidence(facts))]
    assert set(combine(every).usage.values()) == {Verdict.UNKNOWN}


def test_exif_copyright_and_artist_are_recorded_as_found() -> None:
    facts = fixture("photo.jpg")
    assert facts.exif is not None
    records = by_mechanism(licence_signals(evidence(facts)))
    record = records["exif.copyright"]
    assert json.loads(record.raw_value or "") == {
        "Copyright": facts.exif.copyright,
        "Artist": facts.exif.artist,
    }
    assert json.loads(record.parsed or "") == {
        "copyright": facts.exif.copyright,
        "artist": facts.exif.artist,
    }
    assert record.notes == ("personal_data",)
    assert dict(record.purposes) == {}
    assert set(records) == {"exif.copyright"}  # photo.jpg has no XMP


def test_copyright_without_artist_is_not_personal() -> None:
    exif = NO_EXIF.__class__(**{**NO_EXIF.__dict__, "copyright": "(c) Agency"})
    record = by_mechanism(licence_signals(evidence(facts_with(XmpFacts(), exif))))
    assert record["exif.copyright"].notes == ()
    assert record["exif.copyright"].raw_value == '{"Copyright":"(c) Agency"}'


def test_every_xmp_rights_field_in_one_record() -> None:
    xmp = XmpFacts(
        rights_marked=True,
        usage_terms="Licence required",
        web_statement="https://photos.example/rights",
        rights_owners=("Owner A", "Owner B"),
        dc_rights="(c) Owner A",
        dc_creators=("Jo Example",),
        plus_copyright_status="http://ns.useplus.org/ldf/vocab/CS-PRO",
        plus_licensors=("Agency One",),
        other_constraints="Ask first",
        embedded_rights_expr='{"odrl": 1}',
        linked_rights_expr="https://rights.example/odrl.json",
    )
    record = by_mechanism(licence_signals(evidence(facts_with(xmp))))["xmp.rights"]
    assert json.loads(record.raw_value or "") == {
        "xmpRights:Marked": "True",
        "xmpRights:UsageTerms": "Licence required",
        "xmpRights:WebStatement": "https://photos.example/rights",
        "xmpRights:Owner": ["Owner A", "Owner B"],
        "dc:rights": "(c) Owner A",
        "dc:creator": ["Jo Example"],
        "plus:CopyrightStatus": "http://ns.useplus.org/ldf/vocab/CS-PRO",
        "plus:Licensor": ["Agency One"],
        "plus:OtherConstraints": "Ask first",
        "Iptc4xmpExt:EmbdEncRightsExpr": '{"odrl": 1}',
        "Iptc4xmpExt:LinkedEncRightsExpr": "https://rights.example/odrl.json",
    }
    parsed = json.loads(record.parsed or "")
    assert parsed["marked"] is True
    assert parsed["copyright_status"] == "CS-PRO"
    assert parsed["owners"] == ["Owner A", "Owner B"]
    assert record.notes == ("personal_data",)
    assert dict(record.purposes) == {}


def test_nothing_found_gives_no_record() -> None:
    assert licence_signals(evidence(facts_with(XmpFacts()))) == []
    assert licence_signals(evidence(fixture("plain.jpg"))) == []


def test_not_fetched_and_not_examined() -> None:
    records = by_mechanism(licence_signals(evidence(None)))
    assert set(records) == {"xmp.rights", "cc.license", "exif.copyright"}
    for record in records.values():
        assert record.evaluation is Evaluation.NOT_EVALUATED
        assert record.notes == ("not_fetched",)
        assert dict(record.purposes) == {}
    examined_exif_only = by_mechanism(licence_signals(evidence(facts_with(None))))
    assert set(examined_exif_only) == {"xmp.rights", "cc.license"}
    assert {record.notes for record in examined_exif_only.values()} == {("not_examined",)}
    not_image = by_mechanism(licence_signals(evidence(extract_image(b"plain text"))))
    assert {record.notes for record in not_image.values()} == {("not_examined",)}


def test_unreadable_metadata_is_an_error_unless_the_group_was_read() -> None:
    broken = XmpFacts(locations=("jpeg_app1",), error="xml_forbidden: jpeg_app1: DTDForbidden")
    records = by_mechanism(licence_signals(evidence(facts_with(broken))))
    assert set(records) == {"xmp.rights", "cc.license"}
    for record in records.values():
        assert record.evaluation is Evaluation.ERROR
        assert record.notes == ("xmp_error",)
        assert record.parsed == broken.error
    partial = XmpFacts(cc_license="https://creativecommons.org/licenses/by/4.0/", error="x: y")
    records = by_mechanism(licence_signals(evidence(facts_with(partial))))
    assert records["cc.license"].evaluation is Evaluation.EVALUATED
    assert records["cc.license"].notes == ("xmp_error",)
    assert records["xmp.rights"].evaluation is Evaluation.ERROR


def test_malformed_exif() -> None:
    facts = facts_with(XmpFacts(), None, error="exif_malformed", error_detail="bad IFD")
    record = by_mechanism(licence_signals(evidence(facts)))["exif.copyright"]
    assert record.evaluation is Evaluation.ERROR
    assert (record.parsed, record.notes) == ("bad IFD", ("exif_malformed",))
    exif = NO_EXIF.__class__(**{**NO_EXIF.__dict__, "artist": "Jo"})
    facts = facts_with(XmpFacts(), exif, error="exif_malformed", error_detail="bad IFD")
    record = by_mechanism(licence_signals(evidence(facts)))["exif.copyright"]
    assert record.evaluation is Evaluation.EVALUATED
    assert record.notes == ("personal_data", "exif_malformed")


def test_hostile_fixture_gives_error_records() -> None:
    records = by_mechanism(licence_signals(evidence(fixture("xmp/external-entity.jpg"))))
    assert records["xmp.rights"].evaluation is Evaluation.ERROR
    assert records["cc.license"].evaluation is Evaluation.ERROR
    assert "exif.copyright" not in records


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
        ("https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode", "CC-BY-NC-SA-4.0"),
        ("http://creativecommons.org/licenses/by/3.0/de/", "CC-BY-3.0-DE"),
        ("https://www.creativecommons.org/licenses/by-nd/2.5", "CC-BY-ND-2.5"),
        ("https://creativecommons.org/publicdomain/mark/1.0/", None),
        ("https://example.org/licenses/by/4.0/", None),
        ("All rights reserved", None),
    ],
)
def test_cc_licence_ids(url: str, expected: str | None) -> None:
    assert cc_licence_id(url) == expected


@given(
    st.builds(
        XmpFacts,
        rights_marked=st.none() | st.booleans(),
        usage_terms=st.none() | st.text(max_size=20),
        rights_owners=st.lists(st.text(min_size=1, max_size=10), max_size=3).map(tuple),
        cc_license=st.none() | st.text(max_size=40),
        cc_attribution_url=st.none() | st.text(max_size=20),
        error=st.none() | st.text(max_size=20),
    )
)
def test_never_a_verdict(xmp: XmpFacts) -> None:
    for record in licence_signals(evidence(facts_with(xmp))):
        assert dict(record.purposes) == {}
        if record.raw_value is not None:
            json.loads(record.raw_value)
