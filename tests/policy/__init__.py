"""Tests of the policy engine; small builders for pack files shared by the test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from auditor.policy import PolicySet, load_packs


def rule(rule_id: str = "T-RULE-ONE", **fields: Any) -> dict[str, Any]:
    """A valid declaration rule; ``fields`` override or add keys."""
    base: dict[str, Any] = {
        "id": rule_id,
        "title": "A test rule",
        "subject": "declaration",
        "severity": "high",
        "references": ["Test Art. 1"],
        "fail_when": {"fact": "crawler.dpia", "is_null": True},
        "message": "No DPIA for {crawler.name}",
        "remediation": "Write one.",
    }
    base.update(fields)
    return base


def pack_text(
    name: str = "test-pack", rules: list[dict[str, Any]] | None = None, **header: Any
) -> str:
    """YAML text of a valid pack named ``name``."""
    data: dict[str, Any] = {
        "pack": name,
        "title": "Test pack",
        "jurisdiction": "UK",
        "version": "1",
        "status": "in_force",
        "sources": ["https://example.org/law"],
        "rules": rules if rules is not None else [rule()],
    }
    data.update(header)
    return yaml.safe_dump(data, sort_keys=False)


def write_pack(
    directory: Path, name: str = "test-pack", text: str | None = None, **kw: Any
) -> Path:
    """Write ``<directory>/<name>.yaml`` (``text`` verbatim, or built by :func:`pack_text`)."""
    path = directory / f"{name}.yaml"
    path.write_text(text if text is not None else pack_text(name, **kw), encoding="utf-8")
    return path


def load_rules(directory: Path, *rules: dict[str, Any], jurisdiction: str = "UK") -> PolicySet:
    """Write one pack with ``rules`` and load it."""
    write_pack(directory, rules=list(rules), jurisdiction=jurisdiction)
    return load_packs(["test-pack"], dirs=[directory])
