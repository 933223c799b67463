"""Jurisdiction likelihoods (``auditor.jurisdiction``, law.md section 4).

Declared jurisdictions count 1.0; the embedding page's country-code TLD counts 0.6 unless it is
a vanity ccTLD; no evidence at all gives an empty mapping (unknown applicability, never "not
applicable"); any evidence gives a complete mapping with 0.0 for codes without evidence.
"""

from __future__ import annotations

import pytest

from auditor.jurisdiction import (
    CCTLD_PRIOR,
    JURISDICTIONS,
    VANITY_CCTLDS,
    cctld,
    estimate,
)


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
        pytest.param("https://example.us/", "US", id="us"),
        pytest.param("https://example.com.au/", "AU", id="au"),
        pytest.param("https://example.ca/", "CA", id="ca"),
    ],
)
def test_cctld_gives_the_prior(page: str, code: str) -> None:
    result = estimate([page], [])
    assert result.likelihoods[code] == CCTLD_PRIOR == 0.6
    assert sum(1 for value in result.likelihoods.values() if value > 0) == 1
    assert any(page in item for item in result.evidence)


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
    result = estimate(["https://example.com/"], ["UK", "US-IL"])
    assert result.likelihoods["UK"] == 1.0
    assert result.likelihoods["US-IL"] == 1.0
    assert result.evidence == ("UK: declared for the target", "US-IL: declared for the target")


def test_declared_beats_the_cctld_prior() -> None:
    result = estimate(["https://example.co.uk/"], ["UK"])
    assert result.likelihoods["UK"] == 1.0
    assert result.evidence == ("UK: declared for the target",)


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
