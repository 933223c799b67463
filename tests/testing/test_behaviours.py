"""Hostile route behaviours and the ``{port}`` placeholder of the loopback site server.

Each behaviour is exercised end to end by ``tests/hostile``; here, the raw bytes on the wire.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from auditor.testing import SiteConfigError, SiteServer


def serve(tmp_path: Path, routes: str) -> SiteServer:
    (tmp_path / "_site.yaml").write_text(f"routes:\n{routes}", encoding="utf-8")
    (tmp_path / "a.txt").write_text("port {port} of {base}", encoding="utf-8")
    return SiteServer(tmp_path).start()


def raw_get(server: SiteServer, path: str, limit: int = 4096) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        try:
            while len(data) < limit and (chunk := sock.recv(limit)):
                data += chunk
        except ConnectionResetError:
            data += b"<RST>"
        return data


def test_unknown_behaviour_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "_site.yaml").write_text("routes:\n  - {path: /, behaviour: explode}\n")
    with pytest.raises(SiteConfigError, match="behaviour 'explode' is not one of"):
        SiteServer(tmp_path)


def test_port_placeholder_in_files_and_routes(tmp_path: Path) -> None:
    with serve(tmp_path, "  - {path: /go, redirect: 'http://localhost:{port}/a.txt'}\n") as site:
        assert raw_get(site, "/a.txt").endswith(f"port {site.port} of {site.base_url}".encode())
        assert f"Location: http://localhost:{site.port}/a.txt".encode() in raw_get(site, "/go")


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("short_body", b"Content-Length: 1040\r\n"),  # 8 bytes of body, claimed 2 x 8 + 1024
        ("long_body", b"Content-Length: 4\r\n"),
        ("endless", b"Transfer-Encoding: chunked\r\n"),
        ("trickle", b"\r\n\r\n1\r\nb\r\n"),
        ("close", b""),
    ],
)
def test_behaviours_on_the_wire(tmp_path: Path, behaviour: str, expected: bytes) -> None:
    routes = f"  - {{path: /x, behaviour: {behaviour}, body: 'bbbbbbbb'}}\n"
    with serve(tmp_path, routes) as site:
        data = raw_get(site, "/x", limit=300)
    assert expected in data if expected else data == b""


def test_no_content_type_and_reset(tmp_path: Path) -> None:
    routes = (
        "  - {path: /untyped, behaviour: no_content_type, body: 'abc'}\n"
        "  - {path: /reset, behaviour: reset, body: 'abcdefgh'}\n"
    )
    with serve(tmp_path, routes) as site:
        untyped, reset = raw_get(site, "/untyped"), raw_get(site, "/reset")
    assert b"content-type" not in untyped.lower()
    assert untyped.endswith(b"\r\n\r\nabc")
    assert reset.endswith(b"abcd<RST>") or reset.endswith(b"abcd")
