"""Public test helpers for users of the auditor and for our own tests (like ``structlog.testing``).

:mod:`auditor.testing.siteserver` serves a *scenario folder* over real HTTP on loopback, with
per-path response headers, status codes, redirects and delays declared in ``_site.yaml``. It
backs every end-to-end test, ``make demo`` and the conformance site::

    from auditor.testing import SiteServer

    with SiteServer(Path("fixtures/sites/demo")) as site:
        httpx.get(site.url("/robots.txt"))
        assert site.requests[0][1] == "/robots.txt"

Nothing in the auditor's pipeline imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.testing.siteserver import (
        Route,
        SiteConfigError,
        SiteServer,
        load_routes,
        serve_forever,
    )

__all__ = ["Route", "SiteConfigError", "SiteServer", "load_routes", "serve_forever"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that ``python -m auditor.testing.siteserver`` does not find the module
    # already imported by its package (runpy would warn about it on stderr).
    if name in __all__:
        from auditor.testing import siteserver  # noqa: PLC0415

        return getattr(siteserver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
