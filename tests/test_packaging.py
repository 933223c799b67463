"""The built wheel is what users install: it must carry the policy packs and the entry points."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_packs_and_entry_point(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    [wheel] = tmp_path.glob("consent_auditor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(name).name for name in names if name.startswith("auditor/_policies/")}
    assert {path.name for path in (ROOT / "policies").glob("*.yaml")} <= shipped
    assert "auditor/__main__.py" in names
    assert "auditor/report/templates/report.html.j2" in names
    assert "auditor/store/metadata.yml" in names
    [entry_points] = [name for name in names if name.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "auditor = auditor.cli:main" in text
