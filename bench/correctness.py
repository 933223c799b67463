"""Compare an auditor run with the generator's ground truth, image by image.

The auditor's side is its stable export (``auditor export --what images --format jsonl``,
DESIGN 4.3), so this checks what users and pipelines see, not internal records. For each image
URL of ``ground_truth.json`` every expected field is compared; an image agrees when all of
its fields do. Images the auditor reports that the ground truth does not list are mismatches
too (``unexpected``).

Fields: ``fetched``, ``skip_reason``, ``status``, ``content_type``, ``sha256``, ``width``,
``height``, ``extract_error`` (whether any extraction error is recorded), ``gps``, ``faces``
(whether more than zero; checked only when face detection ran), ``data_mining`` (the IPTC key
among the XMP ``data_mining`` values) and the usage verdicts for ``crawl``, ``tdm``,
``ai-train`` and ``genai-train``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PURPOSES = ("crawl", "tdm", "ai-train", "genai-train")
"""The usage purposes the ground truth states."""
MAX_LISTED = 50
"""Mismatches listed in full; the rest are counted by field."""


@dataclass
class Agreement:
    """How far one run agrees with the ground truth."""

    images: int = 0
    agreeing: int = 0
    checks: int = 0
    failed_checks: int = 0
    by_field: Counter[str] = field(default_factory=Counter)
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.agreeing / self.images if self.images else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "images": self.images,
            "agreeing": self.agreeing,
            "percent": round(self.percent, 3),
            "checks": self.checks,
            "failed_checks": self.failed_checks,
            "failed_by_field": dict(self.by_field.most_common()),
            "mismatches": self.mismatches[:MAX_LISTED],
        }


def _data_mining(record: Mapping[str, Any]) -> str | None:
    xmp = record.get("xmp") or {}
    for value in xmp.get("data_mining") or []:
        text = value.get("value") if isinstance(value, dict) else value
        if isinstance(text, str):
            return text.rsplit("/", 1)[-1]
    return None


def observed(record: Mapping[str, Any]) -> dict[str, object]:
    """The exported record's values under the ground truth's field names."""
    faces = record.get("faces")
    usage = record.get("usage") or {}
    return {
        "fetched": record.get("fetched"),
        "skip_reason": record.get("skip_reason"),
        "status": record.get("status"),
        "content_type": record.get("content_type"),
        "sha256": record.get("sha256"),
        "width": record.get("width"),
        "height": record.get("height"),
        "extract_error": record.get("extract_error") is not None,
        "gps": bool(record.get("gps")),
        "faces": None if faces is None else faces > 0,
        "data_mining": _data_mining(record),
        "usage": {purpose: usage.get(purpose) for purpose in PURPOSES},
    }


def compare(
    records: Iterable[Mapping[str, Any]],
    truth: Mapping[str, Any],
    base_url: str,
    *,
    faces_checked: bool = True,
) -> Agreement:
    """Compare exported image records with ``truth`` (``ground_truth.json``, loaded)."""
    by_url = {record["url"]: record for record in records}
    result = Agreement()
    base = base_url.rstrip("/")
    for path, info in sorted(truth["images"].items()):
        url = base + path
        result.images += 1
        expect = dict(info["expect"])
        if not faces_checked:
            expect.pop("faces", None)
        record = by_url.pop(url, None)
        if record is None:
            result.checks += 1
            result.failed_checks += 1
            result.by_field["missing"] += 1
            result.mismatches.append({"url": url, "field": "missing", "scenario": _scenario(info)})
            continue
        got = observed(record)
        wrong = []
        for name, wanted in expect.items():
            if name == "usage":
                for purpose, verdict in wanted.items():
                    result.checks += 1
                    if got["usage"].get(purpose) != verdict:  # type: ignore[attr-defined]
                        wrong.append((f"usage.{purpose}", verdict, got["usage"].get(purpose)))  # type: ignore[attr-defined]
                continue
            result.checks += 1
            if got.get(name) != wanted:
                wrong.append((name, wanted, got.get(name)))
        if not wrong:
            result.agreeing += 1
            continue
        result.failed_checks += len(wrong)
        for name, wanted, value in wrong:
            result.by_field[name] += 1
            result.mismatches.append(
                {"url": url, "field": name, "expected": wanted, "got": value,
                 "scenario": _scenario(info)}
            )  # fmt: skip
    for url in sorted(by_url):  # reported by the auditor, absent from the site's image list
        result.images += 1
        result.by_field["unexpected"] += 1
        result.mismatches.append({"url": url, "field": "unexpected"})
    return result


def _scenario(info: Mapping[str, Any]) -> str:
    keys = ("size", "format", "content", "metadata", "signal", "error")
    return "/".join(str(info[key]) for key in keys)


def load_jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
