"""TDMRep (``auditor.signals.tdmrep``, optout-signals.md section 3 and cases E27-E29).

The origin file is a JSON array whose first matching entry (not the longest) gives the value;
the image's ``tdm-reservation`` header overrides it only when it states a valid value; absence
never resets; only the effective layer carries the ``tdm`` purpose; HTML meta governs the page
only. Bad files and failed fetches are recorded (error / not evaluated), never read as "allowed".
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Sequence
from typing import Any

import pytest

from auditor.crawl.origins import RobotsEntry
from auditor.crawl.robots import policy_from_fetch
from auditor.model import Evaluation, Scope, SignalRecord, Verdict
from auditor.signals.aitxt import parse_ai_txt
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence, PageEvidence
from auditor.signals.tdmrep import (
    MAX_TDMREP_BYTES,
    MAX_TDMREP_DEPTH,
    MAX_TDMREP_ENTRIES,
    TdmrepEntry,
    TdmrepFile,
    page_tdmrep_signals,
    parse_tdm_reservation,
    parse_tdmrep_file,
    tdmrep_signals,
)
from auditor.signals.usage import combine

ORIGIN = "https://img.example.org"
TDMREP_URL = f"{ORIGIN}/.well-known/tdmrep.json"
IMAGE = f"{ORIGIN}/photos/a.jpg"
PAGE = f"{ORIGIN}/gallery.html"
FETCHED_AT = "2026-10-01T12:00:00+00:00"
POLICY = "https://example.com/p.json"
D, A = Verdict.DISALLOWED, Verdict.ALLOWED


def body_of(entries: Any) -> bytes:
    return json.dumps(entries).encode()


def origin(
    body: bytes | None = None,
    status: int | None = 404,
    error: str | None = None,
    *,
    final_url: str = TDMREP_URL,
) -> OriginEvidence:
    robots = RobotsEntry(
        origin=ORIGIN,
        source_url=f"{ORIGIN}/robots.txt",
        final_url=f"{ORIGIN}/robots.txt",
        policy=policy_from_fetch(404, None),
        fetched_at=FETCHED_AT,
        sha256=None,
        expires_at=0.0,
    )
    kept = body if error is None else None
    meta = FetchMeta(
        source_url=TDMREP_URL,
        final_url=final_url,
        status=status,
        fetched_at=FETCHED_AT,
        sha256=hashlib.sha256(kept).hexdigest() if kept is not None else None,
        error=error,
    )
    no_ai = FetchMeta(f"{ORIGIN}/ai.txt", f"{ORIGIN}/ai.txt", 404, FETCHED_AT, None, None)
    return OriginEvidence(
        origin=ORIGIN,
        robots=robots,
        tdmrep_meta=meta,
        tdmrep=parse_tdmrep_file(status, kept, error),
        ai_txt_meta=no_ai,
        ai_txt=parse_ai_txt(404, None, None),
    )


def file_origin(entries: Any) -> OriginEvidence:
    return origin(body_of(entries), 200)


def page(
    headers: Sequence[tuple[str, str]] = (), meta: Sequence[tuple[str, str]] = ()
) -> PageEvidence:
    return PageEvidence(
        url=PAGE,
        status=200,
        fetched_at=FETCHED_AT,
        headers=tuple(headers),
        meta_robots=(),
        tdm_meta=tuple(meta),
    )


def image(
    where: OriginEvidence | None = None,
    headers: Sequence[tuple[str, str]] | None = (),
    *,
    url: str = IMAGE,
    pages: tuple[PageEvidence, ...] = (),
) -> ImageEvidence:
    return ImageEvidence(
        url=url,
        tokens=("AcmeBot",),
        origin=where if where is not None else origin(),
        response_headers=None if headers is None else tuple(headers),
        status=None if headers is None else 200,
        fetched_at=None if headers is None else FETCHED_AT,
        facts=None,
        pages=pages,
    )


def by_mechanism(records: list[SignalRecord]) -> dict[str, SignalRecord]:
    found = {record.mechanism: record for record in records}
    assert len(found) == len(records), "one record per layer"
    return found


def tdm(records: list[SignalRecord]) -> Verdict:
    return combine(records).usage["tdm"]


RESERVED = [{"location": "/", "tdm-reservation": 1}]
NOT_RESERVED = [{"location": "/", "tdm-reservation": 0}]


# --- parse_tdm_reservation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("0", 0),
        (" 1 ", 1),
        ("\t0\t", 0),
        ("true", None),
        ("2", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("01", None),
        ("1.0", None),
        ("+1", None),
        ("yes", None),
        ("1 0", None),
        ("\u0661", None),  # ARABIC-INDIC DIGIT ONE: int() would accept it
    ],
)
def test_parse_tdm_reservation(value: str | None, expected: int | None) -> None:
    assert parse_tdm_reservation(value) == expected


# --- parse_tdmrep_file --------------------------------------------------------------------------


def test_parses_entries_in_order() -> None:
    parsed = parse_tdmrep_file(
        200,
        body_of(
            [
                {"location": "/private/*", "tdm-reservation": 1, "tdm-policy": POLICY},
                {"location": "/", "tdm-reservation": 0},
            ]
        ),
        None,
    )
    assert parsed == TdmrepFile(
        entries=(
            TdmrepEntry(0, "/private/*", 1, "1", POLICY),
            TdmrepEntry(1, "/", 0, "0", None),
        ),
        problems=(),
        implemented=True,
        reason=None,
    )


def test_bare_object_is_invalid() -> None:
    parsed = parse_tdmrep_file(200, b'{"location": "/", "tdm-reservation": 1}', None)
    assert not parsed.implemented
    assert parsed.entries == ()
    assert parsed.reason is not None
    assert parsed.reason.startswith("not_an_array")
    assert parsed.match("/anything") is None


@pytest.mark.parametrize("status", [404, 410, 403, 500, 503, 429, 301, 302, 100, 0, None])
def test_non_2xx_bodies_are_never_parsed(status: int | None) -> None:
    parsed = parse_tdmrep_file(status, body_of(RESERVED), None)
    assert not parsed.implemented
    assert parsed.entries == ()


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "unavailable"),
        (403, "unavailable"),
        (429, "unreachable"),
        (500, "unreachable"),
        (302, "unreachable"),
        (None, "unreachable"),
    ],
)
def test_status_reasons(status: int | None, code: str) -> None:
    parsed = parse_tdmrep_file(status, b"[]", None)
    assert parsed.reason_code == code
    assert parsed.reason is not None
    assert str(status) in parsed.reason


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("robots_disallowed", "robots_disallowed"),
        ("robots_unreachable", "robots_unreachable"),
        ("connect_error", "fetch_error"),
        ("timeout", "fetch_error"),
        ("too_large", "too_large"),
    ],
)
def test_fetch_errors_mean_no_file(error: str, code: str) -> None:
    parsed = parse_tdmrep_file(200, body_of(RESERVED), error)
    assert not parsed.implemented
    assert parsed.reason_code == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "invalid_json"),
        (b"not json", "invalid_json"),
        (b'[{"location": "/", "tdm-reservation": 1}', "invalid_json"),
        (b"<html><body>Not found</body></html>", "invalid_json"),
        (b"[NaN]", "invalid_json"),
        (b"[" + b"1" * 5000 + b"]", "invalid_json"),  # integer too long to convert
        (b'"[]"', "not_an_array"),
        (b"null", "not_an_array"),
        (b"1", "not_an_array"),
        (b'[{"location": "/\xff"}]', "not_utf8"),
        (b"[" * (MAX_TDMREP_DEPTH + 1) + b"]" * (MAX_TDMREP_DEPTH + 1), "too_deep"),
        (b"[" * 100_000, "too_deep"),
        (b"[" + b" " * MAX_TDMREP_BYTES + b"]", "too_large"),
    ],
)
def test_invalid_bodies(body: bytes, code: str) -> None:
    parsed = parse_tdmrep_file(200, body, None)
    assert not parsed.implemented
    assert parsed.reason_code == code
    assert parsed.entries == ()


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    location = "/" + "[{" * MAX_TDMREP_DEPTH + '"\\[['  # dumped with escaped " and \\
    parsed = parse_tdmrep_file(200, body_of([{"location": location, "tdm-reservation": 1}]), None)
    assert parsed.implemented
    assert parsed.entries[0].location == location


def test_utf8_bom_is_accepted() -> None:
    parsed = parse_tdmrep_file(200, b"\xef\xbb\xbf" + body_of(RESERVED), None)
    assert parsed.implemented
    assert len(parsed.entries) == 1


def test_empty_array_is_a_valid_file_without_entries() -> None:
    assert parse_tdmrep_file(204, b"[]", None) == TdmrepFile((), (), True, None)


def test_entries_missing_members_are_skipped_and_recorded() -> None:
    parsed = parse_tdmrep_file(
        200,
        body_of(
            [
                {"location": "/a/"},
                {"tdm-reservation": 1},
                {},
                "/b/",
                [1],
                {"location": 7, "tdm-reservation": 1},
                {"location": None, "tdm-reservation": 1},
                {"location": "/c/", "TDM-Reservation": 1},
                {"location": "/d/", "tdm-reservation": 1},
            ]
        ),
        None,
    )
    assert parsed.implemented
    assert [entry.index for entry in parsed.entries] == [8]
    assert parsed.problems == (
        "skipped_entry: entry 0 lacks tdm-reservation",
        "skipped_entry: entry 1 lacks location",
        "skipped_entry: entry 2 lacks location and tdm-reservation",
        "skipped_entry: entry 3 is not an object (string)",
        "skipped_entry: entry 4 is not an object (array)",
        "skipped_entry: entry 5 location is not a string (number)",
        "skipped_entry: entry 6 location is not a string (null)",
        "skipped_entry: entry 7 lacks tdm-reservation",
    )


@pytest.mark.parametrize(
    ("value", "raw"),
    [
        (True, "true"),
        (False, "false"),
        ("1", '"1"'),
        (2, "2"),
        (1.0, "1.0"),
        (-1, "-1"),
        (None, "null"),
        ([1], "[1]"),
        ({"v": 1}, '{"v":1}'),
    ],
)
def test_invalid_reservation_values_are_kept_as_unset(value: object, raw: str) -> None:
    parsed = parse_tdmrep_file(200, body_of([{"location": "/", "tdm-reservation": value}]), None)
    (entry,) = parsed.entries
    assert entry.reservation is None
    assert entry.raw_reservation == raw
    assert parsed.problems == ()


def test_odd_policy_and_location_are_recorded_not_skipped() -> None:
    parsed = parse_tdmrep_file(
        200,
        body_of(
            [
                {"location": "/", "tdm-reservation": 1, "tdm-policy": 5},
                {"location": "images/", "tdm-reservation": 1},
                {"location": "", "tdm-reservation": 1},
            ]
        ),
        None,
    )
    assert [entry.policy for entry in parsed.entries] == [None, None, None]
    assert parsed.problems == (
        "policy: entry 0 tdm-policy is not a string (number)",
        'location: entry 1 location "images/" matches no path',
        'location: entry 2 location "" matches no path',
    )


def test_entry_cap() -> None:
    items: list[object] = [{}] * MAX_TDMREP_ENTRIES + [{"location": "/", "tdm-reservation": 1}]
    parsed = parse_tdmrep_file(200, body_of(items), None)
    assert parsed.implemented
    assert parsed.entries == ()
    assert parsed.capped
    assert parsed.problems[-1] == "entries_capped: 1 items not examined"
    assert len(parsed.problems) == MAX_TDMREP_ENTRIES + 1


# --- TdmrepFile.match ---------------------------------------------------------------------------


def file_of(*locations: str) -> TdmrepFile:
    entries = [{"location": loc, "tdm-reservation": n % 2} for n, loc in enumerate(locations)]
    return parse_tdmrep_file(200, body_of(entries), None)


def matched(parsed: TdmrepFile, path: str) -> int | None:
    entry = parsed.match(path)
    return None if entry is None else entry.index


def test_first_match_wins_not_longest() -> None:
    parsed = file_of("/", "/photos/", "/photos/a.jpg$")
    assert matched(parsed, "/photos/a.jpg") == 0


def test_more_specific_entries_must_come_first() -> None:
    parsed = file_of("/photos/a.jpg$", "/photos/", "/")
    assert matched(parsed, "/photos/a.jpg") == 0
    assert matched(parsed, "/photos/b.jpg") == 1
    assert matched(parsed, "/about") == 2


@pytest.mark.parametrize(
    ("location", "path", "matches"),
    [
        ("/photos/*.jpg", "/photos/2024/a.jpg", True),
        ("/photos/*.jpg", "/photos/a.png", False),
        ("*.jpg", "/deep/a.jpg", True),
        ("/*.jpg$", "/a.jpg", True),
        ("/*.jpg$", "/a.jpg?size=large", False),
        ("/*.jpg", "/a.jpg?size=large", True),
        ("/a.jpg$", "/a.jpg", True),
        ("/a.jpg$", "/a.jpgx", False),
        ("/Photos/", "/photos/a.jpg", False),  # case-sensitive
        ("/caf%C3%A9/", "/café/a.jpg", True),  # percent-encoding normalised (1.4)
        ("/%7Euser/", "/~user/a.jpg", True),
        ("/*?size=large", "/a.jpg?size=large", True),
        ("/*?size=large", "/a.jpg?size=small", False),
        ("/path/foo-%24", "/path/foo-$", True),  # literal $ written as %24
        ("", "/a.jpg", False),  # empty pattern matches nothing (1.4)
        ("photos/", "/photos/a.jpg", False),  # no leading / or *: matches no path
    ],
)
def test_location_patterns(location: str, path: str, matches: bool) -> None:
    assert (matched(file_of(location), path) == 0) is matches


def test_invalid_first_match_still_decides() -> None:
    parsed = parse_tdmrep_file(
        200,
        body_of(
            [
                {"location": "/photos/", "tdm-reservation": "1"},
                {"location": "/", "tdm-reservation": 1},
            ]
        ),
        None,
    )
    entry = parsed.match("/photos/a.jpg")
    assert entry is not None
    assert entry.index == 0
    assert entry.reservation is None


# --- image signals: the file layer --------------------------------------------------------------


def test_file_record_carries_the_evidence() -> None:
    entries = [{"location": "/photos/", "tdm-reservation": 1, "tdm-policy": POLICY, "x": 1}]
    body = body_of(entries)
    (record,) = tdmrep_signals(image(origin(body, 200)))
    assert record.mechanism == "tdmrep.file"
    assert record.scope is Scope.ORIGIN
    assert record.source_url == TDMREP_URL
    assert record.applies_to == IMAGE
    assert (
        record.raw_value == f'{{"location":"/photos/","tdm-reservation":1,"tdm-policy":"{POLICY}"}}'
    )
    assert record.parsed == f"entry 0: reserved; policy {POLICY}"
    assert dict(record.purposes) == {"tdm": D}
    assert record.http_status == 200
    assert record.fetched_at == FETCHED_AT
    assert record.sha256 == hashlib.sha256(body).hexdigest()
    assert record.evaluation is Evaluation.EVALUATED
    assert record.notes == ()


def test_file_zero_allows_tdm_only() -> None:
    records = tdmrep_signals(image(file_origin(NOT_RESERVED)))
    (record,) = records
    assert dict(record.purposes) == {"tdm": A}
    assert record.parsed == "entry 0: not reserved"
    usage = combine(records).usage
    assert usage["tdm"] is A
    assert usage["ai-train"] is Verdict.UNKNOWN  # 9.4: tdm allowed says nothing about AI


def test_file_reservation_implies_ai_training_through_usage() -> None:
    usage = combine(tdmrep_signals(image(file_origin(RESERVED)))).usage
    assert (usage["tdm"], usage["ai-train"], usage["genai-train"]) == (D, D, D)


def test_file_policy_with_zero_is_ignored() -> None:
    entries = [{"location": "/", "tdm-reservation": 0, "tdm-policy": POLICY}]
    (record,) = tdmrep_signals(image(file_origin(entries)))
    assert record.notes == ("policy_ignored",)
    assert record.parsed == "entry 0: not reserved"


def test_no_matching_entry_records_nothing() -> None:
    entries = [{"location": "/articles/", "tdm-reservation": 1}]
    assert tdmrep_signals(image(file_origin(entries))) == []


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_origin_without_the_protocol_records_nothing(status: int) -> None:
    assert tdmrep_signals(image(origin(b"not json", status))) == []


def test_first_matching_entry_decides_for_the_image() -> None:
    entries = [
        {"location": "/", "tdm-reservation": 0},
        {"location": "/photos/", "tdm-reservation": 1},
    ]
    (record,) = tdmrep_signals(image(file_origin(entries)))
    assert record.parsed == "entry 0: not reserved"
    assert tdm([record]) is A


@pytest.mark.parametrize("value", [True, "1", 2, None, 1.0])
def test_invalid_value_in_matching_entry_is_a_protocol_error(value: object) -> None:
    entries = [
        {"location": "/photos/", "tdm-reservation": value},
        {"location": "/", "tdm-reservation": 1},
    ]
    (record,) = tdmrep_signals(image(file_origin(entries)))
    assert dict(record.purposes) == {}
    assert "protocol_error" in record.notes
    assert record.evaluation is Evaluation.EVALUATED
    assert tdm([record]) is Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("body", "note"),
    [
        (b"{not json", "invalid_json"),
        (b'{"location": "/", "tdm-reservation": 1}', "not_an_array"),
        (b"<!doctype html><title>Home</title>", "invalid_json"),
        (b"\xff\xfe[]", "not_utf8"),
    ],
)
def test_invalid_file_is_an_error_record(body: bytes, note: str) -> None:
    (record,) = tdmrep_signals(image(origin(body, 200)))
    assert record.mechanism == "tdmrep.file"
    assert record.evaluation is Evaluation.ERROR
    assert dict(record.purposes) == {}
    assert record.notes == (note,)
    assert record.parsed is not None
    assert record.parsed.startswith(f"invalid tdmrep.json: {note}")
    assert record.http_status == 200
    assert record.sha256 == hashlib.sha256(body).hexdigest()


def test_too_large_fetch_is_an_error_record() -> None:
    (record,) = tdmrep_signals(image(origin(None, 200, "too_large")))
    assert record.evaluation is Evaluation.ERROR
    assert record.notes == ("too_large",)


def test_skipped_entries_without_a_match_are_an_error_record() -> None:
    entries = [{"location": "/photos/"}, {"location": "/articles/", "tdm-reservation": 1}]
    (record,) = tdmrep_signals(image(file_origin(entries)))
    assert record.evaluation is Evaluation.ERROR
    assert record.notes == ("file_problems",)
    assert record.parsed == ("no valid entry matches; skipped_entry: entry 0 lacks tdm-reservation")
    assert dict(record.purposes) == {}


def test_skipped_entries_are_noted_on_a_match() -> None:
    entries = [{"location": "/photos/"}, {"location": "/", "tdm-reservation": 1}]
    (record,) = tdmrep_signals(image(file_origin(entries)))
    assert record.evaluation is Evaluation.EVALUATED
    assert record.notes == ("file_problems",)
    assert dict(record.purposes) == {"tdm": D}


def test_many_problems_are_summarised() -> None:
    items: list[object] = [{}] * 8
    (record,) = tdmrep_signals(image(file_origin(items)))
    assert record.parsed is not None
    assert record.parsed.endswith("; and 3 more")


@pytest.mark.parametrize(
    ("error", "note"),
    [
        ("robots_disallowed", "robots_disallowed"),
        ("robots_unreachable", "robots_unreachable"),
        ("connect_error", "fetch_error"),
        ("timeout", "fetch_error"),
    ],
)
def test_unfetched_file_is_not_evaluated(error: str, note: str) -> None:
    (record,) = tdmrep_signals(image(origin(None, None, error)))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("not_evaluated", note)
    assert record.parsed == f"tdmrep.json not fetched: {error}"
    assert dict(record.purposes) == {}
    assert record.source_url == TDMREP_URL


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_status_is_not_evaluated(status: int) -> None:
    (record,) = tdmrep_signals(image(origin(body_of(RESERVED), status)))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("not_evaluated", "unreachable")
    assert record.http_status == status


def test_redirected_file_is_noted() -> None:
    where = origin(body_of(RESERVED), 200, final_url="https://cdn.example.org/tdmrep.json")
    (record,) = tdmrep_signals(image(where))
    assert record.notes == ("redirected",)
    assert record.source_url == TDMREP_URL


# --- image signals: the header layer ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "purposes", "notes"),
    [
        pytest.param("1", {"tdm": D}, (), id="1-reserved"),
        pytest.param("0", {"tdm": A}, (), id="0-not-reserved"),
        pytest.param("true", {}, ("protocol_error",), id="true"),
        pytest.param("2", {}, ("protocol_error",), id="2"),
        pytest.param("", {}, ("protocol_error",), id="empty"),
        pytest.param(" 1 ", {"tdm": D}, (), id="trimmed"),
    ],
)
def test_e27_header_values(value: str, purposes: dict[str, Verdict], notes: tuple[str]) -> None:
    records = tdmrep_signals(image(headers=[("tdm-reservation", value)]))
    (record,) = records
    assert record.mechanism == "tdmrep.header"
    assert record.scope is Scope.RESPONSE
    assert record.source_url == IMAGE
    assert record.applies_to is None
    assert record.raw_value == f"tdm-reservation: {value}"
    assert dict(record.purposes) == purposes
    assert record.notes == notes
    assert record.evaluation is Evaluation.EVALUATED
    assert tdm(records) is purposes.get("tdm", Verdict.UNKNOWN)


def test_e28_header_zero_supersedes_file_one() -> None:
    records = tdmrep_signals(image(file_origin(RESERVED), [("tdm-reservation", "0")]))
    found = by_mechanism(records)
    assert dict(found["tdmrep.file"].purposes) == {}
    assert found["tdmrep.file"].notes == ("superseded",)
    assert found["tdmrep.file"].parsed == "entry 0: reserved"  # still recorded as found
    assert dict(found["tdmrep.header"].purposes) == {"tdm": A}
    assert tdm(records) is A
    assert combine(records).conflicts == ()


def test_header_one_supersedes_file_zero() -> None:
    records = tdmrep_signals(image(file_origin(NOT_RESERVED), [("tdm-reservation", "1")]))
    found = by_mechanism(records)
    assert found["tdmrep.file"].notes == ("superseded",)
    assert dict(found["tdmrep.file"].purposes) == {}
    assert dict(found["tdmrep.header"].purposes) == {"tdm": D}
    assert tdm(records) is D


def test_equal_header_still_supersedes() -> None:
    records = tdmrep_signals(image(file_origin(RESERVED), [("tdm-reservation", "1")]))
    found = by_mechanism(records)
    assert found["tdmrep.file"].notes == ("superseded",)
    assert dict(found["tdmrep.header"].purposes) == {"tdm": D}


def test_absent_header_never_resets_the_file() -> None:
    records = tdmrep_signals(image(file_origin(RESERVED), [("content-type", "image/jpeg")]))
    (record,) = records
    assert record.mechanism == "tdmrep.file"
    assert dict(record.purposes) == {"tdm": D}


@pytest.mark.parametrize("value", ["true", "2", "", "reserved"])
def test_invalid_header_does_not_override_the_file(value: str) -> None:
    records = tdmrep_signals(image(file_origin(NOT_RESERVED), [("tdm-reservation", value)]))
    found = by_mechanism(records)
    assert dict(found["tdmrep.file"].purposes) == {"tdm": A}
    assert found["tdmrep.file"].notes == ()
    assert dict(found["tdmrep.header"].purposes) == {}
    assert found["tdmrep.header"].notes == ("protocol_error",)
    assert tdm(records) is A


def test_header_overrides_an_invalid_file_value() -> None:
    entries = [{"location": "/", "tdm-reservation": "1"}]
    records = tdmrep_signals(image(file_origin(entries), [("tdm-reservation", "1")]))
    found = by_mechanism(records)
    assert found["tdmrep.file"].notes == ("protocol_error",)  # states nothing: not superseded
    assert dict(found["tdmrep.header"].purposes) == {"tdm": D}


def test_header_decides_when_the_file_could_not_be_fetched() -> None:
    where = origin(None, None, "robots_disallowed")
    records = tdmrep_signals(image(where, [("tdm-reservation", "1")]))
    found = by_mechanism(records)
    assert found["tdmrep.file"].evaluation is Evaluation.NOT_EVALUATED
    assert tdm(records) is D


def test_no_response_makes_the_header_layer_not_evaluated() -> None:
    records = tdmrep_signals(image(file_origin(RESERVED), None))
    found = by_mechanism(records)
    header = found["tdmrep.header"]
    assert header.evaluation is Evaluation.NOT_EVALUATED
    assert header.notes == ("not_evaluated",)
    assert dict(header.purposes) == {}
    assert header.raw_value is None
    assert dict(found["tdmrep.file"].purposes) == {"tdm": D}  # the file still applies
    assert tdm(records) is D


def test_no_response_and_no_file_is_unknown() -> None:
    records = tdmrep_signals(image(origin(), None))
    assert [r.evaluation for r in records] == [Evaluation.NOT_EVALUATED]
    assert tdm(records) is Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("values", "purposes", "notes"),
    [
        pytest.param(["1", "1"], {"tdm": D}, ("repeated",), id="same-lines"),
        pytest.param(["0", " 0"], {"tdm": A}, ("repeated",), id="same-lines-zero"),
        pytest.param(["1, 1"], {"tdm": D}, ("repeated",), id="same-members"),
        pytest.param(
            ["1", "0"], {}, ("protocol_error", "conflicting_values"), id="conflicting-lines"
        ),
        pytest.param(["0,1"], {}, ("protocol_error", "conflicting_values"), id="conflicting"),
        pytest.param(["1", "true"], {}, ("protocol_error",), id="one-invalid"),
        pytest.param(["1,"], {}, ("protocol_error",), id="empty-member"),
    ],
)
def test_multiple_header_values(
    values: list[str], purposes: dict[str, Verdict], notes: tuple[str, ...]
) -> None:
    headers = [("tdm-reservation", value) for value in values]
    (record,) = tdmrep_signals(image(headers=headers))
    assert dict(record.purposes) == purposes
    assert record.notes == notes
    assert record.raw_value == "\n".join(f"tdm-reservation: {value}" for value in values)


def test_conflicting_header_lines_leave_the_file_value() -> None:
    headers = [("tdm-reservation", "1"), ("tdm-reservation", "0")]
    records = tdmrep_signals(image(file_origin(RESERVED), headers))
    assert tdm(records) is D
    assert by_mechanism(records)["tdmrep.file"].notes == ()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("TDMRep evaluation must not touch the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("no_network")
def test_e29_policy_with_zero_is_ignored_and_not_fetched() -> None:
    headers = [("tdm-reservation", "0"), ("tdm-policy", POLICY)]
    records = tdmrep_signals(image(headers=headers))
    (record,) = records
    assert dict(record.purposes) == {"tdm": A}
    assert record.notes == ("policy_ignored",)
    assert record.parsed == "not reserved"
    assert record.raw_value == f"tdm-reservation: 0\ntdm-policy: {POLICY}"
    assert tdm(records) is A


@pytest.mark.usefixtures("no_network")
def test_policy_with_one_is_recorded_not_fetched() -> None:
    headers = [("tdm-policy", POLICY), ("tdm-reservation", "1")]
    (record,) = tdmrep_signals(image(headers=headers))
    assert dict(record.purposes) == {"tdm": D}
    assert record.parsed == f"reserved; policy {POLICY}"
    assert record.notes == ()
    assert record.raw_value == f"tdm-policy: {POLICY}\ntdm-reservation: 1"


def test_policy_without_reservation_is_recorded_and_changes_nothing() -> None:
    records = tdmrep_signals(image(file_origin(RESERVED), [("tdm-policy", POLICY)]))
    found = by_mechanism(records)
    header = found["tdmrep.header"]
    assert dict(header.purposes) == {}
    assert header.notes == ("policy_without_reservation", "policy_ignored")
    assert dict(found["tdmrep.file"].purposes) == {"tdm": D}


def test_policy_with_a_protocol_error_is_not_processed() -> None:
    headers = [("tdm-reservation", "yes"), ("tdm-policy", POLICY)]
    (record,) = tdmrep_signals(image(headers=headers))
    assert record.notes == ("protocol_error", "policy_ignored")


# --- HTML meta and page headers -----------------------------------------------------------------


def test_page_meta_and_page_headers_never_reach_images() -> None:
    embedding = page(headers=[("tdm-reservation", "1")], meta=[("tdm-reservation", "1")])
    records = tdmrep_signals(image(headers=[], pages=(embedding,)))
    assert records == []


def test_page_meta_does_not_override_an_image_header() -> None:
    embedding = page(meta=[("tdm-reservation", "1")])
    records = tdmrep_signals(image(headers=[("tdm-reservation", "0")], pages=(embedding,)))
    assert [r.mechanism for r in records] == ["tdmrep.header"]
    assert tdm(records) is A


def test_page_layers_file_then_header_then_meta() -> None:
    records = page_tdmrep_signals(
        page(headers=[("tdm-reservation", "1")], meta=[("tdm-reservation", "0")]),
        file_origin(RESERVED),
    )
    found = by_mechanism(records)
    assert [r.mechanism for r in records] == ["tdmrep.file", "tdmrep.header", "tdmrep.html"]
    assert found["tdmrep.file"].applies_to == PAGE
    assert found["tdmrep.file"].scope is Scope.ORIGIN
    assert found["tdmrep.header"].scope is Scope.PAGE
    assert found["tdmrep.html"].scope is Scope.PAGE
    assert found["tdmrep.html"].source_url == PAGE
    assert found["tdmrep.file"].notes == ("superseded",)
    assert found["tdmrep.header"].notes == ("superseded",)
    assert dict(found["tdmrep.html"].purposes) == {"tdm": A}
    assert tdm(records) is A


def test_page_header_overrides_file_without_meta() -> None:
    records = page_tdmrep_signals(page(headers=[("tdm-reservation", "0")]), file_origin(RESERVED))
    assert tdm(records) is A


@pytest.mark.parametrize("content", ["true", "", "1, 1"])
def test_invalid_page_meta_does_not_override(content: str) -> None:
    records = page_tdmrep_signals(
        page(headers=[("tdm-reservation", "1")], meta=[("tdm-reservation", content)]), origin()
    )
    found = by_mechanism(records)
    assert found["tdmrep.html"].notes == ("protocol_error",)
    assert dict(found["tdmrep.header"].purposes) == {"tdm": D}


def test_page_meta_alone_with_policy() -> None:
    meta = [("tdm-reservation", "1"), ("tdm-policy", POLICY)]
    (record,) = page_tdmrep_signals(page(meta=meta), origin())
    assert record.mechanism == "tdmrep.html"
    assert record.parsed == f"reserved; policy {POLICY}"
    assert record.raw_value == f"tdm-reservation: 1\ntdm-policy: {POLICY}"
    assert record.http_status == 200
    assert record.fetched_at == FETCHED_AT


def test_page_uses_its_own_path_in_the_file() -> None:
    entries = [
        {"location": "/photos/", "tdm-reservation": 1},
        {"location": "/gallery.html$", "tdm-reservation": 0},
    ]
    (record,) = page_tdmrep_signals(page(), file_origin(entries))
    assert record.parsed == "entry 1: not reserved"


def test_page_without_any_tdmrep_signal() -> None:
    assert page_tdmrep_signals(page(headers=[("content-type", "text/html")]), origin()) == []
