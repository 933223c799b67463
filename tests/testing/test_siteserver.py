"""The scenario site server: real HTTP on loopback, driven by a folder and its ``_site.yaml``."""

from __future__ import annotations

import _thread
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from auditor.testing import (
    Route,
    SiteConfigError,
    SiteServer,
    load_routes,
    serve_forever,
    siteserver,
)

SiteFactory = Callable[[str | Path], SiteServer]
REPO_ROOT = Path(__file__).resolve().parents[2]
_TLS = ssl.create_default_context()  # built once: httpx would build one per client (~0.1 s)


def new_client(**options: Any) -> httpx.Client:
    """An httpx client that reuses one TLS context (only plain HTTP is used here anyway)."""
    return httpx.Client(verify=_TLS, timeout=10, **options)


def get(url: str, **options: Any) -> httpx.Response:
    with new_client() as client:
        return client.get(url, **options)


def make_site(root: Path, files: dict[str, str | bytes], site_yaml: str | None = None) -> Path:
    """Write a scenario folder: *files* maps relative paths to contents."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    if site_yaml is not None:
        (root / "_site.yaml").write_text(site_yaml, encoding="utf-8")
    return root


def raw_request(server: SiteServer, target: str, method: str = "GET") -> tuple[int, bytes]:
    """Send a request line verbatim (httpx would normalise ``/../``); return status and bytes."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        request = f"{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read one Content-Length framed response from *sock*: (head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head, body


@pytest.fixture
def basic_site(tmp_path: Path) -> Path:
    return make_site(
        tmp_path / "site",
        {
            "index.html": "<html><body>home</body></html>",
            "page.html": '<a href="{base}/other.html">other</a>',
            "robots.txt": "User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n",
            "style.css": "body{}",
            "img/a.jpg": b"\xff\xd8\xff{base}jpeg",
            "img/b.png": b"\x89PNG\r\n\x1a\n",
            "img/c.webp": b"RIFF....WEBP",
            "img/d.gif": b"GIF89a",
            "data.bin": b"\x00\x01",
            "noext": b"??",
            "blog/index.html": "<p>blog</p>",
            "_hidden/secret.html": "hidden",
            "_draft.html": "draft",
        },
        site_yaml="routes: []\n",
    )


# --- files, content types, 404 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/page.html", "text/html; charset=utf-8"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/img/a.jpg", "image/jpeg"),
        ("/img/b.png", "image/png"),
        ("/img/c.webp", "image/webp"),
        ("/img/d.gif", "image/gif"),
        ("/data.bin", "application/octet-stream"),
        ("/noext", "application/octet-stream"),
    ],
)
def test_serves_files_with_content_type_by_extension(
    site_server: SiteFactory, basic_site: Path, path: str, content_type: str
) -> None:
    server = site_server(basic_site)
    response = get(server.url(path))
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert int(response.headers["content-length"]) == len(response.content)


def test_serves_file_bytes_unchanged_and_leaves_placeholders_in_binaries(
    site_server: SiteFactory, basic_site: Path
) -> None:
    server = site_server(basic_site)
    assert get(server.url("/img/a.jpg")).content == b"\xff\xd8\xff{base}jpeg"


def test_directory_serves_index_html(site_server: SiteFactory, basic_site: Path) -> None:
    server = site_server(basic_site)
    assert get(server.url("/")).text == "<html><body>home</body></html>"
    assert get(server.url("/blog/")).text == "<p>blog</p>"


def test_directory_without_slash_redirects_like_a_real_server(
    site_server: SiteFactory, basic_site: Path
) -> None:
    server = site_server(basic_site)
    response = get(server.url("/blog?x=1"))
    assert response.status_code == 301
    assert response.headers["location"] == "/blog/?x=1"


def test_directory_without_index_is_404_not_a_listing(
    site_server: SiteFactory, basic_site: Path
) -> None:
    server = site_server(basic_site)
    response = get(server.url("/img/"))
    assert response.status_code == 404
    assert "a.jpg" not in response.text


def test_missing_file_is_404_with_small_html_body(
    site_server: SiteFactory, basic_site: Path
) -> None:
    server = site_server(basic_site)
    response = get(server.url("/nope.jpg"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "404 Not Found" in response.text
    assert get(server.url("/page.html/")).status_code == 404  # a file is not a directory


def test_query_string_is_ignored_for_files(site_server: SiteFactory, basic_site: Path) -> None:
    server = site_server(basic_site)
    assert get(server.url("/index.html?utm_source=x")).text.startswith("<html>")


# --- hidden files and path traversal -----------------------------------------------------------


@pytest.mark.parametrize("path", ["/_site.yaml", "/_draft.html", "/_hidden/secret.html"])
def test_underscore_files_and_site_yaml_are_never_served(
    site_server: SiteFactory, basic_site: Path, path: str
) -> None:
    server = site_server(basic_site)
    response = get(server.url(path))
    assert response.status_code == 404
    assert "routes" not in response.text
    assert "hidden" not in response.text


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/img/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/img/%2E%2E/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/%00",
        "/outside-link/secret.txt",
        "/secret-link.txt",
    ],
)
def test_path_traversal_cannot_escape_the_root(tmp_path: Path, target: str) -> None:
    (tmp_path / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    root = make_site(tmp_path / "site", {"index.html": "home"})
    (root / "outside-link").symlink_to(tmp_path, target_is_directory=True)
    (root / "secret-link.txt").symlink_to(tmp_path / "secret.txt")
    with SiteServer(root) as server:
        status, data = raw_request(server, target)
    assert status in (400, 404)
    assert b"TOP SECRET" not in data


# --- _site.yaml routes ------------------------------------------------------------------------


def test_route_headers_keep_repeated_names_in_order(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"img/a.jpg": b"jpeg"},
        site_yaml="""
routes:
  - path: /img/a.jpg
    headers:
      - X-Robots-Tag: noai
      - Link: '<{base}/license>; rel="license"'
      - X-Robots-Tag: "googlebot: noimageindex"
      - ["X-Robots-Tag", "otherbot: none"]
      - "tdm-reservation: 1"
""",
    )
    with SiteServer(root) as server, new_client() as client:
        response = client.get(server.url("/img/a.jpg"))
    assert response.status_code == 200
    assert response.content == b"jpeg"
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers.get_list("x-robots-tag") == [
        "noai",
        "googlebot: noimageindex",
        "otherbot: none",
    ]
    assert response.headers["tdm-reservation"] == "1"
    assert response.headers["link"] == f'<{server.base_url}/license>; rel="license"'


def test_route_headers_mapping_form_and_numbers(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"a.jpg": b"x"},
        site_yaml="routes:\n  - path: /a.jpg\n    headers: {tdm-reservation: 1, X-B: x}\n",
    )
    with SiteServer(root) as server:
        response = get(server.url("/a.jpg"))
    assert response.headers["tdm-reservation"] == "1"
    assert response.headers["x-b"] == "x"


def test_status_override_keeps_the_file_body(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"robots.txt": "User-agent: *\n", "gone.jpg": b"old"},
        site_yaml="""
routes:
  - path: /robots.txt
    status: 503
  - path: /gone.jpg
    status: 410
  - path: /teapot
    status: 418
""",
    )
    with SiteServer(root) as server, new_client() as client:
        robots = client.get(server.url("/robots.txt"))
        gone = client.get(server.url("/gone.jpg"))
        teapot = client.get(server.url("/teapot"))
    assert (robots.status_code, robots.text) == (503, "User-agent: *\n")
    assert (gone.status_code, gone.content) == (410, b"old")
    assert teapot.status_code == 418
    assert teapot.headers["content-type"] == "text/html; charset=utf-8"


def test_literal_body_and_content_type(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"robots.txt": "ignored"},
        site_yaml="""
routes:
  - path: /robots.txt
    body: "User-agent: *\\nDisallow: /\\nSitemap: {base}/sitemap.xml\\n"
  - path: /api/meta
    body: '{"image": "{base}/a.jpg"}'
    content_type: application/json
  - path: /soft-404
    body: "<p>Page not found</p>"
""",
    )
    with SiteServer(root) as server, new_client() as client:
        robots = client.get(server.url("/robots.txt"))
        meta = client.get(server.url("/api/meta"))
        soft = client.get(server.url("/soft-404"))
    assert robots.text == f"User-agent: *\nDisallow: /\nSitemap: {server.base_url}/sitemap.xml\n"
    assert robots.headers["content-type"] == "text/plain; charset=utf-8"
    assert meta.json() == {"image": f"{server.base_url}/a.jpg"}
    assert meta.headers["content-type"] == "application/json"
    assert (soft.status_code, soft.headers["content-type"]) == (200, "text/html; charset=utf-8")


def test_redirects(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"img/new.jpg": b"new image"},
        site_yaml="""
routes:
  - path: /img/old.jpg
    redirect: "{base}/img/new.jpg"
  - path: /img/moved.jpg
    redirect: /img/new.jpg
    status: 301
    headers:
      - X-Why: moved
  - path: /loop
    redirect: /loop
""",
    )
    with SiteServer(root) as server, new_client() as client:
        found = client.get(server.url("/img/old.jpg"))
        moved = client.get(server.url("/img/moved.jpg"))
        followed = client.get(server.url("/img/moved.jpg"), follow_redirects=True)
        with pytest.raises(httpx.TooManyRedirects):
            client.get(server.url("/loop"), follow_redirects=True)
    assert found.status_code == 302
    assert found.headers["location"] == f"{server.base_url}/img/new.jpg"
    assert (moved.status_code, moved.headers["location"]) == (301, "/img/new.jpg")
    assert moved.headers["x-why"] == "moved"
    assert followed.status_code == 200
    assert followed.content == b"new image"
    assert [str(r.url) for r in followed.history] == [server.url("/img/moved.jpg")]


def test_route_matching_glob_query_and_first_match_wins(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"img/a.jpg": b"a", "img/b.jpg": b"b", "img/c.png": b"c", "search": b"s"},
        site_yaml="""
routes:
  - path: /img/a.jpg
    headers: {X-Rule: exact}
  - path: /img/*.jpg
    headers: {X-Rule: glob}
  - path: /search?q=cats
    headers: {X-Rule: query}
""",
    )
    with SiteServer(root) as server, new_client() as client:

        def rule(path: str) -> str | None:
            value: str | None = client.get(server.url(path)).headers.get("x-rule")
            return value

        assert rule("/img/a.jpg") == "exact"
        assert rule("/img/b.jpg") == "glob"
        assert rule("/img/c.png") is None
        assert rule("/search?q=cats") == "query"
        assert rule("/search?q=dogs") is None
        assert rule("/search") is None


def test_route_matches_percent_decoded_path() -> None:
    route = Route(path="/img/my photo.jpg")
    assert route.matches("/img/my photo.jpg")
    assert not Route(path="/img/?.jpg").is_glob


def test_no_content_status_sends_no_body(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", {}, site_yaml="routes:\n  - {path: /ping, status: 204}\n")
    with SiteServer(root) as server:
        status, data = raw_request(server, "/ping")
    assert status == 204
    assert data.endswith(b"\r\n\r\n")
    assert b"content-length" not in data.lower()


def test_delay(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"slow.html": "slow"},
        site_yaml="routes:\n  - {path: /slow.html, delay: 0.4}\n",
    )
    with SiteServer(root) as server, new_client() as client:
        started = time.monotonic()
        assert client.get(server.url("/slow.html")).text == "slow"
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        client.get(server.url("/"))
        assert time.monotonic() - started < 0.4


def test_delay_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(siteserver, "MAX_DELAY", 0.1)
    root = make_site(
        tmp_path / "site", {"a": "a"}, site_yaml="routes:\n  - {path: /a, delay: 600}\n"
    )
    with SiteServer(root) as server:
        started = time.monotonic()
        assert get(server.url("/a")).text == "a"
        assert time.monotonic() - started < 5


# --- {base} substitution ----------------------------------------------------------------------


def test_base_placeholder_in_text_files(site_server: SiteFactory, basic_site: Path) -> None:
    server = site_server(basic_site)
    page = get(server.url("/page.html"))
    assert page.text == f'<a href="{server.base_url}/other.html">other</a>'
    assert int(page.headers["content-length"]) == len(page.content)
    robots = get(server.url("/robots.txt")).text
    assert f"Sitemap: {server.base_url}/sitemap.xml" in robots
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.url("page.html") == server.url("/page.html") == f"{server.base_url}/page.html"


# --- HEAD, keep-alive, concurrency ------------------------------------------------------------


def test_head_has_get_headers_and_no_body(site_server: SiteFactory, basic_site: Path) -> None:
    server = site_server(basic_site)
    with new_client() as client:
        get = client.get(server.url("/page.html"))
        head = client.head(server.url("/page.html"))
        missing = client.head(server.url("/nope"))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))
    assert missing.status_code == 404


def test_keep_alive_serves_several_requests_on_one_connection(
    site_server: SiteFactory, basic_site: Path
) -> None:
    server = site_server(basic_site)
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        for path, expected in [("/blog/", b"<p>blog</p>"), ("/img/d.gif", b"GIF89a")]:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
            head, body = read_response(sock)
            assert head.startswith(b"HTTP/1.1 200")
            assert body == expected
        sock.sendall(b"HEAD /page.html HTTP/1.1\r\nHost: test\r\n\r\n")
        head = sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
        sock.sendall(b"GET /nope HTTP/1.1\r\nHost: test\r\n\r\n")
        head, body = read_response(sock)
        assert head.startswith(b"HTTP/1.1 404")
        assert b"404 Not Found" in body


def test_concurrent_requests(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {f"p{i}.html": f"page {i}" for i in range(20)},
        site_yaml="routes:\n  - {path: '/p*.html', delay: 0.5}\n",
    )
    limits = httpx.Limits(max_connections=20)
    with SiteServer(root) as server, new_client(limits=limits) as client:

        def fetch(i: int) -> str:
            return client.get(server.url(f"/p{i}.html")).text

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=20) as pool:
            texts = list(pool.map(fetch, range(20)))
        elapsed = time.monotonic() - started
    assert texts == [f"page {i}" for i in range(20)]
    assert elapsed < 4  # 20 x 0.5 s served one at a time would take 10 s
    assert len(server.requests) == 20


# --- request log ------------------------------------------------------------------------------


def test_requests_log_records_method_target_and_user_agent(
    site_server: SiteFactory, basic_site: Path
) -> None:
    server = site_server(basic_site)
    headers = {"User-Agent": "ConsentAuditor/0.1.0 (+https://example.test)"}
    with new_client(headers=headers) as client:
        client.get(server.url("/robots.txt"))
        client.head(server.url("/page.html?a=1&b=2"))
        client.get(server.url("/_site.yaml"))
    assert [(method, path) for method, path, _ in server.requests] == [
        ("GET", "/robots.txt"),
        ("HEAD", "/page.html?a=1&b=2"),
        ("GET", "/_site.yaml"),
    ]
    assert {h["user-agent"] for _, _, h in server.requests} == {headers["User-Agent"]}
    assert server.requests[0][2]["host"] == f"127.0.0.1:{server.port}"


# --- lifecycle --------------------------------------------------------------------------------


def test_lifecycle_errors(basic_site: Path) -> None:
    server = SiteServer(basic_site)
    with pytest.raises(RuntimeError, match="not been started"):
        _ = server.base_url
    server.start()
    try:
        with pytest.raises(RuntimeError, match="only once"):
            server.start()
    finally:
        server.stop()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="only once"):
        server.start()
    SiteServer(basic_site).stop()  # stopping a never-started server is harmless


def test_stop_is_prompt_with_idle_keep_alive_and_delayed_requests(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site", {"a.html": "a"}, site_yaml="routes:\n  - {path: /slow, delay: 20}\n"
    )
    server = SiteServer(root).start()
    idle = socket.create_connection((server.host, server.port), timeout=5)
    slow = socket.create_connection((server.host, server.port), timeout=5)
    try:
        idle.sendall(b"GET /a.html HTTP/1.1\r\nHost: test\r\n\r\n")
        read_response(idle)  # the connection now idles in keep-alive
        slow.sendall(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        while len(server.requests) < 2:
            time.sleep(0.01)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 3
        assert slow.recv(4096) == b""  # closed without an answer
    finally:
        idle.close()
        slow.close()
    with pytest.raises(httpx.ConnectError):
        get(server.url("/a.html"))


def test_missing_root_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError, match="does not exist"):
        SiteServer(tmp_path / "nope")


def test_site_without_site_yaml(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", {"index.html": "hi"})
    with SiteServer(root) as server:
        assert server.routes == ()
        assert get(server.base_url).text == "hi"


# --- _site.yaml validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("routes: [\n", "not valid YAML"),
        ("- a\n", "top level must be a mapping"),
        ("host_aliases: {}\n", "unknown top-level key"),
        ("routes: {path: /a}\n", "'routes' must be a list"),
        ("routes:\n  - /a\n", r"routes\[0\]: a route must be a mapping"),
        ("routes:\n  - {status: 200}\n", "'path' is required"),
        ("routes:\n  - {path: a.html}\n", "must start with '/'"),
        ("routes:\n  - {path: /a, stauts: 200}\n", "unknown key.*stauts"),
        ("routes:\n  - {path: /a, status: 99}\n", "status 99"),
        ("routes:\n  - {path: /a, status: '404'}\n", "status '404' has the wrong type"),
        ("routes:\n  - {path: /a, delay: -1}\n", "delay"),
        ("routes:\n  - {path: /a, delay: .nan}\n", "delay"),
        ("routes:\n  - {path: /a, headers: [[a]]}\n", "headers entry"),
        ("routes:\n  - {path: /a, headers: {X-A: true}}\n", "quote values"),
        ("routes:\n  - {path: /a, headers: 'X-A: 1'}\n", "must be a mapping or a list"),
        ("routes:\n  - {path: /a, headers: {'bad name': x}}\n", "not a valid HTTP token"),
        ("routes:\n  - {path: /a, headers: {Content-Length: '5'}}\n", "computed by the server"),
        ('routes:\n  - {path: /a, headers: {X-A: "a\\r\\nSet-Cookie: x"}}\n', "CR, LF"),
        ('routes:\n  - {path: /a, redirect: "/b\\r\\nX: y"}\n', "redirect must not contain"),
    ],
)
def test_invalid_site_yaml_is_reported_with_its_location(
    tmp_path: Path, text: str, message: str
) -> None:
    root = make_site(tmp_path / "site", {}, site_yaml=text)
    with pytest.raises(SiteConfigError, match=message) as excinfo:
        SiteServer(root)
    assert "_site.yaml" in str(excinfo.value)


def test_load_routes_preserves_order_and_defaults(tmp_path: Path) -> None:
    site_yaml = tmp_path / "_site.yaml"
    site_yaml.write_text(
        "description: test\nroutes:\n  - {path: /b, redirect: /c}\n  - {path: /a, delay: 1}\n",
        encoding="utf-8",
    )
    assert load_routes(site_yaml) == (Route(path="/b", redirect="/c"), Route(path="/a", delay=1.0))
    site_yaml.write_text("", encoding="utf-8")
    assert load_routes(site_yaml) == ()


# --- command line -----------------------------------------------------------------------------


def test_serve_forever_serves_until_interrupted(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", {"index.html": "hi"})
    seen: list[tuple[str, str]] = []

    def fetch(url: str) -> None:
        try:
            seen.append((url, get(url).text))
        finally:
            _thread.interrupt_main()  # what Ctrl-C does: the only way out of serve_forever

    def ready(url: str) -> None:
        threading.Thread(target=fetch, args=(url,)).start()

    # interrupt_main() does nothing while SIGINT is ignored (a suite started in the background
    # or under nohup inherits that): give this test the handler a terminal's Ctrl-C meets.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            serve_forever(root, ready=ready)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(seen) == 1
    url, text = seen[0]
    assert url.startswith("http://127.0.0.1:")
    assert text == "hi"
    with pytest.raises(httpx.ConnectError):  # the port was released
        get(url)


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
@pytest.mark.skipif(
    signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
    reason="SIGINT is ignored here (suite started in the background or under nohup) and the "
    "server process would inherit that",
)
def test_module_command_line_serves_until_interrupted(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", {"index.html": "<a href='{base}/x'>x</a>"})
    command = [sys.executable, "-m", "auditor.testing.siteserver", str(root)]
    with subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith(f"serving {root} at http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        assert get(url).text == f"<a href='{url}/x'>x</a>"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert stderr == ""  # quiet: no request log


def test_module_command_line_reports_a_bad_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "auditor.testing.siteserver", str(tmp_path / "nope")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr


# --- the bundled demo site --------------------------------------------------------------------


def test_demo_site_answers_as_documented(site_server: SiteFactory) -> None:
    server = site_server("demo")
    with new_client() as client:
        robots = client.get(server.url("/robots.txt"))
        index = client.get(server.url("/"))
        lighthouse = client.get(server.url("/img/lighthouse.jpg"))
        pier = client.get(server.url("/img/pier.jpg"))
        moved = client.get(server.url("/img/moved.jpg"))
        statuses = {
            path: client.get(server.url(path)).status_code
            for path in [
                "/gallery.html",
                "/about.html",
                "/blog/post-1.html",
                "/private/admin.html",
                "/de/",
                "/img/missing.jpg",
                "/_site.yaml",
            ]
        }
    assert "User-agent: AcmeImageBot\nDisallow: /img/private/" in robots.text
    assert "User-agent: *\nDisallow: /private/" in robots.text
    assert '<html lang="en-GB">' in index.text
    assert f'<meta property="og:image" content="{server.base_url}/img/harbour.jpg">' in index.text
    assert "{base}" not in index.text
    assert lighthouse.headers.get_list("x-robots-tag") == ["noai"]
    assert pier.headers["tdm-reservation"] == "1"
    assert (moved.status_code, moved.headers["location"]) == (
        301,
        server.url("/img/new/sunset.jpg"),
    )
    assert statuses == {
        "/gallery.html": 200,
        "/about.html": 200,
        "/blog/post-1.html": 200,
        "/private/admin.html": 200,  # served; robots.txt is what keeps polite crawlers out
        "/de/": 200,
        "/img/missing.jpg": 404,
        "/_site.yaml": 404,
    }


def test_demo_site_references_resolve(fixtures_dir: Path) -> None:
    """Every image a demo page names exists, except the deliberate 404 and the redirect."""
    root = fixtures_dir / "sites" / "demo"
    pattern = re.compile(r"""(?:src|data-src|href|srcset|content|url\()=?["']([^"']+)["']""")
    referenced: set[str] = set()
    for page in root.rglob("*.html"):
        for value in pattern.findall(page.read_text(encoding="utf-8")):
            for candidate in value.split(","):
                ref = candidate.strip().split(" ")[0].replace("{base}", "")
                if re.search(r"\.(jpg|png|webp|gif)$", ref):
                    parent = root if ref.startswith("/") else page.parent
                    referenced.add(str((parent / ref.lstrip("/")).resolve().relative_to(root)))
    missing = sorted(ref for ref in referenced if not (root / ref).is_file())
    assert missing == ["img/missing.jpg", "img/moved.jpg"]
    on_disk = {str(p.relative_to(root)) for p in (root / "img").rglob("*") if p.is_file()}
    assert on_disk - referenced == {"img/new/sunset.jpg"}  # reached only through the redirect
