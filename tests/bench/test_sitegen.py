"""Smoke test of the benchmark's site generator: deterministic, the advertised mix, complete."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import sitegen  # noqa: E402 - bench/ is not a package

IMAGES = 30


def _digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    sitegen.generate(IMAGES, 3, out, "small")
    return out


def test_same_seed_same_bytes(site: Path, tmp_path: Path) -> None:
    sitegen.generate(IMAGES, 3, tmp_path / "again", "small")
    assert _digest(site) == _digest(tmp_path / "again")


def test_other_seed_other_site(site: Path, tmp_path: Path) -> None:
    sitegen.generate(IMAGES, 4, tmp_path / "other", "small")
    assert _digest(site) != _digest(tmp_path / "other")


def test_mix_is_exact() -> None:
    assert sitegen.apportion(1000, sitegen.MIXES["realistic"]) == {
        "thumb": 600, "1mp": 300, "3mp": 45, "5mp": 45, "12mp": 10,
    }  # fmt: skip
    assert sitegen.apportion(7, sitegen.MIXES["small"]) == {"thumb": 7}


def test_small_mix_writes_thumbnails_only(site: Path) -> None:
    truth = json.loads((site / "ground_truth.json").read_text())
    assert truth["meta"]["sizes"] == {"thumb": IMAGES}
    assert {info["size"] for info in truth["images"].values()} == {"thumb"}


def test_ground_truth_lists_every_image_and_only_those(site: Path) -> None:
    truth = json.loads((site / "ground_truth.json").read_text())["images"]
    assert len(truth) == IMAGES
    urls = (site / "urls.txt").read_text().split()
    assert sorted(urls) == sorted(sitegen.DEFAULT_BASE_URL + path for path in truth)
    pages = "".join(path.read_text() for path in (site / "pages").glob("*.html"))
    for path, info in truth.items():
        assert f'"{path}' in pages or f"'{path}'" in pages or f"{path} " in pages, path
        assert info["pages"], path
        expect = info["expect"]
        if info["error"] == "missing":
            assert not (site / path.lstrip("/")).exists()
            assert expect["status"] == 404
        elif expect["fetched"]:
            stored = path.replace("/img/r/", "/img/p/").lstrip("/")
            digest = hashlib.sha256((site / stored).read_bytes()).hexdigest()
            assert digest == expect["sha256"], path


def test_every_file_has_its_own_bytes(site: Path) -> None:
    files = [p for p in (site / "img").rglob("*") if p.is_file()]
    assert len({hashlib.sha256(p.read_bytes()).digest() for p in files}) == len(files)


def test_verdicts_follow_the_implications() -> None:
    spec = sitegen.ImageSpec(1, "thumb", "JPEG", "texture", "none", "tdmh", "none", pages=[0])
    assert sitegen.expected_usage(spec, set()) == {
        "crawl": "allowed", "tdm": "disallowed", "ai-train": "disallowed",
        "genai-train": "disallowed",
    }  # fmt: skip
    spec = sitegen.ImageSpec(2, "thumb", "JPEG", "texture", "dm-genai", "cua", "none", pages=[0])
    assert sitegen.expected_usage(spec, set())["genai-train"] == "disallowed"
    assert sitegen.expected_usage(spec, set())["ai-train"] == "allowed"
    assert sitegen.expected_usage(spec, {0})["ai-train"] == "disallowed"
