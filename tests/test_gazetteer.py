"""The compact gazetteer: the ring search over its grid, and its on-disk cache."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import gazetteer
from auditor.gazetteer import Gazetteer, load

# Places on a coarse lattice plus three at the grid's edges: both poles and the antimeridian.
PLACES = [
    {"country_code": f"C{(lat * 7 + lon) % 50:02d}", "city": "x", "latitude": lat + 0.123,
     "longitude": lon + 0.456, "population": 1000, "state": f"S{lat % 5}" if lon % 3 else None}
    for lat in range(-80, 81, 7)
    for lon in range(-179, 180, 11)
] + [
    {"country_code": "NP", "city": "n", "latitude": 90.0, "longitude": 0.0, "population": 1},
    {"country_code": "SP", "city": "s", "latitude": -90.0, "longitude": 180.0, "population": 1},
    {"country_code": "AM", "city": "a", "latitude": 10.0, "longitude": -180.0, "population": 1},
]  # fmt: skip


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "geocode.gz"
    path.write_bytes(gzip.compress(json.dumps(PLACES, separators=(",", ":")).encode()))
    return path


def brute_force(places: Gazetteer, lat: float, lon: float) -> float:
    """The smallest squared degree-space distance to any place."""
    return min(
        (place_lat - lat) ** 2 + (place_lon - lon) ** 2
        for place_lat, place_lon in zip(places.latitudes, places.longitudes, strict=True)
    )


@pytest.fixture(scope="module")
def lattice(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    path = tmp_path_factory.mktemp("lattice") / "geocode.gz"
    path.write_bytes(gzip.compress(json.dumps(PLACES).encode()))
    return load(path, None)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=-90, max_value=90, allow_nan=False),
    st.floats(min_value=-180, max_value=180, allow_nan=False),
)
def test_ring_search_finds_a_nearest_place(lattice: Gazetteer, lat: float, lon: float) -> None:
    places = lattice
    nearest = places.nearest(lat, lon)
    assert nearest is not None  # the default radius spans the globe
    place_lat, place_lon, _, _ = nearest
    found = (place_lat - lat) ** 2 + (place_lon - lon) ** 2
    assert found == pytest.approx(brute_force(places, lat, lon), abs=1e-12)


def test_far_points_search_far(data_file: Path) -> None:
    places = load(data_file, None)
    assert places.nearest(90.0, 0.0)[2] == "NP"
    assert places.nearest(-89.9, 179.9)[2] == "SP"
    assert places.nearest(10.0, -179.99)[2] == "AM"


def test_the_cache_is_written_and_then_read_instead_of_the_package(
    data_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    first = load(data_file, cache_dir)
    assert (cache_dir / "gazetteer.bin").is_file()

    def no_package(path: Path) -> None:
        raise AssertionError("read the package although the cache is current")

    monkeypatch.setattr(gazetteer, "_read_package", no_package)
    second = load(data_file, cache_dir)
    assert second == first
    assert second.states.count(None) == first.states.count(None) > 0


def test_a_stale_cache_is_rebuilt(data_file: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    load(data_file, cache_dir)
    changed = [{**place, "country_code": "ZZ"} for place in PLACES]
    data_file.write_bytes(gzip.compress(json.dumps(changed).encode()))
    stat = data_file.stat()
    os.utime(data_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert set(load(data_file, cache_dir).countries) == {"ZZ"}
    assert set(load(data_file, cache_dir).countries) == {"ZZ"}  # and the new cache is current


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: b"something else entirely\n" + raw,
        lambda raw: raw.replace(b'"places": ', b'"places": 1', 1),  # wrong count
        lambda raw: raw.replace(b'"names": [', b'"names": 5, "x": [', 1),  # bad JSON shape
        lambda raw: raw[:-2] + b"\xff\xff",  # a region index past the names
        lambda raw: b"",
    ],
)
def test_a_damaged_cache_is_rebuilt(data_file: Path, tmp_path: Path, damage: object) -> None:
    cache_dir = tmp_path / "cache"
    expected = load(data_file, cache_dir)
    cache = cache_dir / "gazetteer.bin"
    assert callable(damage)
    cache.write_bytes(damage(cache.read_bytes()))
    assert load(data_file, cache_dir) == expected
    assert load(data_file, None) == expected


def test_an_unwritable_cache_directory_is_only_a_missed_cache(
    data_file: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be", encoding="utf-8")
    places = load(data_file, blocker / "auditor")
    assert len(places.countries) == len(PLACES)


def test_the_default_cache_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert gazetteer.default_cache_dir() == tmp_path / "auditor"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert gazetteer.default_cache_dir() == tmp_path / "home" / ".cache" / "auditor"


def test_cells_cover_every_place_once(data_file: Path) -> None:
    places = load(data_file, None)
    indexes = sorted(index for cell in places.cells.values() for index in cell)
    assert indexes == list(range(len(PLACES)))


def test_a_bounded_search_stops_at_its_radius(data_file: Path) -> None:
    places = load(data_file, None)
    assert places.nearest(0.0, -40.0, within=1.0) is None  # lattice points are ~3 degrees away
    found = places.nearest(0.0, -40.0, within=10.0)
    assert found == places.nearest(0.0, -40.0)
    assert places.max_abs_latitude == 90.0


def test_a_failed_cache_write_leaves_no_partial_file(
    data_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", refuse)
    cache_dir = tmp_path / "cache"
    places = load(data_file, cache_dir)
    assert len(places.countries) == len(PLACES)
    assert list(cache_dir.iterdir()) == []
