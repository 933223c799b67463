"""Parsers for attribute values that carry image URLs: ``srcset`` lists and inline CSS backgrounds.

Both parsers take hostile input (megabyte attribute values, unbalanced quotes and parentheses) and
never raise. They work on the attribute text as the HTML parser decoded it (character references
already replaced) and return URLs exactly as written, unresolved; the caller resolves them.

``parse_srcset`` follows the WHATWG "parse a srcset attribute" algorithm
(https://html.spec.whatwg.org/multipage/images.html#parsing-a-srcset-attribute): a URL is a run
of non-whitespace characters, so ``img.jpg?a=1,2 1x`` is one candidate; trailing commas end a
URL; commas inside parentheses in the descriptor part do not split candidates. As in browsers, a
candidate whose descriptors are invalid (``photo.jpg huge``, ``a.jpg 0w``, ``a.jpg 1x 2x``) is
dropped: no browser fetches it, and reporting it would turn prose in a misused attribute into
phantom images. The scanner uses regular expressions for runs of characters, so its Python-level
work grows with the number of tokens, not of characters.
"""

from __future__ import annotations

import re

__all__ = ["css_background_urls", "parse_srcset"]

_WS = " \t\n\r\f"  # ASCII whitespace as HTML defines it
_WS_RUN = re.compile(r"[ \t\n\r\f]*")
_URL_RUN = re.compile(r"[^ \t\n\r\f]+")
_SKIP_RUN = re.compile(r"[ \t\n\r\f,]*")
_DESCRIPTOR_RUN = re.compile(r"[^ \t\n\r\f,(]+")

_NON_NEGATIVE_INT = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_srcset(value: str) -> list[tuple[str, str | None]]:
    """Split a ``srcset`` value into ``(url, descriptor)`` candidates, in order.

    The descriptor is the candidate's descriptors joined by one space (``"2x"``, ``"640w"``,
    ``"100w 50h"``) or None when the candidate has none. URLs are never empty.
    """
    candidates: list[tuple[str, str | None]] = []
    end = len(value)
    pos = 0
    while True:
        pos = _skip(_SKIP_RUN, value, pos)
        if pos >= end:
            return candidates
        url_match = _URL_RUN.match(value, pos)
        if url_match is None:  # pragma: no cover - pos is at a non-whitespace character
            return candidates
        url = url_match.group()
        pos = url_match.end()
        descriptors: list[str] = []
        if url.endswith(","):
            url = url.rstrip(",")  # never empty: the splitting step skipped leading commas
        else:
            pos, descriptors = _tokenize_descriptors(value, pos)
        if _descriptors_valid(descriptors):
            candidates.append((url, " ".join(descriptors) or None))


def _skip(run: re.Pattern[str], value: str, pos: int) -> int:
    """Return the position after the (possibly empty) run of ``run`` starting at ``pos``."""
    match = run.match(value, pos)
    return pos if match is None else match.end()


def _tokenize_descriptors(value: str, pos: int) -> tuple[int, list[str]]:
    """Run the spec's descriptor tokenizer from ``pos``; return the next position and tokens."""
    end = len(value)
    descriptors: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            descriptors.append("".join(current))
            current.clear()

    pos = _skip(_WS_RUN, value, pos)
    while True:
        run = _DESCRIPTOR_RUN.match(value, pos)
        if run is not None:
            current.append(run.group())
            pos = run.end()
        if pos >= end:
            flush()
            return end, descriptors
        char = value[pos]
        if char == ",":
            flush()
            return pos + 1, descriptors
        if char == "(":
            close = value.find(")", pos + 1)
            if close == -1:  # unterminated: the rest of the value belongs to this descriptor
                current.append(value[pos:])
                flush()
                return end, descriptors
            current.append(value[pos : close + 1])
            pos = close + 1
            continue
        # Whitespace ends the descriptor ("after descriptor" state); anything else resumes.
        flush()
        pos = _skip(_WS_RUN, value, pos)
        if pos >= end:
            return end, descriptors


def _descriptors_valid(descriptors: list[str]) -> bool:
    """Check descriptors as the spec does: one of w/x at most, positive w and h, h only with w.

    The suffix letter is matched case-insensitively (browsers accept ``2X``).
    """
    width = density = height = False
    for descriptor in descriptors:
        number, suffix = descriptor[:-1], descriptor[-1:].lower()
        if suffix == "w" and _NON_NEGATIVE_INT.fullmatch(number):
            if width or density or int(number) == 0:
                return False
            width = True
        elif suffix == "x" and _FLOAT.fullmatch(number):
            if width or density or height or float(number) < 0:
                return False
            density = True
        elif suffix == "h" and _NON_NEGATIVE_INT.fullmatch(number):
            if height or density or int(number) == 0:
                return False
            height = True
        else:
            return False
    return not (height and not width)


# --- inline CSS -------------------------------------------------------------------------------

#: Tokens of a declaration list: strings (possibly unterminated), comments, parentheses,
#: semicolons, escapes and runs of anything else.
_CSS_TOKEN = re.compile(
    r"""
      "[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)
    | '[^'\\]*(?:\\.[^'\\]*)*(?:'|\Z)
    | /\*.*?(?:\*/|\Z)
    | \\.
    | [^"'();/\\]+
    | .
    """,
    re.VERBOSE | re.DOTALL,
)

#: Inside a background value: ``url(...)`` (quoted or not) and bare strings, which in a
#: background value can only be ``image-set()`` / ``-webkit-image-set()`` image URLs. The MIME
#: type strings of ``type()`` inside ``image-set()`` are matched first so they are skipped.
_CSS_IMAGE = re.compile(
    r"""
      type\(\s*(?:"[^"]*"|'[^']*')\s*\)
    | url\(\s*(?:
          "(?P<dq>[^"\\]*(?:\\.[^"\\]*)*)"
        | '(?P<sq>[^'\\]*(?:\\.[^'\\]*)*)'
        | (?P<bare>(?:[^"'()\s\\]++|\\[0-9a-fA-F]{1,6}+[ \t\n\r\f]?+|\\[^0-9a-fA-F])*+)
      )\s*\)
    | "(?P<str_dq>[^"\\]*(?:\\.[^"\\]*)*)"
    | '(?P<str_sq>[^'\\]*(?:\\.[^'\\]*)*)'
    """,
    re.VERBOSE | re.DOTALL | re.IGNORECASE,
)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(\r\n|[\n\r\f])|(.))", re.DOTALL)
_BACKGROUND_PROPERTIES = frozenset({"background", "background-image"})
_MAX_CODE_POINT = 0x10FFFF
_SURROGATE_FIRST, _SURROGATE_LAST = 0xD800, 0xDFFF


def css_background_urls(style: str) -> list[str]:
    """Return the image URLs of ``background`` / ``background-image`` in an inline style.

    Every layer counts (``url(a.png), url(b.png)``); ``url()`` may be quoted or bare; strings
    inside ``image-set()`` count too; gradients carry no URL and are ignored. CSS escapes are
    decoded and comments skipped. URLs come back as written (unresolved, possibly ``data:``),
    stripped, never empty, in order.
    """
    urls: list[str] = []
    for name, value in _declarations(style):
        if name not in _BACKGROUND_PROPERTIES:
            continue
        for match in _CSS_IMAGE.finditer(value):
            raw = next((group for group in match.groups() if group is not None), "")  # type() -> ""
            url = _css_unescape(raw).strip(_WS)
            if url:
                urls.append(url)
    return urls


def _declarations(style: str) -> list[tuple[str, str]]:
    """Split a declaration list into ``(lower-cased property, value)`` pairs.

    A ``;`` inside a string or parentheses (``url(data:image/png;base64,...)``) does not end a
    declaration; comments are dropped.
    """
    declarations: list[tuple[str, str]] = []
    pieces: list[str] = []
    depth = 0

    def finish() -> None:
        name, colon, value = "".join(pieces).partition(":")
        if colon:
            declarations.append((name.strip(_WS).lower(), value))
        pieces.clear()

    for part in _CSS_TOKEN.findall(style):
        if part == ";" and depth == 0:
            finish()
            continue
        if part == "(":
            depth += 1
        elif part == ")":
            depth = max(depth - 1, 0)
        pieces.append(" " if part.startswith("/*") else part)  # a comment is whitespace
    finish()
    return declarations


def _css_unescape(text: str) -> str:
    r"""Decode CSS escapes: ``\28`` -> ``(``, ``\(`` -> ``(``, escaped newline -> nothing."""
    if "\\" not in text:
        return text

    def decode(match: re.Match[str]) -> str:
        hex_digits, newline, char = match.groups()
        if hex_digits is not None:
            code = int(hex_digits, 16)
            if code == 0 or code > _MAX_CODE_POINT or _SURROGATE_FIRST <= code <= _SURROGATE_LAST:
                return "\ufffd"
            return chr(code)
        if newline is not None:
            return ""
        return str(char)

    return _CSS_ESCAPE.sub(decode, text)
