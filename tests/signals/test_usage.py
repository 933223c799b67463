"""Usage verdicts from evidence records (``auditor.signals.usage``, optout-signals.md 9.4-9.6).

Implications only move purposes towards ``disallowed``; across records the most restrictive
value wins; disagreement is a conflict; records that were not evaluated add nothing; and an
``allowed`` covers only the purposes its record names, so ``unknown`` never becomes permission.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict
from auditor.signals.usage import UsageVerdicts, combine, implied

A, D, U = Verdict.ALLOWED, Verdict.DISALLOWED, Verdict.UNKNOWN
ALL = tuple(p.value for p in Purpose)


def record(
    evaluation: Evaluation = Evaluation.EVALUATED, mechanism: str = "test", **purposes: Verdict
) -> SignalRecord:
    """A record whose purposes are given as keyword arguments (``ai_train`` for ``ai-train``)."""
    return SignalRecord(
        mechanism=mechanism,
        scope=Scope.RESPONSE,
        source_url="http://example.org/a.jpg",
        raw_value="test",
        purposes={name.replace("_", "-"): verdict for name, verdict in purposes.items()},
        evaluation=evaluation,
    )


def usage(*records: SignalRecord) -> dict[str, Verdict]:
    return dict(combine(records).usage)


def only(changes: Mapping[str, Verdict], default: Verdict = U) -> dict[str, Verdict]:
    return {purpose: changes.get(purpose, default) for purpose in ALL}


# --- implications (9.4) ------------------------------------------------------------------------

IMPLICATIONS = [
    pytest.param({"crawl": D}, only({}, D), id="crawl-disallowed-disallows-everything"),
    pytest.param(
        {"tdm": D},
        only({"tdm": D, "ai-train": D, "genai-train": D}),
        id="tdm-disallows-ai-and-genai-train",
    ),
    pytest.param(
        {"ai-train": D}, only({"ai-train": D, "genai-train": D}), id="ai-train-disallows-genai"
    ),
    pytest.param({"genai-train": D}, only({"genai-train": D}), id="genai-implies-nothing-upward"),
    pytest.param({"search": D}, only({"search": D}), id="search-implies-nothing"),
    pytest.param({"ai-input": D}, only({"ai-input": D}), id="ai-input-implies-nothing"),
    pytest.param({"crawl": A}, only({"crawl": A}), id="crawl-allowed-implies-nothing"),
    pytest.param({"tdm": A}, only({"tdm": A}), id="tdm-allowed-leaves-ai-unknown"),
    pytest.param(
        {"ai-train": A}, only({"ai-train": A}), id="ai-train-allowed-leaves-genai-unknown"
    ),
    pytest.param(
        {"tdm": D, "ai-train": A, "genai-train": A},
        only({"tdm": D, "ai-train": D, "genai-train": D}),
        id="implication-overrides-allowed-in-same-record",
    ),
    pytest.param(
        {"crawl": D, "search": A},
        only({}, D),
        id="crawl-disallowed-overrides-allowed-search",
    ),
    pytest.param({}, only({}), id="empty-is-all-unknown"),
]


@pytest.mark.parametrize(("purposes", "expected"), IMPLICATIONS)
def test_implications(purposes: dict[str, Verdict], expected: dict[str, Verdict]) -> None:
    assert {p.value: v for p, v in implied(purposes).items()} == expected


def test_implied_accepts_verdict_strings() -> None:
    assert implied({"ai-train": "disallowed"})[Purpose.GENAI_TRAIN] is D  # type: ignore[dict-item]


# --- most restrictive wins (9.5) ---------------------------------------------------------------

COMBINATIONS = [
    pytest.param([record(search=A), record(search=D)], {"search": D}, id="disallow-wins"),
    pytest.param([record(search=D), record(search=A)], {"search": D}, id="order-irrelevant"),
    pytest.param(
        [record(ai_train=A), record(ai_train=D)],
        {"ai-train": D, "genai-train": D},
        id="disallow-wins-with-implication",
    ),
    pytest.param(
        [record(ai_train=A), record(ai_train=U)], {"ai-train": A}, id="allow-over-unknown"
    ),
    pytest.param([record(ai_train=U), record(ai_train=U)], {"ai-train": U}, id="unknown-stays"),
    pytest.param([record(search=A), record(tdm=A)], {"search": A, "tdm": A}, id="independent"),
    pytest.param(
        [record(crawl=A), record(tdm=D)],
        {"crawl": A, "tdm": D, "ai-train": D, "genai-train": D},
        id="implication-across-records",
    ),
    pytest.param(
        [record(genai_train=A), record(ai_train=D)],
        {"ai-train": D, "genai-train": D},
        id="implied-disallow-beats-explicit-allow",
    ),
]


@pytest.mark.parametrize(("records", "changes"), COMBINATIONS)
def test_most_restrictive_wins(records: list[SignalRecord], changes: dict[str, Verdict]) -> None:
    assert usage(*records) == only(changes)


def test_no_records_is_all_unknown() -> None:
    result = combine([])
    assert dict(result.usage) == only({})
    assert result.conflicts == ()


def test_usage_covers_every_purpose_and_is_read_only() -> None:
    result = combine([record(tdm=A)])
    assert set(result.usage) == set(ALL)
    with pytest.raises(TypeError):
        result.usage["tdm"] = D  # type: ignore[index]


# --- conflicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "conflicts"),
    [
        pytest.param([record(ai_train=A), record(ai_train=D)], ("ai-train",), id="direct"),
        pytest.param(
            [record(genai_train=A), record(ai_train=D)], ("genai-train",), id="via-implication"
        ),
        pytest.param(
            [record(search=A, tdm=A), record(crawl=D)], ("search", "tdm"), id="crawl-disallowed"
        ),
        pytest.param([record(ai_train=D), record(ai_train=D)], (), id="agreeing-disallow"),
        pytest.param([record(ai_train=A), record(ai_train=A)], (), id="agreeing-allow"),
        pytest.param([record(ai_train=A), record(ai_train=U)], (), id="allow-and-unknown"),
        pytest.param([record(ai_train=D), record(search=A)], (), id="different-purposes"),
        pytest.param([record(tdm=D, ai_train=A)], (), id="one-record-is-not-a-conflict"),
    ],
)
def test_conflicts(records: list[SignalRecord], conflicts: tuple[str, ...]) -> None:
    assert combine(records).conflicts == conflicts


# --- evaluation status and unknown (9.6) -------------------------------------------------------


@pytest.mark.parametrize("evaluation", [Evaluation.NOT_EVALUATED, Evaluation.ERROR])
def test_records_not_evaluated_contribute_nothing(evaluation: Evaluation) -> None:
    ignored = record(evaluation, ai_train=A, crawl=D)
    assert usage(ignored) == only({})
    assert usage(ignored, record(search=A)) == only({"search": A})
    assert combine([ignored, record(ai_train=D)]).conflicts == ()


def test_evaluated_record_does_contribute() -> None:
    assert usage(record(Evaluation.EVALUATED, ai_train=A)) == only({"ai-train": A})


def test_allowed_applies_only_to_the_purposes_it_names() -> None:
    # TDMRep 0: tdm allowed says nothing about AI training (9.4).
    assert usage(record(tdm=A)) == only({"tdm": A})
    # robots.txt allowing the path: crawl allowed, nothing else.
    assert usage(record(crawl=A)) == only({"crawl": A})


# --- properties --------------------------------------------------------------------------------

VERDICT = st.sampled_from([A, D, U])
PURPOSES = st.dictionaries(st.sampled_from(ALL), VERDICT, max_size=len(ALL))
RECORDS = st.lists(
    st.builds(
        lambda purposes, evaluation: SignalRecord(
            mechanism="m",
            scope=Scope.ORIGIN,
            source_url="http://example.org/",
            raw_value=None,
            purposes=purposes,
            evaluation=evaluation,
        ),
        PURPOSES,
        st.sampled_from(list(Evaluation)),
    ),
    max_size=6,
)


def evaluated(records: list[SignalRecord]) -> list[SignalRecord]:
    return [r for r in records if r.evaluation is Evaluation.EVALUATED]


@settings(max_examples=40, deadline=None)
@given(RECORDS)
def test_property_disallowed_iff_some_evaluated_record_implies_it(
    records: list[SignalRecord],
) -> None:
    result = combine(records).usage
    for purpose in Purpose:
        implied_values = {implied(r.purposes)[purpose] for r in evaluated(records)}
        assert (result[purpose.value] is D) == (D in implied_values)


@settings(max_examples=40, deadline=None)
@given(RECORDS)
def test_property_unknown_never_becomes_allowed(records: list[SignalRecord]) -> None:
    result = combine(records).usage
    for purpose in ALL:
        if result[purpose] is A:
            assert any(r.purposes.get(purpose) == A for r in evaluated(records))


@settings(max_examples=40, deadline=None)
@given(RECORDS)
def test_property_result_is_closed_under_implications(records: list[SignalRecord]) -> None:
    result = combine(records).usage
    if result["crawl"] is D:
        assert set(result.values()) == {D}
    if result["tdm"] is D:
        assert result["ai-train"] is D
    if result["ai-train"] is D:
        assert result["genai-train"] is D


@settings(max_examples=40, deadline=None)
@given(RECORDS, st.randoms(use_true_random=False))
def test_property_order_does_not_matter(records: list[SignalRecord], rnd: object) -> None:
    shuffled = list(records)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    first, second = combine(records), combine(shuffled)
    assert dict(first.usage) == dict(second.usage)
    assert first.conflicts == second.conflicts


@settings(max_examples=40, deadline=None)
@given(RECORDS)
def test_property_conflicts_are_disallowed_purposes_with_an_allowed(
    records: list[SignalRecord],
) -> None:
    result: UsageVerdicts = combine(records)
    for purpose in result.conflicts:
        assert result.usage[purpose] is D
        assert any(implied(r.purposes)[Purpose(purpose)] is A for r in evaluated(records))
