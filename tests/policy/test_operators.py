from __future__ import annotations

from typing import Any

import pytest

from auditor.errors import PolicyError
from auditor.model import Subject, Verdict
from auditor.policy import OPERATORS
from auditor.policy.compiler import compile_expression

T, F, U = True, False, None
ABSENT = object()


def leaf(fact: str, op: str, operand: Any, jurisdiction: str = "UK") -> Any:
    return compile_expression({"fact": fact, op: operand}, Subject.IMAGE, jurisdiction=jurisdiction)


CASES: list[tuple[str, str, Any, Any, bool | None]] = [
    # eq / ne: work on null, UNKNOWN on missing or a value of the wrong type
    ("crawler.collection", "eq", "targeted", "targeted", T),
    ("crawler.collection", "eq", "targeted", "untargeted", F),
    ("crawler.collection", "eq", "targeted", None, F),
    ("crawler.collection", "eq", "targeted", ABSENT, U),
    ("crawler.collection", "eq", "targeted", 5, U),
    ("crawler.retention_days", "eq", None, None, T),
    ("crawler.retention_days", "eq", None, 30, F),
    ("crawler.retention_days", "eq", 30, 30, T),
    ("image.gps", "eq", True, True, T),
    ("image.gps", "eq", True, 1, U),
    ("crawler.purposes", "eq", ["ai-train"], ["ai-train"], T),
    ("crawler.purposes", "eq", ["ai-train"], ("ai-train", "tdm"), F),
    ("usage.ai-train", "eq", "disallowed", Verdict.DISALLOWED, T),
    ("crawler.collection", "ne", "targeted", "untargeted", T),
    ("crawler.collection", "ne", "targeted", "targeted", F),
    ("crawler.collection", "ne", "targeted", None, T),
    ("crawler.collection", "ne", "targeted", ABSENT, U),
    # ordering: UNKNOWN on null, missing or wrong types (bool is not a number)
    ("image.faces", "gt", 0, 2, T),
    ("image.faces", "gt", 0, 0, F),
    ("image.faces", "gt", 0, None, U),
    ("image.faces", "gt", 0, ABSENT, U),
    ("image.faces", "gt", 0, "2", U),
    ("image.faces", "gt", 0, True, U),
    ("image.age_days", "gte", 30, 30.0, T),
    ("image.age_days", "gte", 30, 29.9, F),
    ("image.age_days", "gte", 30, None, U),
    ("jurisdiction.UK", "lt", 0.1, 0.05, T),
    ("jurisdiction.UK", "lt", 0.1, 0.1, F),
    ("jurisdiction.UK", "lt", 0.1, ABSENT, U),
    ("jurisdiction.UK", "lte", 0.1, 0.1, T),
    ("jurisdiction.UK", "lte", 0.1, 0.2, F),
    ("jurisdiction.UK", "lte", 0.1, [0.1], U),
    ("image.collected_at", "gt", "2025-02-02T00:00:00Z", "2026-01-01T00:00:00+00:00", T),
    ("image.collected_at", "gt", "2025-02-02T00:00:00Z", "2024-12-31T23:59:59Z", F),
    ("image.collected_at", "gt", "2025-02-02", "2025-02-02T00:00:01", T),
    ("image.collected_at", "gt", "2025-02-02T00:00:00Z", "yesterday", U),
    # in / not_in: null matches only a listed null
    ("crawler.lawful_basis", "in", ["consent", "contract"], "consent", T),
    ("crawler.lawful_basis", "in", ["consent", "contract"], "none", F),
    ("crawler.lawful_basis", "in", ["consent", "contract"], None, U),
    ("crawler.lawful_basis", "in", [None, "none"], None, T),
    ("crawler.lawful_basis", "in", ["consent"], ABSENT, U),
    ("crawler.lawful_basis", "in", ["consent"], ["consent"], U),
    ("crawler.lawful_basis", "not_in", ["consent"], "contract", T),
    ("crawler.lawful_basis", "not_in", ["consent"], "consent", F),
    ("crawler.lawful_basis", "not_in", ["consent"], None, U),
    ("crawler.lawful_basis", "not_in", [None], None, F),
    ("image.status", "in", [200, 304], 200, T),
    # contains: list item or substring; UNKNOWN on null
    ("crawler.purposes", "contains", "ai-train", ["ai-train", "tdm"], T),
    ("crawler.purposes", "contains", "ai-train", [], F),
    ("crawler.purposes", "contains", "ai-train", None, U),
    ("crawler.purposes", "contains", "ai-train", ABSENT, U),
    ("crawler.purposes", "contains", "ai-train", 3, U),
    ("image.alt", "contains", "face", "a face in a crowd", T),
    ("image.alt", "contains", "face", "a crowd", F),
    ("crawler.purposes", "contains_any", ["tdm", "search"], ["search"], T),
    ("crawler.purposes", "contains_any", ["tdm", "search"], ["ai-train"], F),
    ("crawler.purposes", "contains_any", ["tdm", "search"], None, U),
    ("crawler.purposes", "contains_all", ["tdm", "search"], ["search", "tdm", "other"], T),
    ("crawler.purposes", "contains_all", ["tdm", "search"], ["search"], F),
    ("crawler.purposes", "contains_all", ["tdm", "search"], "tdm search", U),
    # is_null / exists / is_empty
    ("crawler.dpia", "is_null", True, None, T),
    ("crawler.dpia", "is_null", True, "docs/dpia.pdf", F),
    ("crawler.dpia", "is_null", True, ABSENT, U),
    ("crawler.dpia", "is_null", False, "docs/dpia.pdf", T),
    ("crawler.dpia", "exists", True, None, T),
    ("crawler.dpia", "exists", True, ABSENT, F),
    ("crawler.dpia", "exists", False, ABSENT, T),
    ("crawler.dpia", "is_empty", True, None, T),
    ("crawler.dpia", "is_empty", True, "", T),
    ("crawler.dpia", "is_empty", True, "x", F),
    ("crawler.dpia", "is_empty", False, "x", T),
    ("crawler.dpia", "is_empty", True, ABSENT, U),
    ("crawler.purposes", "is_empty", True, [], T),
    ("crawler.purposes", "is_empty", True, 7, U),
    # matches: re.search on strings only
    ("image.url", "matches", r"\.jpe?g$", "https://a.example/x.jpg", T),
    ("image.url", "matches", r"\.jpe?g$", "https://a.example/x.png", F),
    ("image.url", "matches", r"\.jpe?g$", None, U),
    ("image.url", "matches", r"\.jpe?g$", ABSENT, U),
]


@pytest.mark.parametrize(("fact", "op", "operand", "value", "expected"), CASES)
def test_operator(fact: str, op: str, operand: Any, value: Any, expected: bool | None) -> None:
    facts = {} if value is ABSENT else {fact: value}
    assert leaf(fact, op, operand).test(facts) is expected


def test_every_operator_has_true_false_and_unknown_cases() -> None:
    seen: dict[str, set[bool | None]] = {name: set() for name in OPERATORS}
    for _, op, _, _, expected in CASES:
        seen[op].add(expected)
    for name, outcomes in seen.items():
        wanted = {T, F} if name == "exists" else {T, F, U}
        assert outcomes >= wanted, name


@pytest.mark.parametrize(
    ("retention", "age", "expected"),
    [(30, 45.5, T), (30, 3.0, F), (None, 45.5, U), (ABSENT, 45.5, U), (30, ABSENT, U)],
)
def test_fact_reference(retention: Any, age: Any, expected: bool | None) -> None:
    compiled = leaf("image.age_days", "gt", {"fact": "crawler.retention_days"})
    facts = {
        key: value
        for key, value in (("crawler.retention_days", retention), ("image.age_days", age))
        if value is not ABSENT
    }
    assert compiled.test(facts) is expected
    assert compiled.facts == ("image.age_days", "crawler.retention_days")


@pytest.mark.parametrize(
    ("value", "jurisdiction", "expected"),
    [
        ("consent", "UK", T),
        ({"UK": "consent", "EU": "none"}, "UK", T),
        ({"UK": "none", "EU": "consent"}, "UK", F),
        ({"UK": "none", "EU": "consent"}, "EU", T),
        ({"GB": "consent"}, "UK", T),
        ({"EU": "consent"}, "UK", F),  # a missing entry resolves to null
    ],
)
def test_per_jurisdiction_fact(value: Any, jurisdiction: str, expected: bool | None) -> None:
    compiled = leaf("crawler.lawful_basis", "eq", "consent", jurisdiction)
    assert compiled.test({"crawler.lawful_basis": value}) is expected


def test_missing_per_jurisdiction_entry_is_null_not_unknown() -> None:
    compiled = leaf("crawler.lawful_basis", "is_null", True)
    assert compiled.test({"crawler.lawful_basis": {"EU": "consent"}}) is True
    assert compiled.test({}) is None


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        ({"fact": "image.faces", "gte_": 1}, "unknown operator 'gte_' (did you mean 'gte'?)"),
        ({"fact": "image.face", "gt": 0},
         "unknown fact 'image.face' (did you mean 'image.faces'?)"),
        ({"fact": "crawler.purposes", "gt": 1}, "operator 'gt' needs a"),
        ({"fact": "image.faces", "gt": "many"}, "'image.faces' is int"),
        ({"fact": "image.faces", "gt": None}, "cannot order against null"),
        ({"fact": "image.faces", "gt": True}, "does not fit"),
        ({"fact": "image.faces", "in": []}, "non-empty list"),
        ({"fact": "crawler.purposes", "contains_any": ["facial-recogniton"]},
         "did you mean 'facial-recognition'?"),
        ({"fact": "crawler.collection", "eq": "untarget"}, "did you mean 'untargeted'?"),
        ({"fact": "image.url", "matches": "("}, "invalid regular expression"),
        ({"fact": "image.url", "matches": "a" * 201}, "longer than 200"),
        ({"fact": "image.faces", "is_null": "yes"}, "needs true or false"),
        ({"fact": "image.faces", "gt": 0, "lt": 9}, "takes one operator"),
        ({"fact": "image.faces"}, "needs exactly one operator"),
        ({"fact": "image.faces", "is_null": {"fact": "image.gps"}}, "does not compare"),
        ({"fact": "image.faces", "gt": {"fact": "image.url"}}, "cannot compare"),
        ({"fact": "image.faces", "gt": {"fact": "image.facez"}}, "did you mean 'image.faces'"),
        ({"fact": "image.faces", "gt": {"fact": "image.gps", "x": 1}}, "exactly {fact: PATH}"),
        ({"alll": []}, "unknown condition key 'alll' (did you mean 'all'?)"),
        ({"all": []}, "non-empty list"),
        ({"all": [{"fact": "image.gps", "eq": True}], "any": []}, "exactly one of all, any, not"),
        ({"gt": 3}, "has no 'fact: PATH'"),
        ("image.gps", "a condition must be a mapping"),
    ],
)  # fmt: skip
def test_load_time_checks(condition: Any, fragment: str) -> None:
    with pytest.raises(PolicyError) as info:
        compile_expression(condition, Subject.IMAGE)
    assert any(fragment in p.message for p in info.value.problems), info.value.problems


def test_fact_not_available_for_the_subject() -> None:
    with pytest.raises(PolicyError, match="not available for declaration rules"):
        compile_expression({"fact": "image.faces", "gt": 0}, Subject.DECLARATION)
    with pytest.raises(PolicyError, match="only for: site, image"):
        compile_expression({"fact": "jurisdiction.UK", "gt": 0}, Subject.DECLARATION)


def test_every_problem_of_a_condition_is_reported() -> None:
    condition = {"all": [{"fact": "image.face", "gt": 0}, {"fact": "image.url", "matches": "("}]}
    with pytest.raises(PolicyError) as info:
        compile_expression(condition, Subject.IMAGE)
    assert len(info.value.problems) == 2
