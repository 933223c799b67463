"""Hostile pages and text files: compression bombs, megabyte lines, broken encodings, deep
nesting, huge, binary and malformed robots.txt, tdmrep.json and ai.txt, infinite link spaces
and thousands of images on one page.

Each case site is crawled by the shared audit; each test checks the hostile page or file was
cut at its limit or parsed safely, with the reason recorded, and that the good page and photo on
the same site were recorded as usual.
"""

from __future__ import annotations

import pytest

from .harness import HostileRun, Record, verdict


@pytest.fixture
def run(hostile_run: HostileRun) -> HostileRun:
    return hostile_run


def requested(run: HostileRun, case: str, prefix: str) -> list[str]:
    return [path for _, path, _ in run.servers[case].requests if path.startswith(prefix)]


def test_compression_bombs_stop_at_the_page_cap(run: HostileRun, record_property: Record) -> None:
    case = "html_text/compression_bombs"
    skips = [run.skips(run.url(case, path)) for path in ("/gzip-bomb.html", "/deflate-bomb.html")]
    verdict(
        record_property, run, case,
        survived=all(
            [(s["reason"], s["detail"]) for s in found]
            == [("too_large", "body exceeds 2097152 bytes")]
            for found in skips
        ),
        why=f"skips: {skips}",
    )  # fmt: skip


def test_a_megabyte_line_is_parsed_to_its_end(run: HostileRun, record_property: Record) -> None:
    case = "html_text/long_line"
    page = run.page(run.url(case, "/long.html")) or {}
    after = run.image(run.url(case, "/after-the-line.jpg")) or {}
    verdict(
        record_property, run, case,
        survived=page.get("status") == 200 and after.get("fetched") == 1,
        why=f"page: {page.get('status')}, image after the line: {after}",
    )  # fmt: skip


def test_broken_encodings_are_decoded_with_replacement(
    run: HostileRun, record_property: Record
) -> None:
    case = "html_text/encodings"
    pages = {
        path: run.page(run.url(case, path)) or {}
        for path in ("/bad-utf8.html", "/utf16-lie.html", "/unknown-charset.html")
    }
    image = run.image(run.url(case, "/enc.jpg")) or {}
    skips = [(s["url"], s["reason"]) for s in run.query("SELECT * FROM skips")]
    verdict(
        record_property, run, case,
        survived=all(page.get("status") == 200 for page in pages.values())
        and (pages["/bad-utf8.html"].get("title") or "").startswith("caf")
        and image.get("fetched") == 1,  # found on the page with an unknown charset
        why=f"pages: {[(p, v.get('status'), v.get('title')) for p, v in pages.items()]}, "
        f"image: {image.get('skip_reason')}, skips: {skips}",
    )  # fmt: skip


def test_deep_nesting_is_walked_without_recursion(run: HostileRun, record_property: Record) -> None:
    case = "html_text/nesting"
    image = run.image(run.url(case, "/deep.jpg")) or {}
    verdict(
        record_property, run, case,
        survived=image.get("fetched") == 1,
        why=f"the image 100,000 elements deep: {image}",
    )  # fmt: skip


@pytest.mark.parametrize("case", ["html_text/robots_huge", "html_text/robots_malformed"])
def test_robots_rules_apply_despite_size_and_garbage(
    run: HostileRun, record_property: Record, case: str
) -> None:
    # robots_huge: 3 MB, the rule in the first 500 KiB applies; robots_malformed: HTML, lines
    # without colons, absurd patterns and values around one valid group.
    reasons = run.skip_reasons(run.url(case, "/private/secret.html"))
    verdict(
        record_property, run, case,
        survived=reasons == {"robots_disallowed"} and not requested(run, case, "/private/"),
        why=f"skips of /private/secret.html: {reasons}",
    )  # fmt: skip


def test_binary_robots_is_parsed_as_no_rules(run: HostileRun, record_property: Record) -> None:
    case = "html_text/robots_binary"
    [site] = run.query("SELECT * FROM sites WHERE origin = ?", run.servers[case].base_url)
    verdict(
        record_property, run, case,
        survived=(site["robots_status"], site["robots_http_status"]) == ("parsed", 200),
        why=f"robots: {site['robots_status']} {site['robots_http_status']}",
    )  # fmt: skip


def test_huge_tdmrep_and_binary_ai_txt_are_recorded(
    run: HostileRun, record_property: Record
) -> None:
    case = "html_text/origin_files"
    [site] = run.query("SELECT * FROM sites WHERE origin = ?", run.servers[case].base_url)
    image = run.image(run.url(case, "/good.jpg")) or {}
    verdict(
        record_property, run, case,
        # tdmrep.json over its cap is not used (and never read past the cap); the binary ai.txt
        # is fetched and found to hold no rules; the image's TDM verdict stays unknown.
        survived=site["tdmrep_http_status"] == 200
        and site["tdmrep_status"] != "fetched"
        and site["ai_txt_status"] == "fetched"
        and image.get("usage_tdm") == "unknown",
        why=f"tdmrep: {site['tdmrep_status']}, ai.txt: {site['ai_txt_status']}",
    )  # fmt: skip


def test_infinite_link_space_stops_at_the_page_budget(
    run: HostileRun, record_property: Record
) -> None:
    case = "html_text/link_trap"
    base = run.servers[case].base_url
    pages = run.query("SELECT url FROM pages WHERE url LIKE ?", base + "/%")
    reasons = run.skip_reasons(run.url(case, "/"))
    verdict(
        record_property, run, case,
        survived="max_pages" in reasons and len(pages) <= 25,
        why=f"{len(pages)} pages, target skips: {reasons}",
    )  # fmt: skip


def test_thousands_of_images_are_all_recorded(run: HostileRun, record_property: Record) -> None:
    case = "html_text/many_images"
    base = run.servers[case].base_url
    [count] = run.query(
        "SELECT COUNT(*) AS n, SUM(skip_reason = 'http_error') AS missing FROM images "
        "WHERE url LIKE ?",
        base + "/many/%",
    )
    page = run.page(run.url(case, "/many.html")) or {}
    verdict(
        record_property, run, case,
        survived=(count["n"], count["missing"], page.get("image_count")) == (1500, 1500, 1500),
        why=f"images: {count}, page: {page.get('image_count')}",
    )  # fmt: skip
