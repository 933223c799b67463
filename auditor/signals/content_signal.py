"""Cloudflare Content Signals (``Content-Signal``), in robots.txt and as a response header.

Format (https://contentsignals.org, optout-signals.md 6.4): ``Content-Signal: search=yes,
ai-train=no[, ai-input=yes|no]`` inside a robots.txt group. It is not a structured field, so
this module parses it leniently but records every deviation:

- Items are separated by commas; whitespace around items and around ``=`` is ignored.
- Keys and values are compared case-insensitively (``AI-Train=No`` is read as ``ai-train=no``)
  because the publisher's meaning is evident; such a value gets the ``lenient_parse`` note, as
  the robots.txt leniencies of section 1.2 do.
- Only ``yes`` and ``no`` carry meaning. Other values, other keys (Cloudflare's ``use=...``) and
  items without ``=`` are kept in :attr:`ContentSignal.other` and give no verdict.
- A key given twice in one value is combined most restrictively (``no`` wins), note
  ``duplicate_key``: the format defines no order, and 9.5 is the rule for conflicting statements.

Path semantics (decided here; the format has none): a ``Content-Signal`` record applies to the
whole group, so it covers every path that the same group lets the crawler fetch, exactly like a
``Content-Usage`` record without a path. A disallowed path gets no record (crawl is disallowed
anyway, and that implies the rest). A value that starts with ``/`` (someone copying the
``Content-Usage`` path form) is not part of the format: it is recorded with the parse error
``path_pattern_not_supported`` and gives no verdict. Every record of the selected group applies,
one evidence record each, and :mod:`auditor.signals.usage` combines them most restrictively.

A ``Content-Signal`` response header on the image is recorded the same way under the same
mechanism name, with scope ``response`` and the note ``header``; each header line is one record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditor.crawl.robots import RobotsAvailability, path_and_query
from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence

__all__ = [
    "MECHANISM",
    "SIGNALS",
    "ContentSignal",
    "content_signal_signals",
    "parse_content_signal",
    "signal_purposes",
]

MECHANISM = "robots.content_signal"
_FIELD = "content-signal"  # robots.txt record key, lower-cased by the robots parser
_HEADER = "content-signal"
_FALLBACK_TOKEN = "*"
_WS = " \t"

#: The signals defined by contentsignals.org and the purpose each one speaks about.
SIGNALS: Mapping[str, Purpose] = frozen_map(
    {"search": Purpose.SEARCH, "ai-train": Purpose.AI_TRAIN, "ai-input": Purpose.AI_INPUT}
)
_YES, _NO = "yes", "no"


@dataclass(frozen=True)
class ContentSignal:
    """A parsed ``Content-Signal`` value.

    ``values``: the defined signals stated as ``yes``/``no`` (lower-cased). ``other``: every
    other item, key lower-cased, value as written (``""`` for an item without ``=``).
    ``errors``: what made part of the value unusable. ``notes``: ``lenient_parse`` and
    ``duplicate_key`` when they apply.
    """

    values: Mapping[str, str]
    other: Mapping[str, str]
    errors: tuple[str, ...]
    notes: tuple[str, ...]

    def normalised(self) -> str:
        """Canonical text: the defined signals, then the rest, then any errors."""
        members = [f"{key}={value}" for key, value in self.values.items()]
        members += [f"{key}={value}" if value else key for key, value in self.other.items()]
        parts = [", ".join(members)] if members else []
        parts += [f"error: {error}" for error in self.errors]
        return "; ".join(parts)


def parse_content_signal(value: str) -> ContentSignal:
    """Parse one ``Content-Signal`` value; never raises (see the module notes)."""
    text = value.strip(_WS)
    if not text:
        return ContentSignal(frozen_map(), frozen_map(), ("empty_value",), ())
    if text.startswith("/"):
        return ContentSignal(frozen_map(), frozen_map(), ("path_pattern_not_supported",), ())
    values: dict[str, str] = {}
    other: dict[str, str] = {}
    errors: list[str] = []
    notes: dict[str, None] = {}
    for item in text.split(","):
        item = item.strip(_WS)  # noqa: PLW2901 -- the trimmed item replaces the raw one
        if not item:
            errors.append("empty_item")
            continue
        raw_key, equals, raw_val = item.partition("=")
        key, val = raw_key.strip(_WS), raw_val.strip(_WS)
        if not equals or not key:
            other[item.lower()] = ""
            errors.append(f"not_key_value: {item}")
            continue
        folded_key, folded_val = key.lower(), val.lower()
        if folded_key in SIGNALS and folded_val in (_YES, _NO):
            if (folded_key, folded_val) != (key, val):
                notes["lenient_parse"] = None
            if folded_key in values:
                notes["duplicate_key"] = None
                if values[folded_key] == _NO:
                    continue  # most restrictive: an earlier "no" stays
            values[folded_key] = folded_val
        else:
            if folded_key in other or folded_key in values:
                notes["duplicate_key"] = None
            other.setdefault(folded_key, val)
    return ContentSignal(frozen_map(values), frozen_map(other), tuple(errors), tuple(notes))


def signal_purposes(signal: ContentSignal) -> dict[str, Verdict]:
    """Per-purpose contribution (9.2); ``ai-train=yes`` allows genai-train too."""
    purposes: dict[str, Verdict] = {}
    for key, value in signal.values.items():
        purpose = SIGNALS[key]
        verdict = Verdict.ALLOWED if value == _YES else Verdict.DISALLOWED
        purposes[purpose.value] = verdict
        if purpose is Purpose.AI_TRAIN and verdict is Verdict.ALLOWED:
            purposes[Purpose.GENAI_TRAIN.value] = Verdict.ALLOWED
    return purposes


def _signal_notes(signal: ContentSignal) -> list[str]:
    notes = list(signal.notes)
    if signal.errors:
        notes.append("parse_error")
    for key in signal.other:
        notes.append("invalid_value" if key in SIGNALS else "unknown_label")
    return notes


def _record(
    evidence: ImageEvidence,
    *,
    scope: Scope,
    raw_value: str | None,
    signal: ContentSignal | None,
    notes: Sequence[str],
    token: str | None = None,
    evaluation: Evaluation = Evaluation.EVALUATED,
) -> SignalRecord:
    entry = evidence.origin.robots
    header = scope is Scope.RESPONSE
    extra = _signal_notes(signal) if signal is not None else []
    return SignalRecord(
        mechanism=MECHANISM,
        scope=scope,
        source_url=evidence.url if header else entry.source_url,
        applies_to=evidence.url,
        raw_value=raw_value,
        fetched_at=evidence.fetched_at if header else entry.fetched_at,
        http_status=evidence.status if header else entry.policy.http_status,
        parsed=signal.normalised() if signal is not None else None,
        purposes=frozen_map(signal_purposes(signal) if signal is not None else {}),
        notes=tuple(dict.fromkeys([*notes, *extra])),
        token=token,
        sha256=None if header else entry.sha256,
        evaluation=evaluation,
    )


def _header_records(evidence: ImageEvidence) -> list[SignalRecord]:
    if evidence.response_headers is None:
        return [
            _record(
                evidence,
                scope=Scope.RESPONSE,
                raw_value=None,
                signal=None,
                notes=("header", "no_response"),
                evaluation=Evaluation.NOT_EVALUATED,
            )
        ]
    return [
        _record(
            evidence,
            scope=Scope.RESPONSE,
            raw_value=value,
            signal=parse_content_signal(value),
            notes=("header",),
        )
        for name, value in evidence.response_headers
        if name.lower() == _HEADER
    ]


def _robots_records(evidence: ImageEvidence) -> list[SignalRecord]:
    policy = evidence.origin.robots.policy
    robots = policy.file
    if policy.availability is not RobotsAvailability.PARSED or robots is None:
        return []
    base_notes = list(policy.notes)
    if not evidence.tokens:
        base_notes.append("no_declared_token")
    path = path_and_query(evidence.url)
    records: list[SignalRecord] = []
    for token in evidence.tokens or (_FALLBACK_TOKEN,):
        if not robots.decide(token, path).allowed:
            continue  # signals apply to crawlable paths only
        for ext in robots.extensions_for(token):
            if ext.field != _FIELD:
                continue
            records.append(
                _record(
                    evidence,
                    scope=Scope.ORIGIN,
                    raw_value=f"Content-Signal: {ext.value} (line {ext.line})",
                    signal=parse_content_signal(ext.value),
                    notes=base_notes,
                    token=token,
                )
            )
    return records


def content_signal_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Content signals of the image origin's robots.txt (per declared token) and of its response.

    robots.txt not parsed (unavailable or unreachable): no robots record. No response: one
    ``not_evaluated`` header record (``no_response``).
    """
    return [*_robots_records(evidence), *_header_records(evidence)]
