from __future__ import annotations

import itertools
from typing import Any

import pytest

from auditor.model import Subject
from auditor.policy.compiler import compile_expression

T, F, U = True, False, None
VALUES = (T, F, U)

# A leaf whose truth value is chosen by the facts: image.gps eq true is TRUE for True, FALSE
# for False and UNKNOWN when the fact is missing.
A = {"fact": "image.gps", "eq": True}
B = {"fact": "image.camera_serial", "eq": True}


def facts_for(a: bool | None, b: bool | None) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if a is not None:
        facts["image.gps"] = a
    if b is not None:
        facts["image.camera_serial"] = b
    return facts


def kleene_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def kleene_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


AND_TABLE = {
    (T, T): T, (T, F): F, (T, U): U,
    (F, T): F, (F, F): F, (F, U): F,
    (U, T): U, (U, F): F, (U, U): U,
}  # fmt: skip
OR_TABLE = {
    (T, T): T, (T, F): T, (T, U): T,
    (F, T): T, (F, F): F, (F, U): U,
    (U, T): T, (U, F): U, (U, U): U,
}  # fmt: skip


def test_reference_tables_are_kleene() -> None:
    for a, b in itertools.product(VALUES, VALUES):
        assert AND_TABLE[a, b] is kleene_and(a, b)
        assert OR_TABLE[a, b] is kleene_or(a, b)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(VALUES, VALUES)))
def test_all_truth_table(a: bool | None, b: bool | None) -> None:
    compiled = compile_expression({"all": [A, B]}, Subject.IMAGE)
    assert compiled.test(facts_for(a, b)) is AND_TABLE[a, b]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(VALUES, VALUES)))
def test_any_truth_table(a: bool | None, b: bool | None) -> None:
    compiled = compile_expression({"any": [A, B]}, Subject.IMAGE)
    assert compiled.test(facts_for(a, b)) is OR_TABLE[a, b]


@pytest.mark.parametrize(("a", "expected"), [(T, F), (F, T), (U, U)])
def test_not_truth_table(a: bool | None, expected: bool | None) -> None:
    compiled = compile_expression({"not": A}, Subject.IMAGE)
    assert compiled.test(facts_for(a, None)) is expected


@pytest.mark.parametrize(("a", "b"), list(itertools.product(VALUES, VALUES)))
def test_nested_de_morgan(a: bool | None, b: bool | None) -> None:
    left = compile_expression({"not": {"all": [A, B]}}, Subject.IMAGE)
    right = compile_expression({"any": [{"not": A}, {"not": B}]}, Subject.IMAGE)
    assert left.test(facts_for(a, b)) is right.test(facts_for(a, b))


def test_single_child_is_the_child() -> None:
    compiled = compile_expression({"any": [A]}, Subject.IMAGE)
    assert compiled.test({"image.gps": True}) is True
    assert compiled.test({}) is None


def test_all_short_circuits_on_false_after_unknown() -> None:
    compiled = compile_expression({"all": [A, B, {"fact": "image.faces", "gt": 0}]}, Subject.IMAGE)
    assert compiled.test({"image.camera_serial": False}) is False


def test_compiled_result_is_a_plain_callable_with_facts_and_text() -> None:
    compiled = compile_expression(
        {"all": [A, {"any": [B, {"fact": "crawler.purposes", "contains_any": ["tdm"]}]}]},
        Subject.IMAGE,
    )
    assert callable(compiled.test)
    assert compiled.facts == ("image.gps", "image.camera_serial", "crawler.purposes")
    assert compiled.text == (
        "all of:\n"
        "  - image.gps == true\n"
        "  - any of:\n"
        "    - image.camera_serial == true\n"
        "    - crawler.purposes contains any of [tdm]"
    )


def test_flag_operators_render_readably() -> None:
    assert compile_expression({"fact": "crawler.dpia", "is_null": False}, Subject.IMAGE).text == (
        "crawler.dpia is not null"
    )
    assert compile_expression({"not": {"fact": "image.faces", "exists": True}}, Subject.IMAGE).text
