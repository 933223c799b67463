"""The HTML audit report: golden file, escaping, offline-ness, and rendering in headless Chromium.

The golden file ``golden/report.html`` is the report of :func:`rich_report` with the volatile
fields (timestamps, duration, tool version) normalised. After an intended change, regenerate it
with ``UPDATE_GOLDEN=1 .venv/bin/pytest tests/report/test_html.py`` and review the diff.

The Chromium test drives Debian's ``chromium`` (``/usr/bin/chromium``, installed by ``.ci/run``)
through Playwright, with every network request refused; it skips, saying why, when either is
missing (nothing is ever downloaded).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from auditor import __version__
from auditor.report.charts import bar_chart
from auditor.report.data import Artifact, ReportData
from auditor.report.html import MAX_TEXT, render_html

from . import HOSTILE, assert_golden, sample_report

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, FloatRect, Page, Request, Route
    from playwright.sync_api import Error as PlaywrightError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BIDI = "\u202egpj.exe"  # a right-to-left override disguising a file name
CRITICAL_RED = (0x7F, 0x00, 0x00)  # --critical in the report's CSS
HIGH_RED = (0xC6, 0x28, 0x28)  # --high and --fail
LONG_URL = "https://photos.example.org/?q=" + "A" * MAX_TEXT


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
_DURATION = re.compile(r"(<th scope=\"row\">Duration</th><td>)[^<]*(</td>)")


def normalise(html: str) -> str:
    """Replace what changes between runs and releases: timestamps, duration, tool version."""
    html = _TIMESTAMP.sub("TIMESTAMP", html)
    html = _DURATION.sub(r"\1DURATION\2", html)
    return html.replace(f">{__version__}<", ">VERSION<")


def rich_report(path: Path) -> ReportData:
    """The hostile sample run, plus hostile configuration, aggregates and a manifest.

    :func:`tests.report.sample_report` leaves the configuration, the dataset aggregates and the
    evidence manifest empty; this fills them so that every section of the report is rendered,
    and puts crawled-looking hostile text in the configuration too.
    """
    data = sample_report(path)
    assert data.run is not None
    aggregates = {
        "facts": {"dataset.images": 2, "dataset.faces_share": 0.5, "dataset.jurisdiction.FR": 0.7},
        "images_with_jurisdiction_evidence": 1,
        "per_jurisdiction": {
            "FR": {
                "expected_images": 0.7,
                "expected_with_faces": 0.0,
                "expected_with_gps": 0.7,
                "expected_reserved_collected": 0.7,
            }
        },
    }
    config = {
        "crawler": {"name": HOSTILE, "operator": BIDI, "markets": ["UK"], "dpia": None},
        "targets": [
            {"url": "javascript:alert(1)//", "max_pages": 5, "jurisdictions": ["FR"]},
            {"url": LONG_URL, "jurisdictions": []},
        ],
        "policies": ["uk-gdpr"],
        "crawl": {"token": "ConsentAuditor", "max_pages": 500, "delay": 0.1},
    }
    run = replace(data.run, config=config, options={"workers": 2}, aggregates=aggregates)
    artifacts = (
        Artifact("audit.db", "database", 4096, "a" * 64),
        Artifact("audit.yaml", "config", 512, "b" * 64),
    )
    return replace(
        data, run=run, aggregates=aggregates, artifacts=artifacts, config_path="audit.yaml"
    )


def render(data: ReportData) -> str:
    out = io.StringIO()
    render_html(data, out)
    return out.getvalue()


@pytest.fixture
def data(tmp_path: Path) -> ReportData:
    return rich_report(tmp_path / "audit.db")


@pytest.fixture
def html(data: ReportData) -> str:
    return render(data)


class _Tags(HTMLParser):
    """Collect every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def test_report_matches_golden_file(html: str) -> None:
    """Regenerate with ``UPDATE_GOLDEN=1`` after an intended change, then review the diff."""
    assert_golden("report.html", normalise(html))


def test_report_is_deterministic(data: ReportData) -> None:
    assert render(data) == render(data)


def test_every_section_is_present_in_order(html: str) -> None:
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings == [
        "Contents",
        "Executive summary",
        "Scope and method",
        "Findings",
        "Passed checks",
        "Suppressions register",
        "Coverage and errors",
        "Dataset aggregates",
        "Limitations",
        "Appendices",
    ]
    assert "<h1>Image-scraping compliance audit: run 1</h1>" in html
    assert '<html lang="en">' in html
    assert "it is not legal advice" in html


def test_hostile_text_is_shown_as_inert_text(html: str) -> None:
    assert "<script" not in html.lower()
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; | [x](javascript:1)"
    # the finding messages, evidence, suppression reason, rule title, skip reasons, declaration
    assert html.count(escaped) >= 10
    for tag, attrs in _tags(html):
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower(), (tag, name, value)
    # the javascript: target URL is plain text in a table cell, not a link
    assert '<td class="url">javascript:alert(1)//</td>' in html


def test_invisible_characters_are_shown_as_escapes(html: str) -> None:
    assert "\u202e" not in html
    assert "\\u202egpj.exe" in html
    # the header value's tab and CR LF stay visible evidence
    assert "\\tnoai\\r\\n=cmd|&#39; /C calc&#39;!A0" in html
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", html)


def test_long_values_are_cut_with_a_note(html: str) -> None:
    assert LONG_URL not in html
    assert (
        f"{LONG_URL[:MAX_TEXT]}\u2026 [{len(LONG_URL) - MAX_TEXT} more characters not shown]"
        in html
    )


def test_report_is_self_contained_and_offline(html: str) -> None:
    tags = _tags(html)
    names = {tag for tag, _ in tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "form", "base"}
    for tag, attrs in tags:
        for name, value in attrs:
            if name in {"href", "src", "srcset", "action", "xlink:href", "poster", "data"}:
                assert (value or "").startswith("#"), (tag, name, value)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "@import" not in html
    assert not re.search(r"url\s*\(", html, re.IGNORECASE)
    assert "@font-face" not in html
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">"
    ) in html


def test_findings_show_state_suppression_anchor_and_signals(html: str) -> None:
    assert '<span class="badge state-baselined">baselined</span>' in html
    assert '<span class="badge state-suppressed">suppressed</span>' in html
    assert html.count('<span class="badge state-new">new</span>') == 3
    assert "<td>a.compliance@example.org</td>" in html
    assert "<code>policies/uk-gdpr.yaml:10</code>" in html
    assert '<td class="url mono">https://photos.example.org/img/1.jpg</td>' in html
    assert "-remove it" in html
    assert '<span class="badge status-expired">expired</span>' in html
    assert '<span class="badge status-active">active</span>' in html


def test_summary_counts_and_verdict(html: str) -> None:
    assert '<div class="verdict fail" id="verdict" role="status">' in html
    assert "1 new finding(s) at or above high; exit code 1." in html
    # severity rows: fail, review, insufficient data, total
    assert (
        '<tr><th scope="row">High</th><td class="num">2</td><td class="num">1</td>'
        '<td class="num">0</td><td class="num">3</td></tr>'
    ) in html
    assert (
        '<tr><td class="num">3</td><td class="num">1</td><td class="num">1</td></tr>'
    ) in html  # new, baselined, suppressed


def test_report_without_gate_or_crawl(data: ReportData) -> None:
    declaration_only = ReportData(
        tool_version=data.tool_version,
        generated_at=data.generated_at,
        findings=(),
        rules={},
        mode="declaration-only",
    )
    html = render(declaration_only)
    assert "No findings" in html
    assert "Nothing was crawled" in html
    assert "<svg" not in html
    assert 'id="dataset"' not in html
    report_only = render(replace(data, gate=None))
    assert "Findings recorded" in report_only
    assert "No CI gate was applied" in report_only


def test_bar_chart_geometry_is_proportional_and_capped() -> None:
    chart = bar_chart("c", "t", [("a", 10, "bar"), ("b", 5, "bar"), ("c", 0, "bar")])
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == 2 * widths[1] > 0 == widths[2]
    assert chart.height == 2 * 6 + 3 * 28 - 8
    many = bar_chart("c", "t", [(f"rule-{n:02d}", 1, "bar") for n in range(30)])
    assert len(many.bars) == 20
    assert many.bars[-1].label == "11 others"
    assert many.bars[-1].value == 11
    long = bar_chart("c", "t", [("X" * 40, 1, "bar")])
    assert long.bars[0].label == "X" * 27 + "\u2026"
    assert long.bars[0].full_label == "X" * 40


# --- headless Chromium ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, started by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; "
            ".ci/run does) to run the HTML report's browser test"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page did: requests made and refused, console problems, dialogs opened."""

    url: str
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        """Let the report file through; refuse (and record) every other request."""
        if route.request.url == self.url:
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def request(self, request: Request) -> None:
        self.requests.append(request.url)

    def console(self, message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            self.problems.append(f"console {message.type}: {message.text}")

    def page_error(self, error: PlaywrightError) -> None:
        self.problems.append(f"page error: {error}")

    def dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


KEY_ELEMENTS = (
    "h1",
    "#verdict",
    "#summary-counts",
    "svg#chart-severity",
    "section#findings",
    "#finding-2",
    "#suppressions-register",
    "#evidence-manifest",
)


def _check_layout(page: Page) -> None:
    """Key elements are visible, laid out in order, and the chart is drawn to scale."""
    boxes: dict[str, FloatRect] = {}
    for selector in KEY_ELEMENTS:
        element = page.locator(selector)
        assert element.count() == 1, selector
        assert element.is_visible(), selector
        box = element.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, selector
        boxes[selector] = box
    assert page.locator("h1").inner_text() == "Image-scraping compliance audit: run 1"
    order = ["h1", "#summary-counts", "section#findings", "#suppressions-register"]
    assert [boxes[s]["y"] for s in order] == sorted(boxes[s]["y"] for s in order)
    assert page.locator("script").count() == 0
    # high (3 findings) is drawn three times as long as critical (1)
    critical = page.locator("svg#chart-severity rect.sev-critical").bounding_box()
    high = page.locator("svg#chart-severity rect.sev-high").bounding_box()
    assert critical is not None and high is not None
    assert high["width"] == pytest.approx(3 * critical["width"], rel=0.02)
    # hostile text is displayed as text
    assert "<script>alert(1)</script>" in page.locator("#finding-1").inner_text()


def _colours(png: Path) -> set[tuple[int, ...]]:
    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    return {colour for _, colour in colours if isinstance(colour, tuple)}


def _check_screenshots(page: Page, tmp_path: Path) -> None:
    """A plausible full-page PNG, and crops of key elements that carry their colours."""
    shot = tmp_path / "report.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.stat().st_size > 50_000
    with Image.open(shot) as image:
        assert image.width == 1280
        assert image.height > 3000
    chart = tmp_path / "chart.png"
    page.locator("svg#chart-severity").screenshot(path=chart)
    assert {CRITICAL_RED, HIGH_RED} <= _colours(chart)  # both bars are drawn
    verdict = tmp_path / "verdict.png"
    page.locator("#verdict").screenshot(path=verdict)
    assert HIGH_RED in _colours(verdict)  # the failing verdict's border


def _check_print(page: Page) -> None:
    """Print media hides the contents, starts major sections on a new page, and makes a PDF."""
    page.emulate_media(media="print")
    assert page.locator("nav.toc").is_hidden()
    findings = page.locator("section#findings")
    assert findings.evaluate("e => getComputedStyle(e).breakBefore") == "page"
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 8


def test_report_renders_in_headless_chromium(browser: Browser, html: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    watch = Watch(path.as_uri())
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.route("**/*", watch.route)
        page = context.new_page()
        page.on("console", watch.console)
        page.on("pageerror", watch.page_error)
        page.on("request", watch.request)
        page.on("dialog", watch.dialog)
        page.goto(watch.url, wait_until="load")
        _check_layout(page)
        _check_screenshots(page, tmp_path)
        _check_print(page)
    finally:
        context.close()
    assert watch.problems == []
    assert watch.dialogs == []
    assert watch.refused == []
    assert set(watch.requests) == {watch.url}
