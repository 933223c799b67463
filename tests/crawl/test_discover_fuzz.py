"""Property tests: discovery and its parsers never raise, and their outputs keep their promises."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.crawl.discover import (
    PageDiscovery,
    css_background_urls,
    discover,
    parse_srcset,
)
from auditor.crawl.resolve import UrlResolver, resolve_url

PAGE = "https://site.example/dir/page.html"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TAGS = ["img", "a", "area", "source", "picture", "meta", "link", "base", "script", "div", "title"]
TAGS += ["html", "head", "body", "style", "noscript", "svg", "table", "p"]
ATTRS = ["src", "srcset", "href", "style", "data-src", "data-srcset", "data-lazy-src", "data-bg"]
ATTRS += ["rel", "name", "property", "content", "type", "hreflang", "alt", "lang", "data-original"]
PIECES = ["url(", ")", "(", '"', "'", ",", ";", " ", "\t", "\n", "1x", "2x", "640w", "50h", "#"]
PIECES += ["data:image/png;base64,", "javascript:", "//", "\\", "/", "..", "./", "?", "=", ":"]
PIECES += ["http://", "https://", "a.jpg", "b.PNG", "page.html", "nofollow", "license", "robots"]
PIECES += ["og:image", "twitter:image", "application/ld+json", "ImageObject", "@graph", "{", "}"]
PIECES += ["[", "]", "background:", "background-image:", "linear-gradient(", "image-set(", "<!--"]

values = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=5)), max_size=12).map("".join)


@st.composite
def html_fragments(draw: st.DrawFn) -> str:
    """Markup made of the tags, attributes and value pieces discovery cares about."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        choice = draw(st.integers(0, 3))
        tag = draw(st.sampled_from(TAGS))
        if choice == 0:
            attrs = draw(st.lists(st.tuples(st.sampled_from(ATTRS), values), max_size=4))
            rendered = "".join(f' {name}="{value}"' for name, value in attrs)
            parts.append(f"<{tag}{rendered}>")
        elif choice == 1:
            parts.append(f"</{tag}>")
        elif choice == 2:
            parts.append(draw(values))
        else:
            parts.append(draw(st.text(max_size=20)))
    return "".join(parts)


def check_invariants(result: PageDiscovery) -> None:
    urls = [ref.url for ref in result.images]
    urls += list(result.links) + list(result.license_links) + [h for _, h in result.hreflang]
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme in {"http", "https"}
        assert parts.netloc
        assert "#" not in url
    keys = [(ref.url, ref.kind) for ref in result.images]
    assert len(keys) == len(set(keys))
    assert len(result.links) == len(set(result.links))
    assert set(result.nofollow_links) <= set(result.links)
    assert result.data_uri_images >= 0


@FUZZ
@given(st.text())
def test_discover_never_raises_on_text(html: str) -> None:
    check_invariants(discover(html, PAGE))


@FUZZ
@given(st.binary(), st.sampled_from([None, "utf-8", "latin-1", "utf-16", "shift_jis", "bogus"]))
def test_discover_never_raises_on_bytes(html: bytes, encoding: str | None) -> None:
    check_invariants(discover(html, PAGE, encoding=encoding))


@FUZZ
@given(html_fragments(), st.integers(0, 5), st.integers(0, 5))
def test_discover_never_raises_on_markup(html: str, max_images: int, max_links: int) -> None:
    result = discover(html, PAGE, bot_names=("mybot",), max_images=max_images, max_links=max_links)
    check_invariants(result)
    assert len(result.images) <= max_images
    assert len(result.links) <= max_links


@FUZZ
@given(html_fragments())
def test_discover_markup_as_bytes(html: str) -> None:
    check_invariants(discover(html.encode("utf-8", "surrogatepass"), PAGE))


@FUZZ
@given(st.one_of(st.text(), values))
def test_parse_srcset_never_raises_and_urls_are_non_empty(value: str) -> None:
    for url, descriptor in parse_srcset(value):
        assert url
        assert not any(char in url for char in " \t\n\r\f")
        assert not url.endswith(",")
        assert descriptor is None or descriptor.strip()


@FUZZ
@given(st.one_of(st.text(), values))
def test_css_background_urls_never_raises(style: str) -> None:
    for url in css_background_urls(style):
        assert url
        assert url == url.strip(" \t\n\r\f")


@FUZZ
@given(values, st.sampled_from([PAGE, "https://H.example", "http://h.example/a/b/", "x:/y"]))
def test_fast_resolution_matches_urljoin(reference: str, base: str) -> None:
    assert UrlResolver(base)(reference) == resolve_url(reference, base)
