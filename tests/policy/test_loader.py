from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditor.errors import PolicyError, Problem
from auditor.model import Subject
from auditor.policy import (
    PolicySet,
    available_packs,
    default_policy_dirs,
    load_packs,
    validate_files,
)

from . import pack_text, rule, write_pack

REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"


def load_problems(directory: Path, *selection: str) -> list[Problem]:
    with pytest.raises(PolicyError) as info:
        load_packs(list(selection) or None, dirs=[directory])
    return info.value.problems


def test_default_dirs_include_the_checkout_policies() -> None:
    assert REPO_POLICIES in default_policy_dirs()


def test_default_selection_loads_the_shipped_packs() -> None:
    policy = load_packs()
    assert "uk-gdpr" in [pack.name for pack in policy.packs]
    assert len(policy.digest) == 64


def test_fixture_files_are_not_packs() -> None:
    found = available_packs([REPO_POLICIES])
    assert "uk-gdpr" in found
    assert not any(name.endswith(".tests") for name in found)


BROKEN = """\
pack: broken
title: Broken pack
jurisdiction: UK
version: "1"
status: in_force
sources: [https://example.org/law]
rules:
  - id: BROKEN-ONE
    title: One
    subject: declaration
    severty: high
    references: [Art. 1]
    fail_when: {fact: crawler.dpia, is_null: true}
    message: m
    remediation: r
  - id: BROKEN-TWO
    title: Two
    subject: declaration
    severity: high
    references: [Art. 1]
    fail_when: {fact: crawler.dpai, is_null: true}
    message: m
    remediation: r
  - id: BROKEN-THREE
    title: Three
    subject: image
    severity: high
    references: [Art. 1]
    fail_when: {fact: image.faces, gte_: 1}
    message: "{image.urll}"
    remediation: r
"""


def test_every_problem_at_once_with_lines(tmp_path: Path) -> None:
    write_pack(tmp_path, "broken", BROKEN)
    found = load_problems(tmp_path)
    assert [(p.line, p.message) for p in found] == [
        (11, "rules[0]: unknown key 'severty' (did you mean 'severity'?)"),
        (21, "unknown fact 'crawler.dpai' (did you mean 'crawler.dpia'?)"),
        (29, "unknown operator 'gte_' (did you mean 'gte'?)"),
        (30, "template placeholder {image.urll}: unknown fact 'image.urll' (did you mean "
             "'image.url'?)"),
    ]  # fmt: skip
    assert all(p.file == str(tmp_path / "broken.yaml") for p in found)
    assert str(found[0]).startswith(f"{tmp_path / 'broken.yaml'}:11: ")


def test_problems_across_files_are_collected(tmp_path: Path) -> None:
    write_pack(tmp_path, "one", pack_text("one", version=2026.1))
    write_pack(tmp_path, "two", pack_text("two", status="enforced"))
    found = load_problems(tmp_path)
    assert {Path(p.file).name for p in found} == {"one.yaml", "two.yaml"}
    assert any('quote the version (version: "2026.1")' in p.message for p in found)
    assert any("did you mean 'in_force'" in p.message for p in found)


def test_duplicate_rule_id_across_packs_names_both(tmp_path: Path) -> None:
    first = write_pack(tmp_path, "one", rules=[rule("DUP-RULE")])
    second = write_pack(tmp_path, "two", rules=[rule("OTHER-RULE"), rule("DUP-RULE")])
    (problem,) = load_problems(tmp_path)
    assert problem.file == str(second)
    assert "duplicate rule id 'DUP-RULE'" in problem.message
    assert f"{first}:" in problem.message


def test_duplicate_rule_id_within_a_pack(tmp_path: Path) -> None:
    write_pack(tmp_path, rules=[rule("SAME-ID"), rule("SAME-ID")])
    assert "duplicate rule id" in load_problems(tmp_path)[0].message


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"fail_when": {"fact": "crawler.name", "matches": "(["}}, "invalid regular expression"),
        ({"message": "{crawler.nam}"}, "did you mean 'crawler.name'"),
        ({"message": "a { b"}, "unbalanced '{'"),
        ({"message": "{image.url}"}, "not available for declaration rules"),
        ({"review_message": "{crawler.dpia"}, "unbalanced"),
        ({"escalate": [{"when": {"fact": "crawler.sells_access", "eq": True},
                        "severity": "medium"}]}, "must be higher than"),
        ({"id": "lower-case"}, "should match pattern"),
        ({"references": []}, "at least 1 item"),
        ({"on_missing": "fail"}, "Input should be"),
        ({"subject": "imag"}, "did you mean 'image'"),
        ({"fail_when": None}, "a condition must be a mapping"),
    ],
)  # fmt: skip
def test_rule_level_problems(tmp_path: Path, fields: dict[str, Any], fragment: str) -> None:
    write_pack(tmp_path, rules=[rule(**fields)])
    found = load_problems(tmp_path)
    assert any(fragment in p.message for p in found), found
    assert all(p.line is not None for p in found)


def test_python_object_tag_is_rejected_without_executing(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = pack_text() + f"effective_from: !!python/object/apply:os.system ['touch {marker}']\n"
    write_pack(tmp_path, text=text)
    (problem,) = load_problems(tmp_path)
    assert "is not allowed" in problem.message
    assert not marker.exists()


def test_billion_laughs_is_rejected(tmp_path: Path) -> None:
    lines = [pack_text().rstrip(), 'x0: &x0 ["lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 8)}]" for i in range(1, 9)]
    write_pack(tmp_path, text="\n".join(lines) + "\n")
    (problem,) = load_problems(tmp_path)
    assert "alias bomb" in problem.message


def test_duplicate_yaml_keys_are_rejected(tmp_path: Path) -> None:
    write_pack(tmp_path, text=pack_text() + "title: Again\n")
    (problem,) = load_problems(tmp_path)
    assert "duplicate key 'title'" in problem.message


def test_unknown_pack_name_suggests(tmp_path: Path) -> None:
    write_pack(tmp_path, "uk-gdpr")
    (problem,) = load_problems(tmp_path, "uk-gdp")
    assert "unknown policy pack 'uk-gdp' (did you mean 'uk-gdpr'?)" in problem.message


def test_selection_by_path_and_missing_path(tmp_path: Path) -> None:
    path = write_pack(tmp_path, "custom")
    assert load_packs([str(path)], dirs=[]).packs[0].name == "custom"
    with pytest.raises(PolicyError, match="policy file not found"):
        load_packs([str(tmp_path / "nope.yaml")], dirs=[])


def test_pack_name_must_match_the_file(tmp_path: Path) -> None:
    write_pack(tmp_path, "file-name", pack_text("other-name"))
    assert "must be in a file named other-name.yaml" in load_problems(tmp_path)[0].message


def test_statuses(tmp_path: Path) -> None:
    write_pack(tmp_path, "law")
    write_pack(tmp_path, "bench", pack_text("bench", rules=[rule("B-ONE")], status="benchmark"))
    write_pack(tmp_path, "draft", pack_text("draft", rules=[rule("D-ONE")], status="proposed"))

    def names(policy: PolicySet) -> list[str]:
        return sorted(p.name for p in policy.packs)

    assert names(load_packs(dirs=[tmp_path])) == ["bench", "law"]
    assert names(load_packs(dirs=[tmp_path], include_proposed=True)) == ["bench", "draft", "law"]
    assert names(load_packs(["draft"], dirs=[tmp_path])) == ["draft"]


def test_digest_follows_file_bytes_not_order(tmp_path: Path) -> None:
    write_pack(tmp_path, "aa")
    write_pack(tmp_path, "bb", rules=[rule("B-ONE")])
    first = load_packs(["aa", "bb"], dirs=[tmp_path]).digest
    assert load_packs(["bb", "aa"], dirs=[tmp_path]).digest == first
    write_pack(tmp_path, "bb", rules=[rule("B-ONE", title="Changed")])
    assert load_packs(["aa", "bb"], dirs=[tmp_path]).digest != first


def test_rules_are_indexed_by_subject(tmp_path: Path) -> None:
    image_rule = rule("I-ONE", subject="image", message="{image.url}")
    write_pack(tmp_path, rules=[rule(), image_rule])
    policy = load_packs(["test-pack"], dirs=[tmp_path])
    assert [r.id for r in policy.rules_for(Subject.IMAGE)] == ["I-ONE"]
    assert [r.id for r in policy.rules_for(Subject.DECLARATION)] == ["T-RULE-ONE"]
    assert policy.rules_for(Subject.DATASET) == ()
    assert policy.rules[0].line == 9


def test_validate_files_returns_problems_without_raising(tmp_path: Path) -> None:
    shipped = sorted(REPO_POLICIES.glob("*.yaml"))
    assert validate_files(shipped) == []
    bad = write_pack(tmp_path, "broken", BROKEN)
    assert len(validate_files([bad])) == 4


def test_validate_files_checks_fixture_files(tmp_path: Path) -> None:
    pack = write_pack(tmp_path)
    fixtures = tmp_path / "test-pack.tests.yaml"
    fixtures.write_text(
        "pack: test-pack\ncases:\n"
        "  - {rule: T-RULE-ONX, name: a, facts: {}, expect: fail}\n"
        "  - {rule: T-RULE-ONE, name: b, facts: {crawler.dpai: null}, expect: fail}\n"
        "  - {rule: T-RULE-ONE, name: c, facts: {image.faces: 1}, expect: fail}\n"
        "  - {rule: T-RULE-ONE, name: d, expect: failed}\n",
        encoding="utf-8",
    )
    found = validate_files([pack, fixtures])
    assert [p.line for p in found] == [6]  # structure first: the bad outcome
    fixtures.write_text(fixtures.read_text().replace("failed", "fail"), encoding="utf-8")
    messages = [p.message for p in validate_files([pack, fixtures])]
    assert messages == [
        "rule 'T-RULE-ONX' is not in pack 'test-pack' (did you mean 'T-RULE-ONE'?)",
        "unknown fact 'crawler.dpai' (did you mean 'crawler.dpia'?)",
        "fact 'image.faces' is not available for declaration rules (only for: image)",
    ]
