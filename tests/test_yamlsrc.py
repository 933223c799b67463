from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from auditor.errors import ConfigError, PolicyError, Problem
from auditor.yamlsrc import YamlDocument, format_loc, load_yaml, problems_from_validation


def problems(text: str, **kwargs: Any) -> list[Problem]:
    with pytest.raises(PolicyError) as info:
        load_yaml("x.yaml", error=PolicyError, text=text, **kwargs)
    return info.value.problems


def test_plain_data_and_lines() -> None:
    doc = load_yaml(
        "x.yaml", error=PolicyError, text="a: 1\nb:\n  - x\n  - {c: 2}\nd: 2026-01-02\n"
    )
    assert doc.data == {"a": 1, "b": ["x", {"c": 2}], "d": dt.date(2026, 1, 2)}
    assert doc.line_of(["a"]) == 1
    assert doc.line_of(["b", 1]) == 4
    assert doc.line_of(["b", 1, "c"]) == 4
    assert doc.line_of(["d"]) == 5


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    doc = load_yaml("x.yaml", error=PolicyError, text="a: 1\nb:\n  c: 2\n")
    assert doc.line_of(["b", "missing", 3]) == 2
    assert doc.line_of(["nothing"]) == 1
    assert YamlDocument(None, "x").line_of(["a"]) is None


def test_empty_document_is_none() -> None:
    assert load_yaml("x.yaml", error=PolicyError, text="").data is None


def test_reads_files_and_uses_the_given_error_class(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_yaml(path, error=ConfigError)
    (problem,) = info.value.problems
    assert problem.file == str(path)
    assert problem.line == 2
    assert "syntax error" in problem.message


def test_python_tags_are_rejected_without_executing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    (problem,) = problems(text)
    assert problem.line == 1
    assert "!!python/object/apply:os.system" in problem.message
    assert not marker.exists()


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/name:os.system\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x, y}\n",
        "a: !custom 3\n",
        "!!python/object:collections.OrderedDict {}\n",
    ],
)
def test_other_tags_are_rejected(text: str) -> None:
    assert "is not allowed" in problems(text)[0].message


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    (problem,) = problems("a: 1\nb: 2\na: 3\n")
    assert problem.line == 3
    assert "duplicate key 'a'" in problem.message
    assert "line 1" in problem.message


def test_several_yaml_problems_are_reported_together() -> None:
    found = problems("a: 1\na: 2\nb: !!binary eA==\nc: {d: 1, d: 2}\n")
    assert [p.line for p in found] == [2, 3, 4]


def test_billion_laughs_is_rejected_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    (problem,) = problems("\n".join(lines) + "\n")
    assert "alias bomb" in problem.message


def test_node_cap_is_configurable() -> None:
    assert "more than 3 values" in problems("[1, 2, 3, 4]\n", max_nodes=3)[0].message


def test_recursive_alias_is_rejected() -> None:
    assert "recursive alias" in problems("a: &a [*a]\n")[0].message


def test_aliases_are_expanded_as_independent_copies() -> None:
    doc = load_yaml("x.yaml", error=PolicyError, text="a: &x [1]\nb: *x\n")
    assert doc.data == {"a": [1], "b": [1]}
    assert doc.data["a"] is not doc.data["b"]


def test_merge_keys_let_explicit_keys_win() -> None:
    text = "base: &b {k: 1, j: 2}\nother:\n  <<: *b\n  k: 3\n"
    doc = load_yaml("x.yaml", error=PolicyError, text=text)
    assert doc.data["other"] == {"k": 3, "j": 2}
    assert doc.line_of(["other", "k"]) == 4


def test_deep_nesting_is_rejected() -> None:
    assert "nested" in problems("[" * 150 + "]" * 150 + "\n")[0].message


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * 100 + b"\n")
    with pytest.raises(PolicyError, match="larger than 50 bytes"):
        load_yaml(path, error=PolicyError, max_bytes=50)
    with pytest.raises(PolicyError, match="larger than"):
        load_yaml("t", error=PolicyError, text="a: " + "x" * 100, max_bytes=50)


def test_not_utf8_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(PolicyError) as info:
        load_yaml(path, error=PolicyError)
    (problem,) = info.value.problems
    assert problem.line == 2
    assert "UTF-8" in problem.message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read file"):
        load_yaml(tmp_path / "absent.yaml", error=PolicyError)


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffa: 1\n".encode())
    assert load_yaml(path, error=PolicyError).data == {"a": 1}


def test_multiple_documents_are_rejected() -> None:
    assert "syntax error" in problems("a: 1\n---\nb: 2\n")[0].message


# --------------------------------------------------------------------------- validation


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention_days: int
    url: str | None = None


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    severity: str = "low"
    items: list[Inner] = []
    mixed: list[str | Inner] = []


def validate(text: str) -> list[Problem]:
    doc = load_yaml("c.yaml", error=ConfigError, text=text)
    with pytest.raises(ValidationError) as info:
        Outer.model_validate(doc.data)
    return problems_from_validation(info.value, doc, model=Outer)


def test_unknown_key_suggests_the_closest_name() -> None:
    (problem,) = validate("name: a\nseverty: high\n")
    assert problem.line == 2
    assert problem.message == "top level: unknown key 'severty' (did you mean 'severity'?)"


def test_unknown_key_in_a_nested_model_suggests_its_fields() -> None:
    (problem,) = validate("name: a\nitems:\n  - retention_days: 3\n    retention_dayz: 4\n")
    assert problem.line == 4
    assert "items[0]: unknown key 'retention_dayz' (did you mean 'retention_days'?)" in str(problem)


def test_unknown_key_in_a_union_member_drops_the_union_tag() -> None:
    found = validate("name: a\nmixed:\n  - x\n  - {retention_days: 1, ur: y}\n")
    problem = next(p for p in found if "unknown key" in p.message)
    assert problem.line == 4
    assert "mixed[1]: unknown key 'ur' (did you mean 'url'?)" in problem.message


def test_unknown_key_without_a_close_match_lists_the_choices() -> None:
    (problem,) = validate("name: a\nzzz: 1\n")
    assert "expected one of: name, severity, items, mixed" in problem.message


def test_missing_and_wrong_type_are_located() -> None:
    found = validate("severity: high\nitems:\n  - retention_days: lots\n")
    messages = {p.message: p.line for p in found}
    assert messages["top level: missing required key 'name'"] == 1
    wrong = next(m for m in messages if m.startswith("items[0].retention_days"))
    assert messages[wrong] == 3
    assert "'lots'" in wrong


def test_every_problem_is_one_line() -> None:
    found = validate("zzz: 1\nitems: [{retention_days: x, extra: 1}]\n")
    assert len(found) == 4
    assert all("\n" not in p.message for p in found)


def test_format_loc() -> None:
    assert format_loc(["rules", 2, "fail_when", "all", 0]) == "rules[2].fail_when.all[0]"
    assert format_loc(["facts", "crawler.name"]) == "facts['crawler.name']"
    assert format_loc([]) == "top level"


def test_wrong_shape_is_described_plainly() -> None:
    doc = load_yaml("c.yaml", error=ConfigError, text="- a\n")
    with pytest.raises(ValidationError) as info:
        Outer.model_validate(doc.data)
    (problem,) = problems_from_validation(info.value, doc, model=Outer)
    assert problem.message == "top level: expected a mapping of keys to values, got a list"
    assert problem.line == 1
