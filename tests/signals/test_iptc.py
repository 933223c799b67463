"""``plus:DataMining`` evidence (mechanism ``iptc.data_mining``), optout-signals.md 7.1, E35-E37."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.extract import ImageFacts, extract_image
from auditor.extract.embedded import DataMiningValue, XmpFacts
from auditor.model import Evaluation, Scope, SignalRecord, Verdict
from auditor.signals import image_mechanisms
from auditor.signals.evidence import ImageEvidence, OriginEvidence
from auditor.signals.iptc import DATA_MINING_PURPOSES, data_mining_key, iptc_signals
from auditor.signals.usage import combine

XMP_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "images" / "xmp"
IMAGE = "https://cdn.example/photos/a.jpg"
FETCHED = "2026-11-22T12:00:00+00:00"
SHA = "cd" * 32
VOCAB = "http://ns.useplus.org/ldf/vocab/"
D, A, U = Verdict.DISALLOWED, Verdict.ALLOWED, Verdict.UNKNOWN
PURPOSES = ("crawl", "search", "tdm", "ai-train", "genai-train", "ai-input")


def evidence(facts: ImageFacts | None, status: int | None = 200) -> ImageEvidence:
    # iptc_signals reads the image URL, the fetch data and the facts; the origin is irrelevant.
    return ImageEvidence(
        url=IMAGE,
        tokens=("mybot",),
        origin=cast(OriginEvidence, None),
        response_headers=(("content-type", "image/jpeg"),) if status is not None else None,
        status=status,
        fetched_at=FETCHED if status is not None else None,
        facts=facts,
        pages=(),
    )


def with_xmp(xmp: XmpFacts | None, **extra: object) -> ImageFacts:
    return ImageFacts(sha256=SHA, size_bytes=100, format="JPEG", xmp=xmp, **extra)  # type: ignore[arg-type]


def from_values(*values: DataMiningValue, **fields: object) -> list[SignalRecord]:
    xmp = XmpFacts(locations=("jpeg_app1",), data_mining=values, **fields)  # type: ignore[arg-type]
    return iptc_signals(evidence(with_xmp(xmp)))


def fixture_records(name: str) -> list[SignalRecord]:
    return iptc_signals(evidence(extract_image((XMP_DIR / name).read_bytes())))


def only(records: list[SignalRecord], mechanism: str = "iptc.data_mining") -> SignalRecord:
    matching = [record for record in records if record.mechanism == mechanism]
    assert len(matching) == 1, records
    return matching[0]


def usage(records: list[SignalRecord]) -> dict[str, Verdict]:
    return dict(combine(records).usage)


def everything(default: Verdict = U, **verdicts: Verdict) -> dict[str, Verdict]:
    result = dict.fromkeys(PURPOSES, default)
    result.update({key.replace("_", "-"): value for key, value in verdicts.items()})
    return result


# The 7.1 table, written out independently of the module's own mapping.
TABLE = {
    "DMI-UNSPECIFIED": {},
    "DMI-ALLOWED": {"tdm": A, "ai-train": A, "genai-train": A},
    "DMI-PROHIBITED-AIMLTRAINING": {"ai-train": D, "genai-train": D},
    "DMI-PROHIBITED-GENAIMLTRAINING": {"genai-train": D},
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": {
        "tdm": D,
        "ai-train": D,
        "genai-train": D,
        "ai-input": D,
        "search": A,
    },
    "DMI-PROHIBITED": {"tdm": D, "ai-train": D, "genai-train": D, "ai-input": D, "search": D},
}
for see in ("SEECONSTRAINT", "SEEEMBEDDEDRIGHTSEXPR", "SEELINKEDRIGHTSEXPR"):
    TABLE[f"DMI-PROHIBITED-{see}"] = TABLE["DMI-PROHIBITED"]


def test_registered_as_an_image_mechanism() -> None:
    assert image_mechanisms(None)["iptc.data_mining"] is iptc_signals


@pytest.mark.parametrize("key", sorted(TABLE))
def test_each_key_contributes_exactly_the_table_row(key: str) -> None:
    record = only(from_values(DataMiningValue(VOCAB + key, "text")))
    assert dict(record.purposes) == TABLE[key]
    assert set(DATA_MINING_PURPOSES) == set(TABLE)


def test_record_fields() -> None:
    record = only(from_values(DataMiningValue(VOCAB + "DMI-PROHIBITED", "text")))
    assert record.mechanism == "iptc.data_mining"
    assert record.scope is Scope.EMBEDDED
    assert record.source_url == IMAGE
    assert record.applies_to is None
    assert record.raw_value == VOCAB + "DMI-PROHIBITED"
    assert record.parsed == "DMI-PROHIBITED"
    assert record.notes == ()
    assert record.fetched_at == FETCHED
    assert record.http_status == 200
    assert record.sha256 == SHA
    assert record.token is None
    assert record.evaluation is Evaluation.EVALUATED


def test_e35_generative_training_prohibited() -> None:
    records = fixture_records("datamining-genai.jpg")
    record = only(records)
    assert dict(record.purposes) == {"genai-train": D}
    assert record.notes == ()
    assert usage(records) == everything(genai_train=D)  # non-generative ai-train stays unknown


def test_e36_see_constraint_is_prohibited_with_the_text_for_review() -> None:
    records = fixture_records("seeconstraint-compressed.png")
    record = only(records)
    assert dict(record.purposes) == TABLE["DMI-PROHIBITED"]
    assert record.notes == ("review",)
    assert record.parsed == (
        "DMI-PROHIBITED-SEECONSTRAINT; plus:OtherConstraints = Text and data mining, including "
        "AI training, only under a written licence: see https://photos.example/licensing"
    )
    assert usage(records) == everything(D, crawl=U)


def test_e37_unspecified_is_not_permission() -> None:
    records = fixture_records("unspecified.png")
    record = only(records)
    assert dict(record.purposes) == {}
    assert record.parsed == "DMI-UNSPECIFIED"
    assert usage(records) == everything()


def test_extended_xmp_value_decides() -> None:
    records = fixture_records("extended-only.jpg")
    assert dict(only(records).purposes) == TABLE["DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"]
    assert usage(records) == everything(D, crawl=U, search=A)


def test_webp_value_and_tdm_reservation_in_xmp() -> None:
    records = fixture_records("prohibited.webp")
    assert dict(only(records).purposes) == TABLE["DMI-PROHIBITED"]
    tdm = only(records, "xmp.rights")
    assert dict(tdm.purposes) == {}
    assert tdm.notes == ("tdm_reservation_in_xmp",)
    assert tdm.scope is Scope.EMBEDDED
    assert tdm.raw_value == (
        '{"tdm:policy":"https://photos.example/tdm-policy.json","tdm:reservation":"1"}'
    )
    assert tdm.parsed == (
        '{"policy":"https://photos.example/tdm-policy.json","reservation":"reserved"}'
    )


def test_gif_allowed() -> None:
    records = fixture_records("allowed.gif")
    assert usage(records) == everything(tdm=A, ai_train=A, genai_train=A)


def test_bare_key_as_resource_is_non_canonical() -> None:
    record = only(fixture_records("bare-key-resource.jpg"))
    assert record.notes == ("non_canonical",)
    assert record.raw_value == "DMI-PROHIBITED-AIMLTRAINING"
    assert record.parsed == "DMI-PROHIBITED-AIMLTRAINING"
    assert dict(record.purposes) == TABLE["DMI-PROHIBITED-AIMLTRAINING"]


@pytest.mark.parametrize(
    ("value", "form", "canonical"),
    [
        (VOCAB + "DMI-PROHIBITED", "text", True),
        (VOCAB + "DMI-PROHIBITED", "resource", False),
        ("DMI-PROHIBITED", "text", False),
        ("https://ns.useplus.org/ldf/vocab/DMI-PROHIBITED", "text", False),
        (VOCAB + "DMI-PROHIBITED/", "text", False),
        (VOCAB + "dmi-prohibited", "text", False),
        ("dmi-prohibited", "resource", False),
        ("HTTP://NS.USEPLUS.ORG/LDF/VOCAB/DMI-PROHIBITED", "text", False),
    ],
)
def test_accepted_forms(value: str, form: str, canonical: bool) -> None:
    assert data_mining_key(DataMiningValue(value, form)) == ("DMI-PROHIBITED", canonical)
    record = only(from_values(DataMiningValue(value, form)))
    assert dict(record.purposes) == TABLE["DMI-PROHIBITED"]
    assert record.notes == (() if canonical else ("non_canonical",))
    assert record.raw_value == value


@pytest.mark.parametrize(
    "value",
    [
        "DMI-PROHIBITED-EVERYTHING",
        VOCAB + "DMI-FORBIDDEN",
        "http://example.org/vocab/DMI-PROHIBITED",
        "prohibited",
        "CS-PRO",
    ],
)
def test_unknown_values_are_recorded_without_purposes(value: str) -> None:
    record = only(from_values(DataMiningValue(value, "text")))
    assert dict(record.purposes) == {}
    assert record.notes == ("unknown_value",)
    assert record.raw_value == value
    assert record.evaluation is Evaluation.EVALUATED


@pytest.mark.parametrize(
    ("key", "field", "prop", "text"),
    [
        (
            "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR",
            "embedded_rights_expr",
            "Iptc4xmpExt:EmbdEncRightsExpr",
            '{"permission": []}',
        ),
        (
            "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR",
            "linked_rights_expr",
            "Iptc4xmpExt:LinkedEncRightsExpr",
            "https://rights.example/odrl.json",
        ),
        (
            "DMI-PROHIBITED-SEECONSTRAINT",
            "other_constraints",
            "plus:OtherConstraints",
            "Ask first.",
        ),
    ],
)
def test_review_values_surface_what_they_point_to(
    key: str, field: str, prop: str, text: str
) -> None:
    value = DataMiningValue(VOCAB + key, "text")
    record = only(from_values(value, **{field: text}))
    assert dict(record.purposes) == TABLE["DMI-PROHIBITED"]
    assert record.notes == ("review",)
    assert record.parsed == f"{key}; {prop} = {text}"
    missing = only(from_values(value))
    assert missing.notes == ("review", "reference_missing")
    assert missing.parsed == f"{key}; {prop} absent"
    assert dict(missing.purposes) == TABLE["DMI-PROHIBITED"]


def test_several_values_give_one_record_each_and_combine_most_restrictively() -> None:
    records = from_values(
        DataMiningValue(VOCAB + "DMI-ALLOWED", "text"),
        DataMiningValue(VOCAB + "DMI-PROHIBITED-AIMLTRAINING", "text"),
    )
    assert [record.parsed for record in records] == ["DMI-ALLOWED", "DMI-PROHIBITED-AIMLTRAINING"]
    combined = combine(records)
    assert dict(combined.usage) == everything(tdm=A, ai_train=D, genai_train=D)
    assert set(combined.conflicts) == {"ai-train", "genai-train"}


def test_no_data_mining_gives_no_record() -> None:
    assert iptc_signals(evidence(with_xmp(XmpFacts()))) == []
    assert iptc_signals(evidence(extract_image((XMP_DIR / "cc0-unmarked.jpg").read_bytes()))) == []


@pytest.mark.parametrize("name", ["billion-laughs.jpg", "external-entity.jpg"])
def test_unreadable_xmp_is_an_error_record(name: str) -> None:
    records = fixture_records(name)
    record = only(records)
    assert record.evaluation is Evaluation.ERROR
    assert record.notes == ("xmp_error",)
    assert record.parsed is not None
    assert record.parsed.startswith("xml_forbidden: jpeg_app1: DTDForbidden")
    assert dict(record.purposes) == {}
    assert usage(records) == everything()


def test_values_read_despite_an_error_elsewhere_are_kept() -> None:
    records = from_values(
        DataMiningValue(VOCAB + "DMI-PROHIBITED", "text"), error="xml_malformed: png_itxt: x"
    )
    assert [record.evaluation for record in records] == [Evaluation.EVALUATED, Evaluation.ERROR]
    assert usage(records)["tdm"] is D


def test_not_fetched_and_not_examined() -> None:
    not_fetched = only(iptc_signals(evidence(None, status=None)))
    assert not_fetched.evaluation is Evaluation.NOT_EVALUATED
    assert not_fetched.notes == ("not_fetched",)
    assert (not_fetched.sha256, not_fetched.fetched_at, not_fetched.http_status) == (None,) * 3
    not_examined = only(iptc_signals(evidence(with_xmp(None))))
    assert not_examined.evaluation is Evaluation.NOT_EVALUATED
    assert not_examined.notes == ("not_examined",)
    assert not_examined.sha256 == SHA
    not_an_image = only(iptc_signals(evidence(extract_image(b"<html>not an image</html>"))))
    assert not_an_image.notes == ("not_examined",)
    assert not_an_image.parsed == "not an image"
    assert usage([not_fetched, not_examined, not_an_image]) == everything()


@pytest.mark.parametrize(
    ("reservation", "parsed", "notes"),
    [
        ("0", '{"reservation":"not reserved"}', ("tdm_reservation_in_xmp",)),
        ("true", '{"reservation":"unset"}', ("tdm_reservation_in_xmp", "protocol_error")),
        (
            None,
            '{"policy":"https://p.example/","reservation":"unset"}',
            ("tdm_reservation_in_xmp",),
        ),
    ],
)
def test_tdm_in_xmp_is_evidence_only(
    reservation: str | None, parsed: str, notes: tuple[str, ...]
) -> None:
    policy = "https://p.example/" if reservation is None else None
    xmp = XmpFacts(tdm_reservation=reservation, tdm_policy=policy)
    record = only(iptc_signals(evidence(with_xmp(xmp))), "xmp.rights")
    assert record.parsed == parsed
    assert record.notes == notes
    assert dict(record.purposes) == {}


@given(st.text(max_size=60), st.sampled_from(["text", "resource"]))
def test_any_value_gives_one_record_and_never_raises(text: str, form: str) -> None:
    records = from_values(DataMiningValue(text, form))
    record = only(records)
    key, _ = data_mining_key(DataMiningValue(text, form))
    expected = TABLE[key] if key is not None else {}
    assert dict(record.purposes) == expected


def test_records_are_stable_for_equal_facts() -> None:
    facts = extract_image((XMP_DIR / "prohibited.webp").read_bytes())
    assert iptc_signals(evidence(facts)) == iptc_signals(evidence(replace(facts)))
