"""The ``manifest:`` settings, format detection, the package's import weight and the fixtures."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from pydantic import ValidationError

from auditor.manifest import ColumnMapping, ManifestSettings, detect

from . import FIXTURE_MANIFESTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "manifests.md"


def test_defaults_name_the_usual_columns_and_require_only_the_url() -> None:
    mapping = ColumnMapping()
    assert mapping.columns() == {
        "url": "url",
        "page_url": "page_url",
        "collected_at": "collected_at",
        "sha256": "sha256",
        "phash": "phash",
        "local_path": "local_path",
    }
    assert mapping.required() == {"url": "url"}


def test_named_columns_are_required_and_null_ones_are_not_read() -> None:
    mapping = ColumnMapping(url="image_url", collected_at="fetched_at", phash=None)
    assert mapping.required() == {"url": "image_url", "collected_at": "fetched_at"}
    assert "phash" not in mapping.columns()


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"url": "link", "page_url": "link"}, "'url' and 'page_url' both name the column 'link'"),
        ({"image": "x"}, "Extra inputs are not permitted"),
        ({"url": ""}, "at least 1 character"),
        ({"url": None}, "Input should be a valid string"),
    ],
)
def test_bad_mappings_are_refused(columns: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ManifestSettings.model_validate({"columns": columns})


def test_the_documented_manifest_section_is_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    sections = [yaml.safe_load(block) for block in blocks if block.startswith("manifest:")]
    assert sections, "docs/manifests.md shows the manifest: section"
    for section in sections:
        settings = ManifestSettings.model_validate(section["manifest"])
        assert settings.columns.url == "image_url"
        assert settings.columns.collected_at == "fetched_at"


def test_detect_looks_at_names_only(tmp_path: Path) -> None:
    for name in ("a.CSV", "b.tsv", "c.ndjson", "d.jsonl", "e.parquet", "f.json"):
        (tmp_path / name).write_bytes(b"")
    assert [detect(tmp_path / n) for n in ("a.CSV", "b.tsv", "c.ndjson", "d.jsonl")] == [
        "csv",
        "tsv",
        "jsonl",
        "jsonl",
    ]
    assert detect(tmp_path / "e.parquet") == "parquet"
    assert detect(tmp_path / "f.json") is None
    assert detect(tmp_path / "missing.csv") is None
    assert detect(tmp_path) == "directory"
    (tmp_path / "00003_stats.json").write_text("{}", encoding="utf-8")
    assert detect(tmp_path) == "img2dataset"


def test_the_settings_load_without_the_readers_heavy_imports() -> None:
    # auditor.config imports the settings: validating audit.yaml must stay light (the
    # declaration-only gate pins the same boundary for the whole CLI).
    probe = (
        "import sys\n"
        "from auditor.manifest import ManifestSettings, ManifestRow, detect\n"
        "heavy = sorted(m for m in ('pyarrow', 'PIL', 'numpy', 'idna') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""


def load_generator() -> ModuleType:
    path = FIXTURE_MANIFESTS / "make_manifests.py"
    spec = importlib.util.spec_from_file_location("make_manifests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generator_is_deterministic_small_and_in_step_with_the_committed_files() -> None:
    build = load_generator().build
    first, second = build(), build()
    assert first == second
    on_disk = sum(p.stat().st_size for p in FIXTURE_MANIFESTS.rglob("*") if p.is_file())
    assert on_disk < 300_000
    for name, data in first.items():
        committed = FIXTURE_MANIFESTS / name
        if name.endswith(".parquet"):  # the writer's version is in the file: compare the data
            assert pq.read_table(committed).equals(pq.read_table(pa.BufferReader(data))), name
        else:
            assert hashlib.sha256(committed.read_bytes()).digest() == hashlib.sha256(data).digest()
