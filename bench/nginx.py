"""Serve a generated benchmark site with Debian's nginx on loopback.

Why nginx: the benchmark measures the auditor and img2dataset, so the server must never be the
bottleneck. nginx with ``sendfile`` serves tens of thousands of small files per second on one
core, far above what either client can consume, and it applies the site's per-path headers
and redirects (``site.json``, written by ``bench/sitegen.py``) exactly as a real server would.

The harness starts nginx as a foreground child (``daemon off``) with a generated config whose
pid file, error log and temp directories all live in a private temp directory, so it needs no
system paths, does not touch a system nginx, and runs as any user. When run as root, the
workers run as root too (``user root``), so they can read a site written by root under any
directory; as a normal user the ``user`` directive is left out (nginx ignores it anyway).

Used as a library (``with NginxServer(site) as server: server.base_url``) or on its own::

    .venv/bin/python bench/nginx.py --site /tmp/site   # serves until Ctrl-C
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Final

MIME_TYPES_FILES: Final = (Path("/etc/nginx/mime.types"),)
FALLBACK_TYPES: Final = {
    "text/html": "html htm",
    "application/json": "json",
    "text/plain": "txt",
    "image/jpeg": "jpg jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
}
HIDDEN: Final = ("ground_truth.json", "site.json", "urls.txt", "manifest.csv")
"""Generator outputs that are not part of the site: the crawler must not see the answers."""
APT_PACKAGES: Final = ("nginx-light", "nginx")
"""Tried in order on Debian/Ubuntu (``nginx-light`` is gone from Debian 13; ``nginx`` is not)."""


class NginxMissingError(RuntimeError):
    """nginx is not installed and could not be installed; the message says what to do."""


def find_nginx() -> str | None:
    """Return the nginx binary (``PATH`` first, then Debian's ``/usr/sbin``), or None."""
    found = shutil.which("nginx")
    if found:
        return found
    candidate = Path("/usr/sbin/nginx")
    return str(candidate) if candidate.exists() else None


def ensure_nginx() -> str:
    """Return the nginx binary, installing Debian's package first when we are root.

    Raises :class:`NginxMissingError` with the exact command to run otherwise.
    """
    found = find_nginx()
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for package in APT_PACKAGES:
            print(f"nginx not found: running apt-get install -y {package}", file=sys.stderr)
            command = [apt, "install", "-y", "-q", package]
            done = subprocess.run(command, env=env, check=False)  # noqa: S603 - fixed names
            if done.returncode == 0 and (found := find_nginx()):
                return found
    hint = (
        "sudo apt-get install -y nginx-light   (or: sudo apt-get install -y nginx)"
        if apt
        else "install nginx with your package manager (e.g. dnf install nginx, brew install "
        "nginx) so that `nginx` is on PATH"
    )
    raise NginxMissingError(f"the benchmark needs nginx, which is not installed: {hint}")


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (nginx binds it right after; good enough on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(site: Path, port: int, runtime: Path, hosts: tuple[str, ...]) -> str:
    """The nginx config for ``site``: static files plus the rules of ``site.json``."""
    rules = json.loads((site / "site.json").read_text())
    mime = next((path for path in MIME_TYPES_FILES if path.exists()), None)
    if mime is not None:
        types = f"include {mime};"
    else:
        entries = " ".join(f"{kind} {exts};" for kind, exts in FALLBACK_TYPES.items())
        types = f"types {{ {entries} }}"
    locations = []
    for prefix, headers in rules["headers"].items():
        # add_header applies to 2xx/3xx responses only (no "always"), as on typical servers.
        lines = " ".join(f"add_header {name} {_quote(value)};" for name, value in headers)
        locations.append(f"location ^~ {prefix} {{ {lines} }}")
    for source, target in rules["redirects"]:
        locations.append(f"location ^~ {source} {{ rewrite ^{source}(.*)$ {target}$1 permanent; }}")
    for name in HIDDEN:
        locations.append(f"location = /{name} {{ return 404; }}")
    user = "user root;" if os.geteuid() == 0 else ""
    listens = "\n        ".join(f"listen {host}:{port};" for host in hosts)
    body = "\n        ".join(locations)
    return f"""# generated by bench/nginx.py
{user}
worker_processes auto;
pid {runtime / "nginx.pid"};
error_log {runtime / "error.log"} warn;
daemon off;
events {{ worker_connections 8192; }}
http {{
    {types}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    open_file_cache max=200000 inactive=60s;
    absolute_redirect off;
    server_tokens off;
    client_body_temp_path {runtime / "body"};
    proxy_temp_path {runtime / "proxy"};
    fastcgi_temp_path {runtime / "fastcgi"};
    uwsgi_temp_path {runtime / "uwsgi"};
    scgi_temp_path {runtime / "scgi"};
    server {{
        {listens}
        root {site.resolve()};
        index index.html;
        {body}
    }}
}}
"""


class NginxServer:
    """nginx serving one site on loopback, for the duration of a ``with`` block."""

    def __init__(
        self, site: Path, port: int | None = None, hosts: tuple[str, ...] = ("127.0.0.1",)
    ) -> None:
        self.site = site
        self.hosts = hosts
        self.port = port or free_port(hosts[0])
        self._runtime = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.hosts[0]}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        binary = ensure_nginx()
        config = self._runtime / "nginx.conf"
        config.write_text(render_config(self.site, self.port, self._runtime, self.hosts))
        command = [binary, "-p", str(self._runtime), "-c", str(config)]
        check = subprocess.run(  # noqa: S603 - our own binary and config
            [*command, "-t", "-q"], capture_output=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected its config: {check.stderr.decode().strip()}")
        # -e needs nginx >= 1.19.5; before that the default error log is only warned about.
        self._process = subprocess.Popen(  # noqa: S603 - our own binary and config
            [*command, "-e", str(self._runtime / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"nginx exited at start-up: {error.strip()}")
            try:
                with socket.create_connection((self.hosts[0], self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """Stop nginx (SIGQUIT: graceful; SIGKILL after 5 s) and remove its temp directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self._runtime, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def __enter__(self) -> NginxServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve a generated site with nginx.")
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    # `kill` (SIGTERM) must stop nginx too, as Ctrl-C does: exiting runs the with block's stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with NginxServer(args.site, args.port) as server:
            print(f"serving {args.site} at {server.base_url}/ (Ctrl-C stops)")
            while True:
                time.sleep(3600)
    except NginxMissingError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
