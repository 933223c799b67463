"""aipref ``Content-Usage``: the vocabulary, the HTTP header and the robots.txt rule.

Semantics are those of optout-signals.md 6.1-6.3 (draft-ietf-aipref-vocab and
draft-ietf-aipref-attach). The preference expression is an RFC 9651 structured-field Dictionary,
parsed by ``http_sf`` (Mark Nottingham's maintained RFC 9651 implementation): it rejects keys
with upper-case letters as a syntax error, keeps the last of duplicate keys, and tells tokens,
strings and booleans apart, which is exactly what the vocabulary's processing algorithm needs.

- Only the **tokens** ``y`` and ``n`` carry a preference; a string ``"n"``, a boolean (a bare key
  is ``?1``), an upper-case token ``N`` and every other type leave the category unknown and are
  kept in :attr:`Preferences.other` as evidence. Parameters are ignored.
- A field that does not parse (``Train-AI=n``) states nothing: every category is unknown and the
  parse error is recorded.
- Labels of older drafts (``tdm``, ``ai``, ``genai``, ``train-genai``, ``inference``, ``ai-use``,
  ``all``) give no verdict; they are recorded as legacy evidence pointing at the purpose they
  used to name (:data:`LEGACY_LABELS`), and policy packs decide whether that counts.
- Header: every ``Content-Usage`` line of the response is combined into one field value (RFC 9651
  4.2) before parsing, so duplicates across lines follow last-wins too.
- robots.txt: the selected group's ``Content-Usage`` records apply only to paths the same group
  lets the crawler fetch; the record with the longest matching path pattern decides, and records
  tied on length are all applied (one evidence record each), which :mod:`auditor.signals.usage`
  then combines most restrictively. A record without a path (an older draft form) applies to
  every path as the least specific pattern.

This module never applies the implications between purposes (9.4); ``usage.py`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import cast

from http_sf import DictionaryType, StructuredFieldError, StructuredType, Token, parse, ser

from auditor.crawl.robots import (
    ExtensionRecord,
    RobotsAvailability,
    normalise_path,
    path_and_query,
    pattern_matches,
)
from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence
from auditor.signals.robots_ext import FALLBACK_TOKEN, robots_base_notes, robots_origin_record

__all__ = [
    "CURRENT_LABELS",
    "HEADER_MECHANISM",
    "LEGACY_LABELS",
    "ROBOTS_MECHANISM",
    "Preferences",
    "content_usage_header_signals",
    "content_usage_robots_signals",
    "parse_preferences",
    "purposes_for",
    "select_rules",
    "split_rule",
]

HEADER_MECHANISM = "content_usage.header"
ROBOTS_MECHANISM = "robots.content_usage"
_HEADER = "content-usage"
_FIELD = "content-usage"  # robots.txt record key, lower-cased by the robots parser
_OWS = " \t"

#: Labels of the current vocabulary (-05 to -08) that carry a verdict.
CURRENT_LABELS: tuple[str, ...] = ("train-ai", "search")

#: Labels of earlier drafts: no verdict, recorded as legacy evidence for these purposes (6.1).
#: ``all`` points at every *usage* purpose; crawl is left out because aipref preferences are
#: about use, never about acquisition (draft-ietf-aipref-attach separates the two).
LEGACY_LABELS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "tdm": (Purpose.TDM.value,),
        "ai": (Purpose.AI_TRAIN.value,),
        "genai": (Purpose.GENAI_TRAIN.value,),
        "train-genai": (Purpose.GENAI_TRAIN.value,),
        "inference": (Purpose.AI_INPUT.value,),
        "ai-use": (Purpose.AI_INPUT.value,),
        "all": tuple(p.value for p in Purpose if p is not Purpose.CRAWL),
    }
)

_YES, _NO = "y", "n"


@dataclass(frozen=True)
class Preferences:
    """A parsed preference expression.

    ``values`` holds every key whose (last) value is the token ``y`` or ``n``; ``other`` holds
    every other key with its value serialised (``"n"``, ``?1``, ``N``...), so each key is in
    exactly one of the two. ``error`` is the whole-field parse error, in which case both maps
    are empty and every category is unknown.
    """

    values: Mapping[str, str]
    other: Mapping[str, str]
    error: str | None

    def normalised(self) -> str:
        """Return the canonical text of the expression, or ``error: ...`` if it did not parse."""
        if self.error is not None:
            return f"error: {self.error}"
        members = [*self.values.items(), *self.other.items()]
        return ", ".join(f"{key}={value}" for key, value in members)


def _describe(value: object) -> str:
    """Serialise a member value (without its parameters) for the evidence record."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, list):  # an Inner List of (item, parameters) pairs
        return "(" + " ".join(_serialise(item) for item in value) + ")"
    return _serialise(value)


def _serialise(value: object) -> str:
    try:
        return ser(cast("StructuredType", value))
    except (TypeError, ValueError):
        return repr(value)


def parse_preferences(value: str) -> Preferences:
    """Parse a preference expression (vocabulary section 6); never raises.

    The text is handled as bytes, as the vocabulary requires: any non-ASCII character makes the
    field unparseable. Leading and trailing SP/HTAB are HTTP whitespace and are dropped first.
    """
    data = value.strip(_OWS).encode("utf-8", "surrogatepass")
    try:
        parsed = parse(data, tltype="dictionary")
    except (StructuredFieldError, ValueError, OverflowError) as error:
        return Preferences(frozen_map(), frozen_map(), str(error) or type(error).__name__)
    members: DictionaryType = parsed if isinstance(parsed, dict) else {}
    values: dict[str, str] = {}
    other: dict[str, str] = {}
    for key, member in members.items():
        bare: object = member[0] if isinstance(member, tuple) else member
        if isinstance(bare, Token) and str(bare) in (_YES, _NO):
            values[key] = str(bare)
        else:
            other[key] = _describe(bare)
    return Preferences(frozen_map(values), frozen_map(other), None)


def purposes_for(prefs: Preferences) -> dict[str, Verdict]:
    """Per-purpose contribution of the current labels (9.2); legacy and unknown keys add nothing.

    ``train-ai=y`` allows both ai-train and genai-train (generative training is training);
    ``train-ai=n`` disallows ai-train only, since the implication to genai-train is usage.py's.
    """
    purposes: dict[str, Verdict] = {}
    train = prefs.values.get("train-ai")
    if train == _NO:
        purposes[Purpose.AI_TRAIN.value] = Verdict.DISALLOWED
    elif train == _YES:
        purposes[Purpose.AI_TRAIN.value] = Verdict.ALLOWED
        purposes[Purpose.GENAI_TRAIN.value] = Verdict.ALLOWED
    search = prefs.values.get("search")
    if search is not None:
        purposes[Purpose.SEARCH.value] = Verdict.DISALLOWED if search == _NO else Verdict.ALLOWED
    return purposes


def _notes(prefs: Preferences) -> list[str]:
    """Return the record flags: parse error, legacy labels with what they point at, the rest."""
    if prefs.error is not None:
        return ["parse_error"]
    notes: list[str] = []
    legacy: list[str] = []
    for key, value in [*prefs.values.items(), *prefs.other.items()]:
        if key in LEGACY_LABELS:
            legacy.extend(f"legacy:{purpose}={value}" for purpose in LEGACY_LABELS[key])
        elif key in CURRENT_LABELS:
            if key in prefs.other:
                notes.append("not_a_preference_token")
        else:
            notes.append("unknown_label")
    if legacy:
        notes.append("legacy_label")
        notes.extend(legacy)
    return notes


def _evidence_record(
    evidence: ImageEvidence, prefs: Preferences, raw: str, notes: Sequence[str]
) -> SignalRecord:
    return SignalRecord(
        mechanism=HEADER_MECHANISM,
        scope=Scope.RESPONSE,
        source_url=evidence.url,
        applies_to=evidence.url,
        raw_value=raw,
        fetched_at=evidence.fetched_at,
        http_status=evidence.status,
        parsed=prefs.normalised(),
        purposes=frozen_map(purposes_for(prefs)),
        notes=tuple(dict.fromkeys([*notes, *_notes(prefs)])),
    )


def content_usage_header_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Read the image response's ``Content-Usage`` field: one record, lines combined (6.2).

    No response: one ``not_evaluated`` record (``no_response``). No field: no record. Empty
    field lines are dropped before combining, so they cannot turn the field into a syntax error.
    """
    if evidence.response_headers is None:
        return [
            SignalRecord(
                mechanism=HEADER_MECHANISM,
                scope=Scope.RESPONSE,
                source_url=evidence.url,
                applies_to=evidence.url,
                raw_value=None,
                fetched_at=evidence.fetched_at,
                http_status=evidence.status,
                purposes=frozen_map(),
                notes=("no_response",),
                evaluation=Evaluation.NOT_EVALUATED,
            )
        ]
    lines = [
        value.strip(_OWS)
        for name, value in evidence.response_headers
        if name.lower() == _HEADER and value.strip(_OWS)
    ]
    if not lines:
        return []
    combined = ", ".join(lines)
    notes = ["combined_field_lines"] if len(lines) > 1 else []
    return [_evidence_record(evidence, parse_preferences(combined), combined, notes)]


def split_rule(value: str) -> tuple[str | None, str]:
    """``(path pattern or None, preference text)`` of a robots.txt ``Content-Usage`` value.

    A value starting with ``/`` begins with a path pattern that ends at the first SP or HTAB
    (draft-ietf-aipref-attach); any other value is all preference text, applying to every path.
    A leading ``*`` is not taken as a pattern: ``*`` also starts a Dictionary key.
    """
    text = value.strip(_OWS)
    if not text.startswith("/"):
        return None, text
    end = min((i for i in (text.find(" "), text.find("\t")) if i >= 0), default=len(text))
    return text[:end], text[end:].strip(_OWS)


def _specificity(pattern: str | None) -> int:
    """Pattern length in octets after normalisation (1.4); a missing pattern is least specific."""
    if pattern is None:
        return -1
    return len(normalise_path(pattern).encode("utf-8"))


def select_rules(
    records: Sequence[ExtensionRecord], path_and_query: str
) -> tuple[ExtensionRecord, ...]:
    """Return the ``Content-Usage`` records that decide for a path.

    Those are the matching records with the longest pattern; records tied on length (identical
    patterns included) are all returned, to be combined most restrictively.
    """
    best = -2
    chosen: list[ExtensionRecord] = []
    for record in records:
        pattern, _ = split_rule(record.value)
        if pattern is not None and not pattern_matches(pattern, path_and_query):
            continue
        length = _specificity(pattern)
        if length > best:
            best, chosen = length, [record]
        elif length == best:
            chosen.append(record)
    return tuple(chosen)


def content_usage_robots_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """``Content-Usage`` records of the image origin's robots.txt for each declared token (6.3).

    One record per deciding line. Nothing when robots.txt is unavailable (no file, no rule) or
    when the path is not crawlable for the token (no preference applies); one ``not_evaluated``
    record when robots.txt was unreachable.
    """
    policy = evidence.origin.robots.policy
    base_notes = robots_base_notes(evidence)
    tokens = evidence.tokens or (FALLBACK_TOKEN,)
    if policy.availability is RobotsAvailability.UNREACHABLE:
        unreachable = robots_origin_record(
            evidence,
            ROBOTS_MECHANISM,
            None,
            raw_value=None,
            parsed=None,
            purposes={},
            notes=[*base_notes, "robots_unreachable", *policy.notes],
            evaluation=Evaluation.NOT_EVALUATED,
        )
        return [unreachable]
    robots = policy.file
    if policy.availability is not RobotsAvailability.PARSED or robots is None:
        return []
    path = path_and_query(evidence.url)
    records: list[SignalRecord] = []
    for token in tokens:
        if not robots.decide(token, path).allowed:
            continue  # preferences apply only to crawlable paths
        rules = [ext for ext in robots.extensions_for(token) if ext.field == _FIELD]
        chosen = select_rules(rules, path)
        tie = ["combined_most_restrictive"] if len(chosen) > 1 else []
        for rule in chosen:
            pattern, text = split_rule(rule.value)
            prefs = parse_preferences(text)
            notes = [*base_notes, *tie]
            if pattern is None:
                notes.append("no_path_pattern")
            records.append(
                robots_origin_record(
                    evidence,
                    ROBOTS_MECHANISM,
                    token,
                    raw_value=f"Content-Usage: {rule.value} (line {rule.line})",
                    parsed=prefs.normalised(),
                    purposes=purposes_for(prefs),
                    notes=[*notes, *_notes(prefs)],
                )
            )
    return records
