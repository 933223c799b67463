"""The page frontier (``auditor.crawl.frontier``): once per URL, within scope, depth and budget."""

from __future__ import annotations

import pytest

from auditor.crawl.frontier import Frontier, PageTask, Seed


def seed(url: str, *, max_pages: int = 100, max_depth: int = 5, scope: str = "host") -> Seed:
    return Seed(url=url, max_pages=max_pages, max_depth=max_depth, scope=scope)


def drain(frontier: Frontier) -> list[PageTask]:
    tasks = []
    while not frontier.queue.empty():
        tasks.append(frontier.queue.get_nowait())
    return tasks


def test_seeds_are_queued_normalised_at_depth_zero() -> None:
    frontier = Frontier((seed("HTTP://Example.com:80"), seed("https://other.example/a/./b")))
    assert frontier.add_seeds() == []
    assert drain(frontier) == [
        PageTask("http://example.com/", 0, 0),
        PageTask("https://other.example/a/b", 0, 1),
    ]


def test_invalid_seeds_are_reported_and_valid_ones_still_queued() -> None:
    frontier = Frontier(
        (seed("ftp://example.com/"), seed("http://ok.example/"), seed("http://x:99999/"))
    )
    invalid = frontier.add_seeds()
    assert [url for url, _ in invalid] == ["ftp://example.com/", "http://x:99999/"]
    assert all(reason for _, reason in invalid)
    assert "only http and https" in invalid[0][1]
    assert drain(frontier) == [PageTask("http://ok.example/", 0, 1)]


def test_duplicate_seed_is_queued_once() -> None:
    frontier = Frontier((seed("http://a.example/"), seed("http://A.example:80/")))
    assert frontier.add_seeds() == []
    assert drain(frontier) == [PageTask("http://a.example/", 0, 0)]


# --- de-duplication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param("http://a.example/page.html", id="same"),
        pytest.param("HTTP://A.EXAMPLE/page.html", id="case"),
        pytest.param("http://a.example:80/page.html", id="default-port"),
        pytest.param("http://a.example/page.html#top", id="fragment"),
        pytest.param("http://a.example/x/../page.html", id="dot-segments"),
        pytest.param("http://a.example/%70age.html", id="escaped-unreserved"),
    ],
)
def test_a_url_is_queued_once_whatever_its_spelling(spelling: str) -> None:
    frontier = Frontier((seed("http://a.example/"),))
    frontier.add_seeds()
    assert frontier.add_link("http://a.example/page.html", 1, 0) is True
    assert frontier.add_link(spelling, 1, 0) is False
    assert [task.url for task in drain(frontier)] == [
        "http://a.example/",
        "http://a.example/page.html",
    ]


@pytest.mark.parametrize(
    "other",
    [
        pytest.param("http://a.example/page.html?x=1", id="query"),
        pytest.param("http://a.example/Page.html", id="path-case"),
        pytest.param("https://a.example/page.html", id="scheme"),
    ],
)
def test_different_resources_are_both_queued(other: str) -> None:
    frontier = Frontier((seed("http://a.example/"),))
    assert frontier.add_link("http://a.example/page.html", 1, 0) is True
    assert frontier.add_link(other, 1, 0) is True


def test_seed_linked_back_to_is_not_queued_again() -> None:
    frontier = Frontier((seed("http://a.example/"),))
    frontier.add_seeds()
    assert frontier.add_link("http://a.example", 1, 0) is False


def test_mark_seen_blocks_a_redirect_target() -> None:
    frontier = Frontier((seed("http://a.example/"),))
    frontier.mark_seen("http://a.example/final.html")
    assert frontier.add_link("http://a.example/final.html", 1, 0) is False
    assert frontier.add_link("http://a.example/other.html", 1, 0) is True


def test_invalid_links_are_refused_quietly() -> None:
    frontier = Frontier((seed("http://a.example/"),))
    for link in ("javascript:void(0)", "mailto:x@a.example", "http://a.example:0x/", "/rel"):
        assert frontier.add_link(link, 1, 0) is False
    assert frontier.queue.empty()


# --- depth -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "queued"),
    [
        pytest.param(1, True, id="within"),
        pytest.param(2, True, id="at-limit"),
        pytest.param(3, False, id="beyond-limit"),
    ],
)
def test_depth_limit(depth: int, queued: bool) -> None:
    frontier = Frontier((seed("http://a.example/", max_depth=2),))
    assert frontier.add_link("http://a.example/p.html", depth, 0) is queued
    assert frontier.newly_over_budget() == []  # depth is not the page budget


def test_link_refused_for_depth_can_be_queued_later_from_a_shallower_page() -> None:
    frontier = Frontier((seed("http://a.example/", max_depth=1),))
    assert frontier.add_link("http://a.example/p.html", 2, 0) is False
    assert frontier.add_link("http://a.example/p.html", 1, 0) is True


def test_max_depth_zero_crawls_only_the_seed() -> None:
    frontier = Frontier((seed("http://a.example/", max_depth=0),))
    frontier.add_seeds()
    assert frontier.add_link("http://a.example/p.html", 1, 0) is False
    assert len(drain(frontier)) == 1


# --- page budget -------------------------------------------------------------------------------


def test_page_budget_counts_the_seed_and_stops_at_max_pages() -> None:
    frontier = Frontier((seed("http://a.example/", max_pages=3),))
    frontier.add_seeds()
    results = [frontier.add_link(f"http://a.example/{n}.html", 1, 0) for n in range(5)]
    assert results == [True, True, False, False, False]
    assert frontier.newly_over_budget() == [0]
    assert frontier.newly_over_budget() == []  # reported once
    assert len(drain(frontier)) == 3


def test_page_budget_is_per_target() -> None:
    frontier = Frontier((seed("http://a.example/", max_pages=1), seed("http://b.example/")))
    frontier.add_seeds()
    assert frontier.add_link("http://a.example/x.html", 1, 0) is False  # a's budget is spent
    assert frontier.add_link("http://b.example/x.html", 1, 1) is True
    assert frontier.newly_over_budget() == [0]


def test_out_of_scope_and_duplicate_links_do_not_use_the_budget() -> None:
    frontier = Frontier((seed("http://a.example/", max_pages=2),))
    frontier.add_seeds()
    assert frontier.add_link("http://elsewhere.example/", 1, 0) is False
    assert frontier.add_link("http://a.example/", 1, 0) is False
    assert frontier.add_link("http://a.example/x.html", 1, 0) is True
    assert frontier.newly_over_budget() == []


# --- scope -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "scope", "queued"),
    [
        pytest.param("http://a.example/any/where.html", "host", True, id="host-same-host"),
        pytest.param("https://a.example/x.html", "host", True, id="host-other-scheme"),
        pytest.param("http://cdn.a.example/x.html", "host", False, id="host-subdomain"),
        pytest.param("http://a.example:8080/x.html", "host", False, id="host-other-port"),
        pytest.param("http://b.example/blog/x.html", "host", False, id="host-other-host"),
        pytest.param("http://a.example/blog/2024/x.html", "prefix", True, id="prefix-under"),
        pytest.param("http://a.example/shop/x.html", "prefix", False, id="prefix-outside"),
        pytest.param("http://a.example/blogroll.html", "prefix", False, id="prefix-sibling"),
    ],
)
def test_scope(link: str, scope: str, queued: bool) -> None:
    frontier = Frontier((seed("http://a.example/blog/index.html", scope=scope),))
    assert frontier.add_link(link, 1, 0) is queued


def test_scope_is_that_of_the_target_that_found_the_link() -> None:
    frontier = Frontier((seed("http://a.example/"), seed("http://b.example/")))
    assert frontier.add_link("http://b.example/x.html", 1, 0) is False
    assert frontier.add_link("http://b.example/x.html", 1, 1) is True
    assert drain(frontier) == [PageTask("http://b.example/x.html", 1, 1)]


def test_prefix_scope_with_an_escaped_seed_keeps_its_own_pages() -> None:
    frontier = Frontier((seed("http://a.example/%7Eann/", scope="prefix"),))
    assert frontier.add_seeds() == []
    assert frontier.add_link("http://a.example/~ann/photos.html", 1, 0) is True
