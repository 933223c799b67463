"""Helpers shared by the end-to-end manifest-audit tests (``test_audit_*.py``); no tests here.

Everything is real: manifests and opt-out lists are written to ``tmp_path``, audits run through
:func:`auditor.manifest_audit.run_manifest_audit` or the real CLI (typer's ``CliRunner`` in
process, or ``python -m auditor`` in a subprocess where exit codes or signals matter), and the
results are read back from the SQLite file with :mod:`sqlite3`.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image
from typer.testing import CliRunner, Result

from auditor.audit import AuditSummary
from auditor.cli import app
from auditor.config import load_config
from auditor.facts import image_facts
from auditor.manifest_audit import ManifestOptions, run_manifest_audit
from auditor.model import Finding, ImageRecord, PageRecord, SkipRecord
from auditor.optout.matcher import configured_optout_list
from auditor.policy import load_packs
from auditor.store import open_store

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "fixtures" / "manifests"
FIXTURE_IMAGES = MANIFESTS / "images"
HOST = "https://photos.example.org"
#: The packs the tests load: enough for retention, opt-out and TDM rules, and quicker than all.
POLICIES = ("uk-gdpr", "eu-gdpr", "global", "eu-copyright")
RETENTION_RULES = ("UK-GDPR-A05-1E-RETENTION-EXPIRED", "EU-GDPR-A05-1E-RETENTION-EXPIRED")
RETENTION_DECLARED = ("UK-GDPR-A05-1E-RETENTION", "EU-GDPR-A05-1E-RETENTION")
OPTOUT_RULES = (
    "GLOBAL-OPTOUT-ENFORCED",
    "UK-GDPR-A17-21-OPTOUT-ENFORCED",
    "EU-GDPR-A21-PRE-COLLECTION-OPTOUT",
)
#: The fixed "now" of in-process runs (the brief's today), so ages are deterministic.
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

COLUMNS = ("url", "page_url", "collected_at", "sha256", "phash", "local_path", "caption")


def config_text(
    *,
    retention_days: int | None = 30,
    erasure_sla_days: int | None = None,
    optout_list: str | None = None,
    policies: Sequence[str] = POLICIES,
    targets: Sequence[str] = (f"{HOST}/",),
) -> str:
    """Return an audit.yaml for a crawler that trains on images from UK and EU sites."""
    lines = [
        "crawler:",
        "  name: acme-images",
        "  robots_tokens: [AcmeImageBot]",
        "  purposes: [ai-train]",
        "  markets: [UK, EU]",
        f"  retention_days: {'null' if retention_days is None else retention_days}",
        f"  erasure_sla_days: {'null' if erasure_sla_days is None else erasure_sla_days}",
        "targets:",
        *(f'  - {{url: "{target}", jurisdictions: [UK, EU]}}' for target in targets),
        f"policies: [{', '.join(policies)}]",
    ]
    if optout_list is not None:
        lines.append(f"optout_list: {optout_list}")
    return "\n".join(lines) + "\n"


def write_config(directory: Path, **options: Any) -> Path:
    """Write ``audit.yaml`` (see :func:`config_text`) into ``directory`` and return its path."""
    path = directory / "audit.yaml"
    path.write_text(config_text(**options), encoding="utf-8")
    return path


def tiny_image(index: int, size: int = 24) -> bytes:
    """A small PNG that decodes quickly (no faces), different for every ``index``."""
    image = Image.new("RGB", (size, size), ((index * 37) % 256, (index * 91) % 256, 120))
    for x in range(size):
        image.putpixel((x, (x * (index + 3)) % size), (255 - x * 5 % 256, 0, x * 9 % 256))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def copy_fixture_images(directory: Path) -> Path:
    """Copy fixtures/manifests/images into ``directory/images`` (local paths stay inside)."""
    target = directory / "images"
    shutil.copytree(FIXTURE_IMAGES, target, dirs_exist_ok=True)
    return target


def write_csv(path: Path, rows: Iterable[Mapping[str, str | None]]) -> Path:
    """Write a manifest CSV with :data:`COLUMNS` (a missing or ``None`` value is an empty cell)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.get(name) or "" for name in COLUMNS])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


class Observer:
    """An :class:`~auditor.recorder.AuditObserver` that counts, and can interrupt the run."""

    def __init__(self, interrupt_after: int | None = None) -> None:
        self.interrupt_after = interrupt_after
        self.images = 0
        self.skips: list[SkipRecord] = []
        self.run_id: int | None = None

    def run_started(self, run_id: int, db: str) -> None:
        self.run_id = run_id

    def page_done(self, page: PageRecord) -> None:
        raise AssertionError(f"a manifest audit crawled a page: {page.url}")

    def image_done(self, image: ImageRecord, findings: tuple[Finding, ...]) -> None:
        self.images += 1
        if self.interrupt_after is not None and self.images >= self.interrupt_after:
            raise KeyboardInterrupt

    def skipped(self, skip: SkipRecord) -> None:
        self.skips.append(skip)


def audit(
    manifest: Path,
    config: Path,
    db: Path,
    *,
    observer: Observer | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
    window: int = 16,
    resume: bool = False,
    refetch: bool = False,
) -> AuditSummary:
    """Run the real orchestrator in process, with one worker and a fixed clock."""
    loaded = load_config(config)
    policy = load_packs(loaded.policies)
    optout = (
        configured_optout_list(
            loaded,
            threshold=loaded.optout.hamming_threshold,
            near_band=loaded.optout.near_band,
        )
        if loaded.optout_list
        else None
    )
    options = ManifestOptions(
        db=str(db), workers=1, clock=clock, optout=optout, config_path=str(config),
        refetch=refetch, resume=resume, window=window,
    )  # fmt: skip
    return run_manifest_audit(manifest, loaded, policy, options, observer or Observer())


def cli(*args: str | Path) -> Result:
    """Run the real CLI in process (typer's CliRunner); stdout and stderr are kept apart."""
    return CliRunner().invoke(app, [str(arg) for arg in args], catch_exceptions=True)


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m auditor`` as a user would (exit codes and messages as on a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "auditor", *(str(arg) for arg in args)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        check=False,
    )


def query(db: Path, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """Run one read-only query on the audit database."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return list(connection.execute(sql, params))


def outcomes(db: Path, rules: Iterable[str]) -> dict[tuple[str, str], str]:
    """Return ``{(rule_id, image_url): outcome}`` of the stored image findings of ``rules``."""
    wanted = tuple(rules)
    marks = ", ".join("?" for _ in wanted)
    rows = query(
        db,
        f"SELECT rule_id, image_url, outcome FROM findings "  # noqa: S608 - placeholders only
        f"WHERE subject = 'image' AND rule_id IN ({marks})",
        wanted,
    )
    return {(rule, url): outcome for rule, url, outcome in rows}


def skips(db: Path) -> list[tuple[str, str, str | None]]:
    """Return every skip as ``(url, reason, detail)``, in the order stored."""
    return [(u, r, d) for u, r, d in query(db, "SELECT url, reason, detail FROM skips ORDER BY id")]


def stored_facts(db: Path, url: str, now: datetime = NOW) -> dict[str, object]:
    """Rebuild an image's facts from the stored record, as ``auditor check --from-db`` does."""
    with open_store(str(db), create=False) as store:
        run_id = store.latest_run_id()
        assert run_id is not None
        for stored in store.iter_images(run_id):
            if stored.url == url:
                return dict(image_facts(stored.to_record(), now))
    raise AssertionError(f"no image {url} in {db}")


def signals_of(db: Path, url: str) -> list[dict[str, Any]]:
    """Return the stored signals of one image as dictionaries (JSON columns decoded)."""
    rows = query(
        db,
        "SELECT s.mechanism, s.scope, s.evaluation, s.observed, s.raw_value, s.purposes_json, "
        "s.notes_json, s.parsed, s.http_status, s.fetched_at FROM signals s "
        "JOIN images i ON i.id = s.image_id WHERE i.url = ? ORDER BY s.id",
        (url,),
    )
    keys = ("mechanism", "scope", "evaluation", "observed", "raw_value", "purposes", "notes",
            "parsed", "http_status", "fetched_at")  # fmt: skip
    out = []
    for row in rows:
        record = dict(zip(keys, row, strict=True))
        record["purposes"] = json.loads(record["purposes"])
        record["notes"] = json.loads(record["notes"])
        out.append(record)
    return out
