"""The deletion list: every image that must go, why, and by when (``export --what deletions``).

The list a compliance team hands to whoever runs the storage. An image is on it when a rule whose
failure means the image may not be kept failed for it; such rules carry the tag
``requires-deletion`` in their pack (retention expired, opt-out or erasure request ignored,
machine-readable reservation ignored, site objection ignored ...), so the packs, not this module,
decide what deletion means. One line per image and rule, sorted by deadline, then URL.

The **deadline** comes from the finding's own evidence:

- a retention rule: ``collected_at + retention_days`` (``crawler.template_retention_days`` for
  face templates when that is what the rule read);
- an opt-out or erasure request: the request's date + ``crawler.erasure_sla_days`` (30 days
  when the declaration sets none: UK/EU GDPR Art 12(3) "without undue delay and in any event
  within one month");
- otherwise the image should not have been collected at all: the deadline is the end of the
  run that found it (``immediately``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from auditor.model import Outcome, Subject
from auditor.report.export import Exporter, write_csv, write_jsonl

if TYPE_CHECKING:
    from auditor.store import FindingExport, Store

__all__ = ["DELETION_TAG", "Deletion", "ImageRef", "deletions", "export_deletions"]

DELETION_TAG = "requires-deletion"
DEFAULT_ERASURE_DAYS = 30


@dataclass(frozen=True)
class Deletion:
    """One image to delete under one rule."""

    image_url: str
    sha256: str | None
    page_url: str | None
    site: str | None
    rule_id: str
    pack: str
    severity: str
    reason: str
    references: tuple[str, ...]
    collected_at: str | None
    deadline: str  # ISO date, or "immediately"
    fingerprint: str
    manifest_key: str | None = None  # manifest mode: the row, and the stored copy to remove
    local_path: str | None = None

    json_keys: ClassVar[tuple[str, ...]] = (
        "image_url",
        "sha256",
        "page_url",
        "site",
        "rule_id",
        "pack",
        "severity",
        "reason",
        "references",
        "collected_at",
        "deadline",
        "fingerprint",
        "manifest_key",
        "local_path",
    )

    def to_json(self) -> dict[str, Any]:
        """Return the export object, keys in :attr:`json_keys` order."""
        data = {key: getattr(self, key) for key in self.json_keys}
        data["references"] = list(self.references)
        return data


@dataclass(frozen=True)
class ImageRef:
    """What identifies a stored image on the list: hash, collection time, manifest row, copy."""

    sha256: str | None = None
    collected_at: str | None = None
    manifest_key: str | None = None
    local_path: str | None = None


def _date(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _days(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def deadline(evidence: Mapping[str, Any], collected_at: str | None) -> str:
    """Return the deletion deadline the finding's evidence implies (see the module docstring)."""
    received = _date(evidence.get("image.optout_received"))
    if received is not None:
        days = _days(evidence.get("crawler.erasure_sla_days"))
        return (
            received + timedelta(days=DEFAULT_ERASURE_DAYS if days is None else days)
        ).isoformat()
    collected = _date(collected_at or evidence.get("image.collected_at"))
    for name in ("crawler.template_retention_days", "crawler.retention_days"):
        days = _days(evidence.get(name))
        if days is not None and collected is not None:
            return (collected + timedelta(days=days)).isoformat()
    return "immediately"


def deletions(
    findings: Iterable[FindingExport],
    deletion_rules: frozenset[str],
    images: Mapping[str, ImageRef],
) -> list[Deletion]:
    """Build the deletion list; ``images`` maps image URL -> what identifies its copy."""
    out = []
    for finding in findings:
        if (
            finding.subject is not Subject.IMAGE
            or finding.outcome is not Outcome.FAIL
            or finding.rule_id not in deletion_rules
            or finding.state == "suppressed"
            or finding.image_url is None
        ):
            continue
        ref = images.get(finding.image_url, ImageRef())
        collected_at = ref.collected_at
        out.append(
            Deletion(
                image_url=finding.image_url,
                sha256=ref.sha256,
                page_url=finding.page_url,
                site=finding.site,
                rule_id=finding.rule_id,
                pack=finding.pack,
                severity=finding.severity.value,
                reason=finding.message,
                references=finding.references,
                collected_at=collected_at,
                deadline=deadline(finding.evidence, collected_at),
                fingerprint=finding.fingerprint,
                manifest_key=ref.manifest_key,
                local_path=ref.local_path,
            )
        )
    # "immediately" sorts before any date: those are overdue by definition.
    out.sort(key=lambda d: (d.deadline != "immediately", d.deadline, d.image_url, d.rule_id))
    return out


def _deletion_rules() -> frozenset[str]:
    from auditor.policy import load_packs  # noqa: PLC0415 - packs only when exporting

    return frozenset(
        rule.id
        for rule in load_packs(None, include_proposed=True).rules
        if DELETION_TAG in rule.tags
    )


def _image_index(store: Store, run_id: int, urls: set[str]) -> dict[str, ImageRef]:
    index: dict[str, ImageRef] = {}
    if not urls:
        return index
    for image in store.iter_images(run_id):
        if image.url in urls:
            copy = image.copy
            index[image.url] = ImageRef(
                image.sha256,
                image.fetched_at,
                copy.key if copy else None,
                copy.local_path if copy else None,
            )
    return index


def _rows(store: Store, run_id: int) -> Iterator[Deletion]:
    rules = _deletion_rules()
    findings = [
        f for f in store.iter_findings(run_id) if f.rule_id in rules and f.image_url is not None
    ]
    index = _image_index(store, run_id, {f.image_url for f in findings if f.image_url})
    yield from deletions(findings, rules, index)


def export_deletions(fmt: str) -> Exporter:
    """Return the exporter of the deletion list in ``fmt`` (``jsonl`` or ``csv``)."""

    def run(store: Store, run_id: int, out: TextIO) -> int:
        rows = _rows(store, run_id)
        if fmt == "jsonl":
            return write_jsonl(rows, out)
        return write_csv(rows, Deletion.json_keys, out)

    return run
