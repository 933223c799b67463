"""Discovery of links, image references and page facts in one HTML page.

Every feature has a case that must find it and a case that must not. Image cases are one table:
each row names the markup, the ``(url, kind)`` pairs that must be found and the URLs that must not
appear under any kind.
"""

from __future__ import annotations

import time

import pytest

from auditor.crawl.discover import (
    ImageRef,
    PageDiscovery,
    RefKind,
    css_background_urls,
    discover,
    parse_srcset,
)

PAGE = "https://site.example/dir/page.html"
S = "https://site.example"
D = "https://site.example/dir"

I = RefKind  # noqa: E741 - short alias keeps the table readable


def run(body: str, **kwargs: object) -> PageDiscovery:
    html = f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>"
    return discover(html, PAGE, **kwargs)  # type: ignore[arg-type]


def pairs(result: PageDiscovery) -> set[tuple[str, RefKind]]:
    return {(ref.url, ref.kind) for ref in result.images}


def ref(result: PageDiscovery, url: str, kind: RefKind) -> ImageRef:
    return next(r for r in result.images if r.url == url and r.kind is kind)


IMAGE_CASES = [
    # <img src>
    pytest.param('<img src="a.jpg" alt="A">', [(f"{D}/a.jpg", I.IMG)], [], id="img-src-relative"),
    pytest.param('<img alt="no source">', [], [f"{D}/"], id="img-without-src-finds-nothing"),
    pytest.param('<img src="">', [], [PAGE], id="img-empty-src-is-not-the-page"),
    pytest.param(
        '<img src="  /x/b.png#frag \n">',
        [(f"{S}/x/b.png", I.IMG)],
        [],
        id="img-whitespace-fragment",
    ),
    pytest.param(
        '<img src="//cdn.example/c.jpg">',
        [("https://cdn.example/c.jpg", I.IMG)],
        [],
        id="img-scheme-relative",
    ),
    pytest.param(
        '<img src="HTTPS://CDN.Example/Up.JPG">',
        [("https://cdn.example/Up.JPG", I.IMG)],
        [],
        id="img-scheme-host-lowercased-path-kept",
    ),
    pytest.param('<img src="../up.jpg">', [(f"{S}/up.jpg", I.IMG)], [], id="img-dot-dot"),
    pytest.param(
        r'<img src="\\cdn.example\img\x.jpg">',
        [("https://cdn.example/img/x.jpg", I.IMG)],
        [],
        id="img-backslashes-read-as-slashes",
    ),
    pytest.param(
        '<img src="javascript:alert(1)"><img src="ftp://h/x.jpg"><img src="blob:https://a/b">',
        [],
        ["javascript:alert(1)", "ftp://h/x.jpg"],
        id="img-non-http-schemes-dropped",
    ),
    pytest.param(
        '<noscript><img src="real.jpg"></noscript>',
        [(f"{D}/real.jpg", I.IMG)],
        [],
        id="img-inside-noscript",
    ),
    # <img srcset>
    pytest.param(
        '<img srcset="img.jpg?a=1,2 1x, big.jpg?w=2,000 2x">',
        [(f"{D}/img.jpg?a=1,2", I.SRCSET), (f"{D}/big.jpg?w=2,000", I.SRCSET)],
        [f"{D}/img.jpg?a=1", f"{D}/2"],
        id="srcset-commas-inside-urls",
    ),
    pytest.param(
        '<img srcset="s.jpg 320w,m.jpg 640w , l.jpg">',
        [(f"{D}/s.jpg", I.SRCSET), (f"{D}/m.jpg", I.SRCSET), (f"{D}/l.jpg", I.SRCSET)],
        [],
        id="srcset-every-candidate",
    ),
    pytest.param(
        '<img srcset="ok.jpg 1x, prose.jpg is not a descriptor, zero.jpg 0w">',
        [(f"{D}/ok.jpg", I.SRCSET)],
        [f"{D}/prose.jpg", f"{D}/zero.jpg"],
        id="srcset-invalid-descriptors-dropped-like-browsers",
    ),
    # <picture><source>
    pytest.param(
        '<picture><source srcset="p.avif 1x, p2.avif 2x" type="image/avif">'
        '<img src="p.jpg"></picture>',
        [
            (f"{D}/p.avif", I.PICTURE_SOURCE),
            (f"{D}/p2.avif", I.PICTURE_SOURCE),
            (f"{D}/p.jpg", I.IMG),
        ],
        [],
        id="picture-source-srcset",
    ),
    pytest.param(
        '<video><source src="movie.mp4" type="video/mp4"></video>',
        [],
        [f"{D}/movie.mp4"],
        id="video-source-src-is-not-an-image",
    ),
    # lazy attributes
    pytest.param(
        '<img src="ph.gif" data-src="real.jpg" data-lazy-src="l2.jpg" data-original="l3.jpg">',
        [(f"{D}/real.jpg", I.LAZY), (f"{D}/l2.jpg", I.LAZY), (f"{D}/l3.jpg", I.LAZY)],
        [],
        id="lazy-data-src-on-img",
    ),
    pytest.param(
        '<img data-srcset="a-1.jpg 1x, a-2.jpg 2x"><source data-lazy-srcset="s.webp 640w">',
        [(f"{D}/a-1.jpg", I.LAZY), (f"{D}/a-2.jpg", I.LAZY), (f"{D}/s.webp", I.LAZY)],
        [],
        id="lazy-data-srcset",
    ),
    pytest.param(
        '<div class="hero" data-src="/hero.webp"></div><a data-original="zoom.JPEG">z</a>',
        [(f"{S}/hero.webp", I.LAZY), (f"{D}/zoom.JPEG", I.LAZY)],
        [],
        id="lazy-data-src-on-div-with-image-extension",
    ),
    pytest.param(
        '<iframe data-src="https://video.example/embed/1"></iframe><div data-src="/widget"></div>'
        '<script data-src="app.js"></script>',
        [],
        ["https://video.example/embed/1", f"{S}/widget", f"{D}/app.js"],
        id="lazy-data-src-without-image-extension-off-img-ignored",
    ),
    pytest.param(
        '<section data-bg="bg-photo(1)"></section><div data-background-image="url(\'b.jpg\')">',
        [(f"{D}/bg-photo(1)", I.LAZY), (f"{D}/b.jpg", I.LAZY)],
        [],
        id="lazy-data-bg-any-element",
    ),
    # Open Graph
    pytest.param(
        '<meta property="og:image" content="/og.jpg">',
        [(f"{S}/og.jpg", I.OG_IMAGE)],
        [],
        id="og-image-property",
    ),
    pytest.param(
        '<meta name="og:image" content="og-name.jpg">',
        [(f"{D}/og-name.jpg", I.OG_IMAGE)],
        [],
        id="og-image-name",
    ),
    pytest.param(
        '<meta property="OG:Image:Secure_URL" content="https://s.example/o.png">'
        '<meta property="og:image:url" content="u.png">',
        [("https://s.example/o.png", I.OG_IMAGE), (f"{D}/u.png", I.OG_IMAGE)],
        [],
        id="og-image-url-and-secure-url",
    ),
    pytest.param(
        '<meta property="og:image:width" content="1200">'
        '<meta property="og:image:alt" content="x.jpg">'
        '<meta property="og:url" content="/page.jpg"><meta content="/orphan.jpg">',
        [],
        [f"{D}/1200", f"{D}/x.jpg", f"{S}/page.jpg", f"{S}/orphan.jpg"],
        id="og-image-width-alt-url-are-not-images",
    ),
    # Twitter
    pytest.param(
        '<meta name="twitter:image" content="tw.jpg">'
        '<meta name="twitter:image:src" content="/tw2.jpg">',
        [(f"{D}/tw.jpg", I.TWITTER_IMAGE), (f"{S}/tw2.jpg", I.TWITTER_IMAGE)],
        [],
        id="twitter-image",
    ),
    pytest.param(
        '<meta name="twitter:card" content="summary.jpg">'
        '<meta name="twitter:image:alt" content="x.jpg">',
        [],
        [f"{D}/summary.jpg", f"{D}/x.jpg"],
        id="twitter-card-is-not-an-image",
    ),
    # inline CSS
    pytest.param(
        """<div style='background: url("a.jpg"), linear-gradient(red, blue)'></div>""",
        [(f"{D}/a.jpg", I.CSS_BACKGROUND)],
        [],
        id="css-background-with-gradient",
    ),
    pytest.param(
        "<p style=\"color: red; BACKGROUND-IMAGE: url(/b.png), url('c.png')\"></p>",
        [(f"{S}/b.png", I.CSS_BACKGROUND), (f"{D}/c.png", I.CSS_BACKGROUND)],
        [],
        id="css-background-image-layers",
    ),
    pytest.param(
        '<div style="border-image: url(border.png) 30; list-style: url(dot.png); '
        'background: linear-gradient(red, blue)"></div>',
        [],
        [f"{D}/border.png", f"{D}/dot.png"],
        id="css-other-properties-and-gradients-ignored",
    ),
    # links to image files
    pytest.param(
        '<a href="photo.JPG">p</a><area href="/map.webp"><a href="x.svg">s</a>',
        [(f"{D}/photo.JPG", I.LINK), (f"{S}/map.webp", I.LINK), (f"{D}/x.svg", I.LINK)],
        [],
        id="a-href-image-extension-case-insensitive",
    ),
    pytest.param(
        '<a href="page.html">p</a><a href="/jpg/">dir</a><a href="/photo.jpg.html">h</a>'
        '<a href="/favicon.ico">i</a>',
        [],
        [f"{D}/page.html", f"{S}/jpg/", f"{S}/photo.jpg.html", f"{S}/favicon.ico"],
        id="a-href-page-is-not-an-image",
    ),
    pytest.param(
        '<a href="/img/photo.png?size=large#zoom">p</a>',
        [(f"{S}/img/photo.png?size=large", I.LINK)],
        [],
        id="a-href-image-with-query",
    ),
]


@pytest.mark.parametrize(("body", "found", "absent"), IMAGE_CASES)
def test_image_references(body: str, found: list[tuple[str, RefKind]], absent: list[str]) -> None:
    result = run(body)
    got = pairs(result)
    for pair in found:
        assert pair in got, f"missing {pair}; got {sorted(got)}"
    urls = {url for url, _ in got}
    for url in absent:
        assert url not in urls, f"unexpected {url}"


def test_srcset_descriptor_and_alt_carried() -> None:
    result = run('<img src="a.jpg" alt="A dog" srcset="a-2.jpg 2x, a-w.jpg 640w">')
    assert ref(result, f"{D}/a.jpg", I.IMG).descriptor is None
    assert ref(result, f"{D}/a.jpg", I.IMG).alt == "A dog"
    assert ref(result, f"{D}/a-2.jpg", I.SRCSET).descriptor == "2x"
    assert ref(result, f"{D}/a-w.jpg", I.SRCSET).descriptor == "640w"
    assert ref(result, f"{D}/a-w.jpg", I.SRCSET).alt == "A dog"


def test_alt_empty_string_differs_from_missing() -> None:
    result = run('<img src="deco.png" alt=""><img src="none.png">')
    assert ref(result, f"{D}/deco.png", I.IMG).alt == ""
    assert ref(result, f"{D}/none.png", I.IMG).alt is None


def test_alt_only_for_img_refs() -> None:
    result = run(
        '<meta property="og:image" content="o.jpg"><div style="background:url(b.jpg)" alt="x">'
    )
    assert ref(result, f"{D}/o.jpg", I.OG_IMAGE).alt is None
    assert ref(result, f"{D}/b.jpg", I.CSS_BACKGROUND).alt is None


def test_picture_sources_carry_the_pictures_img_alt() -> None:
    result = run(
        '<picture><source srcset="a.webp" type="image/webp"><source srcset="a.avif">'
        '<img src="a.jpg" alt="Portrait"></picture><source srcset="stray.webp">'
    )
    assert ref(result, f"{D}/a.webp", I.PICTURE_SOURCE).alt == "Portrait"
    assert ref(result, f"{D}/a.avif", I.PICTURE_SOURCE).alt == "Portrait"
    assert ref(result, f"{D}/stray.webp", I.PICTURE_SOURCE).alt is None


# --- base URL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected_base", "img_url"),
    [
        pytest.param(
            '<base href="https://cdn.example/assets/">',
            "https://cdn.example/assets/",
            "https://cdn.example/assets/x.jpg",
            id="absolute-base",
        ),
        pytest.param('<base href="/root/">', f"{S}/root/", f"{S}/root/x.jpg", id="relative-base"),
        pytest.param('<base target="_blank">', PAGE, f"{D}/x.jpg", id="base-without-href-ignored"),
        pytest.param(
            '<base href="javascript:void(0)">', PAGE, f"{D}/x.jpg", id="non-http-base-ignored"
        ),
        pytest.param(
            '<base href="/first/"><base href="/second/">',
            f"{S}/first/",
            f"{S}/first/x.jpg",
            id="first-base-wins",
        ),
    ],
)
def test_base_href(head: str, expected_base: str, img_url: str) -> None:
    html = f'<html><head>{head}</head><body><img src="x.jpg"></body></html>'
    result = discover(html, PAGE)
    assert result.base_url == expected_base
    assert pairs(result) == {(img_url, I.IMG)}


def test_base_href_applies_to_urls_before_it() -> None:
    html = '<html><body><img src="early.jpg"><base href="https://cdn.example/"></body></html>'
    assert pairs(discover(html, PAGE)) == {("https://cdn.example/early.jpg", I.IMG)}


# --- JSON-LD ---------------------------------------------------------------------------------

YOAST_GRAPH = """
<script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "WebPage", "@id": "https://site.example/dir/page.html",
   "url": "https://site.example/dir/page.html",
   "thumbnailUrl": "https://site.example/up/portrait.jpg",
   "primaryImageOfPage": {"@id": "https://site.example/dir/page.html#primaryimage"},
   "image": {"@id": "https://site.example/dir/page.html#primaryimage"}},
  {"@type": "ImageObject", "@id": "https://site.example/dir/page.html#primaryimage",
   "url": "https://site.example/up/portrait.jpg",
   "contentUrl": "https://site.example/up/portrait.jpg",
   "license": "https://creativecommons.org/licenses/by-nc/4.0/",
   "acquireLicensePage": "/licensing",
   "creditText": "Jane Doe / Agency",
   "copyrightNotice": "© 2024 Jane Doe",
   "creator": {"@type": "Person", "name": "Jane Doe"}},
  {"@type": "Organization", "logo": {"@type": "ImageObject", "url": "/logo.png"}}
]}
</script>"""


def test_jsonld_graph_with_image_object_rights() -> None:
    result = run(YOAST_GRAPH)
    portrait = ref(result, f"{S}/up/portrait.jpg", I.JSONLD)
    assert portrait.license == "https://creativecommons.org/licenses/by-nc/4.0/"
    assert portrait.acquire_license_page == f"{S}/licensing"
    assert portrait.credit_text == "Jane Doe / Agency"
    assert portrait.copyright_notice == "© 2024 Jane Doe"
    assert (f"{S}/logo.png", I.JSONLD) in pairs(result)
    # The @id references (#primaryimage) are not image URLs, and the page URL is not an image.
    assert {r.url for r in result.images} == {f"{S}/up/portrait.jpg", f"{S}/logo.png"}


@pytest.mark.parametrize(
    ("script", "found"),
    [
        pytest.param('{"@type": "Article", "image": "/a.jpg"}', [f"{S}/a.jpg"], id="image-string"),
        pytest.param(
            '[{"@type": "Product", "image": ["p1.jpg", {"url": "p2.jpg"}]}, {"@type": "Thing"}]',
            [f"{D}/p1.jpg", f"{D}/p2.jpg"],
            id="top-level-array-image-list-and-untyped-object",
        ),
        pytest.param(
            '{"@type": "Recipe", "mainEntity": {"@type": "HowTo", "step": [{"image": '
            '{"@type": "schema:ImageObject", "contentUrl": "deep.jpg"}}]}}',
            [f"{D}/deep.jpg"],
            id="nested-image-object-prefixed-type",
        ),
        pytest.param(
            '{"@type": "https://schema.org/ImageObject", "contentUrl": "c.jpg", "url": "/landing"}',
            [f"{D}/c.jpg"],
            id="content-url-preferred-over-url",
        ),
        pytest.param(
            '{"@type": "WebPage", "url": "/not-an-image", "name": "x.jpg"}',
            [],
            id="url-of-non-image-node-ignored",
        ),
        pytest.param('{"@type": "Article", "image": ', [], id="malformed-json-skipped"),
        pytest.param(
            '<!--\n{"@type": "Article", "image": "c.jpg"}\n-->',
            [f"{D}/c.jpg"],
            id="comment-wrapped",
        ),
        pytest.param("[" * 50_000 + "]" * 50_000, [], id="deeply-nested-json"),
    ],
)
def test_jsonld_variants(script: str, found: list[str]) -> None:
    result = run(f'<script type="application/ld+json">{script}</script>')
    assert [r.url for r in result.images if r.kind is I.JSONLD] == found


def test_jsonld_only_from_ld_json_scripts() -> None:
    body = (
        '<script type="application/json">{"image": "no1.jpg"}</script>'
        '<script>{"image": "no2.jpg"}</script>'
        '<script type="Application/LD+JSON; charset=utf-8">{"image": "yes.jpg"}</script>'
    )
    assert [r.url for r in run(body).images] == [f"{D}/yes.jpg"]


def test_jsonld_duplicate_keeps_the_ref_with_rights() -> None:
    body = (
        '<script type="application/ld+json">{"image": "x.jpg"}</script>'
        '<script type="application/ld+json">'
        '{"@type": "ImageObject", "contentUrl": "x.jpg", "creditText": "Ann"}</script>'
    )
    images = run(body).images
    assert len(images) == 1
    assert images[0].credit_text == "Ann"


# --- data: URIs, de-duplication, caps ---------------------------------------------------------


def test_data_uris_counted_not_returned() -> None:
    body = (
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="'
        ' srcset="data:image/png;base64,AA 1x">'
        "<div style=\"background:url('data:image/svg+xml;utf8,<svg/>')\"></div>"
        '<a href="data:image/png;base64,AA">img</a><a href="data:text/html,hi">not an image</a>'
    )
    result = run(body)
    assert result.images == ()
    assert result.data_uri_images == 4
    assert result.links == ()


def test_no_data_uris() -> None:
    assert run('<img src="a.jpg">').data_uri_images == 0


def test_dedup_by_url_and_kind_in_document_order() -> None:
    body = '<img src="a.jpg"><img src="b.jpg"><img src="a.jpg"><a href="a.jpg">a</a>'
    result = run(body)
    assert [(r.url, r.kind) for r in result.images] == [
        (f"{D}/a.jpg", I.IMG),
        (f"{D}/b.jpg", I.IMG),
        (f"{D}/a.jpg", I.LINK),
    ]


def test_image_cap_sets_truncated() -> None:
    result = run("".join(f'<img src="{i}.jpg">' for i in range(10)), max_images=3)
    assert [r.url for r in result.images] == [f"{D}/0.jpg", f"{D}/1.jpg", f"{D}/2.jpg"]
    assert result.truncated


def test_link_cap_sets_truncated() -> None:
    result = run("".join(f'<a href="/p{i}">x</a>' for i in range(10)), max_links=4)
    assert result.links == tuple(f"{S}/p{i}" for i in range(4))
    assert result.truncated


def test_caps_not_hit_when_duplicates_only() -> None:
    result = run('<img src="a.jpg">' * 10 + '<a href="/p">x</a>' * 10, max_images=1, max_links=1)
    assert not result.truncated


# --- links -----------------------------------------------------------------------------------


def test_links_absolute_deduplicated_without_fragments_or_image_files() -> None:
    body = (
        '<a href="b.html#top">1</a><a href="/c">2</a><a href="b.html">3</a><area href="map.html">'
        '<a href="https://other.example/">4</a><a href="mailto:x@y">5</a><a href="tel:+1">6</a>'
        '<a href="javascript:void(0)">7</a><a href="photo.jpg">8</a><a>no href</a>'
        '<link rel="stylesheet" href="/style.css">'
    )
    assert run(body).links == (
        f"{D}/b.html",
        f"{S}/c",
        f"{D}/map.html",
        "https://other.example/",
    )


def test_nofollow_links_kept_and_exposed() -> None:
    body = (
        '<a href="/nf" rel="NoFollow">1</a><a href="/ugc" rel="ugc nofollow">2</a>'
        '<a href="/mixed" rel="nofollow">3</a><a href="/mixed">4</a><a href="/plain">5</a>'
        '<a href="/sponsored" rel="sponsored">6</a>'
    )
    result = run(body)
    assert result.links == tuple(f"{S}/{p}" for p in ("nf", "ugc", "mixed", "plain", "sponsored"))
    assert result.nofollow_links == (f"{S}/nf", f"{S}/ugc")


def test_no_nofollow() -> None:
    assert run('<a href="/x" rel="noopener">x</a>').nofollow_links == ()


# --- page facts ------------------------------------------------------------------------------


def test_meta_robots_names_case_insensitive_content_raw() -> None:
    html = (
        '<html><head><META NAME="ROBOTS" CONTENT="NoAI"><meta name=" Robots " content="noimageai">'
        '<meta name="AcmeBot" content="noml"><meta name="googlebot" content="noai">'
        '<meta name="description" content="robots"></head></html>'
    )
    result = discover(html, PAGE, bot_names=("acmebot",))
    assert result.meta_robots == (("robots", "NoAI"), ("robots", "noimageai"), ("acmebot", "noml"))


def test_meta_robots_other_bots_not_collected_without_bot_names() -> None:
    html = '<html><head><meta name="googlebot" content="noai"><meta name="acmebot" content="x">'
    assert discover(html, PAGE).meta_robots == ()


def test_meta_robots_outside_head_still_collected() -> None:
    html = '<html><body><p>x</p><meta name="robots" content="noindex"></body></html>'
    assert discover(html, PAGE).meta_robots == (("robots", "noindex"),)


def test_tdm_meta() -> None:
    html = (
        '<html><head><meta name="TDM-Reservation" content=" 1 ">'
        '<meta name="tdm-policy" content="https://site.example/policy.json">'
        '<meta property="tdm-reservation" content="1"><meta name="tdm:reservation" content="1">'
    )
    assert discover(html, PAGE).tdm_meta == (
        ("tdm-reservation", " 1 "),
        ("tdm-policy", "https://site.example/policy.json"),
    )


def test_no_tdm_meta() -> None:
    assert run("<p>hi</p>").tdm_meta == ()


def test_license_links() -> None:
    html = (
        '<html><head><link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
        '</head><body><a rel="external License" href="/terms">t</a>'
        '<a href="/other" rel="author">a</a><link rel="licence" href="/typo"></body></html>'
    )
    result = discover(html, PAGE)
    assert result.license_links == ("https://creativecommons.org/licenses/by/4.0/", f"{S}/terms")
    assert f"{S}/terms" in result.links  # a licence link is also a link a crawler can follow


def test_hreflang() -> None:
    html = (
        '<html><head><link rel="alternate" hreflang="de-DE" href="/de/page">'
        '<link rel="Alternate" hreflang="x-default" href="https://site.example/">'
        '<link rel="alternate" href="/feed.xml" type="application/rss+xml">'
        '<link rel="canonical" hreflang="fr" href="/fr/"><a hreflang="es" href="/es/">es</a>'
    )
    assert discover(html, PAGE).hreflang == (
        ("de-DE", f"{S}/de/page"),
        ("x-default", f"{S}/"),
    )


@pytest.mark.parametrize(
    ("html", "title", "lang"),
    [
        pytest.param(
            '<html lang="en-GB"><head><title>  Holiday\n  photos </title></head></html>',
            "Holiday photos",
            "en-GB",
            id="title-and-lang",
        ),
        pytest.param("<html><head></head><body>x</body></html>", None, None, id="neither"),
        pytest.param('<html lang=""><title>   </title></html>', None, None, id="empty-values"),
    ],
)
def test_title_and_lang(html: str, title: str | None, lang: str | None) -> None:
    result = discover(html, PAGE)
    assert (result.title, result.lang) == (title, lang)


# --- encodings -------------------------------------------------------------------------------


def test_http_charset_used_for_bytes() -> None:
    html = '<img src="café.jpg" alt="Café">'.encode("latin-1")
    result = discover(html, PAGE, encoding="iso-8859-1")
    assert result.images[0].url == f"{D}/café.jpg"
    assert result.images[0].alt == "Café"


def test_meta_charset_sniffed_without_http_charset() -> None:
    html = '<html><head><meta charset="windows-1251"></head><body><img alt="Фото" src="a.jpg">'
    result = discover(html.encode("cp1251"), PAGE)
    assert result.images[0].alt == "Фото"


@pytest.mark.parametrize(
    "encoding",
    ["no-such-charset", "utf\x008", "", "x" * 500],
    ids=["unknown", "nul", "empty", "long"],
)
def test_bad_http_charset_falls_back(encoding: str) -> None:
    result = discover(b'<img src="a.jpg">', PAGE, encoding=encoding)
    assert pairs(result) == {(f"{D}/a.jpg", I.IMG)}


# --- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["div", "span", "b", "source", "table"])
def test_deep_nesting_does_not_crash(tag: str) -> None:
    depth = 100_000
    html = (
        f"<{tag}>" * depth + '<img src="deep.jpg">' + f"</{tag}>" * depth + '<img src="after.jpg">'
    )
    result = discover(html, PAGE)
    assert {(f"{D}/deep.jpg", I.IMG), (f"{D}/after.jpg", I.IMG)} <= pairs(result)


def test_deeply_nested_pictures_stay_linear() -> None:
    depth = 10_000
    html = '<picture><source srcset="s.webp">' * depth + '<img src="p.jpg" alt="a">'
    started = time.perf_counter()
    result = discover(html, PAGE)
    assert time.perf_counter() - started < 30
    assert (f"{D}/s.webp", I.PICTURE_SOURCE) in pairs(result)


def test_lone_surrogate_in_text_does_not_lose_the_page() -> None:
    result = run('<img src="\ud800.jpg"><img src="b.jpg">')
    assert (f"{D}/b.jpg", I.IMG) in pairs(result)


def test_megabyte_line_and_huge_attribute() -> None:
    huge = "x" * 2_000_000
    html = (
        f'<p>{huge}</p><img src="a.jpg" data-x="{huge}" srcset="{huge} 1x"'
        f' style="background:url({huge})">'
    )
    result = discover(html, PAGE)
    assert (f"{D}/a.jpg", I.IMG) in pairs(result)


def test_many_srcset_candidates_stay_fast() -> None:
    srcset = ", ".join(f"i{i}.jpg {i + 1}w" for i in range(50_000))
    started = time.perf_counter()
    result = discover(f'<img srcset="{srcset}">', PAGE, max_images=100)
    assert time.perf_counter() - started < 30
    assert len(result.images) == 100
    assert result.truncated


@pytest.mark.parametrize(
    "html",
    [
        pytest.param(b"\xff\xfe\x00\xd8<img src=a.jpg>", id="broken-utf16"),
        pytest.param(b"\x80\x81\xfe\xff" * 1000 + b"<img src='a.jpg'>", id="invalid-utf8"),
        pytest.param(b"\x00" * 1000, id="nul-bytes"),
        pytest.param(b"", id="empty-bytes"),
        pytest.param("", id="empty-text"),
        pytest.param("https://looks.like/a/url", id="text-looks-like-url"),
        pytest.param("index.html", id="text-looks-like-filename"),
        pytest.param('<?xml version="1.0"?><rss><channel><item/></channel></rss>', id="xml-text"),
        pytest.param(b'<?xml version="1.0"?><urlset><url/></urlset>', id="xml-bytes"),
        pytest.param("<img src='\ud800.jpg'>", id="lone-surrogate"),
        pytest.param('<img src="http://[::1">', id="bad-ipv6-url"),
        pytest.param('<a href="http://h:99999999/">', id="bad-port"),
        pytest.param("<" * 100_000, id="many-angle-brackets"),
        pytest.param("<a " + "x=1 " * 50_000 + ">", id="many-attributes"),
    ],
)
def test_hostile_inputs_do_not_raise(html: bytes | str) -> None:
    discover(html, PAGE)


# --- the helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("a.jpg", [("a.jpg", None)], id="bare-url"),
        pytest.param("a.jpg 1x, b.jpg 2x", [("a.jpg", "1x"), ("b.jpg", "2x")], id="densities"),
        pytest.param("img.jpg?a=1,2 1x", [("img.jpg?a=1,2", "1x")], id="comma-in-url"),
        pytest.param(
            "a.jpg,b.jpg 2x", [("a.jpg,b.jpg", "2x")], id="no-space-after-comma-is-one-url"
        ),
        pytest.param(
            "a.jpg, b.jpg", [("a.jpg", None), ("b.jpg", None)], id="trailing-comma-ends-url"
        ),
        pytest.param(" ,, a.jpg  100w  ,", [("a.jpg", "100w")], id="leading-and-trailing-commas"),
        pytest.param("a.jpg 100w 50h", [("a.jpg", "100w 50h")], id="width-and-height"),
        pytest.param(
            "a.jpg 1.5x, b.jpg 2X", [("a.jpg", "1.5x"), ("b.jpg", "2X")], id="float-and-upper"
        ),
        pytest.param(
            "a.jpg (x, y) 1x, b.jpg", [("b.jpg", None)], id="parens-keep-commas-then-invalid"
        ),
        pytest.param("a.jpg 2x 1x, b.jpg 50h, c.jpg -1x, d.jpg 0w", [], id="invalid-descriptors"),
        pytest.param("", [], id="empty"),
        pytest.param(" , , ", [], id="only-separators"),
    ],
)
def test_parse_srcset(value: str, expected: list[tuple[str, str | None]]) -> None:
    assert parse_srcset(value) == expected


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        pytest.param(
            'background: url("a.jpg"), linear-gradient(red, blue)', ["a.jpg"], id="gradient"
        ),
        pytest.param("background-image:url(a.png),url( 'b.png' )", ["a.png", "b.png"], id="layers"),
        pytest.param(
            "background: url(data:image/png;base64,iVBOR==) no-repeat; color: red",
            ["data:image/png;base64,iVBOR=="],
            id="semicolon-inside-unquoted-url",
        ),
        pytest.param(
            'background-image: image-set("a.avif" type("image/avif"), url(b.jpg) 1x)',
            ["a.avif", "b.jpg"],
            id="image-set-strings",
        ),
        pytest.param(r"background: url(a\(1\).jpg)", ["a(1).jpg"], id="css-escapes"),
        pytest.param("/* background: url(c.jpg) */ color: red", [], id="comment-ignored"),
        pytest.param("color: url(x.jpg); mask: url(m.svg)", [], id="other-properties"),
        pytest.param("background: linear-gradient(red, blue)", [], id="gradient-only"),
        pytest.param("background: url()", [], id="empty-url"),
        pytest.param("background: url(unterminated", [], id="unterminated"),
    ],
)
def test_css_background_urls(style: str, expected: list[str]) -> None:
    assert css_background_urls(style) == expected
