"""Every example case of optout-signals.md section 10, through the real crawler on loopback.

Verdicts are for the declared crawler token ``mybot``. Case origins are separate servers, so the
image's own origin governs it (a page site embeds them all). E18 (the 24-hour cache) is tested
against the cache with an injected clock in tests/crawl/test_origins.py. E43's registry answer
is audited against a loopback registry API in test_e2e_registry.py; its "not configured: not
evaluated, never allowed" half is checked here. Embedded cases use the fixtures/images files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .examples import Audit, Case, audit_cases

IMAGES = Path(__file__).resolve().parents[2] / "fixtures" / "images"


def fixture(name: str) -> dict[str, str | bytes]:
    """Serve a fixture image as /a.<ext> on the case origin."""
    path = IMAGES / name
    return {f"a{path.suffix}": path.read_bytes()}


def embedded(case: str, name: str) -> Case:
    return Case(case, [f"/a{Path(name).suffix}"], fixture(name))


E34_ROBOTS = (
    "User-Agent: *\nAllow: /\nDisallow: /never/\nContent-Usage: train-ai=n\n"
    "Content-Usage: /ai-ok/ train-ai=y\n\nUser-Agent: ExampleBot\nAllow: /\n"
    "Content-Usage: train-ai=y\n"
)


def robots(body: str) -> dict[str, str | bytes]:
    return {"robots.txt": body}


def header_route(path: str, *headers: str) -> str:
    lines = "".join(f"      - {json_str(h)}\n" for h in headers)
    return f"  - path: {path}\n    headers:\n{lines}"


def json_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


CASES = [
    # robots.txt (section 1)
    Case("e1", ["/public/a.jpg"], robots("User-agent: *\nDisallow: /\nAllow: /public\n")),
    Case(
        "e2",
        ["/wp-admin/admin-ajax.php"],
        robots("User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"),
    ),
    Case(
        "e3",
        ["/x/page.html"],
        robots("User-agent: *\nDisallow: /x/page.html\nAllow: /x/page.html\n"),
    ),
    Case("e4", ["/page.html", "/page"], robots("User-agent: *\nAllow: /page\nDisallow: /*.html\n")),
    Case(
        "e5",
        ["/foo/bar", "/foo/bar/"],
        robots("User-agent: *\nDisallow: /foo/bar$\n"),
        routes="  - {path: /foo/bar/, body: x, content_type: image/jpeg}\n",
    ),
    Case(
        "e6",
        ["/x/page"],
        robots("User-agent: *\nDisallow: /x/\nUser-agent: mybot\nDisallow: /y/\n"),
    ),
    Case("e7", ["/private/a.jpg"], robots("User-agent: MYBOT\nDisallow: /private/\n")),
    Case("e8", ["/x/y"], robots("User-agent: *\nDisallow: /X/\n")),
    Case("e9", ["/a.jpg"], robots("User-agent: *\nDisallow:\n")),
    Case("e10", ["/a.jpg"], robots("Disallow: /\n")),
    Case(
        "e11",
        ["/p"],
        robots("User-agent: mybot\nSitemap: https://example.com/s.xml\nDisallow: /p\n"),
    ),
    Case("e12", ["/robots.txt"], robots("User-agent: *\nDisallow: /\n")),
    Case("e13", ["/a.jpg"], robots("User-agent: *\nDisallow /\n")),
    Case("e14", ["/a.jpg"]),
    Case("e15", ["/a.jpg"], routes="  - {path: /robots.txt, status: 403, body: denied}\n"),
    Case("e16", ["/a.jpg"], routes="  - {path: /robots.txt, status: 429, body: slow down}\n"),
    Case("e17", ["/a.jpg"], routes="  - {path: /robots.txt, delay: 6, body: late}\n"),
    # X-Robots-Tag and robots meta (section 2)
    Case("e19", ["/a.jpg"], routes=header_route("/a.jpg", "X-Robots-Tag: noai")),
    Case("e20", ["/a.jpg"], routes=header_route("/a.jpg", "X-Robots-Tag: NOAI")),
    Case("e21", ["/a.jpg"], routes=header_route("/a.jpg", "X-Robots-Tag: otherbot: noai")),
    Case(
        "e22",
        ["/a.jpg"],
        routes=header_route("/a.jpg", "X-Robots-Tag: unavailable_after: 25 Jun 2010 15:00:00 PST"),
    ),
    Case("e23", ["/a.jpg"], routes=header_route("/a.jpg", "X-Robots-Tag: none")),
    Case("e24", ["/a.jpg"], page_head='<META NAME="ROBOTS" CONTENT="NoAI, NoFollow">'),
    Case("e25a", ["/a.jpg"], page_head='<meta name="googlebot" content="noai">'),
    Case("e25b", ["/a.jpg"], page_head='<meta name="mybot" content="noai">'),
    Case("e26", ["/a.jpg"], page_head='<meta name="robots" content="noml">'),
    # TDMRep (section 3)
    Case("e27-1", ["/a.jpg"], routes=header_route("/a.jpg", "tdm-reservation: 1")),
    Case("e27-0", ["/a.jpg"], routes=header_route("/a.jpg", "tdm-reservation: 0")),
    Case("e27-true", ["/a.jpg"], routes=header_route("/a.jpg", "tdm-reservation: true")),
    Case("e27-2", ["/a.jpg"], routes=header_route("/a.jpg", "tdm-reservation: 2")),
    Case("e27-empty", ["/a.jpg"], routes=header_route("/a.jpg", "tdm-reservation: ")),
    Case(
        "e28",
        ["/a.jpg"],
        {".well-known/tdmrep.json": '[{"location": "/", "tdm-reservation": 1}]'},
        routes=header_route("/a.jpg", "tdm-reservation: 0"),
    ),
    Case(
        "e28-file",
        ["/a.jpg"],
        {".well-known/tdmrep.json": '[{"location": "/", "tdm-reservation": 1}]'},
    ),
    Case(
        "e29",
        ["/a.jpg"],
        {"p.json": "{}"},
        routes=header_route("/a.jpg", "tdm-reservation: 0", "tdm-policy: {base}/p.json"),
    ),
    # aipref Content-Usage (section 6)
    Case("e30", ["/a.jpg"], routes=header_route("/a.jpg", "Content-Usage: train-ai=n")),
    Case("e31-N", ["/a.jpg"], routes=header_route("/a.jpg", "Content-Usage: train-ai=N")),
    Case("e31-str", ["/a.jpg"], routes=header_route("/a.jpg", 'Content-Usage: train-ai="n"')),
    Case("e31-bare", ["/a.jpg"], routes=header_route("/a.jpg", "Content-Usage: train-ai")),
    Case("e31-bool", ["/a.jpg"], routes=header_route("/a.jpg", "Content-Usage: train-ai=?0")),
    Case("e32", ["/a.jpg"], routes=header_route("/a.jpg", "Content-Usage: Train-AI=n")),
    Case("e33", ["/a.jpg"], routes=header_route("/a.jpg", "Content-Usage: train-genai=n")),
    Case("e34", ["/test", "/ai-ok/x", "/never/x"], robots(E34_ROBOTS)),
    Case("e44", ["/a.jpg"], robots("User-agent: *\nDisallowAITraining: /\n")),
    # embedded metadata (sections 7 and 8)
    embedded("e35", "xmp/datamining-genai.jpg"),
    embedded("e35-extended", "xmp/extended-only.jpg"),
    embedded("e36", "xmp/seeconstraint-compressed.png"),
    embedded("e37", "xmp/unspecified.png"),
    embedded("e38", "xmp/cc0-unmarked.jpg"),
    embedded("xmp-webp", "xmp/prohibited.webp"),
    embedded("xmp-gif", "xmp/allowed.gif"),
    embedded("xmp-bare-key", "xmp/bare-key-resource.jpg"),
    embedded("xmp-bomb", "xmp/billion-laughs.jpg"),
    embedded("e39", "c2pa/cawg-genai-notallowed.jpg"),
    embedded("c2pa-constrained", "c2pa/c2pa-train-constrained.jpg"),
    embedded("e40", "c2pa/ingredient-only.jpg"),
    embedded("e41-invalid", "c2pa/tampered.jpg"),
    embedded("e41-none", "plain.jpg"),
    embedded("e42-png", "c2pa/cawg-tdm-allowed.png"),
    embedded("e42-segments", "c2pa/large-manifest.jpg"),
    # mechanisms without a numbered example
    Case(
        "ai-txt",
        ["/a.jpg", "/b.JPG", "/c.png"],
        {"ai.txt": "User-agent: *\nDisallow: *.jpg\n"},
    ),
    Case(
        "content-signal",
        ["/a.jpg"],
        robots("User-agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"),
    ),
    Case(
        "ai-tokens",
        ["/a.jpg"],
        robots("User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"),
    ),
    Case(
        "propagate",
        ["/a.jpg"],
        page_routes=header_route("/propagate.html", "X-Robots-Tag: noimageai"),
    ),
]


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audit]:
    with audit_cases(tmp_path_factory.mktemp("examples"), CASES) as result:
        yield result


def usage(audit: Audit, case: str, path: str = "/a.jpg") -> dict[str, str]:
    result: dict[str, str] = audit.image(case, path)["usage"]
    return result


def signals(audit: Audit, case: str, mechanism: str, path: str = "/a.jpg") -> list[dict[str, Any]]:
    return [s for s in audit.image(case, path)["signals"] if s["mechanism"] == mechanism]


@pytest.mark.parametrize(
    ("case", "path", "crawl"),
    [
        ("e1", "/public/a.jpg", "allowed"),
        ("e2", "/wp-admin/admin-ajax.php", "allowed"),
        ("e3", "/x/page.html", "allowed"),
        ("e4", "/page.html", "disallowed"),
        ("e4", "/page", "allowed"),
        ("e5", "/foo/bar", "disallowed"),
        ("e5", "/foo/bar/", "allowed"),
        ("e6", "/x/page", "allowed"),
        ("e7", "/private/a.jpg", "disallowed"),
        ("e8", "/x/y", "allowed"),
        ("e9", "/a.jpg", "allowed"),
        ("e10", "/a.jpg", "allowed"),
        ("e11", "/p", "disallowed"),
        ("e12", "/robots.txt", "allowed"),
        ("e13", "/a.jpg", "disallowed"),
        ("e14", "/a.jpg", "allowed"),
        ("e15", "/a.jpg", "allowed"),
        ("e16", "/a.jpg", "disallowed"),
        ("e17", "/a.jpg", "disallowed"),
    ],
)
def test_robots_examples(audit: Audit, case: str, path: str, crawl: str) -> None:
    verdicts = usage(audit, case, path)
    assert verdicts["crawl"] == crawl
    if crawl == "disallowed":  # crawl disallowed implies every other purpose (9.4)
        assert set(verdicts.values()) == {"disallowed"}


def test_robots_evidence_notes(audit: Audit) -> None:
    assert "lenient_parse" in signals(audit, "e13", "robots")[0]["notes"]
    assert "robots_access_denied" in signals(audit, "e15", "robots")[0]["notes"]


def test_an_image_the_auditor_may_not_fetch_keeps_its_verdicts(audit: Audit) -> None:
    image = audit.image("e4", "/page.html")  # the auditor's own group is `*` there too
    assert (image["fetched"], image["skip_reason"]) == (False, "robots_disallowed")
    assert image["usage"]["crawl"] == "disallowed"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("e19", {"ai-train": "disallowed", "genai-train": "disallowed", "search": "unknown"}),
        ("e20", {"ai-train": "disallowed"}),
        ("e21", {"ai-train": "unknown"}),
        ("e22", {"ai-train": "unknown", "search": "unknown"}),
        ("e23", {"search": "disallowed", "ai-train": "unknown"}),
        ("e24", {"ai-train": "disallowed"}),
        ("e25a", {"ai-train": "unknown"}),
        ("e25b", {"ai-train": "disallowed"}),
        ("e26", {"ai-train": "unknown", "search": "unknown"}),
        ("propagate", {"ai-train": "disallowed"}),
    ],
)
def test_robots_tag_and_meta_examples(audit: Audit, case: str, expected: dict[str, str]) -> None:
    verdicts = usage(audit, case)
    assert {purpose: verdicts[purpose] for purpose in expected} == expected


def test_page_level_values_are_recorded_for_the_page(audit: Audit) -> None:
    def disallows_training(case: str) -> bool:
        return any(s["purposes"].get("ai-train") == "disallowed" for s in audit.page_signals(case))

    assert disallows_training("e24")
    assert disallows_training("e26")  # noml applies to the page, not to its images
    assert not disallows_training("e25a")


@pytest.mark.parametrize(
    ("case", "tdm"),
    [
        ("e27-1", "disallowed"),
        ("e27-0", "allowed"),
        ("e27-true", "unknown"),
        ("e27-2", "unknown"),
        ("e27-empty", "unknown"),
        ("e28", "allowed"),
        ("e28-file", "disallowed"),
        ("e29", "allowed"),
    ],
)
def test_tdmrep_examples(audit: Audit, case: str, tdm: str) -> None:
    verdicts = usage(audit, case)
    assert verdicts["tdm"] == tdm
    if tdm == "disallowed":  # tdm disallowed implies ai-train and genai-train (9.4)
        assert verdicts["ai-train"] == verdicts["genai-train"] == "disallowed"
    else:
        assert verdicts["ai-train"] == "unknown"  # an unreserved TDM right says nothing of AI


def test_tdmrep_protocol_errors_are_recorded(audit: Audit) -> None:
    for case in ("e27-true", "e27-2", "e27-empty"):
        notes = [n for s in signals(audit, case, "tdmrep.header") for n in s["notes"]]
        assert "protocol_error" in notes, case


def test_tdm_policy_is_never_fetched_with_reservation_0(audit: Audit) -> None:
    assert not any(path == "/p.json" for _, path, _ in audit.servers["e29"].requests)


@pytest.mark.parametrize(
    ("case", "ai_train"),
    [
        ("e30", "disallowed"),
        ("e31-N", "unknown"),
        ("e31-str", "unknown"),
        ("e31-bare", "unknown"),
        ("e31-bool", "unknown"),
        ("e32", "unknown"),
        ("e33", "unknown"),
        ("e44", "disallowed"),
        ("content-signal", "disallowed"),
        ("ai-tokens", "disallowed"),
    ],
)
def test_preference_examples(audit: Audit, case: str, ai_train: str) -> None:
    verdicts = usage(audit, case)
    assert verdicts["ai-train"] == ai_train
    assert verdicts["crawl"] == "allowed"


def test_content_usage_details(audit: Audit) -> None:
    assert usage(audit, "e30")["search"] == "unknown"
    [e32] = signals(audit, "e32", "content_usage.header")
    assert e32["raw_value"] == "Train-AI=n"
    assert e32["parsed"]  # the parse error is recorded
    assert signals(audit, "e33", "content_usage.header")  # legacy evidence is kept
    assert usage(audit, "content-signal")["search"] == "allowed"
    assert "non_standard" in signals(audit, "e44", "robots.disallow_ai_training")[0]["notes"]


def test_e34_robots_content_usage(audit: Audit) -> None:
    assert usage(audit, "e34", "/test")["ai-train"] == "disallowed"
    assert usage(audit, "e34", "/ai-ok/x")["ai-train"] == "allowed"
    never = usage(audit, "e34", "/never/x")
    assert never["crawl"] == "disallowed"
    assert not signals(audit, "e34", "robots.content_usage", "/never/x")


def test_ai_txt(audit: Audit) -> None:
    assert usage(audit, "ai-txt", "/a.jpg")["ai-train"] == "disallowed"
    assert usage(audit, "ai-txt", "/c.png")["ai-train"] == "unknown"
    upper = usage(audit, "ai-txt", "/b.JPG")
    assert upper["ai-train"] == "unknown"  # matching is case-sensitive, as written
    notes = [n for s in signals(audit, "ai-txt", "ai_txt", "/b.JPG") for n in s["notes"]]
    assert "case_mismatch_suspected" in notes


def test_e43_registry_not_consulted_is_recorded_never_allowed(audit: Audit) -> None:
    [record] = signals(audit, "e19", "registry.spawning")
    assert record["evaluation"] == "not_evaluated"
    assert record["purposes"] == {}
    assert usage(audit, "e19")["ai-input"] == "unknown"


def test_origin_files_are_fetched_once_per_origin(audit: Audit) -> None:
    requests = [path for _, path, _ in audit.servers["ai-txt"].requests]
    for path in ("/robots.txt", "/ai.txt", "/.well-known/tdmrep.json"):
        assert requests.count(path) == 1, path


def test_evidence_fields(audit: Audit, tmp_path: Path) -> None:
    [record] = signals(audit, "e19", "x_robots_tag")
    assert record["scope"] == "response"
    assert record["raw_value"] == "noai"
    assert record["source_url"] == audit.servers["e19"].url("/a.jpg")
    assert record["fetched_at"]
    assert record["http_status"] == 200


def _first_image(audit: Audit, case: str) -> dict[str, Any]:
    [image] = [i for url, i in audit.images.items() if url.startswith(audit.servers[case].base_url)]
    return image


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("e35", {"genai-train": "disallowed", "ai-train": "unknown", "tdm": "unknown"}),
        ("e35-extended", {"ai-train": "disallowed", "ai-input": "disallowed", "search": "allowed"}),
        ("e36", {"tdm": "disallowed", "ai-train": "disallowed", "search": "disallowed"}),
        ("e37", {"tdm": "unknown", "ai-train": "unknown", "search": "unknown"}),
        ("e38", {"ai-train": "unknown", "tdm": "unknown"}),
        ("xmp-webp", {"tdm": "disallowed", "ai-input": "disallowed"}),
        ("xmp-gif", {"tdm": "allowed", "ai-train": "allowed", "genai-train": "allowed"}),
        ("xmp-bare-key", {"ai-train": "disallowed", "genai-train": "disallowed"}),
        ("xmp-bomb", {"ai-train": "unknown"}),
        ("e39", {"genai-train": "disallowed", "ai-train": "unknown"}),
        ("c2pa-constrained", {"ai-train": "disallowed", "ai-input": "disallowed"}),
        ("e40", {"ai-train": "unknown"}),
        ("e41-invalid", {"ai-train": "disallowed", "tdm": "unknown"}),
        ("e41-none", {"ai-train": "unknown", "tdm": "unknown"}),
    ],
)
def test_embedded_metadata_examples(audit: Audit, case: str, expected: dict[str, str]) -> None:
    verdicts = _first_image(audit, case)["usage"]
    assert {purpose: verdicts[purpose] for purpose in expected} == expected


def _notes(image: dict[str, Any], prefix: str) -> set[str]:
    return {n for s in image["signals"] if s["mechanism"].startswith(prefix) for n in s["notes"]}


def test_embedded_evidence_details(audit: Audit) -> None:
    assert "jpeg_extended" in _first_image(audit, "e35-extended")["xmp"]["locations"]
    seeconstraint = _first_image(audit, "e36")
    assert "review" in _notes(seeconstraint, "iptc.data_mining")
    assert "non_canonical" in _notes(_first_image(audit, "xmp-bare-key"), "iptc.data_mining")
    cc0 = _first_image(audit, "e38")
    assert any(s["mechanism"] == "cc.license" and not s["purposes"] for s in cc0["signals"])
    assert _first_image(audit, "xmp-bomb")["xmp"]["error"]
    assert "inherited" in _notes(_first_image(audit, "e40"), "cawg.training_mining")
    assert "unverified" in _notes(_first_image(audit, "e41-invalid"), "cawg.training_mining")
    assert "constrained" in _notes(_first_image(audit, "c2pa-constrained"), "c2pa.training_mining")
    for case in ("e42-png", "e42-segments"):  # manifests in caBX and across APP11 segments
        c2pa = _first_image(audit, case)["c2pa"]
        assert c2pa["present"] is True, case
        assert c2pa["training_mining"], case
    assert _first_image(audit, "e41-none")["c2pa"]["present"] is False
