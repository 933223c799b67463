"""docs/limits.md is true: its config example loads and its crawl table has the real defaults.

Keys that ``CrawlSettings`` does not have yet are checked against the fetcher's own default
(:class:`~auditor.crawl.fetcher.FetchLimits`), which the setting is passed into.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from auditor.config import CrawlSettings, load_config
from auditor.crawl.fetcher import FetchLimits

LIMITS = Path(__file__).resolve().parent.parent / "docs" / "limits.md"
_FENCE = re.compile(r"^```yaml[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def documented(cell: str) -> Any:
    """A documented default as the model holds it: `500`, 5 MiB, 89,478,485, `false`."""
    cell = cell.strip().strip("`")
    if cell in ("true", "false"):
        return cell == "true"
    if cell.endswith(" MiB"):
        return int(cell.removesuffix(" MiB")) * 1024 * 1024
    number = cell.replace(",", "")
    return float(number) if "." in number else int(number)


def crawl_rows() -> dict[str, str]:
    text = LIMITS.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `crawl\.([a-z_]+)` \| ([^|]+) \|", text, re.MULTILINE)
    assert rows, "no crawl table in docs/limits.md"
    return dict(rows)


@pytest.mark.parametrize("block", _FENCE.findall(LIMITS.read_text(encoding="utf-8")))
def test_config_examples_load(block: str, tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(block, encoding="utf-8")
    assert load_config(path).targets


def test_crawl_defaults_are_the_real_defaults() -> None:
    settings = CrawlSettings().model_dump()
    fetcher = {field.name: field.default for field in dataclasses.fields(FetchLimits)}
    for key, cell in crawl_rows().items():
        default = settings[key] if key in settings else fetcher[key]
        assert documented(cell) == default, key


def test_every_size_and_time_setting_is_documented() -> None:
    documented_keys = set(crawl_rows())
    not_limits = {"token", "scope", "detect_faces"}  # documented in configuration.md
    assert not_limits | documented_keys >= set(CrawlSettings.model_fields)
