"""``audit.yaml`` loading and validation (``auditor.config``, DESIGN 4.1, docs/configuration.md).

Every case writes a real file in ``tmp_path`` and goes through :func:`load_config`: safe YAML
(no object-building tags), strict keys with did-you-mean suggestions located by line, the
shorthand and map forms the docs promise, the run digest, and the exported JSON Schema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.config import AuditConfig, CrawlSettings, config_json_schema, load_config
from auditor.errors import ConfigError, Problem

# DESIGN.md 4.1, verbatim: the contract users copy from.
DESIGN_EXAMPLE = """\
crawler:                         # the declaration: what the audited crawler is and does
  name: acme-images
  operator: Acme Ltd             # the controller
  user_agent: "AcmeImageBot/2.1 (+https://acme.example/bot)"
  robots_tokens: [AcmeImageBot]  # product tokens it answers to in robots.txt
  purposes: [ai-train]           # ai-train | genai-train | facial-recognition | biometric-identification
                                 # | search | research | tdm | dataset-resale | safety | other
  collection: targeted           # targeted | untargeted
  lawful_basis: legitimate-interests   # consent | contract | legal-obligation | vital-interests
                                 # | public-task | legitimate-interests | none; or {UK: ..., EU: ...}
  legitimate_interests_assessment: docs/lia.pdf    # reference or null
  special_category_condition: null                 # e.g. explicit-consent, or null
  retention_days: 30             # null means no limit is set
  dpia: docs/dpia.pdf            # reference or null
  privacy_notice: https://acme.example/privacy/crawler   # or null
  optout_channel: https://acme.example/optout             # or null
  optout_requires_photo: false
  honours: [robots.txt, x-robots-tag, meta-robots, tdmrep, content-usage, content-signal,
            ai.txt, iptc-datamining, c2pa]
  markets: [UK, EU]              # where it operates / whose residents it targets
  sells_access: false
  customers: [internal]          # internal | law-enforcement | private | public
targets:
  - https://photos.example.org/
  - {url: https://news.example.co.uk/, max_pages: 500, jurisdictions: [UK]}
policies: [uk-gdpr, eu-gdpr, eu-ai-act, eu-copyright]   # pack names or paths; default: all in force
optout_list: optout.db           # suppression list (perceptual hashes, URLs, domains); optional
"""  # noqa: E501 -- verbatim from DESIGN.md


def write(tmp_path: Path, text: str, name: str = "audit.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> AuditConfig:
    return load_config(write(tmp_path, text))


def problems(tmp_path: Path, text: str) -> list[Problem]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert all(problem.file == str(path) for problem in info.value.problems)
    return info.value.problems


def one_problem(tmp_path: Path, text: str) -> Problem:
    found = problems(tmp_path, text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


# --- the DESIGN example and defaults -----------------------------------------------------------


def test_design_example_loads(tmp_path: Path) -> None:
    config = load(tmp_path, DESIGN_EXAMPLE)
    crawler = config.crawler
    assert crawler.name == "acme-images"
    assert crawler.user_agent == "AcmeImageBot/2.1 (+https://acme.example/bot)"
    assert crawler.robots_tokens == ("AcmeImageBot",)
    assert crawler.purposes == ("ai-train",)
    assert crawler.lawful_basis == "legitimate-interests"
    assert crawler.special_category_condition is None
    assert crawler.retention_days == 30
    assert crawler.optout_requires_photo is False
    assert len(crawler.honours) == 9
    assert crawler.markets == ("UK", "EU")
    assert crawler.customers == ("internal",)
    assert [t.url for t in config.targets] == [
        "https://photos.example.org/",
        "https://news.example.co.uk/",
    ]
    assert config.targets[1].max_pages == 500
    assert config.targets[1].jurisdictions == ("UK",)
    assert config.policies == ("uk-gdpr", "eu-gdpr", "eu-ai-act", "eu-copyright")
    assert config.crawl == CrawlSettings()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty-file"),
        pytest.param("# nothing configured yet\n", id="comment-only"),
        pytest.param("---\n", id="empty-document"),
        pytest.param("{}\n", id="empty-mapping"),
    ],
)
def test_empty_config_gives_defaults(tmp_path: Path, text: str) -> None:
    config = load(tmp_path, text)
    assert config == AuditConfig()
    assert config.crawler.name == "undeclared-crawler"
    assert config.crawler.lawful_basis is None  # not provided, never "compliant"
    assert config.crawler.retention_days is None
    assert config.targets == ()
    assert config.policies is None


def test_missing_declaration_fields_are_not_provided(tmp_path: Path) -> None:
    crawler = load(tmp_path, "crawler:\n  name: x\n").crawler
    assert crawler.operator is None
    assert crawler.optout_requires_photo is None
    assert crawler.sells_access is None
    assert crawler.robots_tokens == ()
    assert crawler.honours == ()


def test_config_is_immutable(tmp_path: Path) -> None:
    config = load(tmp_path, "crawler: {name: x}\n")
    with pytest.raises(ValueError, match="frozen"):
        config.crawler.name = "y"  # type: ignore[misc]


# --- unknown keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(
            "crawler:\n  name: x\n  retension_days: 30\n",
            3,
            "crawler: unknown key 'retension_days' (did you mean 'retention_days'?)",
            id="declaration-field",
        ),
        pytest.param(
            "crawler:\n  name: x\ncrawll:\n  delay: 1\n",
            3,
            "top level: unknown key 'crawll' (did you mean 'crawl'?)",
            id="top-level-section",
        ),
        pytest.param(
            "crawl:\n  max_page: 10\n",
            2,
            "crawl: unknown key 'max_page' (did you mean 'max_pages'?)",
            id="crawl-setting",
        ),
        pytest.param(
            "targets:\n  - https://a.example/\n  - url: https://b.example/\n    scop: host\n",
            4,
            "targets[1]: unknown key 'scop' (did you mean 'scope'?)",
            id="target-field",
        ),
        pytest.param(
            "targets:\n  - {urll: https://a.example/}\n",
            2,
            "targets[0]: unknown key 'urll' (did you mean 'url'?)",
            id="misspelt-required-key-reported-once",
        ),
        pytest.param(
            "targets:\n  - {url: https://a.example/, zzz: 1}\n",
            2,
            "targets[0]: unknown key 'zzz'; expected one of: url, max_pages, max_depth, "
            "jurisdictions, categories, scope",
            id="no-close-match-lists-choices",
        ),
    ],
)
def test_unknown_key_is_located_with_a_suggestion(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    problem = one_problem(tmp_path, text)
    assert problem.line == line
    assert problem.message == message


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = (
        "crawler:\n"
        "  retension_days: 30\n"  # 2
        "  purposes: [ai-trian]\n"  # 3
        "targets:\n"
        "  - ftp://files.example/\n"  # 5
        "crawl:\n"
        "  delay: -1\n"  # 7
    )
    found = problems(tmp_path, text)
    assert [p.line for p in found] == [2, 3, 5, 7]
    assert "did you mean 'ai-train'" in found[1].message
    assert found[2].message.startswith("targets[0].url:")
    assert found[3].message.startswith("crawl.delay:")
    error = ConfigError(found)
    assert str(error).endswith("(and 3 more)")
    assert str(error).startswith(f"{tmp_path / 'audit.yaml'}:2: ")


# --- targets -------------------------------------------------------------------------------------


def test_bare_url_targets_are_shorthand_for_mappings(tmp_path: Path) -> None:
    short = load(tmp_path, "targets:\n  - https://a.example/\n  - http://b.example/x/\n")
    long = load(
        tmp_path, "targets:\n  - {url: 'https://a.example/'}\n  - {url: 'http://b.example/x/'}\n"
    )
    assert short == long
    assert short.targets[0].url == "https://a.example/"
    assert short.targets[0].max_pages is None  # inherits crawl.max_pages
    assert short.targets[0].scope is None


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://a.example/", id="ftp"),
        pytest.param("a.example", id="no-scheme"),
        pytest.param("https://", id="no-host"),
        pytest.param("https:// a.example/", id="space"),
    ],
)
def test_target_url_must_be_http_or_https(tmp_path: Path, url: str) -> None:
    problem = one_problem(tmp_path, f"targets:\n  - '{url}'\n")
    assert problem.line == 2
    assert problem.message.startswith("targets[0].url:")


def test_target_with_options(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "targets:\n  - url: https://a.example/blog/\n    max_pages: 10\n    max_depth: 0\n"
        "    scope: prefix\n    jurisdictions: [UK, US-IL]\n",
    )
    target = config.targets[0]
    assert (target.max_pages, target.max_depth, target.scope) == (10, 0, "prefix")
    assert target.jurisdictions == ("UK", "US-IL")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("targets:\n  - {url: 'https://a/', max_pages: 0}\n", "max_pages", id="pages"),
        pytest.param("targets:\n  - {url: 'https://a/', max_depth: -1}\n", "max_depth", id="dep"),
        pytest.param("targets:\n  - {url: 'https://a/', scope: site}\n", "scope", id="scope"),
        pytest.param(
            "targets:\n  - {url: 'https://a/', jurisdictions: [uk]}\n", "jurisdictions", id="juris"
        ),
    ],
)
def test_bad_target_options(tmp_path: Path, text: str, where: str) -> None:
    problem = one_problem(tmp_path, text)
    assert problem.line == 2
    assert problem.message.startswith(f"targets[0].{where}")


# --- lawful basis and enums ----------------------------------------------------------------------


def test_lawful_basis_as_a_single_value(tmp_path: Path) -> None:
    assert load(tmp_path, "crawler: {lawful_basis: consent}\n").crawler.lawful_basis == "consent"


def test_lawful_basis_per_jurisdiction(tmp_path: Path) -> None:
    config = load(
        tmp_path, "crawler:\n  lawful_basis: {UK: legitimate-interests, EU: consent, US-IL: none}\n"
    )
    assert config.crawler.lawful_basis == {
        "UK": "legitimate-interests",
        "EU": "consent",
        "US-IL": "none",
    }


@pytest.mark.parametrize(
    ("text", "line", "start", "suggestion"),
    [
        pytest.param(
            "crawler:\n  name: x\n  purposes: [ai-train, facial-recogniton]\n",
            3,
            "crawler.purposes[1]:",
            "facial-recognition",
            id="purpose",
        ),
        pytest.param(
            "crawler:\n  collection: targetted\n",
            2,
            "crawler.collection:",
            "targeted",
            id="collection",
        ),
        pytest.param(
            "crawler:\n  honours: [robots-txt]\n",
            2,
            "crawler.honours[0]:",
            "robots.txt",
            id="honours",
        ),
        pytest.param(
            "crawl:\n  scope: prefx\n",
            2,
            "crawl.scope:",
            "prefix",
            id="crawl-scope",
        ),
    ],
)
def test_bad_enum_value_is_located_with_a_suggestion(
    tmp_path: Path, text: str, line: int, start: str, suggestion: str
) -> None:
    problem = one_problem(tmp_path, text)
    assert problem.line == line
    assert problem.message.startswith(start)
    assert f"(did you mean '{suggestion}'?)" in problem.message


def test_bad_lawful_basis_is_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, "crawler:\n  name: x\n  lawful_basis: legitimate-interest\n")
    assert {p.line for p in found} == {3}
    assert any("(did you mean 'legitimate-interests'?)" in p.message for p in found)


@pytest.mark.parametrize(
    ("value", "start", "suggestion"),
    [
        pytest.param(
            "legitimate-interest", "crawler.lawful_basis:", "legitimate-interests", id="single"
        ),
        pytest.param(
            "{UK: consent, EU: consnt}", "crawler.lawful_basis.EU:", "consent", id="per-market"
        ),
    ],
)
def test_bad_lawful_basis_is_one_problem_for_the_form_written(
    tmp_path: Path, value: str, start: str, suggestion: str
) -> None:
    problem = one_problem(tmp_path, f"crawler:\n  lawful_basis: {value}\n")
    assert problem.line == 2
    assert problem.message.startswith(start)
    assert f"(did you mean '{suggestion}'?)" in problem.message


def test_lowercase_jurisdiction_key_in_lawful_basis_is_rejected(tmp_path: Path) -> None:
    found = problems(tmp_path, "crawler:\n  lawful_basis: {uk: consent}\n")
    assert {p.line for p in found} == {2}
    assert any("'uk'" in p.message for p in found)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("crawler: {retention_days: -1}\n", "crawler.retention_days:", id="negative"),
        pytest.param("crawler: {retention_days: 2.5}\n", "crawler.retention_days:", id="fraction"),
        pytest.param("crawler: {markets: [Europe]}\n", "crawler.markets[0]:", id="market"),
        pytest.param("crawl: {per_host_concurrency: 0}\n", "crawl.per_host_concurrency:", id="c0"),
        pytest.param("crawl: {delay: 61}\n", "crawl.delay:", id="delay-too-long"),
        pytest.param("crawl: {total_timeout: 0}\n", "crawl.total_timeout:", id="zero-timeout"),
        pytest.param("crawl: {max_page_bytes: 10}\n", "crawl.max_page_bytes:", id="tiny-cap"),
        pytest.param(
            "crawl: {face_detection_size: 127}\n", "crawl.face_detection_size:", id="faces-tiny"
        ),
        pytest.param(
            "crawl: {face_detection_size: 961}\n", "crawl.face_detection_size:", id="faces-huge"
        ),
        pytest.param("crawler: [a, b]\n", "crawler: expected a mapping", id="section-not-map"),
    ],
)
def test_out_of_range_values(tmp_path: Path, text: str, start: str) -> None:
    problem = one_problem(tmp_path, text)
    assert problem.line == 1
    assert problem.message.startswith(start)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("crawler: {retention_days: 0}\n", id="retention-zero"),
        pytest.param("crawler: {retention_days: null}\n", id="retention-null"),
        pytest.param("crawl: {delay: 0, max_redirects: 0}\n", id="no-delay-no-redirects"),
        pytest.param("crawl: {per_host_concurrency: 64, delay: 60}\n", id="upper-bounds"),
        pytest.param("crawl: {face_detection_size: 128}\n", id="faces-smallest"),
        pytest.param("crawl: {face_detection_size: 960}\n", id="faces-largest"),
    ],
)
def test_boundary_values_are_accepted(tmp_path: Path, text: str) -> None:
    load(tmp_path, text)


# --- robots tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("Acme Bot", id="space"),
        pytest.param("AcmeBot/2.1", id="slash"),
        pytest.param("AcmeBot:", id="colon"),
        pytest.param("Acme\tBot", id="tab"),
        pytest.param("", id="empty"),
    ],
)
def test_robots_token_that_groups_can_never_match_is_rejected(tmp_path: Path, token: str) -> None:
    problem = one_problem(
        tmp_path, f"crawler:\n  name: x\n  robots_tokens: [ok, {json.dumps(token)}]\n"
    )
    assert problem.line == 3
    assert problem.message.startswith("crawler.robots_tokens:")
    assert "bare product token" in problem.message


@pytest.mark.parametrize("token", ["AcmeImageBot", "acme-image_bot", "GPTBot"])
def test_product_tokens_are_accepted(tmp_path: Path, token: str) -> None:
    config = load(tmp_path, f"crawler:\n  robots_tokens: [{token}]\n")
    assert config.crawler.robots_tokens == (token,)


# --- hostile YAML --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tagged",
    [
        pytest.param('!!python/object/apply:os.system ["echo hacked > {marker}"]', id="apply"),
        pytest.param('!!python/object/new:os.system ["echo hacked > {marker}"]', id="new"),
        pytest.param("!!python/name:os.system", id="name"),
        pytest.param("!include other.yaml", id="custom-tag"),
    ],
)
def test_object_building_tags_are_rejected_and_never_run(tmp_path: Path, tagged: str) -> None:
    marker = tmp_path / "HACKED"
    text = "crawler:\n  name: " + tagged.replace("{marker}", str(marker)) + "\n"
    problem = one_problem(tmp_path, text)
    assert problem.line == 2
    assert "is not allowed" in problem.message
    assert not marker.exists()


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "- https://a.example/\n")
    assert problem.line == 1
    assert "mapping" in problem.message


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "crawler:\n  name: a\n  name: b\n")
    assert problem.line == 3
    assert "duplicate key 'name'" in problem.message


def test_syntax_error_is_located(tmp_path: Path) -> None:
    problem = one_problem(tmp_path, "crawler:\n  name: [unclosed\n")
    assert problem.line is not None
    assert "syntax" in problem.message.lower()


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


# --- optout_list ---------------------------------------------------------------------------------


def test_relative_optout_list_is_resolved_against_the_config_file(tmp_path: Path) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    config = load_config(write(sub, "optout_list: lists/optout.db\n"))
    assert config.optout_list == str((sub / "lists" / "optout.db").resolve())


def test_absolute_optout_list_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "optout.db"
    assert load(tmp_path, f"optout_list: {target}\n").optout_list == str(target)


# --- digest --------------------------------------------------------------------------------------


def test_digest_is_a_stable_sha256(tmp_path: Path) -> None:
    first = load_config(write(tmp_path, DESIGN_EXAMPLE, "a.yaml")).digest()
    second = load_config(write(tmp_path, DESIGN_EXAMPLE, "b.yaml")).digest()
    assert first == second
    assert re.fullmatch(r"[0-9a-f]{64}", first)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(
            "crawler: {name: x, retention_days: 30}\n",
            "# same, reordered\ncrawler:\n  retention_days: 30\n  name: x\n",
            id="key-order-and-comments",
        ),
        pytest.param(
            "targets: [https://a.example/]\n",
            "targets: [{url: https://a.example/}]\n",
            id="bare-url-shorthand",
        ),
        pytest.param(
            "crawler: {lawful_basis: {UK: consent, EU: none}}\n",
            "crawler: {lawful_basis: {EU: none, UK: consent}}\n",
            id="map-order",
        ),
        pytest.param("", "crawl: {delay: 0.1}\n", id="explicit-default"),
    ],
)
def test_equal_configs_have_equal_digests(tmp_path: Path, one: str, other: str) -> None:
    assert load_config(write(tmp_path, one, "a.yaml")).digest() == (
        load_config(write(tmp_path, other, "b.yaml")).digest()
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param("crawler: {name: x}\n", "crawler: {name: y}\n", id="name"),
        pytest.param("crawl: {delay: 0.1}\n", "crawl: {delay: 0.2}\n", id="crawl-setting"),
        pytest.param(
            "targets: [https://a.example/, https://b.example/]\n",
            "targets: [https://b.example/, https://a.example/]\n",
            id="target-order",
        ),
        pytest.param("", "policies: []\n", id="no-policies-vs-default-policies"),
        pytest.param(
            "crawler: {retention_days: null}\n", "crawler: {retention_days: 0}\n", id="null-vs-0"
        ),
    ],
)
def test_different_configs_have_different_digests(tmp_path: Path, one: str, other: str) -> None:
    assert load_config(write(tmp_path, one, "a.yaml")).digest() != (
        load_config(write(tmp_path, other, "b.yaml")).digest()
    )


# --- JSON Schema ---------------------------------------------------------------------------------
# The jsonschema package is not a dependency, so a small validator covers exactly the keywords
# the exported schema uses; test_schema_uses_only_checked_keywords keeps that claim honest.

_CHECKED = {
    "type", "properties", "additionalProperties", "required", "items", "enum", "const", "anyOf",
    "oneOf", "allOf", "$ref", "pattern", "patternProperties", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems",
}  # fmt: skip
_ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "$defs"}
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _type_ok(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), ref
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node  # type: ignore[no-any-return]


def schema_errors(  # noqa: PLR0912, PLR0915 -- a branch per keyword
    value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$"
) -> list[str]:
    errors: list[str] = []
    if "$ref" in schema:
        errors += schema_errors(value, _resolve(root, schema["$ref"]), root, at)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, name) for name in names):
            return [f"{at}: {value!r} is not of type {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in enum")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}: {value!r} is not the const")
    if "anyOf" in schema:
        branches = [schema_errors(value, s, root, at) for s in schema["anyOf"]]
        if all(branches):
            errors.append(f"{at}: matches no anyOf branch: {branches}")
    if "oneOf" in schema:
        matching = sum(not schema_errors(value, s, root, at) for s in schema["oneOf"])
        if matching != 1:
            errors.append(f"{at}: matches {matching} oneOf branches")
    for sub in schema.get("allOf", []):
        errors += schema_errors(value, sub, root, at)
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{at}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 1e9):
            errors.append(f"{at}: length out of range")
    if _type_ok(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{at}: {value} < minimum")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{at}: {value} > maximum")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{at}: {value} <= exclusiveMinimum")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errors.append(f"{at}: {value} >= exclusiveMaximum")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1e9):
            errors.append(f"{at}: item count out of range")
        if "items" in schema:
            for index, item in enumerate(value):
                errors += schema_errors(item, schema["items"], root, f"{at}[{index}]")
    if isinstance(value, dict):
        errors += [
            f"{at}: missing {key!r}" for key in schema.get("required", []) if key not in value
        ]
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, item in value.items():
            where = f"{at}.{key}"
            matched = False
            if key in properties:
                matched = True
                errors += schema_errors(item, properties[key], root, where)
            for pattern, sub in patterns.items():
                if re.search(pattern, str(key)):
                    matched = True
                    errors += schema_errors(item, sub, root, where)
            extra = schema.get("additionalProperties", True)
            if not matched and extra is False:
                errors.append(f"{where}: additional property not allowed")
            elif not matched and isinstance(extra, dict):
                errors += schema_errors(item, extra, root, where)
    return errors


def keywords(node: Any, inside_properties: bool = False) -> set[str]:
    """Every schema keyword used anywhere in ``node`` (property names are not keywords)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not inside_properties:
                found.add(key)
            by_name = key in ("properties", "patternProperties", "$defs") and not inside_properties
            if by_name:
                for sub in value.values():
                    found |= keywords(sub)
            elif key not in ("enum", "const", "default", "examples"):
                found |= keywords(value, inside_properties=False)
    elif isinstance(node, list):
        for item in node:
            found |= keywords(item)
    return found


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return config_json_schema()


def test_schema_is_draft_2020_12_json(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "audit.yaml"
    assert schema["type"] == "object"
    assert json.loads(json.dumps(schema)) == schema
    assert "definitions" not in schema  # 2020-12 uses $defs
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema))
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/")
        assert isinstance(_resolve(schema, ref), dict)


def test_schema_uses_only_checked_keywords(schema: dict[str, Any]) -> None:
    assert keywords(schema) <= _CHECKED | _ANNOTATIONS


def test_schema_closes_every_object(schema: dict[str, Any]) -> None:
    assert set(schema["properties"]) == {
        "crawler",
        "targets",
        "policies",
        "optout_list",
        "optout",
        "registries",
        "crawl",
        "jurisdiction_thresholds",
        "manifest",
    }
    assert schema["additionalProperties"] is False
    for definition in schema["$defs"].values():
        assert definition["additionalProperties"] is False


def design_data(**replace: Any) -> dict[str, Any]:
    data = yaml.safe_load(DESIGN_EXAMPLE)
    data.update(replace)
    return data  # type: ignore[no-any-return]


def test_schema_validates_the_design_example_with_mapping_targets(schema: dict[str, Any]) -> None:
    targets = [{"url": "https://photos.example.org/"}, {"url": "https://news.example.co.uk/"}]
    assert schema_errors(design_data(targets=targets), schema, schema) == []


def test_schema_validates_the_design_example_verbatim(schema: dict[str, Any]) -> None:
    assert schema_errors(design_data(), schema, schema) == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        pytest.param({"crawlerr": {}}, "additional property", id="unknown-section"),
        pytest.param({"crawler": {"retension_days": 1}}, "additional property", id="unknown-key"),
        pytest.param({"crawler": {"purposes": ["ai-trian"]}}, "enum", id="bad-enum"),
        pytest.param({"crawler": {"retention_days": -1}}, "minimum", id="negative"),
        pytest.param({"targets": [{"url": "ftp://x/"}]}, "does not match", id="ftp-target"),
        pytest.param({"targets": [{"max_pages": 3}]}, "missing 'url'", id="target-without-url"),
        pytest.param({"crawl": {"scope": "site"}}, "", id="bad-scope"),
    ],
)
def test_schema_rejects_what_load_config_rejects(
    schema: dict[str, Any], tmp_path: Path, change: dict[str, Any], fragment: str
) -> None:
    errors = schema_errors(change, schema, schema)
    assert errors
    assert any(fragment in error for error in errors)
    with pytest.raises(ConfigError):
        load(tmp_path, json.dumps(change))


def test_schema_rejects_a_lowercase_market_key(schema: dict[str, Any], tmp_path: Path) -> None:
    document = {"crawler": {"lawful_basis": {"uk": "consent"}}}
    with pytest.raises(ConfigError):
        load(tmp_path, json.dumps(document))
    assert schema_errors(document, schema, schema)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"crawler": {"lawful_basis": {"UK": "consent", "EU": "none"}}}, id="map"),
        pytest.param({"crawler": {"lawful_basis": "consent"}}, id="single"),
        pytest.param({"crawl": {"delay": 0, "scope": "prefix"}}, id="crawl"),
        pytest.param(
            {"targets": [{"url": "http://a.example/", "jurisdictions": ["US-IL"]}]}, id="t"
        ),
        pytest.param({}, id="empty"),
    ],
)
def test_schema_accepts_what_load_config_accepts(
    schema: dict[str, Any], tmp_path: Path, document: dict[str, Any]
) -> None:
    assert schema_errors(document, schema, schema) == []
    load(tmp_path, json.dumps(document))
