"""Serve a scenario folder over real HTTP on loopback, for end-to-end tests and the demo.

A *scenario folder* is a directory of files served as-is, plus an optional ``_site.yaml`` that
declares per-path response overrides (headers, status codes, redirects, literal bodies, delays).
The format is documented in ``fixtures/sites/README.md``. In short:

* ``GET /a/b.jpg`` serves ``<root>/a/b.jpg``; a directory serves its ``index.html`` (a directory
  path without the trailing slash is redirected to it with 301, like a real server);
* a missing file answers 404 with a small HTML body; nothing whose path has a segment starting
  with ``_`` (``_site.yaml`` included) is ever served from disk, and nothing outside the root is;
* ``{base}`` in served text files (``.html``, ``.txt``, ``.xml``, ...) and in route header values,
  bodies and redirects is replaced by the server's base URL, e.g. ``http://127.0.0.1:40123``,
  and ``{port}`` by its port (``http://localhost:{port}/`` names the same server otherwise);
* a route's ``behaviour`` makes it answer like a hostile or broken server (trickled, endless,
  reset or lying responses: ``BEHAVIOURS``), for crash-safety tests.

:class:`SiteServer` runs in a daemon thread for tests; :func:`serve_forever` blocks, for
``python -m auditor.testing.siteserver DIR [--port N]`` (used by ``make demo``).
"""

from __future__ import annotations

import argparse
import html
import io
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

# The route model and loader live in routes.py; re-exported so this module's API is unchanged.
from auditor.testing.routes import (
    BEHAVIOURS,
    Route,
    SiteConfigError,
    content_type_for,
    load_routes,
)

__all__ = [
    "BASE_PLACEHOLDER",
    "BEHAVIOURS",
    "MAX_DELAY",
    "PORT_PLACEHOLDER",
    "SITE_FILE",
    "TRICKLE_INTERVAL",
    "Route",
    "SiteConfigError",
    "SiteServer",
    "content_type_for",
    "load_routes",
    "main",
    "serve_forever",
]

SITE_FILE = "_site.yaml"
"""Name of the optional per-scenario configuration file (never served)."""

BASE_PLACEHOLDER = "{base}"
"""Replaced by the server's base URL (``http://127.0.0.1:PORT``, no trailing slash)."""

PORT_PLACEHOLDER = "{port}"
"""Replaced by the server's port, to name the same server under another host (``localhost``)."""

MAX_DELAY = 30.0
"""Route delays are capped at this many seconds."""

SUBSTITUTED_SUFFIXES = frozenset(
    {".html", ".htm", ".xhtml", ".xml", ".txt", ".css", ".js", ".json", ".jsonld", ".svg"}
)
"""Served files with these suffixes get ``{base}`` substituted on the fly."""

TRICKLE_INTERVAL = 0.05
"""Seconds between the bytes of a ``behaviour: trickle`` response."""

_ENDLESS_CHUNK = 64 * 1024
_POLL_INTERVAL = 0.05


@dataclass
class _Response:
    status: int
    content_type: str
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


def _html_page(status: int, detail: str = "") -> bytes:
    try:
        title = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        title = str(status)
    paragraph = f"<p>{detail}</p>" if detail else ""
    return (
        f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{paragraph}</body></html>\n"
    ).encode()


_HTML = "text/html; charset=utf-8"


class _Handler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the owning :class:`SiteServer`."""

    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "auditor-siteserver"
    timeout = 60  # seconds an idle keep-alive connection is kept open
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls

    server: _HTTPServer

    def version_string(self) -> str:
        """Return the ``Server`` header value, without the Python version."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Stay quiet: tests read :attr:`SiteServer.requests` instead of a request log."""

    def do_GET(self) -> None:
        """Serve a GET request."""
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        """Serve a HEAD request: the GET response's headers, no body."""
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        site = self.server.site
        site._record(self.command, self.path, self.headers)
        target = self.path
        if not target.startswith("/"):  # absolute-form request target
            parts = urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        raw_path, _, query = target.partition("?")
        route = site.match(unquote(raw_path), query)
        delay = min(route.delay, MAX_DELAY) if route is not None else 0.0
        if delay > 0 and site._stopping.wait(delay):  # the server is stopping: give up
            self.close_connection = True
            return
        response = site._build_response(raw_path, query, route)
        if route is not None and route.behaviour is not None:
            self.close_connection = True  # a misbehaving exchange never leaves a usable stream
            try:
                self._misbehave(route.behaviour, response, send_body=send_body)
            except OSError:
                return  # the client gave up, as it should
            return
        has_body = response.status not in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED)
        self.send_response(response.status)
        if not any(name.lower() == "content-type" for name, _ in response.headers):
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        if has_body:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if send_body and has_body:
            self.wfile.write(response.body)

    def _misbehave(self, behaviour: str, response: _Response, *, send_body: bool) -> None:
        """Answer the way a hostile or broken server does (see ``BEHAVIOURS``)."""
        if behaviour == "close":
            return
        body = response.body or b"-"
        self.send_response(response.status)
        if behaviour != "no_content_type" and not any(
            name.lower() == "content-type" for name, _ in response.headers
        ):
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        declared = {"short_body": len(body) * 2 + 1024, "long_body": len(body) // 2}
        if behaviour in {"endless", "trickle"}:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(declared.get(behaviour, len(body))))
        self.end_headers()
        if send_body:
            self._misbehaving_body(behaviour, body)

    def _misbehaving_body(self, behaviour: str, body: bytes) -> None:
        stopping = self.server.site._stopping
        if behaviour == "endless":
            chunk = (body * (_ENDLESS_CHUNK // len(body) + 1))[:_ENDLESS_CHUNK]
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            while not stopping.is_set():
                self.wfile.write(frame)
        elif behaviour == "trickle":
            sent = 0
            while not stopping.wait(TRICKLE_INTERVAL):
                self.wfile.write(b"1\r\n" + body[min(sent, len(body) - 1) :][:1] + b"\r\n")
                sent += 1
        elif behaviour == "reset":
            self.wfile.write(body[: len(body) // 2])
            self._reset()
        else:
            self.wfile.write(body)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a crashed server would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.wfile.close()  # the socket closes for real once its file objects are closed
        self.connection.close()
        # The stdlib handler flushes and closes these after us: give it harmless stand-ins.
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()


class _HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its SiteServer and can drop its open connections."""

    daemon_threads = True
    request_queue_size = 128
    """Listen backlog. socketserver's default of 5 drops the SYNs of a crawler opening ten
    connections at once while the accept loop is busy, and the kernel retries them 1 s later."""

    def __init__(self, address: tuple[str, int], site: SiteServer) -> None:
        self.site = site
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse-DNS lookup of the host (slow on some machines)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection, then hand it to a handler thread."""
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection and close it."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Shut down every open connection so idle keep-alive handler threads end at once."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue  # already closed by its handler thread

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that went away; report real handler bugs on stderr as usual."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class SiteServer:
    """A real HTTP server on loopback serving one scenario folder.

    Use as a context manager, or call :meth:`start` and :meth:`stop`::

        with SiteServer(Path("fixtures/sites/demo")) as site:
            response = httpx.get(site.url("/gallery.html"))

    :attr:`requests` lists ``(method, path, headers)`` for every GET/HEAD received, in arrival
    order; *path* is the raw request target (with query) and *headers* maps lower-cased names to
    values (repeated headers joined with ``", "``).
    """

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Load *root*'s ``_site.yaml`` (if any); nothing listens until :meth:`start`."""
        root = Path(root)
        if not root.is_dir():
            raise SiteConfigError(f"{root}: scenario folder does not exist or is not a directory")
        self.root = root.resolve()
        self.host = host
        self.port = port
        site_file = self.root / SITE_FILE
        self.routes: tuple[Route, ...] = load_routes(site_file) if site_file.exists() else ()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._requests_lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._serving = False
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` with no trailing slash; available once started."""
        if self._base_url is None:
            raise RuntimeError("SiteServer has not been started; call start() first")
        return self._base_url

    def url(self, path: str) -> str:
        """Absolute URL for *path* on this server (``url("/a.html")``; a leading / is optional)."""
        return self.base_url + (path if path.startswith("/") else f"/{path}")

    def match(self, path: str, query: str = "") -> Route | None:
        """Return the first route matching decoded *path* and raw *query*, or None."""
        return next((route for route in self.routes if route.matches(path, query)), None)

    def start(self) -> SiteServer:
        """Bind and serve in a daemon thread; return self."""
        httpd = self._bind()
        self._serving = True
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"SiteServer {self.base_url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and wait for handler threads; idempotent."""
        httpd = self._httpd
        if httpd is None or self._stopping.is_set():
            self._stopping.set()
            return
        self._stopping.set()  # wakes delayed responses
        if self._serving:
            httpd.shutdown()
        self._close(httpd)
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> SiteServer:
        """Start (if not yet started) and return self."""
        return self if self._httpd is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def _bind(self) -> _HTTPServer:
        if self._httpd is not None or self._stopping.is_set():
            raise RuntimeError("a SiteServer can be started only once")
        httpd = _HTTPServer((self.host, self.port), self)
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._base_url = f"http://{host}:{self.port}"
        return httpd

    def _close(self, httpd: _HTTPServer) -> None:
        httpd.drop_connections()
        httpd.server_close()  # joins the handler threads, which now end promptly

    def _serve_blocking(self, ready: Callable[[str], None]) -> None:
        httpd = self._bind()
        try:
            ready(self.base_url)
            self._serving = True
            httpd.serve_forever(poll_interval=_POLL_INTERVAL)
        finally:
            self._serving = False
            self._stopping.set()
            self._close(httpd)

    def _record(self, method: str, target: str, headers: Message) -> None:
        collected: dict[str, str] = {}
        for name, value in headers.items():
            key = name.lower()
            collected[key] = f"{collected[key]}, {value}" if key in collected else value
        with self._requests_lock:
            self.requests.append((method, target, collected))

    def _substitute(self, text: str) -> str:
        return text.replace(BASE_PLACEHOLDER, self.base_url).replace(
            PORT_PLACEHOLDER, str(self.port)
        )

    def _find_file(self, path: str) -> Path | str | None:
        """Map decoded *path* to a file, a ``str`` redirect target for a bare directory, or None."""
        segments = [segment for segment in path.split("/") if segment not in ("", ".")]
        if any(s == ".." or s.startswith("_") or "\\" in s or "\x00" in s for s in segments):
            return None
        try:
            target = self.root.joinpath(*segments).resolve(strict=True)
            if target.is_dir():
                if segments and not path.endswith("/") and target.is_relative_to(self.root):
                    return "/"  # the caller appends the slash to the raw path
                target = (target / "index.html").resolve(strict=True)
            elif path.endswith("/"):
                return None
        except (OSError, RuntimeError):  # missing, unreadable or a symlink loop
            return None
        return target if target.is_relative_to(self.root) and target.is_file() else None

    def _build_response(self, raw_path: str, query: str, route: Route | None) -> _Response:
        path = unquote(raw_path)
        extra = [(name, self._substitute(value)) for name, value in route.headers] if route else []
        if route is not None and route.redirect is not None:
            location = self._substitute(route.redirect)
            status = route.status or HTTPStatus.FOUND
            if route.body is not None:
                body = self._substitute(route.body).encode()
            else:
                link = html.escape(location, quote=True)
                body = _html_page(status, f'Moved to <a href="{link}">{link}</a>.')
            headers = [("Location", location), *extra]
            return _Response(status, route.content_type or _HTML, body, headers)
        if route is not None and route.body is not None:
            ctype = route.content_type or content_type_for(path) or _HTML
            body = self._substitute(route.body).encode()
            return _Response(route.status or HTTPStatus.OK, ctype, body, extra)
        found = self._find_file(path)
        if isinstance(found, str):
            location = raw_path + "/" + (f"?{query}" if query else "")
            link = html.escape(location, quote=True)
            page = _html_page(
                HTTPStatus.MOVED_PERMANENTLY, f'Moved to <a href="{link}">{link}</a>.'
            )
            return _Response(HTTPStatus.MOVED_PERMANENTLY, _HTML, page, [("Location", location)])
        if found is not None:
            try:
                data = found.read_bytes()
            except OSError:
                found = None
            else:
                if found.suffix.lower() in SUBSTITUTED_SUFFIXES:
                    data = data.replace(BASE_PLACEHOLDER.encode(), self.base_url.encode())
                    data = data.replace(PORT_PLACEHOLDER.encode(), str(self.port).encode())
                file_type = (
                    route.content_type if route and route.content_type else None
                ) or content_type_for(found.name)
                status = route.status if route and route.status else HTTPStatus.OK
                return _Response(status, file_type or "application/octet-stream", data, extra)
        status = route.status if route and route.status else HTTPStatus.NOT_FOUND
        ctype = route.content_type if route and route.content_type else _HTML
        return _Response(status, ctype, _html_page(status), extra)


def serve_forever(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve *root* until interrupted (KeyboardInterrupt propagates after a clean shutdown).

    Once listening, calls ``ready(base_url)``; without *ready*, prints ``serving DIR at URL``.
    """

    def announce(url: str) -> None:
        # A dev tool's one status line (make demo shows it); flushed so pipes see it at once.
        print(f"serving {root} at {url}", flush=True)  # noqa: T201

    SiteServer(root, host=host, port=port)._serve_blocking(ready or announce)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m auditor.testing.siteserver DIR [--host H] [--port N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m auditor.testing.siteserver",
        description="Serve a scenario folder (files plus optional _site.yaml) over HTTP.",
    )
    parser.add_argument("directory", type=Path, help="the scenario folder to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free one)")
    args = parser.parse_args(argv)
    try:
        serve_forever(args.directory, host=args.host, port=args.port)
    except KeyboardInterrupt:
        return 0
    except (SiteConfigError, OSError) as exc:
        # The only other output of this dev tool: why it could not start.
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
