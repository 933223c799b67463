"""Attribute each finding to the repository file and line that caused it.

GitHub code scanning rejects a whole SARIF file when one result lacks a physical location in a
repository file (conventions.md 2.2), and a crawled URL is not one. The repository files that
cause findings are the audit configuration and the policy packs:

- a **declaration** finding points at the ``audit.yaml`` line of the first declaration field
  its rule read (``crawler.privacy_notice`` -> the ``privacy_notice:`` line), or the
  ``crawler:`` line when the field is not written;
- an **image**, **site** or **page** finding points at the ``targets`` item whose origin is the
  finding's page or site (the target that put it in scope), else the ``targets:`` line;
- a **dataset** finding points at the ``targets:`` line (the crawl as a whole);
- without a readable configuration file (URLs given on the command line), a finding points at
  its rule's line in the pack file, or line 1 of ``audit.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from auditor.errors import AuditorError
from auditor.model import Subject
from auditor.report.data import Anchor
from auditor.yamlsrc import YamlDocument, load_yaml

if TYPE_CHECKING:
    from auditor.store import FindingExport

__all__ = ["AnchorResolver", "repo_path"]


def repo_path(path: str | Path, root: Path | None = None) -> str:
    """``path`` relative to ``root`` (default: the working directory), with forward slashes."""
    base = (root or Path.cwd()).resolve()
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


class AnchorResolver:
    """Finds the anchor of each finding in one configuration file (read once)."""

    def __init__(self, config_path: str | Path | None, *, root: Path | None = None) -> None:
        self.root = root
        self.document: YamlDocument | None = None
        self.path = repo_path(config_path, root) if config_path is not None else "audit.yaml"
        if config_path is not None and Path(config_path).is_file():
            try:
                self.document = load_yaml(config_path, error=AuditorError)
            except AuditorError:  # already validated by the caller; anchors are best effort
                self.document = None
        self.target_origins: list[str | None] = []
        data = self.document.data if self.document is not None else None
        targets = data.get("targets") if isinstance(data, dict) else None
        for item in targets if isinstance(targets, list) else []:
            url = item.get("url") if isinstance(item, dict) else item
            self.target_origins.append(_origin(url) if isinstance(url, str) else None)

    def _line(self, *loc: str | int) -> int:
        if self.document is None:
            return 1
        return self.document.line_of(loc) or 1

    def anchor(self, finding: FindingExport, rule_anchor: Anchor | None = None) -> Anchor:
        """Return the repository location of ``finding`` (see the module docstring)."""
        if self.document is None:
            return rule_anchor or Anchor(self.path, 1)
        if finding.subject is Subject.DECLARATION:
            crawler = (
                self.document.data.get("crawler") if isinstance(self.document.data, dict) else None
            )
            written = crawler if isinstance(crawler, dict) else {}
            for name in finding.evidence:
                field = name.removeprefix("crawler.")
                if name.startswith("crawler.") and field in written:
                    return Anchor(self.path, self._line("crawler", field))
            return Anchor(self.path, self._line("crawler"))
        if finding.subject is not Subject.DATASET:
            wanted = {_origin(finding.page_url), _origin(finding.site)} - {None}
            for index, origin in enumerate(self.target_origins):
                if origin in wanted:
                    return Anchor(self.path, self._line("targets", index))
        return Anchor(self.path, self._line("targets"))
