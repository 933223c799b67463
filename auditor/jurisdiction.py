"""Jurisdiction likelihoods per image, with the evidence used (law.md section 4).

The result is a probability per jurisdiction code, never a single label: packs apply when the
likelihood reaches their threshold, so one image can fall under several regimes. This first
version weighs two kinds of evidence:

- a jurisdiction the user declared for the target (``targets[].jurisdictions``): 1.0;
- the country-code TLD of the page that embeds the image: 0.6 (law.md suggests a 0.5-0.7 prior),
  with vanity ccTLDs (``.io``, ``.ai``, ``.co``, ``.tv``, ``.me``, ``.fm``, ``.ly``) ignored.

With no evidence at all the mapping is empty, which the policy engine treats as *unknown*
applicability (precautionary: the rule is evaluated), never as "not applicable". When there is
evidence, every known code without evidence is reported as 0.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Every jurisdiction code the packs and the fact catalogue know.
JURISDICTIONS = ("UK", "EU", "US", "US-IL", "US-TX", "US-CA", "AU", "CA")

CCTLD_PRIOR = 0.6
VANITY_CCTLDS = frozenset({"io", "ai", "co", "tv", "me", "fm", "ly"})
#: EU member states' ccTLDs, plus .eu itself.
_EU_CCTLDS = frozenset(
    {
        "at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu", "ie",
        "it", "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se", "eu",
    }
)  # fmt: skip
_CCTLD_JURISDICTION = {"uk": "UK", "us": "US", "au": "AU", "ca": "CA"} | dict.fromkeys(
    _EU_CCTLDS, "EU"
)


@dataclass(frozen=True)
class JurisdictionEstimate:
    """Likelihood per code and the evidence behind each non-zero value."""

    likelihoods: Mapping[str, float]
    evidence: tuple[str, ...]


def cctld(url: str) -> str | None:
    """Return the country-code TLD of a URL's host (``uk`` for ``news.example.co.uk``)."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    label = host.rsplit(".", 1)[-1].lower()
    if len(label) != 2 or not label.isalpha():  # noqa: PLR2004 - ccTLDs are two letters
        return None
    return label


def estimate(page_urls: Iterable[str], declared: Iterable[str]) -> JurisdictionEstimate:
    """Combine declared target jurisdictions with the ccTLDs of the embedding pages."""
    likelihoods: dict[str, float] = {}
    evidence: list[str] = []
    for code in declared:
        likelihoods[code] = 1.0
        evidence.append(f"{code}: declared for the target")
    for page_url in dict.fromkeys(page_urls):
        tld = cctld(page_url)
        if tld is None or tld in VANITY_CCTLDS or tld not in _CCTLD_JURISDICTION:
            continue
        code = _CCTLD_JURISDICTION[tld]
        if likelihoods.get(code, 0.0) < CCTLD_PRIOR:
            likelihoods[code] = CCTLD_PRIOR
            evidence.append(f"{code}: ccTLD .{tld} of {page_url}")
    if not likelihoods:
        return JurisdictionEstimate({}, ())
    complete = {code: likelihoods.get(code, 0.0) for code in JURISDICTIONS}
    complete.update(likelihoods)
    return JurisdictionEstimate(dict(sorted(complete.items())), tuple(evidence))
