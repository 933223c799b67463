"""The auditor's exception tree.

Every error the core raises on purpose derives from :class:`AuditorError` and carries a one-line,
actionable message: what is wrong and how to fix it. ``cli.py`` maps each branch to an exit code
(DESIGN 4.2) and prints the message; no traceback is ever shown for bad input::

    AuditorError
    ├── UsageError          bad command-line combination                      -> exit 2
    ├── ConfigError         audit.yaml unreadable, malformed or invalid        -> exit 2
    ├── PolicyError         a policy pack is malformed or invalid (all problems at once) -> exit 2
    ├── StoreError          the database cannot be opened, migrated or written -> exit 2
    └── AuditIncompleteError the audit could not complete (every target unreachable ...) -> exit 3
"""

from __future__ import annotations

from dataclasses import dataclass


class AuditorError(Exception):
    """Base of every error the auditor raises deliberately."""

    exit_code = 2


class UsageError(AuditorError):
    """The command line asks for something contradictory or impossible."""


@dataclass(frozen=True)
class Problem:
    """One located problem in a YAML file: where it is and what to do about it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class _ProblemsError(AuditorError):
    """An error that reports several located problems at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "unknown problem"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class ConfigError(_ProblemsError):
    """``audit.yaml`` (or another user configuration file) is unreadable or invalid."""


class PolicyError(_ProblemsError):
    """One or more policy packs are malformed; ``problems`` lists every one with file:line."""


class StoreError(AuditorError):
    """The database cannot be opened, migrated or written."""


class ScratchError(AuditorError):
    """The crawl's scratch space in the temporary directory cannot be written."""


class AuditIncompleteError(AuditorError):
    """The audit could not complete, for example because every target was unreachable."""

    exit_code = 3
