"""Exports: the DESIGN 4.3 shapes, JSON lines, CSV and formula-injection defusing."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.report import EXPORTERS
from auditor.report.export import FORMULA_TRIGGERS, csv_cell, defuse, export, json_line
from auditor.store import FindingExport, ImageExport, SignalExport, Store

from . import FORMULA, HOSTILE, SITE, write_run

PURPOSES = ["crawl", "search", "tdm", "ai-train", "genai-train", "ai-input"]
VERDICTS = {"allowed", "disallowed", "unknown"}

IMAGE_KEYS = {
    "url": str,
    "page_urls": list,
    "fetched": bool,
    "skip_reason": (str, type(None)),
    "status": (int, type(None)),
    "content_type": (str, type(None)),
    "sha256": (str, type(None)),
    "phash": (str, type(None)),
    "width": (int, type(None)),
    "height": (int, type(None)),
    "faces": (int, type(None)),
    "gps": (bool, type(None)),
    "usage": dict,
    "signals": list,
    "jurisdictions": dict,
}
#: Keys every image export object has besides the DESIGN 4.3 ones (extras are allowed).
IMAGE_EXTRA_KEYS = {
    "usage_conflicts": list,
    "xmp": (dict, type(None)),
    "c2pa": (dict, type(None)),
}
SIGNAL_KEYS = {
    "mechanism": str,
    "scope": str,
    "source_url": str,
    "raw_value": (str, type(None)),
    "purposes": dict,
    "notes": list,
    "applies_to": (str, type(None)),
    "fetched_at": (str, type(None)),
    "http_status": (int, type(None)),
    "parsed": (str, type(None)),
    "token": (str, type(None)),
    "sha256": (str, type(None)),
    "evaluation": str,
}
FINDING_KEYS = {
    "rule_id": str,
    "pack": str,
    "jurisdiction": str,
    "outcome": str,
    "severity": str,
    "subject": str,
    "image_url": (str, type(None)),
    "page_url": (str, type(None)),
    "site": (str, type(None)),
    "message": str,
    "references": list,
    "evidence": dict,
    "fingerprint": str,
    "title": str,
    "remediation": (str, type(None)),
}


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[Store, int]]:
    store, run_id = write_run(tmp_path / "audit.db")
    with store:
        yield store, run_id


def _jsonl(store: Store, run_id: int, what: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    rows = EXPORTERS[(what, "jsonl")](store, run_id, out)
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    assert len(lines) - 1 == rows
    return [json.loads(line) for line in lines[:-1]]


def _csv(store: Store, run_id: int, what: str) -> tuple[list[str], list[dict[str, str]]]:
    out = io.StringIO()
    rows = EXPORTERS[(what, "csv")](store, run_id, out)
    reader = csv.DictReader(io.StringIO(out.getvalue(), newline=""))
    records = list(reader)
    assert len(records) == rows
    return list(reader.fieldnames or []), records


def _check_types(data: dict[str, Any], spec: dict[str, Any]) -> None:
    for key, kind in spec.items():
        assert key in data, key
        assert isinstance(data[key], kind), (key, data[key])


def test_image_export_has_the_design_shape(stored: tuple[Store, int]) -> None:
    images = _jsonl(*stored, "images")
    assert [i["url"] for i in images] == [f"{SITE}/img/0.jpg", f"{SITE}/img/1.jpg"]
    for data in images:
        _check_types(data, IMAGE_KEYS)
        _check_types(data, IMAGE_EXTRA_KEYS)
        assert list(data) == list(ImageExport.json_keys)
        assert list(data)[: len(IMAGE_KEYS)] == list(IMAGE_KEYS)  # the contract keys come first
        assert list(data["usage"]) == PURPOSES
        assert set(data["usage"].values()) <= VERDICTS
        for signal in data["signals"]:
            _check_types(signal, SIGNAL_KEYS)
            assert "image_url" not in signal
    skipped, fetched = images
    assert skipped["fetched"] is False
    assert skipped["skip_reason"] == "robots_disallowed"
    assert skipped["gps"] is None
    assert skipped["usage"] == dict.fromkeys(PURPOSES, "unknown")
    assert fetched["gps"] is True
    assert fetched["faces"] is None
    assert fetched["usage"]["ai-train"] == "disallowed"
    assert fetched["page_urls"] == [f"{SITE}/"]
    assert fetched["jurisdictions"] == {"FR": 0.7}
    assert fetched["signals"][0]["purposes"] == {"ai-train": "disallowed"}
    assert fetched["exif"]["gps_lon"] == -2.35
    assert fetched["contexts"][0]["alt"] == FORMULA


def test_finding_and_signal_exports_have_the_design_shape(stored: tuple[Store, int]) -> None:
    findings = _jsonl(*stored, "findings")
    assert [(f["severity"], f["rule_id"]) for f in findings] == [
        ("critical", "R-CRIT"),
        ("high", "R-HIGH"),
        ("high", "R-HIGH"),
        ("high", "R-HIGH"),
        ("info", "R-INFO"),
    ]
    for data in findings:
        _check_types(data, FINDING_KEYS)
        assert list(data) == list(FindingExport.json_keys)
    assert findings[0]["evidence"] == {"faces": None, "title": HOSTILE}
    assert findings[0]["references"] == ["UK GDPR Art. 6"]

    signals = _jsonl(*stored, "signals")
    assert len(signals) == 2
    for data in signals:
        _check_types(data, SIGNAL_KEYS)
        assert list(data) == list(SignalExport.json_keys)
    page_level, image_level = signals  # subject URL order: the page sorts first
    assert (image_level["image_url"], image_level["page_url"]) == (f"{SITE}/img/1.jpg", None)
    assert (page_level["image_url"], page_level["page_url"]) == (None, f"{SITE}/")
    assert page_level["mechanism"] == "tdmrep.html"
    assert page_level["scope"] == "page"
    assert page_level["purposes"] == {"tdm": "disallowed"}


def test_image_export_carries_conflicts_and_embedded_facts(stored: tuple[Store, int]) -> None:
    skipped, fetched = _jsonl(*stored, "images")
    assert fetched["usage_conflicts"] == ["ai-train"]
    assert fetched["xmp"]["data_mining"] == [
        {"value": "DMI-PROHIBITED-AIMLTRAINING", "form": "text"}
    ]
    assert fetched["xmp"]["dc_creators"] == ["Jo Photographer"]
    assert fetched["xmp"]["usage_terms"] == FORMULA
    assert fetched["xmp"]["error"] is None
    assert fetched["c2pa"]["training_mining"] == [
        {
            "label": "c2pa.training-mining",
            "manifest": "urn:uuid:1",
            "active": True,
            "entries": [{"key": "c2pa.ai_training", "use": "notAllowed", "constraint_info": None}],
        }
    ]
    assert (skipped["usage_conflicts"], skipped["xmp"], skipped["c2pa"]) == ([], None, None)

    _header, rows = _csv(*stored, "images")
    assert json.loads(rows[1]["usage_conflicts"]) == ["ai-train"]
    assert json.loads(rows[1]["xmp"])["usage_terms"] == FORMULA  # JSON cell: starts with "{"
    assert rows[0]["xmp"] == ""


def test_page_level_signals_export_as_csv(stored: tuple[Store, int]) -> None:
    header, rows = _csv(*stored, "signals")
    assert header[:2] == ["image_url", "page_url"]
    page_level, image_level = rows
    assert (page_level["image_url"], page_level["page_url"]) == ("", f"{SITE}/")
    assert page_level["raw_value"] == "'@1"  # crawled text, defused
    assert (image_level["image_url"], image_level["page_url"]) == (f"{SITE}/img/1.jpg", "")


def test_jsonl_lines_are_compact_utf8_and_split_safely() -> None:
    line = json_line({"a": "caf\u00e9 \u2028 x\ny", "b": [1, 2]})
    assert line == '{"a":"caf\u00e9 \\u2028 x\\ny","b":[1,2]}'
    assert len(line.splitlines()) == 1
    assert json.loads(line)["a"] == "caf\u00e9 \u2028 x\ny"


def test_csv_parses_and_hostile_cells_are_defused(stored: tuple[Store, int]) -> None:
    header, images = _csv(*stored, "images")
    assert header == list(ImageExport.json_keys)
    fetched = images[1]
    assert fetched["fetched"] == "true"
    assert fetched["faces"] == ""
    assert json.loads(fetched["usage"])["ai-train"] == "disallowed"
    contexts = json.loads(fetched["contexts"])
    assert contexts[0]["alt"] == FORMULA  # inside JSON the value is intact: the cell starts "["
    exif = json.loads(fetched["exif"])
    assert exif["artist"] == "+SUM(1,2)"

    _header, signals = _csv(*stored, "signals")
    assert signals[1]["raw_value"] == "'\tnoai\r\n=cmd|' /C calc'!A0"

    header, findings = _csv(*stored, "findings")
    assert header == list(FindingExport.json_keys)
    assert findings[0]["remediation"] == "'-remove it"
    assert findings[0]["message"].startswith(f"{SITE}/img/1.jpg")
    for row in (*images, *signals, *findings):
        for cell in row.values():
            assert not cell.startswith(FORMULA_TRIGGERS), cell


def test_numbers_are_not_defused() -> None:
    assert csv_cell(-2.35) == -2.35
    assert csv_cell(-1) == -1
    assert csv_cell(True) == "true"
    assert csv_cell(None) == ""
    assert csv_cell(["=x"]) == '["=x"]'
    assert csv_cell("-1") == "'-1"


@given(st.text())
def test_defused_text_never_starts_a_formula(value: str) -> None:
    cell = defuse(value)
    assert not cell.startswith(FORMULA_TRIGGERS)
    assert cell in (value, "'" + value)


def test_an_unknown_run_exports_nothing(stored: tuple[Store, int]) -> None:
    store, _run_id = stored
    out = io.StringIO()
    assert export(store, 999, "findings", "csv", out) == 0
    assert out.getvalue() == ",".join(FindingExport.json_keys) + "\n"


def test_registry_covers_every_combination(stored: tuple[Store, int]) -> None:
    assert set(EXPORTERS) == {
        (what, fmt)
        for what in ("images", "findings", "signals", "deletions")
        for fmt in ("jsonl", "csv")
    }
    for (what, fmt), exporter in EXPORTERS.items():
        rows = exporter(*stored, io.StringIO())
        # The hostile run's rules are not deletion rules: its deletion list is empty.
        assert rows > 0 if what != "deletions" else rows == 0, (what, fmt)
