"""Spawning ``ai.txt`` (mechanism ``ai_txt``, optout-signals.md section 4).

``/ai.txt`` on the image's own origin, when robots.txt-style, is parsed with
:func:`auditor.crawl.robots.parse_robots` and read with the same group selection and
longest-match precedence as robots.txt, for each declared product token (the ``*`` group when
none is declared, noted ``no_declared_token``): a deciding ``Disallow`` gives ``ai-train``
disallowed, a deciding ``Allow`` gives ``ai-train`` allowed, no matching rule gives nothing.

Matching is case-sensitive and applied as written, so ``Disallow: *.jpg`` does not cover
``/a.JPG``. When lower-casing the URL's extension would change the outcome, the record says
``case_mismatch_suspected`` (a record is written for that even when nothing matched as written),
so review can see the likely escape from the publisher's intent.

Other formats are published at ``/ai.txt`` too (Markdown, YAML, HTML error pages served with
200). The body is sniffed: it is robots-style only when it has a ``User-agent`` line and an
``Allow``/``Disallow`` line and no obvious HTML, Markdown or YAML; anything else gives one record
``unrecognised_format`` and no verdict. A 4xx means there is no file (nothing recorded); a
refused fetch, a network error, 429, 5xx or an unfollowed redirect is recorded as not evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus

from auditor.crawl.robots import RobotsDecision, RobotsFile, parse_robots, path_and_query
from auditor.model import Evaluation, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import FetchMeta, ImageEvidence
from auditor.signals.robots import FALLBACK_TOKEN

__all__ = [
    "FORMAT_ROBOTS",
    "FORMAT_UNAVAILABLE",
    "FORMAT_UNRECOGNISED",
    "MAX_AI_TXT_BYTES",
    "SNIFF_CHARS",
    "AiTxtFile",
    "ai_txt_signals",
    "parse_ai_txt",
    "sniff_ai_txt",
]

MAX_AI_TXT_BYTES = 512 * 1024
#: Characters at the start of ai.txt searched for HTML, Markdown and YAML markers.
SNIFF_CHARS = 64 * 1024

FORMAT_ROBOTS = "robots"
FORMAT_UNRECOGNISED = "unrecognised"
FORMAT_UNAVAILABLE = "unavailable"

_BOM = "\ufeff"
_LINE_END = re.compile(r"\r\n|\r|\n")
_WS = " \t\v\f"
_AGENT_KEYS = frozenset({"user-agent", "useragent", "user agent"})
_RULE_KEYS = frozenset({"allow", "disallow"})
_ROBOTS_KEYS = (
    _AGENT_KEYS
    | _RULE_KEYS
    | {
        "sitemap",
        "crawl-delay",
        "host",
        "noindex",
        "content-usage",
        "content-signal",
        "disallowaitraining",
        "allowaitraining",
    }
)
_HTML = re.compile(
    r"<\s*(?:!doctype|html|head|body|meta|title|div|p|a|span|script|style|link|pre|br|h[1-6])\b",
    re.IGNORECASE,
)
# Every pattern here runs in linear time: character classes exclude the delimiters that would
# let a failed attempt rescan the same text (a 512 KiB line of "[" or spaces stays cheap).
_MD_LINK = re.compile(r"\[[^\[\]\n]+\]\([^()\s]+\)")
_MD_BOLD = re.compile(r"\*\*[^*\s][^*]*\*\*|__[^_\s][^_]*__")
_MD_LINE = re.compile(r"(?:```|~~~|[-*+]\s+\S|\d{1,3}[.)]\s+\S|\|.*\|$|>\s)")
_YAML_MARKER = re.compile(r"(?:---|\.\.\.)\s*$|%YAML\b")
_YAML_KEY = re.compile(r""""[^"]*"|'[^']*'|[A-Za-z_][\w .-]*""")


@dataclass(frozen=True)
class AiTxtFile:
    """A fetched ai.txt: robots-style (``robots`` set), unrecognised, or unavailable.

    ``reason`` says why a file is unrecognised (``html``, ``markdown``, ``yaml``,
    ``no_robots_records``, ``empty``) or unavailable (``HTTP 404``, the fetch error, or
    ``robots_disallowed`` when the auditor's own robots group refused the fetch).
    """

    format: str
    robots: RobotsFile | None
    reason: str | None


def _decode(body: bytes) -> str:
    return body[:MAX_AI_TXT_BYTES].decode("utf-8", errors="replace")


def _record_key(content: str) -> str | None:
    """Return the lower-cased field name of a robots-like ``key: value`` or ``key value`` line."""
    key, colon, _ = content.partition(":")
    if colon:
        return key.strip(_WS).lower()
    words = content.split()
    return words[0].lower() if len(words) == 2 else None  # noqa: PLR2004 -- Google leniency


def _foreign_format(line: str, stripped: str) -> str | None:
    """``html``, ``markdown`` or ``yaml`` when a non-robots line obviously belongs to one."""
    if _HTML.search(stripped):
        return "html"
    if _MD_LINE.match(stripped) or _MD_LINK.search(stripped) or _MD_BOLD.search(stripped):
        return "markdown"
    if _YAML_MARKER.match(stripped):
        return "yaml"
    key, colon, value = stripped.partition(":")
    if colon and value[:1] in ("", " ", "\t") and _YAML_KEY.fullmatch(key.rstrip(_WS)):
        indented = line[:1] in (" ", "\t")
        quoted = stripped[:1] in ("'", '"')
        if indented or quoted or not value.strip():
            return "yaml"  # nested mapping, quoted key or a key opening a block
    return None


def sniff_ai_txt(text: str) -> str | None:
    """Return None for a robots-style body, else why it is not (``html``, ``markdown``, ...).

    Foreign-format markers are looked for in the first :data:`SNIFF_CHARS` characters (a format
    shows itself at the start); ``User-agent`` and ``Allow``/``Disallow`` lines anywhere count.
    """
    text = text.removeprefix(_BOM)
    if not text.strip():
        return "empty"
    if text.lstrip().startswith("<"):
        return "html"
    has_agent = has_rule = False
    offset = 0
    for line in _LINE_END.split(text):
        sniffing = offset < SNIFF_CHARS
        offset += len(line) + 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # blank or a comment (a Markdown heading reads the same: not decisive)
        content = stripped.split("#", 1)[0].strip(_WS)
        key = _record_key(content) if content else None
        if sniffing and key not in _ROBOTS_KEYS:  # robots records may contain anything
            foreign = _foreign_format(line, stripped)
            if foreign is not None:
                return foreign
        has_agent = has_agent or key in _AGENT_KEYS
        has_rule = has_rule or key in _RULE_KEYS
    return None if has_agent and has_rule else "no_robots_records"


def parse_ai_txt(status: int | None, body: bytes | None, error: str | None) -> AiTxtFile:
    """Classify and parse the outcome of fetching ``/ai.txt``; never raises.

    Only a 2xx body is read. Robots-style bodies are parsed by :func:`parse_robots` (which keeps
    at least the first 500 KiB and records truncation in its notes).
    """
    if error is not None:
        return AiTxtFile(FORMAT_UNAVAILABLE, None, error)
    if status is None or not HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES:
        return AiTxtFile(FORMAT_UNAVAILABLE, None, f"HTTP {status}")
    raw = body or b""
    unrecognised = sniff_ai_txt(_decode(raw))
    if unrecognised is not None:
        return AiTxtFile(FORMAT_UNRECOGNISED, None, unrecognised)
    return AiTxtFile(FORMAT_ROBOTS, parse_robots(raw), None)


# --- records -----------------------------------------------------------------------------------


def _unanswered(status: int | None) -> bool:
    """No usable answer: no status, 1xx, an unfollowed 3xx, 429 or 5xx (all transient)."""
    if status is None or status == HTTPStatus.TOO_MANY_REQUESTS:
        return True
    return (
        status < HTTPStatus.OK
        or HTTPStatus.MULTIPLE_CHOICES <= status < HTTPStatus.BAD_REQUEST
        or status >= HTTPStatus.INTERNAL_SERVER_ERROR
    )


def _raw_rule(decision: RobotsDecision) -> str | None:
    if decision.rule is None:
        return None
    field = "Allow" if decision.rule.allow else "Disallow"
    return f"{field}: {decision.rule.pattern} (line {decision.rule.line})"


def _outcome(decision: RobotsDecision) -> bool | None:
    """Return True for a deciding Allow, False for a Disallow, None when no rule matched."""
    return None if decision.rule is None else decision.rule.allow


def _lower_extension(path: str) -> str | None:
    """``path`` with its last segment's extension lower-cased, or None when already lower."""
    location, question, query = path.partition("?")
    segment_start = location.rfind("/") + 1
    dot = location.rfind(".")
    if dot <= segment_start or location[dot + 1 :] == location[dot + 1 :].lower():
        return None
    return location[: dot + 1] + location[dot + 1 :].lower() + question + query


@dataclass(frozen=True)
class _Common:
    meta: FetchMeta
    url: str
    notes: tuple[str, ...]

    def record(
        self,
        *,
        raw: str | None,
        parsed: str,
        purposes: dict[str, Verdict],
        notes: list[str],
        token: str | None = None,
        evaluation: Evaluation = Evaluation.EVALUATED,
    ) -> SignalRecord:
        return SignalRecord(
            mechanism="ai_txt",
            scope=Scope.ORIGIN,
            source_url=self.meta.source_url,
            applies_to=self.url,
            raw_value=raw,
            purposes=frozen_map(purposes),
            fetched_at=self.meta.fetched_at,
            http_status=self.meta.status,
            parsed=parsed,
            notes=tuple(dict.fromkeys([*self.notes, *notes])),
            token=token,
            sha256=self.meta.sha256,
            evaluation=evaluation,
        )


def _token_record(common: _Common, robots: RobotsFile, token: str) -> SignalRecord | None:
    """Return the record for one token, or None when no rule matches and none escaped."""
    path = path_and_query(common.url)
    decision = robots.decide(token, path)
    lowered = _lower_extension(path)
    alternative = robots.decide(token, lowered) if lowered is not None else None
    escaped = alternative is not None and _outcome(alternative) != _outcome(decision)
    if decision.rule is None and not escaped:
        return None
    purposes: dict[str, Verdict] = {}
    if decision.rule is None:
        parsed = "no matching rule"
    else:
        allowed = decision.rule.allow
        purposes["ai-train"] = Verdict.ALLOWED if allowed else Verdict.DISALLOWED
        parsed = "allowed" if allowed else "disallowed"
    if alternative is not None and escaped:
        other = _raw_rule(alternative) or "no matching rule"
        parsed += f"; with the extension lower-cased: {other}"
    return common.record(
        raw=_raw_rule(decision),
        parsed=parsed,
        purposes=purposes,
        notes=["case_mismatch_suspected"] if escaped else [],
        token=token,
    )


def _unusable(common: _Common, meta: FetchMeta, file: AiTxtFile) -> list[SignalRecord]:
    """Return no record for a 4xx; else one record saying why ai.txt could not be read."""
    if meta.error is None and not _unanswered(meta.status):
        return []  # 4xx: the origin has no ai.txt; nothing is known
    reason = meta.error or file.reason or f"HTTP {meta.status}"
    if meta.error == "too_large":
        parsed = f"ai.txt not usable: larger than the fetch limit ({reason})"
        return [
            common.record(
                raw=None,
                parsed=parsed,
                purposes={},
                notes=["too_large"],
                evaluation=Evaluation.ERROR,
            )
        ]
    if meta.error is None:
        code = "unreachable"
    else:
        code = meta.error if meta.error.startswith("robots_") else "fetch_error"
    not_evaluated = common.record(
        raw=None,
        parsed=f"ai.txt not fetched: {reason}",
        purposes={},
        notes=["not_evaluated", code],
        evaluation=Evaluation.NOT_EVALUATED,
    )
    return [not_evaluated]


def ai_txt_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """ai.txt records for an image: one per declared token whose rules decide its URL."""
    meta, file = evidence.origin.ai_txt_meta, evidence.origin.ai_txt
    common = _Common(meta, evidence.url, ())
    if meta.error is not None or file.format == FORMAT_UNAVAILABLE:
        return _unusable(common, meta, file)
    if file.format != FORMAT_ROBOTS or file.robots is None:
        parsed = f"unrecognised format: {file.reason or 'unknown'}"
        return [common.record(raw=None, parsed=parsed, purposes={}, notes=["unrecognised_format"])]
    notes = (*file.robots.notes, *([] if evidence.tokens else ["no_declared_token"]))
    common = _Common(meta, evidence.url, notes)
    records = []
    for token in evidence.tokens or (FALLBACK_TOKEN,):
        record = _token_record(common, file.robots, token)
        if record is not None:
            records.append(record)
    return records
