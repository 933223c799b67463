"""`auditor optout add|remove|list` and the list in crawl and check, run as a user would."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.optout import IMAGES, run_cli

CONFIG = """\
crawler:
  name: acme-images
  robots_tokens: [AcmeImageBot]
  purposes: [ai-train]
targets: ["http://127.0.0.1:9/"]
policies: [global]
"""


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def assert_one_line_error(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode == 2
    stderr = result.stderr
    assert stderr.startswith("error: "), stderr
    assert needle in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr


def test_a_photo_is_stored_as_its_hash_only(tmp_path: Path) -> None:
    photo = tmp_path / "jane-doe.jpg"
    photo.write_bytes((IMAGES / "photo.jpg").read_bytes())
    added = run_cli(
        "optout", "add", str(photo), "--reason", "Jane Doe, by email", "--received", "2026-03-01",
        cwd=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added 1: phash b5a5bdc61a4b4a62 (jane-doe.jpg)")
    stored = (tmp_path / "optout.db").read_bytes()
    data = photo.read_bytes()
    windows = {data[i : i + 32] for i in range(0, len(data) - 32, 32)}
    assert not any(window in stored for window in windows), "photo bytes in the list"
    assert str(tmp_path).encode() not in stored, "the photo's path is kept, not only its name"
    listed = run_cli("optout", "list", "--format", "jsonl", cwd=tmp_path)
    [entry] = lines(listed.stdout)
    assert entry == {
        "id": 1, "kind": "phash", "value": "b5a5bdc61a4b4a62", "reason": "Jane Doe, by email",
        "received": "2026-03-01", "added_at": entry["added_at"], "source": "jane-doe.jpg",
    }  # fmt: skip


def test_add_list_and_remove_urls_and_domains(tmp_path: Path) -> None:
    db = str(tmp_path / "requests.db")
    url = run_cli("optout", "add", "HTTPS://Example.ORG:443/a/./b.jpg#face", "--list", db)
    assert url.returncode == 0, url.stderr
    assert "url https://example.org/a/b.jpg" in url.stdout
    domain = run_cli("optout", "add", "Bücher.Example.", "--list", db)
    assert "domain xn--bcher-kva.example" in domain.stdout
    table = run_cli("optout", "list", "--list", db)
    assert table.returncode == 0
    assert "│ 1  │ url " in table.stdout  # long values wrap inside their cells
    assert "│ 2  │ domain " in table.stdout
    listed = lines(run_cli("optout", "list", "--list", db, "--format", "jsonl").stdout)
    assert [e["value"] for e in listed] == ["https://example.org/a/b.jpg", "xn--bcher-kva.example"]
    again = run_cli("optout", "add", "https://example.org/a/b.jpg", "--list", db)
    assert_one_line_error(again, "already on the list as entry 1")
    by_value = run_cli("optout", "remove", "https://EXAMPLE.org/a/b.jpg", "--list", db)
    assert by_value.returncode == 0, by_value.stderr
    assert by_value.stdout.startswith("removed 1: url https://example.org/a/b.jpg")
    by_id = run_cli("optout", "remove", "2", "--list", db)
    assert by_id.returncode == 0, by_id.stderr
    assert lines(run_cli("optout", "list", "-f", "jsonl", "--list", db).stdout) == []
    assert_one_line_error(
        run_cli("optout", "remove", "2", "--list", db), "is not on the opt-out list"
    )


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("bad..example", "is not a valid domain name"),
        ("localhost", "it needs a dot"),
        ("example.org/path", "is not a domain name"),
        ("192.0.2.1", "is an IP address"),
        ("missing-photo.jpg", "no image file"),
        ("ftp://example.org/a.jpg", "is not a domain name"),
        ("https://exa mple.org/a.jpg", "is not a usable URL"),
    ],
)
def test_invalid_targets_are_one_line_errors_and_create_nothing(
    tmp_path: Path, target: str, needle: str
) -> None:
    assert_one_line_error(run_cli("optout", "add", target, cwd=tmp_path), needle)
    assert not (tmp_path / "optout.db").exists()


def test_a_file_that_is_not_an_image_is_refused(tmp_path: Path) -> None:
    result = run_cli("optout", "add", str(IMAGES / "notimage.jpg"), cwd=tmp_path)
    assert_one_line_error(result, "cannot compute a perceptual hash of notimage.jpg")


@pytest.mark.parametrize(
    ("received", "needle"),
    [("2999-01-01", "is in the future"), ("01/03/2026", "YYYY-MM-DD"), ("2026-02-30", "day")],
)
def test_received_dates_are_checked(tmp_path: Path, received: str, needle: str) -> None:
    result = run_cli("optout", "add", "example.org", "--received", received, cwd=tmp_path)
    assert_one_line_error(result, needle)


def test_the_config_names_the_list(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    config = tmp_path / "conf" / "audit.yaml"
    config.write_text(CONFIG + "optout_list: lists/optout.db\n", encoding="utf-8")
    (tmp_path / "conf" / "lists").mkdir()
    added = run_cli("optout", "add", "example.org", "-c", str(config), cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "conf" / "lists" / "optout.db").is_file()  # relative to the config
    both = run_cli("optout", "list", "-c", str(config), "--list", "x.db", cwd=tmp_path)
    assert_one_line_error(both, "pass one of them")
    bare = tmp_path / "bare.yaml"
    bare.write_text(CONFIG, encoding="utf-8")
    assert_one_line_error(run_cli("optout", "list", "-c", str(bare)), "sets no optout_list")


def test_lists_that_cannot_be_read_are_one_line_errors(tmp_path: Path) -> None:
    missing = run_cli("optout", "list", "--list", str(tmp_path / "none.db"))
    assert_one_line_error(missing, "no opt-out list at")
    newer = tmp_path / "newer.db"
    assert run_cli("optout", "add", "example.org", "--list", str(newer)).returncode == 0
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE optout_meta SET value = '99' WHERE key = 'schema_version'")
    connection.close()
    assert_one_line_error(run_cli("optout", "list", "--list", str(newer)), "newer auditor")
    audit_db = tmp_path / "audit.db"
    with sqlite3.connect(audit_db) as connection:
        connection.execute("CREATE TABLE runs (id INTEGER)")
    connection.close()
    result = run_cli("optout", "add", "example.org", "--list", str(audit_db))
    assert_one_line_error(result, "is not an opt-out list")


@pytest.mark.parametrize("command", ["crawl", "check"])
def test_a_configured_list_that_is_missing_stops_the_audit(tmp_path: Path, command: str) -> None:
    config = tmp_path / "audit.yaml"
    config.write_text(CONFIG + "optout_list: missing.db\n", encoding="utf-8")
    result = run_cli(command, "-c", str(config), "--db", str(tmp_path / "audit.db"))
    assert_one_line_error(result, "no opt-out list at")
    assert not (tmp_path / "audit.db").exists(), "nothing may be crawled"
