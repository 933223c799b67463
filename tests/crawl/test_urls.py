"""URL normalisation, origins, host keys and crawl scope (``auditor.crawl.urls``).

The frontier de-duplicates on :func:`normalise_url`, robots.txt is cached per :func:`origin_of`
(RFC 9309: scheme, host and port) and politeness is keyed by :func:`host_key`, so each case
below names the spelling difference that must (or must not) collapse to one form.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.crawl.urls import InvalidURLError, host_key, in_scope, normalise_url, origin_of

# --- normalise_url: equivalent spellings collapse ----------------------------------------------

EQUIVALENT = [
    pytest.param("HTTP://Example.COM/a", "http://example.com/a", id="scheme-and-host-lowercased"),
    pytest.param("http://example.com:80/a", "http://example.com/a", id="default-http-port-dropped"),
    pytest.param(
        "https://example.com:443/", "https://example.com/", id="default-https-port-dropped"
    ),
    pytest.param("http://example.com", "http://example.com/", id="empty-path-becomes-slash"),
    pytest.param("http://example.com?x=1", "http://example.com/?x=1", id="empty-path-with-query"),
    pytest.param("http://bücher.de/", "http://xn--bcher-kva.de/", id="idna-host-to-ascii"),
    pytest.param("http://BÜCHER.de/", "http://xn--bcher-kva.de/", id="idna-host-case-folded"),
    pytest.param("http://example.com/a/./b/../c", "http://example.com/a/c", id="dot-segments"),
    pytest.param("http://example.com/a/b/..", "http://example.com/a/", id="trailing-dotdot"),
    pytest.param("http://example.com/a/b/.", "http://example.com/a/b/", id="trailing-dot"),
    pytest.param("http://example.com/../a", "http://example.com/a", id="dotdot-above-root"),
    pytest.param("http://example.com/%7euser/%7E", "http://example.com/~user/~", id="unreserved"),
    pytest.param("http://example.com/%41%2d%5F", "http://example.com/A-_", id="unreserved-alnum"),
    pytest.param("http://example.com/%2f%3a", "http://example.com/%2F%3A", id="reserved-hex-upper"),
    pytest.param("http://example.com/%e2%82%ac", "http://example.com/%E2%82%AC", id="utf8-escape"),
    pytest.param("http://example.com/€", "http://example.com/%E2%82%AC", id="raw-non-ascii"),
    pytest.param("http://example.com/a b", "http://example.com/a%20b", id="raw-space-quoted"),
    pytest.param("http://example.com/a?x=%41", "http://example.com/a?x=A", id="query-unreserved"),
    pytest.param("http://example.com/a?x=%3d", "http://example.com/a?x=%3D", id="query-reserved"),
    pytest.param("http://example.com/a#frag", "http://example.com/a", id="fragment-removed"),
    pytest.param("http://example.com/a?b#f", "http://example.com/a?b", id="fragment-after-query"),
    pytest.param("  http://example.com/x \n", "http://example.com/x", id="surrounding-space"),
    pytest.param("http://[::1]:80/", "http://[::1]/", id="ipv6-default-port"),
    pytest.param("http://user:pw@example.com/", "http://example.com/", id="userinfo-dropped"),
]


@pytest.mark.parametrize(("url", "expected"), EQUIVALENT)
def test_normalise_url_canonical_form(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


KEPT_DISTINCT = [
    pytest.param("https://example.com:8443/x", "https://example.com:8443/x", id="non-default-port"),
    pytest.param("http://example.com:443/", "http://example.com:443/", id="https-port-on-http"),
    pytest.param("https://example.com:80/", "https://example.com:80/", id="http-port-on-https"),
    pytest.param("http://[::1]:8080/a", "http://[::1]:8080/a", id="ipv6-port"),
    pytest.param("http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1", id="query-order"),
    pytest.param("http://example.com/A/B", "http://example.com/A/B", id="path-case-kept"),
    pytest.param("http://example.com/a.b/.c", "http://example.com/a.b/.c", id="dotfile-not-seg"),
    pytest.param("http://example.com/a//b", "http://example.com/a//b", id="empty-segment-kept"),
    pytest.param("http://example.com/x?a=1+2", "http://example.com/x?a=1+2", id="plus-kept"),
]


@pytest.mark.parametrize(("url", "expected"), KEPT_DISTINCT)
def test_normalise_url_keeps_what_can_change_the_resource(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_query_order_is_significant_for_dedupe() -> None:
    assert normalise_url("http://e.com/?a=1&b=2") != normalise_url("http://e.com/?b=2&a=1")


def test_scheme_is_part_of_the_normal_form() -> None:
    assert normalise_url("http://e.com/a") != normalise_url("https://e.com/a")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://example.com/a/%2E%2E/b", "http://example.com/b", id="encoded-dotdot"),
        pytest.param("http://example.com/a/%2e/b", "http://example.com/a/b", id="encoded-dot"),
    ],
)
def test_encoded_dot_segments_are_resolved(url: str, expected: str) -> None:
    once = normalise_url(url)
    assert normalise_url(once) == once
    assert once == expected


def test_dot_segment_removal_keeps_empty_segments() -> None:
    assert normalise_url("http://example.com/a//b/./c") == "http://example.com/a//b/c"


def test_idna_uses_the_host_httpx_and_browsers_resolve() -> None:
    assert normalise_url("http://faß.de/") == "http://xn--fa-hia.de/"


# --- normalise_url: what cannot be crawled raises ----------------------------------------------

INVALID = [
    pytest.param("ftp://example.com/", id="ftp-scheme"),
    pytest.param("mailto:someone@example.com", id="mailto"),
    pytest.param("javascript:alert(1)", id="javascript"),
    pytest.param("data:image/png;base64,AAAA", id="data-uri"),
    pytest.param("//example.com/a", id="scheme-relative"),
    pytest.param("/relative/path", id="relative"),
    pytest.param("", id="empty"),
    pytest.param("http://", id="no-host"),
    pytest.param("http:///path", id="empty-host"),
    pytest.param("http://example.com:99999/", id="port-out-of-range"),
    pytest.param("http://example.com:abc/", id="port-not-a-number"),
    pytest.param("http://\u00ad.com/", id="idna-empty-label"),
    pytest.param("http://[::1", id="unbalanced-ipv6-bracket"),
]


@pytest.mark.parametrize("url", INVALID)
def test_normalise_url_rejects_uncrawlable_urls(url: str) -> None:
    with pytest.raises(InvalidURLError):
        normalise_url(url)


def test_invalid_url_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="only http and https"):
        normalise_url("gopher://example.com/")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://ex ample.com/", id="space-in-host"),
        pytest.param("http://exa<mple.com/", id="angle-bracket-in-host"),
        pytest.param("http://a..b/", id="empty-label"),
    ],
)
def test_normalise_url_rejects_invalid_host_characters(url: str) -> None:
    with pytest.raises(InvalidURLError):
        normalise_url(url)


PATH_PART = st.one_of(
    st.sampled_from(["a", "B", "~", "%7E", "%41", "%2F", "%3d", "ö", "a b", "x.y", "", ".", ".."]),
    st.text(alphabet="abcXYZ019-_~", max_size=4),
)


@settings(deadline=None)
@given(
    path=st.lists(PATH_PART, max_size=6),
    query=st.text(alphabet="ab=&%3D+ö", max_size=8),
    port=st.sampled_from(["", ":80", ":8080"]),
)
def test_normalise_url_is_idempotent(path: list[str], query: str, port: str) -> None:
    url = f"HTTP://Example.com{port}/" + "/".join(path) + (f"?{query}" if query else "")
    once = normalise_url(url)
    assert normalise_url(once) == once
    assert once.startswith("http://example.com")


# --- origin_of and host_key --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        pytest.param("HTTPS://Example.com:443/a?b#c", "https://example.com", id="default-port"),
        pytest.param("http://Example.com:8080/a", "http://example.com:8080", id="explicit-port"),
        pytest.param("http://example.com/a/b/c.jpg", "http://example.com", id="path-dropped"),
        pytest.param("http://bücher.de/x", "http://xn--bcher-kva.de", id="idna"),
        pytest.param("http://[::1]:8080/", "http://[::1]:8080", id="ipv6"),
    ],
)
def test_origin_of(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_http_and_https_are_different_origins() -> None:
    # RFC 9309: scheme is part of the authority; each has its own robots.txt.
    assert origin_of("http://example.com/a") != origin_of("https://example.com/a")


@pytest.mark.parametrize(
    ("url", "key"),
    [
        pytest.param("https://EXAMPLE.com:443/", "example.com", id="https-default-port"),
        pytest.param("http://example.com:80/", "example.com", id="http-default-port"),
        pytest.param("http://a.com:8080/x", "a.com:8080", id="non-default-port"),
        pytest.param("http://[::1]:8080/", "[::1]:8080", id="ipv6"),
    ],
)
def test_host_key(url: str, key: str) -> None:
    assert host_key(url) == key


def test_host_key_is_scheme_independent() -> None:
    assert host_key("http://example.com/") == host_key("https://example.com/")


@pytest.mark.parametrize("url", ["http:///x", "http://example.com:99999/"])
def test_host_key_and_origin_reject_bad_authorities(url: str) -> None:
    with pytest.raises(InvalidURLError):
        host_key(url)
    with pytest.raises(InvalidURLError):
        origin_of(url)


# --- in_scope ----------------------------------------------------------------------------------

SCOPE = [
    # host mode: the seed's host and port, any scheme
    pytest.param("http://a.com/x", "http://a.com/", "host", True, id="host-same"),
    pytest.param("https://a.com/x", "http://a.com/", "host", True, id="host-https-from-http-seed"),
    pytest.param("http://a.com/x", "https://a.com/", "host", True, id="host-http-from-https-seed"),
    pytest.param("http://A.COM/x", "http://a.com/", "host", True, id="host-case-insensitive"),
    pytest.param("http://a.com:80/x", "http://a.com/", "host", True, id="host-default-port"),
    pytest.param("http://a.com/deep/x", "http://a.com/blog/", "host", True, id="host-any-path"),
    pytest.param("http://b.a.com/x", "http://a.com/", "host", False, id="host-subdomain"),
    pytest.param("http://a.com.evil/x", "http://a.com/", "host", False, id="host-suffix-trick"),
    pytest.param("http://a.com:81/x", "http://a.com/", "host", False, id="host-other-port"),
    pytest.param("http://b.com/", "http://a.com/", "host", False, id="host-other-host"),
    # prefix mode: also under the seed's directory
    pytest.param("http://a.com/blog/x", "http://a.com/blog/", "prefix", True, id="prefix-under"),
    pytest.param("https://a.com/blog/x", "http://a.com/blog/", "prefix", True, id="prefix-https"),
    pytest.param(
        "http://a.com/blog/x", "http://a.com/blog/index.html", "prefix", True, id="prefix-file-dir"
    ),
    pytest.param("http://a.com/blog/", "http://a.com/blog/", "prefix", True, id="prefix-itself"),
    pytest.param("http://a.com/other", "http://a.com/blog/", "prefix", False, id="prefix-outside"),
    pytest.param(
        "http://a.com/blogger/x", "http://a.com/blog/", "prefix", False, id="prefix-not-substring"
    ),
    pytest.param("http://a.com/", "http://a.com/blog/", "prefix", False, id="prefix-parent"),
    pytest.param("http://b.com/blog/x", "http://a.com/blog/", "prefix", False, id="prefix-host"),
]


@pytest.mark.parametrize(("url", "seed", "mode", "expected"), SCOPE)
def test_in_scope(url: str, seed: str, mode: str, expected: bool) -> None:
    assert in_scope(url, seed, mode) is expected


@pytest.mark.parametrize(
    "seed",
    [
        pytest.param("http://a.com/%7Euser/", id="escaped-unreserved"),
        pytest.param("http://a.com/x/../~user/", id="dot-segments"),
    ],
)
def test_prefix_scope_compares_normalised_paths(seed: str) -> None:
    page = normalise_url("http://a.com/~user/photo.html")
    assert in_scope(page, seed, "prefix")
