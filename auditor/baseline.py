"""Baselines: fail CI only on findings that are new since a reviewed state (conventions.md 5).

``auditor check --write-baseline FILE`` writes the fingerprints of the current findings to a
human-readable YAML file meant to be committed and reviewed; ``--baseline FILE`` marks findings
found in it as ``baselined`` (reported everywhere, not counted by the gate), and baseline entries
that no longer match are reported as fixed. Fingerprints come from identity (rule, subject, URL
or hash), never position, so they survive re-crawls in another order.

The file is versioned (``schema_version``); a file from a newer auditor is refused with a
message saying so, rather than half-read.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditor import __version__
from auditor.errors import ConfigError, Problem
from auditor.yamlsrc import load_yaml, problems_from_validation

if TYPE_CHECKING:
    from auditor.store import FindingExport

__all__ = [
    "BASELINE_SCHEMA_VERSION",
    "Baseline",
    "BaselineEntry",
    "load_baseline",
    "write_baseline",
]

BASELINE_SCHEMA_VERSION: Literal[1] = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaselineEntry(_Strict):
    """One accepted finding: its fingerprint, and enough context for a reviewer to read."""

    fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")]
    rule_id: str
    severity: str
    outcome: str
    subject: str
    url: str | None = None


class Baseline(_Strict):
    """A baseline file (``schema_version`` 1)."""

    schema_version: Literal[1] = BASELINE_SCHEMA_VERSION
    tool_version: str
    policy_hash: str | None = None
    created: str
    findings: tuple[BaselineEntry, ...] = ()

    @property
    def fingerprints(self) -> frozenset[str]:
        """Every fingerprint in the baseline."""
        return frozenset(entry.fingerprint for entry in self.findings)


def write_baseline(
    path: Path, findings: Iterable[FindingExport], *, policy_hash: str | None, created: str
) -> Baseline:
    """Write the baseline of ``findings`` to ``path`` (sorted, so diffs stay reviewable)."""
    entries = sorted(
        (
            BaselineEntry(
                fingerprint=f.fingerprint,
                rule_id=f.rule_id,
                severity=f.severity.value,
                outcome=f.outcome.value,
                subject=f.subject.value,
                url=f.subject_url,
            )
            for f in findings
        ),
        key=lambda e: (e.rule_id, e.url or "", e.fingerprint),
    )
    baseline = Baseline(
        tool_version=__version__, policy_hash=policy_hash, created=created, findings=tuple(entries)
    )
    header = (
        "# Findings accepted as the current state: `auditor check --baseline` does not fail on\n"
        "# them. Review changes to this file like code; regenerate with --write-baseline.\n"
    )
    body = yaml.safe_dump(baseline.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    try:
        path.write_text(header + body, encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, f"cannot write the baseline: {exc}")]) from None
    return baseline


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file; every problem is reported at once, with file and line."""
    document = load_yaml(path, error=ConfigError)
    data = document.data
    if isinstance(data, dict):
        version = data.get("schema_version")
        if isinstance(version, int) and version > BASELINE_SCHEMA_VERSION:
            message = (
                f"baseline schema_version {version} is newer than this auditor understands "
                f"({BASELINE_SCHEMA_VERSION}); upgrade the auditor or regenerate the baseline"
            )
            raise ConfigError([Problem(str(path), document.line_of(("schema_version",)), message)])
    try:
        return Baseline.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, document, model=Baseline)) from None
