"""Property tests for TDMRep and ai.txt (hypothesis).

Invariants: hostile bytes, statuses, errors and header values never crash a parser or a
mechanism; ``TdmrepFile.match`` returns the first valid entry (in array order) whose pattern
matches, as a brute force over the raw JSON says; a valid ``tdm-reservation`` header always
decides the image's ``tdm`` verdict over whatever the file says, and it is the only record that
carries a purpose; a header without a valid value never resets the file's value.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.crawl.origins import RobotsEntry
from auditor.crawl.robots import pattern_matches, policy_from_fetch
from auditor.model import Evaluation, Verdict
from auditor.signals.aitxt import (
    FORMAT_ROBOTS,
    FORMAT_UNAVAILABLE,
    FORMAT_UNRECOGNISED,
    ai_txt_signals,
    parse_ai_txt,
    sniff_ai_txt,
)
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence, PageEvidence
from auditor.signals.tdmrep import (
    page_tdmrep_signals,
    parse_tdm_reservation,
    parse_tdmrep_file,
    tdmrep_signals,
)
from auditor.signals.usage import combine

ORIGIN = "https://img.example.org"
FETCHED_AT = "2026-10-01T12:00:00+00:00"

STATUSES = st.one_of(st.none(), st.sampled_from([200, 204, 301, 404, 429, 500]), st.integers())
ERRORS = st.one_of(
    st.none(),
    st.sampled_from(["robots_disallowed", "robots_unreachable", "connect_error", "too_large"]),
    st.text(max_size=10),
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["location", "tdm-reservation", "tdm-policy", "other"]) | st.text(),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
PATTERNS = st.one_of(
    st.sampled_from(["/", "*", "/a", "/a*", "/*b", "*.b$", "/b", "/a$", "", "/%2A"]),
    st.text(alphabet="/ab.*$%2A4", max_size=8),
)
PATHS = st.text(alphabet="/ab.?=*$%24A", max_size=12).map(lambda text: "/" + text)
RESERVATIONS = st.one_of(st.sampled_from([0, 1]), JSON_VALUES)
VALID_ITEMS = st.fixed_dictionaries({"location": PATTERNS, "tdm-reservation": RESERVATIONS})
ITEMS = st.one_of(VALID_ITEMS, VALID_ITEMS, JSON_VALUES)
HEADER_NAMES = st.sampled_from(["tdm-reservation", "tdm-policy", "content-type"])
HEADERS = st.lists(st.tuples(HEADER_NAMES, st.text(max_size=12)), max_size=5)
AI_LINES = st.one_of(
    st.sampled_from(
        ["User-agent: *", "User-agent: AcmeBot", "# c", "", "---", "- x", "<p>", "a: b", "  k: v"]
    ),
    st.builds("{}: {}".format, st.sampled_from(["Allow", "Disallow"]), PATTERNS),
    st.text(max_size=20),
)


def evidence(
    tdmrep_body: bytes | None,
    tdmrep_status: int | None,
    *,
    path: str = "/a.jpg",
    headers: list[tuple[str, str]] | None = None,
    ai_body: bytes | None = None,
    ai_status: int | None = 404,
    error: str | None = None,
    tokens: tuple[str, ...] = ("AcmeBot",),
) -> ImageEvidence:
    robots = RobotsEntry(
        ORIGIN, f"{ORIGIN}/robots.txt", f"{ORIGIN}/robots.txt", policy_from_fetch(404, None),
        FETCHED_AT, None, 0.0,
    )  # fmt: skip
    tdmrep_url = f"{ORIGIN}/.well-known/tdmrep.json"
    where = OriginEvidence(
        origin=ORIGIN,
        robots=robots,
        tdmrep_meta=FetchMeta(tdmrep_url, tdmrep_url, tdmrep_status, FETCHED_AT, None, error),
        tdmrep=parse_tdmrep_file(tdmrep_status, tdmrep_body, error),
        ai_txt_meta=FetchMeta(f"{ORIGIN}/ai.txt", f"{ORIGIN}/ai.txt", ai_status, None, None, error),
        ai_txt=parse_ai_txt(ai_status, ai_body, error),
    )
    return ImageEvidence(
        url=ORIGIN + path,
        tokens=tokens,
        origin=where,
        response_headers=None if headers is None else tuple(headers),
        status=200,
        fetched_at=FETCHED_AT,
        facts=None,
        pages=(),
    )


# --- parsers never raise ------------------------------------------------------------------------


@settings(deadline=None)
@given(status=STATUSES, body=st.one_of(st.none(), st.binary(max_size=3000)), error=ERRORS)
def test_tdmrep_parser_never_raises_on_bytes(
    status: int | None, body: bytes | None, error: str | None
) -> None:
    parsed = parse_tdmrep_file(status, body, error)
    assert parsed.implemented or parsed.reason is not None
    assert parsed.implemented or parsed.entries == ()


@settings(deadline=None)
@given(document=JSON_VALUES)
def test_tdmrep_parser_never_raises_on_json(document: Any) -> None:
    parsed = parse_tdmrep_file(200, json.dumps(document).encode(), None)
    assert parsed.implemented is isinstance(document, list)
    for entry in parsed.entries:
        assert entry.reservation in (0, 1, None)
        assert isinstance(entry.location, str)
        json.loads(entry.raw)  # the recorded raw value is itself JSON


@settings(deadline=None)
@given(status=STATUSES, body=st.one_of(st.none(), st.binary(max_size=3000)), error=ERRORS)
def test_ai_txt_parser_never_raises_on_bytes(
    status: int | None, body: bytes | None, error: str | None
) -> None:
    parsed = parse_ai_txt(status, body, error)
    assert parsed.format in (FORMAT_ROBOTS, FORMAT_UNRECOGNISED, FORMAT_UNAVAILABLE)
    assert (parsed.robots is not None) is (parsed.format == FORMAT_ROBOTS)


@settings(deadline=None)
@given(lines=st.lists(AI_LINES, max_size=12), ending=st.sampled_from(["\n", "\r\n", "\r"]))
def test_ai_txt_sniffing_never_raises(lines: list[str], ending: str) -> None:
    text = ending.join(lines)
    reason = sniff_ai_txt(text)
    parsed = parse_ai_txt(200, text.encode(), None)
    assert (parsed.format == FORMAT_ROBOTS) is (reason is None)


@given(value=st.one_of(st.none(), st.text(max_size=6)))
def test_reservation_parser_accepts_only_trimmed_digits(value: str | None) -> None:
    parsed = parse_tdm_reservation(value)
    if parsed is not None:
        assert value is not None
        assert value.strip(" \t") == str(parsed)


# --- mechanisms never raise ---------------------------------------------------------------------


@settings(deadline=None)
@given(
    tdmrep=st.one_of(st.none(), st.binary(max_size=500), st.lists(ITEMS, max_size=6).map(
        lambda items: json.dumps(items).encode()
    )),
    status=STATUSES,
    error=ERRORS,
    headers=st.one_of(st.none(), HEADERS),
    path=PATHS,
)  # fmt: skip
def test_tdmrep_signals_never_raise(
    tdmrep: bytes | None,
    status: int | None,
    error: str | None,
    headers: list[tuple[str, str]] | None,
    path: str,
) -> None:
    image = evidence(tdmrep, status, path=path, headers=headers, error=error)
    records = tdmrep_signals(image)
    carrying = [record for record in records if record.purposes]
    assert len(carrying) <= 1
    for record in carrying:
        assert record.evaluation is Evaluation.EVALUATED
        assert set(record.purposes) == {"tdm"}
    assert combine(records).usage["tdm"] in set(Verdict)


@settings(deadline=None)
@given(
    body=st.one_of(st.none(), st.binary(max_size=500), st.lists(AI_LINES, max_size=10).map(
        lambda lines: "\n".join(lines).encode()
    )),
    status=STATUSES,
    error=ERRORS,
    path=st.text(max_size=30).map(lambda text: "/" + text),
    tokens=st.lists(st.text(max_size=8), max_size=3).map(tuple),
)  # fmt: skip
def test_ai_txt_signals_never_raise(
    body: bytes | None, status: int | None, error: str | None, path: str, tokens: tuple[str, ...]
) -> None:
    image = evidence(None, 404, path=path, ai_body=body, ai_status=status, error=error,
                     tokens=tokens)  # fmt: skip
    for record in ai_txt_signals(image):
        assert set(record.purposes) <= {"ai-train"}
        if record.evaluation is not Evaluation.EVALUATED:
            assert not record.purposes


# --- first match, by brute force ----------------------------------------------------------------


def brute_force_first_match(items: list[Any], path: str) -> int | None:
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "location" not in item or "tdm-reservation" not in item:
            continue
        location = item["location"]
        if isinstance(location, str) and pattern_matches(location, path):
            return index
    return None


@settings(deadline=None)
@given(items=st.lists(ITEMS, max_size=8), path=PATHS)
def test_match_is_the_first_matching_entry(items: list[Any], path: str) -> None:
    parsed = parse_tdmrep_file(200, json.dumps(items).encode(), None)
    entry = parsed.match(path)
    assert (None if entry is None else entry.index) == brute_force_first_match(items, path)


# --- header precedence --------------------------------------------------------------------------


@settings(deadline=None)
@given(
    items=st.lists(ITEMS, max_size=6),
    status=st.sampled_from([200, 404, 500]),
    value=st.sampled_from(["0", "1"]),
    padding=st.sampled_from(["", " ", "\t", "  "]),
    others=st.lists(
        st.tuples(st.sampled_from(["content-type", "tdm-policy"]), st.text(max_size=8)),
        max_size=3,
    ),
    path=PATHS,
)
def test_a_valid_header_always_decides(
    *,
    items: list[Any],
    status: int,
    value: str,
    padding: str,
    others: list[tuple[str, str]],
    path: str,
) -> None:
    headers = [*others, ("tdm-reservation", padding + value + padding)]
    records = tdmrep_signals(evidence(json.dumps(items).encode(), status, path=path,
                                      headers=headers))  # fmt: skip
    expected = Verdict.DISALLOWED if value == "1" else Verdict.ALLOWED
    assert combine(records).usage["tdm"] is expected
    carrying = [record for record in records if record.purposes]
    assert [record.mechanism for record in carrying] == ["tdmrep.header"]


@settings(deadline=None)
@given(
    items=st.lists(ITEMS, max_size=6),
    headers=st.lists(
        st.tuples(HEADER_NAMES, st.text(max_size=8)).filter(
            lambda pair: pair[0] != "tdm-reservation" or parse_tdm_reservation(pair[1]) is None
        ),
        max_size=4,
    ),
    path=PATHS,
)
def test_a_header_without_a_valid_value_never_resets_the_file(
    items: list[Any], headers: list[tuple[str, str]], path: str
) -> None:
    body = json.dumps(items).encode()
    with_headers = tdmrep_signals(evidence(body, 200, path=path, headers=headers))
    without = tdmrep_signals(evidence(body, 200, path=path, headers=[]))
    assert combine(with_headers).usage["tdm"] is combine(without).usage["tdm"]


@settings(deadline=None)
@given(items=st.lists(ITEMS, max_size=4), meta=HEADERS, headers=HEADERS, path=PATHS)
def test_page_signals_never_raise_and_one_layer_decides(
    items: list[Any],
    meta: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    path: str,
) -> None:
    image = evidence(json.dumps(items).encode(), 200, path=path)
    page = PageEvidence(ORIGIN + path, 200, FETCHED_AT, tuple(headers), (), tuple(meta))
    records = page_tdmrep_signals(page, image.origin)
    assert len([record for record in records if record.purposes]) <= 1
    valid_meta = [parse_tdm_reservation(v) for n, v in meta if n == "tdm-reservation"]
    if valid_meta and None not in valid_meta and len(set(valid_meta)) == 1:
        expected = Verdict.DISALLOWED if valid_meta[0] == 1 else Verdict.ALLOWED
        assert combine(records).usage["tdm"] is expected


# --- hostile sizes stay cheap -------------------------------------------------------------------

HOSTILE_AI_TXT = [
    "[" * 500_000,
    "a" + " " * 500_000,
    "[a](" * 120_000,
    "**a" + "b" * 500_000,
    "__a" + "_b" * 250_000,
    "<" + " " * 500_000,
    "|" + "a" * 500_000,
    "- " + " " * 500_000,
    "key" + " " * 500_000 + "x",
    "User-agent: *\n" + "Disallow: " + "*a" * 250_000 + "\n",
    "x\n" * 250_000,
]


@pytest.mark.parametrize("text", HOSTILE_AI_TXT, ids=range(len(HOSTILE_AI_TXT)))
def test_sniffing_hostile_ai_txt_is_linear(text: str) -> None:
    started = time.perf_counter()
    parse_ai_txt(200, text.encode(), None)
    assert time.perf_counter() - started < 5.0  # quadratic behaviour would take minutes


HOSTILE_TDMREP = [
    b"[" * 260_000,
    b'"' + b'\\"' * 130_000,
    b'["' + b"\\" * 200_000,
    b"[" + b'{"location":"/","tdm-reservation":1},' * 7000 + b"{}]",
    b"[" + b"{}," * 87_000 + b"{}]",
    b'[{"location":"' + b"*a" * 120_000 + b'","tdm-reservation":1}]',
]


@pytest.mark.parametrize("body", HOSTILE_TDMREP, ids=range(len(HOSTILE_TDMREP)))
def test_hostile_tdmrep_is_cheap(body: bytes) -> None:
    started = time.perf_counter()
    parsed = parse_tdmrep_file(200, body, None)
    parsed.match("/" + "a" * 1000)
    assert time.perf_counter() - started < 5.0  # quadratic behaviour would take minutes
