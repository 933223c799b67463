"""Documentation examples are run: every ``audit.yaml`` snippet loads and every table is true.

Each ```` ```yaml ```` block in README.md and docs/configuration.md that has a top-level
``crawler:`` or ``targets:`` key is written to a file and loaded with :func:`load_config`; the
field tables of docs/configuration.md must name exactly the model's fields, with its defaults.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from auditor.config import (
    CrawlerDeclaration,
    CrawlSettings,
    JurisdictionThresholds,
    OptOutSettings,
    Target,
    load_config,
)
from auditor.manifest import ManifestSettings

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "configuration.md"]
CONFIGURATION = ROOT / "docs" / "configuration.md"

_FENCE = re.compile(r"^```yaml[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CONFIG_KEY = re.compile(r"^(crawler|targets):", re.MULTILINE)


def config_blocks(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each yaml block with a top-level crawler/targets key."""
    text = path.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(1))
        for match in _FENCE.finditer(text)
        if _CONFIG_KEY.search(match.group(1))
    ]


EXAMPLES = [
    pytest.param(block, id=f"{path.relative_to(ROOT)}:{line}")
    for path in DOCS
    for line, block in config_blocks(path)
]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_document_has_a_config_example(path: Path) -> None:
    assert config_blocks(path), f"no audit.yaml example found in {path}"


def test_block_finder_skips_yaml_without_config_keys(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "```yaml\nroutes: []\n```\n\n```yaml\n# audit\ntargets:\n  - https://a.example/\n```\n"
        "```sh\ncrawler: not yaml\n```\n",
        encoding="utf-8",
    )
    assert config_blocks(doc) == [(6, "# audit\ntargets:\n  - https://a.example/\n")]


@pytest.mark.parametrize("block", EXAMPLES)
def test_documented_config_example_loads(tmp_path: Path, block: str) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(block, encoding="utf-8")
    config = load_config(path)
    # A crawl needs targets; a manifest audit reads its rows instead.
    assert config.targets or "manifest:" in block, "documented crawl examples show a target"
    assert all(target.url.startswith(("http://", "https://")) for target in config.targets)


def test_demo_audit_yaml_loads() -> None:
    # `make demo` runs with this declaration; the README points users at it.
    config = load_config(ROOT / "fixtures" / "sites" / "demo" / "audit.yaml")
    assert config.crawler.robots_tokens == ("AcmeImageBot",)
    assert config.policies == ("uk-gdpr",)


# --- the field tables of docs/configuration.md ---------------------------------------------------


def table(section: str) -> dict[str, list[str]]:
    """Rows of the first table under the ``## `section``` heading: field -> other cells."""
    text = CONFIGURATION.read_text(encoding="utf-8")
    start = text.index(f"## `{section}`")
    end = text.find("\n## ", start + 1)
    rows: dict[str, list[str]] = {}
    for line in text[start : end if end > 0 else None].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and cells:
            rows[cells[0].strip("`")] = cells[1:]
    assert rows, f"no table under {section}"
    return rows


def documented_value(cell: str) -> Any:
    """Turn a documented default into the value the model holds."""
    cell = cell.strip()
    if cell.startswith("not provided"):
        return None
    literals: dict[str, Any] = {"`[]`": [], "`true`": True, "`false`": False}
    if cell in literals:
        return literals[cell]
    cell = cell.strip("`")
    if cell.endswith(" MiB"):
        return int(cell.removesuffix(" MiB")) * 1024 * 1024
    number = cell.replace(",", "")
    if re.fullmatch(r"\d+", number):
        return int(number)
    if re.fullmatch(r"\d+\.\d+", number):
        return float(number)
    return cell


@pytest.mark.parametrize(
    ("section", "model"),
    [
        pytest.param("crawler", CrawlerDeclaration, id="crawler"),
        pytest.param("targets", Target, id="targets"),
        pytest.param("crawl", CrawlSettings, id="crawl"),
        pytest.param("jurisdiction_thresholds", JurisdictionThresholds, id="thresholds"),
        pytest.param("optout", OptOutSettings, id="optout"),
    ],
)
def test_every_field_is_documented_and_every_documented_field_exists(
    section: str, model: type[Any]
) -> None:
    assert set(table(section)) == set(model.model_fields)


def test_documented_crawler_defaults_are_the_model_defaults() -> None:
    defaults = CrawlerDeclaration().model_dump(mode="json")
    for field, (_, default, _) in table("crawler").items():
        assert documented_value(default) == defaults[field], field


def test_documented_crawl_defaults_are_the_model_defaults() -> None:
    defaults = CrawlSettings().model_dump(mode="json")
    for field, (default, _) in table("crawl").items():
        assert documented_value(default) == defaults[field], field


def test_documented_manifest_fields_are_the_model_fields_and_defaults() -> None:
    defaults = ManifestSettings().model_dump(mode="json")
    flat = {f"columns.{name}": column for name, column in defaults.pop("columns").items()}
    flat.update(defaults)
    rows = table("manifest")
    assert set(rows) == set(flat)
    for field, (default, _) in rows.items():
        assert documented_value(default) == flat[field], field


def test_documented_thresholds_are_the_model_defaults() -> None:
    defaults = JurisdictionThresholds().model_dump(mode="json")
    for field, (default, _) in table("jurisdiction_thresholds").items():
        assert documented_value(default) == defaults[field], field


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        pytest.param("not provided", None, id="not-provided"),
        pytest.param("not provided (no limit)", None, id="not-provided-with-note"),
        pytest.param("`[]`", [], id="empty-list"),
        pytest.param("`host`", "host", id="code-string"),
        pytest.param("5 MiB", 5 * 1024 * 1024, id="mebibytes"),
        pytest.param("89,478,485", 89_478_485, id="thousands-separators"),
        pytest.param("0.1", 0.1, id="float"),
        pytest.param("60", 60, id="int"),
    ],
)
def test_documented_value_parser(cell: str, value: Any) -> None:
    assert documented_value(cell) == value


def test_documented_optout_defaults_are_the_model_and_matcher_defaults() -> None:
    from auditor.optout import DEFAULT_HAMMING_THRESHOLD, DEFAULT_NEAR_BAND  # noqa: PLC0415

    defaults = OptOutSettings().model_dump(mode="json")
    assert defaults == {
        "hamming_threshold": DEFAULT_HAMMING_THRESHOLD,
        "near_band": DEFAULT_NEAR_BAND,
    }
    for field, (default, _) in table("optout").items():
        assert documented_value(default) == defaults[field], field
