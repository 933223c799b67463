"""DbOptOutList: URL, domain and photo matching, thresholds, the near band and which entry wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.optout import DEFAULT_HAMMING_THRESHOLD, DEFAULT_NEAR_BAND
from auditor.optout.listfile import OptOutListError
from auditor.optout.matcher import DbOptOutList
from auditor.signals.optout_list import OptOutMatch
from tests.optout.conftest import MakeList

LISTED = "b5a5bdc61a4b4a62"  # fixtures/images/photo.jpg


def at_distance(distance: int, base: str = LISTED) -> str:
    """``base`` with its ``distance`` lowest bits flipped."""
    return f"{int(base, 16) ^ ((1 << distance) - 1):016x}"


@pytest.mark.parametrize(
    "image_url",
    [
        "https://example.org/photos/a.jpg",
        "HTTPS://EXAMPLE.ORG/photos/a.jpg",  # host case
        "https://example.org:443/photos/a.jpg",  # default port
        "https://example.org/photos/a.jpg#face",  # fragment
        "https://example.org/photos/./x/../a.jpg",  # dot segments
        "https://example.org/%70hotos/a.jpg",  # escaped unreserved character
    ],
)
def test_urls_match_in_normalised_form(make_list: MakeList, image_url: str) -> None:
    path = make_list([("url", "https://example.org/photos/a.jpg", "2026-03-01")])
    found = DbOptOutList(path).match(image_url, None, None)
    assert found == OptOutMatch(
        "https://example.org/photos/a.jpg", "url", "2026-03-01", None, entry_id=1
    )


@pytest.mark.parametrize(
    "image_url",
    [
        "http://example.org/photos/a.jpg",  # another scheme is another resource
        "https://example.org:8443/photos/a.jpg",
        "https://example.org/photos/a.jpg?size=large",
        "https://example.org/Photos/a.jpg",  # paths are case-sensitive
        "not a url",
    ],
)
def test_other_urls_do_not_match(make_list: MakeList, image_url: str) -> None:
    path = make_list([("url", "https://example.org/photos/a.jpg", "2026-03-01")])
    assert DbOptOutList(path).match(image_url, None, None) is None


@pytest.mark.parametrize(
    ("image_url", "listed"),
    [
        ("https://example.org/a.jpg", True),
        ("https://cdn.example.org/a.jpg", True),
        ("https://a.b.Example.ORG./a.jpg", True),
        ("http://example.org:8080/a.jpg", True),
        ("https://badexample.org/a.jpg", False),
        ("https://example.org.evil.test/a.jpg", False),
        ("https://example.com/a.jpg", False),
        ("https://org/a.jpg", False),
    ],
)
def test_a_domain_covers_its_subdomains_not_look_alikes(
    make_list: MakeList, image_url: str, listed: bool
) -> None:
    path = make_list([("domain", "example.org", "2026-03-01")])
    found = DbOptOutList(path).match(image_url, None, None)
    assert (found is not None) is listed
    if found is not None:
        assert (found.kind, found.entry) == ("domain", "example.org")


def test_internationalised_domains_match_their_ascii_form(make_list: MakeList) -> None:
    path = make_list([("domain", "xn--bcher-kva.example", "2026-03-01")])
    assert DbOptOutList(path).match("https://img.bücher.example/a.jpg", None, None) is not None


@pytest.mark.parametrize(
    ("distance", "near"),
    [
        (0, False),
        (DEFAULT_HAMMING_THRESHOLD, False),  # the threshold itself matches
        (DEFAULT_HAMMING_THRESHOLD + 1, True),  # just past it: near
        (DEFAULT_HAMMING_THRESHOLD + DEFAULT_NEAR_BAND, True),  # the band's edge is near
        (DEFAULT_HAMMING_THRESHOLD + DEFAULT_NEAR_BAND + 1, None),  # beyond: no match
    ],
)
def test_photo_distance_edges(make_list: MakeList, distance: int, near: bool | None) -> None:
    path = make_list([("phash", LISTED, "2026-03-01")])
    found = DbOptOutList(path).match("https://a.example/x.jpg", "0" * 64, at_distance(distance))
    if near is None:
        assert found is None
    else:
        assert found == OptOutMatch(LISTED, "phash", "2026-03-01", distance, near, 1)


def test_thresholds_are_configurable(make_list: MakeList) -> None:
    path = make_list([("phash", LISTED, "2026-03-01")])
    strict = DbOptOutList(path, threshold=2, near_band=0)
    assert strict.match("https://a.example/x.jpg", None, at_distance(2)) is not None
    assert strict.match("https://a.example/x.jpg", None, at_distance(3)) is None
    loose = DbOptOutList(path, threshold=12, near_band=0)
    found = loose.match("https://a.example/x.jpg", None, at_distance(12))
    assert found is not None
    assert not found.near
    with pytest.raises(ValueError, match="0 or more"):
        DbOptOutList(path, threshold=-1)


def test_the_earliest_request_wins_and_a_real_match_beats_a_near_one(make_list: MakeList) -> None:
    path = make_list(
        [
            ("phash", at_distance(9), "2026-01-01"),  # near only
            ("domain", "example.org", "2026-05-01"),
            ("phash", at_distance(3), "2026-04-01"),  # the earliest real match
            ("url", "https://example.org/a.jpg", "2026-06-01"),
        ]
    )
    found = DbOptOutList(path).match("https://example.org/a.jpg", None, LISTED)
    assert found == OptOutMatch(at_distance(3), "phash", "2026-04-01", 3, False, 3)


def test_the_closest_near_match_is_reported(make_list: MakeList) -> None:
    path = make_list(
        [("phash", at_distance(10), "2026-01-01"), ("phash", at_distance(8), "2026-02-01")]
    )
    found = DbOptOutList(path).match("https://a.example/x.jpg", None, LISTED)
    assert found == OptOutMatch(at_distance(8), "phash", "2026-02-01", 8, True, 2)


def test_hashes_of_another_size_never_match(make_list: MakeList) -> None:
    path = make_list([("phash", "0" * 64, "2026-01-01")])  # a 256-bit hash (hash_size 16)
    matcher = DbOptOutList(path)
    assert matcher.match("https://a.example/x.jpg", None, "0" * 16) is None
    assert matcher.match("https://a.example/x.jpg", None, "0" * 63 + "1") is not None


def test_the_list_is_read_once_and_never_written(make_list: MakeList) -> None:
    path = make_list([("domain", "example.org", "2026-01-01")])
    before = path.read_bytes()
    matcher = DbOptOutList(path)
    assert path.read_bytes() == before
    path.unlink()  # the matcher holds the list in memory
    assert matcher.match("https://example.org/a.jpg", None, None) is not None
    assert matcher.size == 1


def test_a_missing_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OptOutListError, match="no opt-out list"):
        DbOptOutList(tmp_path / "missing.db")
