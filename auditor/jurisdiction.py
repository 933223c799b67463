"""Jurisdiction likelihoods per image, with the evidence used (law.md section 4).

The result is a likelihood per jurisdiction code, never a single label: packs apply when the
likelihood reaches their severity's threshold, so one image can fall under several regimes.
Every piece of evidence is an :class:`Evidence` item with its own weight:

============================ ====== ===========================================================
Evidence (``source``)        Weight Why
============================ ====== ===========================================================
``declared``                 1.0    The user says the target serves that jurisdiction; a
                                    declared US state (``US-IL``) implies ``US`` as well.
``cctld`` of an embedding    0.6    law.md suggests a 0.5-0.7 prior: a ccTLD names the site's
page                                market, not where the people in the photo are. Vanity
                                    ccTLDs (:data:`VANITY_CCTLDS`) are ignored.
``hreflang`` regions of an   0.6    hreflang names the intended audiences (law.md [S73]) as
embedding page               spread explicitly as a ccTLD names a market, so the same total; it
                                    is spread evenly over the distinct regions the page names
                                    (en-GB, de-DE, de-AT, en-US: UK 0.15, EU 0.3, US 0.15).
                                    ``x-default`` and language-only values name no region and
                                    are left out.
``lang`` / ``content-        0.05   Language, not location (law.md [S72]): a tie-breaker only.
language`` naming a region          Counted only for a regional tag (en-GB, fr-CA), never for
                                    a bare language: diaspora readership (Polish is England's
                                    second language) makes even "national" languages
                                    misleading. 0.05 meets the lowest default threshold
                                    (critical) and no other, and language evidence on its own
                                    is no evidence at all: the estimate stays unknown.
``gps`` (EXIF)               0.9    Where the photo was taken: strong evidence of presence, not
                                    certainty (clocks and positions can be stale, edited or
                                    spoofed). A US state gives its state code too (Chicago:
                                    ``US`` and ``US-IL``). See :mod:`auditor.geo` for limits.
============================ ====== ===========================================================

Combination. Items of one family (declared, ccTLD, hreflang, GPS, and language for ``lang``
plus ``Content-Language``) are not independent (several pages of one site, one CMS locale
setting), so per code only the strongest item of each family counts, and only those items are
listed as evidence. Families are then treated as independent and combined with a noisy-OR,
``1 - prod(1 - w)``, rounded to 3 decimals and capped at 1.0: a ``.co.uk`` page (0.6) with a
London GPS fix (0.9) gives UK 0.96, and a declaration (1.0) always gives 1.0.

Region codes map to jurisdictions as follows. ``UK`` is Great Britain and Northern Ireland
(ISO ``GB``; hreflang's common misspelling ``UK`` is read as ``GB``, because the audience it
names is not in doubt, and the non-ISO region ``EU`` some sites use is read as ``EU``); the
Crown Dependencies and Gibraltar have their own laws and are not included. ``EU`` is where the
GDPR applies: the 27 member states, the EU parts that have their own ISO codes (Aland, French
Guiana, Guadeloupe, Martinique, Reunion, Mayotte, Saint-Martin), and the EEA states Iceland,
Liechtenstein and Norway, since the GDPR is incorporated into the EEA Agreement (Svalbard,
outside the EEA Agreement, is not). For EU-only instruments not yet in
the EEA Agreement (the AI Act) this over-includes three small countries, the precautionary
direction. ``US`` includes the inhabited territories (PR, GU, VI, AS, MP) and UM, where
federal law applies; ``AU`` includes the external territories CX, CC and NF, to which the
Privacy Act 1988 extends. ccTLDs map only for the main country codes (EEA states, ``.eu``,
``.uk``, ``.us``, ``.au``, ``.ca``): territory ccTLDs such as ``.cc`` and ``.as`` are sold as
generic domains and say nothing about a market.

With no evidence at all the mapping is empty, which the policy engine treats as *unknown*
applicability (every pack applies, flagged), never as "not applicable". When there is
evidence, every known code without evidence is reported as 0.0. Faces, names and any other
trait of the people pictured are never used: inferring nationality or ethnicity from them is
itself special-category processing (law.md section 4).

Hostile pages cannot make this raise or run long: values longer than a BCP 47 tag needs are
ignored, and a page with more than :data:`MAX_TAGS` distinct hreflang or Content-Language
values has that list ignored (the spread would make every share negligible anyway).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from auditor.geo import gazetteer_loaded, gps_region, locate
from auditor.model import PageRecord, frozen_map

__all__ = [
    "CCTLD_PRIOR",
    "DECLARED_WEIGHT",
    "GPS_WEIGHT",
    "HREFLANG_WEIGHT",
    "JURISDICTIONS",
    "LANGUAGE_WEIGHT",
    "MAX_TAGS",
    "VANITY_CCTLDS",
    "Evidence",
    "JurisdictionEstimate",
    "PageLocale",
    "cctld",
    "estimate",
    "gazetteer_loaded",
    "gps_region",
]

#: Every jurisdiction code the packs and the fact catalogue know.
JURISDICTIONS = ("UK", "EU", "US", "US-IL", "US-TX", "US-CA", "AU", "CA")

DECLARED_WEIGHT = 1.0
CCTLD_PRIOR = 0.6
HREFLANG_WEIGHT = 0.6  # in total per page, spread over the regions it names
LANGUAGE_WEIGHT = 0.05
GPS_WEIGHT = 0.9
#: More distinct hreflang or Content-Language values than this on one page: list ignored.
MAX_TAGS = 300
#: RFC 5646 4.4.1: 35 characters hold every tag in practical use.
_MAX_TAG_LENGTH = 35

VANITY_CCTLDS = frozenset({"io", "ai", "co", "tv", "me", "fm", "ly"})

_EU_MEMBERS = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    }
)  # fmt: skip
_EEA_ONLY = frozenset({"IS", "LI", "NO"})
_EU_OWN_ISO_CODES = frozenset({"AX", "GF", "GP", "MQ", "RE", "YT", "MF"})
_US_TERRITORIES = frozenset({"PR", "GU", "VI", "AS", "MP", "UM"})
_AU_TERRITORIES = frozenset({"CX", "CC", "NF"})

#: ISO 3166-1 region (and hreflang's "EU") -> jurisdiction code.
_REGION_JURISDICTION = (
    {"GB": "UK", "EU": "EU", "US": "US", "AU": "AU", "CA": "CA"}
    | dict.fromkeys(_EU_MEMBERS | _EEA_ONLY | _EU_OWN_ISO_CODES, "EU")
    | dict.fromkeys(_US_TERRITORIES, "US")
    | dict.fromkeys(_AU_TERRITORIES, "AU")
)
_REGION_ALIASES = {"UK": "GB"}
_US_STATE_JURISDICTION = {"IL": "US-IL", "TX": "US-TX", "CA": "US-CA"}
_CCTLD_JURISDICTION = {
    tld: code
    for tld, code in (
        {"uk": "UK", "eu": "EU", "us": "US", "au": "AU", "ca": "CA"}
        | {member.lower(): "EU" for member in _EU_MEMBERS | _EEA_ONLY}
    ).items()
    if tld not in VANITY_CCTLDS
}

#: language[-extlang][-script][-region][-variant/extension...]; "_" tolerated for "-".
_TAG = re.compile(
    r"[A-Za-z]{2,3}(?:[-_][A-Za-z]{3}){0,3}(?:[-_][A-Za-z]{4})?"
    r"(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?(?:[-_][A-Za-z0-9]{1,8})*"
)
_LANGUAGE_SOURCES = frozenset({"lang", "content-language"})
_FAMILY = {"lang": "language", "content-language": "language"}


@dataclass(frozen=True)
class PageLocale:
    """What an embedding page says about its audience's locale (besides its URL's ccTLD)."""

    url: str
    lang: str | None  # <html lang>
    content_language: str | None  # Content-Language response header (may list several)
    hreflang: tuple[str, ...]  # hreflang values of the page's alternates

    @classmethod
    def of(cls, page: PageRecord) -> PageLocale:
        """Take the locale facts of a crawled page; repeated Content-Language headers join."""
        languages = [value for name, value in page.headers if name == "content-language"]
        return cls(
            url=page.final_url,
            lang=page.lang,
            content_language=", ".join(languages) if languages else None,
            hreflang=tuple(value for value, _ in page.hreflang),
        )


@dataclass(frozen=True, order=True)
class Evidence:
    """One item of jurisdiction evidence; items sort by code, source, weight, detail."""

    code: str  # jurisdiction code
    source: str  # "declared" | "cctld" | "hreflang" | "gps" | "lang" | "content-language"
    weight: float  # this item's own likelihood contribution, 0..1
    detail: str  # one human line


@dataclass(frozen=True)
class JurisdictionEstimate:
    """Likelihood per code and the evidence items that were combined into it.

    ``likelihoods`` is empty when there is no evidence (unknown); otherwise it holds every code
    of :data:`JURISDICTIONS` (and any declared extra code), sorted, 0.0 meaning no evidence.
    """

    likelihoods: Mapping[str, float]
    evidence: tuple[Evidence, ...]


def cctld(url: str) -> str | None:
    """Return the country-code TLD of a URL's host (``uk`` for ``news.example.co.uk``)."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:  # e.g. an unterminated IPv6 literal
        return None
    label = host.rsplit(".", 1)[-1].lower()
    if len(label) != 2 or not label.isalpha():  # noqa: PLR2004 - ccTLDs are two letters
        return None
    return label


def _region(tag: str) -> str | None:
    """Return the region subtag of a BCP 47 tag (``GB`` for ``en-GB``), upper-cased; else None."""
    if len(tag) > _MAX_TAG_LENGTH:
        return None
    match = _TAG.fullmatch(tag)
    region = match["region"] if match else None
    if region is None:
        return None
    region = region.upper()
    return _REGION_ALIASES.get(region, region)


def _declared(declared: Iterable[str]) -> Iterator[Evidence]:
    for code in dict.fromkeys(declared):
        yield Evidence(code, "declared", DECLARED_WEIGHT, "declared for the target")
        if code.startswith("US-"):
            yield Evidence("US", "declared", DECLARED_WEIGHT, f"implied by the declared {code}")


def _cctlds(page_urls: Iterable[str]) -> Iterator[Evidence]:
    for url in dict.fromkeys(page_urls):
        tld = cctld(url)
        code = _CCTLD_JURISDICTION.get(tld) if tld else None
        if code is not None:
            yield Evidence(code, "cctld", CCTLD_PRIOR, f"ccTLD .{tld} of {url}")


def _hreflang(locale: PageLocale) -> Iterator[Evidence]:
    values = set(locale.hreflang)
    if len(values) > MAX_TAGS:
        return
    regions = {region for value in values if (region := _region(value)) is not None}
    by_code: dict[str, list[str]] = {}
    for region in regions:
        if (code := _REGION_JURISDICTION.get(region)) is not None:
            by_code.setdefault(code, []).append(region)
    for code, named in by_code.items():
        share = round(HREFLANG_WEIGHT * len(named) / len(regions), 3)
        listed = ", ".join(sorted(named))
        detail = f"hreflang {listed} ({len(named)} of {len(regions)} regions) of {locale.url}"
        yield Evidence(code, "hreflang", share, detail)


def _languages(locale: PageLocale) -> Iterator[Evidence]:
    if locale.lang is not None and (code := _REGION_JURISDICTION.get(_region(locale.lang) or "")):
        yield Evidence(code, "lang", LANGUAGE_WEIGHT, f"html lang {locale.lang} of {locale.url}")
    if locale.content_language is None:
        return
    tags = {tag.strip() for tag in locale.content_language.split(",")}
    if len(tags) > MAX_TAGS:
        return
    for tag in tags:
        if code := _REGION_JURISDICTION.get(_region(tag) or ""):
            detail = f"Content-Language {tag} of {locale.url}"
            yield Evidence(code, "content-language", LANGUAGE_WEIGHT, detail)


def _gps(gps: tuple[float, float] | None) -> Iterator[Evidence]:
    if gps is None or (place := locate(*gps)) is None:
        return
    country = _REGION_JURISDICTION.get(place.country)
    if country is None:
        return
    where = place.country + (f"/{place.state}" if place.state else "")
    detail = (
        f"EXIF GPS ({gps[0]:.2f}, {gps[1]:.2f}) in {where}, "
        f"{place.distance_km:.0f} km from the nearest GeoNames place"
    )
    yield Evidence(country, "gps", GPS_WEIGHT, detail)
    if (state := _US_STATE_JURISDICTION.get(place.state or "")) is not None:
        yield Evidence(state, "gps", GPS_WEIGHT, detail)


def estimate(
    page_urls: Iterable[str],
    declared: Iterable[str],
    *,
    locales: Iterable[PageLocale] = (),
    gps: tuple[float, float] | None = None,
) -> JurisdictionEstimate:
    """Combine every kind of evidence into likelihoods per code (see the module docstring).

    ``page_urls`` are the embedding pages (for their ccTLDs), ``declared`` the target's declared
    jurisdictions, ``locales`` the embedding pages' locale facts and ``gps`` the image's EXIF
    position. The result does not depend on the order of any input, and never raises for
    well-typed input, however hostile the values.
    """
    items = [*_declared(declared), *_cctlds(page_urls), *_gps(gps)]
    for locale in set(locales):
        items += [*_hreflang(locale), *_languages(locale)]
    if all(item.source in _LANGUAGE_SOURCES for item in items):
        return JurisdictionEstimate(frozen_map(), ())
    strongest: dict[tuple[str, str], Evidence] = {}
    for item in items:
        key = (item.code, _FAMILY.get(item.source, item.source))
        current = strongest.get(key)
        if current is None or (-item.weight, item) < (-current.weight, current):
            strongest[key] = item
    miss: dict[str, float] = dict.fromkeys(JURISDICTIONS, 1.0)
    for item in strongest.values():
        miss[item.code] = miss.get(item.code, 1.0) * (1.0 - item.weight)
    likelihoods = {code: min(1.0, round(1.0 - value, 3)) for code, value in sorted(miss.items())}
    return JurisdictionEstimate(frozen_map(likelihoods), tuple(sorted(strongest.values())))


def merge_strongest(into: dict[str, float], likelihoods: Mapping[str, float]) -> None:
    """Keep the strongest likelihood per code: a site is as exposed as its most exposed page."""
    for code, value in likelihoods.items():
        into[code] = max(into.get(code, 0.0), value)
