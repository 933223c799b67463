"""The deletion list of a manifest audit: ``auditor export --what deletions --format csv``.

Audited in process with a fixed clock (2026-11-22T12:00Z), retention 30 days and an erasure
deadline of 14 days, against an opt-out list written with ``auditor optout add``:

- ``expired.png`` collected 2026-09-01: past retention, due 2026-10-01;
- ``objected.jpg`` listed on 2026-10-25 and collected on 2026-11-01 (after the request, within
  retention): due 2026-11-08 (request + 14 days);
- ``both.jpg`` collected 2026-08-01 and listed on 2026-08-10: on the list under both;
- ``kept.png`` collected 2026-11-20 and not listed, and ``remote.jpg`` (recent, no stored copy):
  nothing to delete, so absent.
"""

from __future__ import annotations

import csv
import io

import pytest

from .test_audit_support import (
    HOST,
    OPTOUT_RULES,
    RETENTION_RULES,
    audit,
    cli,
    tiny_image,
    write_config,
    write_csv,
)

EXPIRED, OBJECTED, BOTH = (
    f"{HOST}/d/{name}" for name in ("expired.png", "objected.jpg", "both.jpg")
)
KEPT, REMOTE = f"{HOST}/d/kept.png", f"{HOST}/d/remote.jpg"
COLUMNS = [
    "image_url", "sha256", "page_url", "site", "rule_id", "pack", "severity", "reason",
    "references", "collected_at", "deadline", "fingerprint", "manifest_key", "local_path",
]  # fmt: skip


@pytest.fixture(scope="module")
def deletions(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    directory = tmp_path_factory.mktemp("deletions")
    (directory / "images").mkdir()
    rows: list[dict[str, str | None]] = []
    plan = [(EXPIRED, "2026-09-01"), (OBJECTED, "2026-11-01"), (BOTH, "2026-08-01"),
            (KEPT, "2026-11-20")]  # fmt: skip
    for index, (url, collected) in enumerate(plan):
        name = f"images/{index}.png"
        (directory / name).write_bytes(tiny_image(index))
        rows.append({"url": url, "page_url": f"{HOST}/d/", "collected_at": collected,
                     "local_path": name})  # fmt: skip
    rows.append({"url": REMOTE, "page_url": f"{HOST}/d/", "collected_at": "2026-11-21"})
    manifest = write_csv(directory / "m.csv", rows)
    config = write_config(directory, erasure_sla_days=14, optout_list="optout.db")
    for target, received in ((OBJECTED, "2026-10-25"), (BOTH, "2026-08-10")):
        added = cli("optout", "add", target, "--received", received, "-c", config)
        assert added.exit_code == 0, added.output
    db = directory / "audit.db"
    assert audit(manifest, config, db).status == "complete"
    exported = cli("export", "--db", db, "--what", "deletions", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    reader = csv.DictReader(io.StringIO(exported.stdout))
    assert reader.fieldnames == COLUMNS
    return list(reader)


def _lines(deletions: list[dict[str, str]], url: str) -> dict[str, dict[str, str]]:
    return {line["rule_id"]: line for line in deletions if line["image_url"] == url}


def test_an_expired_copy_is_listed_under_the_retention_rules(
    deletions: list[dict[str, str]],
) -> None:
    lines = _lines(deletions, EXPIRED)
    assert set(lines) == set(RETENTION_RULES)
    for line in lines.values():
        assert line["deadline"] == "2026-10-01"  # collected + 30 days
        assert line["collected_at"] == "2026-09-01T00:00:00Z"
        assert line["manifest_key"] == "m.csv#0"
        assert line["local_path"] == "images/0.png"
        assert "past the declared retention of 30 days" in line["reason"]
        assert line["sha256"] and line["fingerprint"]


def test_an_objected_copy_is_listed_under_the_optout_rules(
    deletions: list[dict[str, str]],
) -> None:
    lines = _lines(deletions, OBJECTED)
    assert set(OPTOUT_RULES) <= set(lines)
    assert not set(RETENTION_RULES) & set(lines)  # 21 days old: within retention
    for rule in OPTOUT_RULES:
        assert lines[rule]["deadline"] == "2026-11-08"  # request + erasure_sla_days (14)
        assert lines[rule]["manifest_key"] == "m.csv#1"
        assert lines[rule]["local_path"] == "images/1.png"
        assert lines[rule]["severity"] in {"critical", "high"}


def test_a_copy_due_for_both_reasons_has_a_line_per_rule(deletions: list[dict[str, str]]) -> None:
    lines = _lines(deletions, BOTH)
    assert set(RETENTION_RULES) | set(OPTOUT_RULES) <= set(lines)
    assert {lines[rule]["deadline"] for rule in RETENTION_RULES} == {"2026-08-31"}
    assert {lines[rule]["deadline"] for rule in OPTOUT_RULES} == {"2026-08-24"}


def test_images_that_need_no_deletion_are_absent(deletions: list[dict[str, str]]) -> None:
    listed = {line["image_url"] for line in deletions}
    assert KEPT not in listed
    assert REMOTE not in listed
    assert listed == {EXPIRED, OBJECTED, BOTH}


def test_the_list_is_sorted_by_deadline(deletions: list[dict[str, str]]) -> None:
    deadlines = [line["deadline"] for line in deletions]
    overdue = [d for d in deadlines if d == "immediately"]
    assert deadlines == overdue + sorted(d for d in deadlines if d != "immediately")
