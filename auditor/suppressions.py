"""Suppressions: reviewed exceptions with a reason, an author and an expiry (conventions.md 6).

``.auditor-ignore.yaml`` (or ``--suppressions FILE``)::

    schema_version: 1
    suppressions:
      - fingerprint: 3f9c0e1a...            # one finding, or:
      - rule: UK-GDPR-A05-1E-RETENTION        #   a rule, optionally limited to subjects whose
        scope: "https://www.example.org/archive/*"   # URL matches this glob
        reason: Archive under legal hold, ref LH-2024-11     # required
        author: a.compliance@example.org                     # required
        created: 2025-01-10                                  # required
        expires: 2025-07-10                                  # optional (warned when absent)
        approved_by: dpo@example.org
        false_positive: false

An entry without a reason, author or creation date is a configuration error (exit 2).
Suppressed findings are never hidden: they keep appearing in every output, marked with the
entry. An **expired** entry stops suppressing (the finding counts again) and the run warns; a
**stale** entry (matching nothing) is warned about with where to delete it. A glob ``scope``
matches the finding's most specific URL (image, else page, else site) with :func:`fnmatch`
semantics, case-sensitively; an entry with a rule and no scope matches every subject of the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from auditor.errors import ConfigError
from auditor.model import SuppressionInfo, SuppressionStatus
from auditor.yamlsrc import load_yaml, problems_from_validation

if TYPE_CHECKING:
    from auditor.store import FindingExport

__all__ = ["DEFAULT_SUPPRESSIONS", "SuppressionFile", "SuppressionMatcher", "load_suppressions"]

DEFAULT_SUPPRESSIONS = Path(".auditor-ignore.yaml")

NonEmpty = Annotated[str, Field(min_length=1)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")] | None = None
    rule: NonEmpty | None = None
    scope: NonEmpty | None = None
    reason: NonEmpty
    author: NonEmpty
    created: date
    expires: date | None = None
    approved_by: str | None = None
    false_positive: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> _Entry:
        """Require exactly one way of matching: a fingerprint, or a rule (with its scope)."""
        if (self.fingerprint is None) == (self.rule is None):
            raise ValueError("give either a fingerprint or a rule (with an optional scope)")
        if self.scope is not None and self.rule is None:
            raise ValueError("a scope needs a rule")
        return self


class SuppressionFile(BaseModel):
    """The whole suppressions file (``schema_version`` 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    suppressions: tuple[_Entry, ...] = ()


@dataclass(frozen=True)
class LoadedSuppressions:
    """The entries of one file, with the line of each for warnings."""

    path: str
    entries: tuple[SuppressionInfo, ...]
    lines: tuple[int | None, ...]


def load_suppressions(path: Path) -> LoadedSuppressions:
    """Read a suppressions file; every problem at once, with file and line (exit 2)."""
    document = load_yaml(path, error=ConfigError)
    try:
        spec = SuppressionFile.model_validate(document.data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, document, model=SuppressionFile)) from None
    entries = tuple(
        SuppressionInfo(
            reason=entry.reason,
            author=entry.author,
            created=entry.created.isoformat(),
            expires=entry.expires.isoformat() if entry.expires else None,
            fingerprint=entry.fingerprint,
            rule=entry.rule,
            scope=entry.scope,
            approved_by=entry.approved_by,
            false_positive=entry.false_positive,
        )
        for entry in spec.suppressions
    )
    lines = tuple(document.line_of(("suppressions", i)) for i in range(len(entries)))
    return LoadedSuppressions(str(path), entries, lines)


def _matches(entry: SuppressionInfo, finding: FindingExport) -> bool:
    if entry.fingerprint is not None:
        return entry.fingerprint == finding.fingerprint
    if entry.rule != finding.rule_id:
        return False
    return entry.scope is None or fnmatchcase(finding.subject_url or "", entry.scope)


@dataclass
class SuppressionMatcher:
    """Matches findings against the entries and keeps the register of what matched."""

    loaded: LoadedSuppressions
    today: date
    _matched: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self._matched = [0] * len(self.loaded.entries)

    def _expired(self, entry: SuppressionInfo) -> bool:
        return entry.expires is not None and date.fromisoformat(entry.expires) < self.today

    def match(self, finding: FindingExport) -> SuppressionInfo | None:
        """Return the live entry suppressing ``finding``; expired entries only count matches."""
        live: SuppressionInfo | None = None
        for index, entry in enumerate(self.loaded.entries):
            if _matches(entry, finding):
                self._matched[index] += 1
                if live is None and not self._expired(entry):
                    live = entry
        return live

    def register(self) -> tuple[SuppressionStatus, ...]:
        """Every entry with its status (active, expired, stale) and match count."""
        out = []
        for entry, matched in zip(self.loaded.entries, self._matched, strict=True):
            status: Literal["active", "expired", "stale"]
            if self._expired(entry):
                status = "expired"
            elif matched == 0:
                status = "stale"
            else:
                status = "active"
            out.append(SuppressionStatus(entry, status, matched))
        return tuple(out)

    def warnings(self) -> tuple[str, ...]:
        """One line per entry that needs attention: expired, stale, or without an expiry."""
        out = []
        for status, line in zip(self.register(), self.loaded.lines, strict=True):
            entry = status.entry
            what = entry.fingerprint or f"{entry.rule}" + (f" {entry.scope}" if entry.scope else "")
            where = f"{self.loaded.path}:{line}" if line else self.loaded.path
            if status.status == "expired":
                out.append(
                    f"{where}: suppression {what} expired on {entry.expires}; its "
                    f"{status.matched} finding(s) count again: fix them or renew it with a reason"
                )
            elif status.status == "stale":
                out.append(f"{where}: suppression {what} matches nothing; delete that entry")
            elif entry.expires is None:
                out.append(f"{where}: suppression {what} has no expiry date; add `expires:`")
        return tuple(out)
