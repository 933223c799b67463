"""Resolve URL references found in HTML the way a browser does, fast.

Discovery resolves thousands of references per image-heavy page, so the common forms
(root-relative paths, absolute http(s) URLs) take a fast path that gives exactly what
``urljoin`` gives; a property test holds the two together. Only http(s) results are kept, the
fragment is dropped and the host lower-cased; fuller canonicalisation is the frontier's job
(:func:`auditor.crawl.urls.normalise_url`).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

HTTP_SCHEMES = frozenset({"http", "https"})
#: C0 control characters and space, which the WHATWG URL parser strips from both ends.
C0_AND_SPACE = "".join(map(chr, range(0x21)))
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")


def clean_reference(value: str) -> str:
    """Strip leading/trailing C0 controls and spaces, drop tabs and newlines (WHATWG URL)."""
    value = value.strip(C0_AND_SPACE)
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.translate(_TAB_NEWLINE)
    return value


class UrlResolver:
    """Resolve URL references against one base, memoised, with fast paths for the common forms.

    Root-relative paths without dot segments or doubled slashes, and absolute http(s) URLs,
    skip ``urljoin`` (the dominant cost on image-heavy pages); they resolve to exactly what
    ``urljoin`` gives. Everything else goes through :func:`resolve_url`.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self._memo: dict[str, str | None] = {}
        self._origin: str | None = None
        try:
            parts = urlsplit(base)
        except ValueError:
            return
        if parts.scheme in HTTP_SCHEMES and parts.netloc:
            self._origin = f"{parts.scheme}://{_lower_host(parts.netloc)}"

    def __call__(self, value: str) -> str | None:
        if value not in self._memo:
            self._memo[value] = self._resolve(value)
        return self._memo[value]

    def _resolve(self, value: str) -> str | None:
        reference = clean_reference(value)
        if "\\" in reference:
            reference = _slashes(reference)
        path, _, query = reference.split("#", 1)[0].partition("?")
        if ";" in path:  # urljoin drops an empty ";params"; let it decide
            return resolve_url(reference, self.base)
        if self._origin is not None and path[:1] == "/" and "/." not in path and "//" not in path:
            return f"{self._origin}{path}?{query}" if query else self._origin + path
        if reference[:8].lower().startswith(("http://", "https://")):
            try:
                parts = urlsplit(reference)
            except ValueError:
                return None
            if parts.netloc:
                return _unsplit(parts)
        return resolve_url(reference, self.base)


def resolve_url(value: str, base: str) -> str | None:
    """Resolve a URL reference as a browser would; None unless the result is http(s)."""
    reference = clean_reference(value)
    if not reference:
        return None
    if "\\" in reference:
        reference = _slashes(reference)
    try:
        parts = urlsplit(urljoin(base, reference))
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    return _unsplit(parts)


def _slashes(reference: str) -> str:
    """Read backslashes before the query as slashes, as browsers do for http(s) URLs."""
    end = len(reference.split("?", 1)[0].split("#", 1)[0])
    return reference[:end].replace("\\", "/") + reference[end:]


def _unsplit(parts: SplitResult) -> str | None:
    """Rebuild an http(s) URL without its fragment, host lower-cased; None for other schemes."""
    if parts.scheme not in HTTP_SCHEMES or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, _lower_host(parts.netloc), parts.path, parts.query, ""))


def _lower_host(netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    return f"{userinfo}{at}{hostport.lower()}"
