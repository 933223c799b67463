"""W3C TDM Reservation Protocol (mechanisms ``tdmrep.file``, ``tdmrep.header``, ``tdmrep.html``).

Semantics are those of optout-signals.md section 3. The layers of a resource are evaluated in
order, each later layer overriding the earlier one only when it *states* a valid value (3.6):

1. ``/.well-known/tdmrep.json`` of the resource's own origin: a JSON array of
   ``{location, tdm-reservation, tdm-policy?}`` objects; the **first** entry in array order whose
   ``location`` (a robots.txt-style pattern, matched with :func:`auditor.crawl.robots
   .pattern_matches`) matches the path and query decides. This is not longest-match.
2. the resource's ``tdm-reservation`` / ``tdm-policy`` response headers;
3. for HTML pages only, ``<meta name="tdm-reservation">``; it never propagates to images.

``tdm-reservation`` must be exactly ``1`` (reserved: ``tdm`` disallowed) or ``0`` (not reserved:
``tdm`` allowed); anything else is a protocol error, which the agent must treat as unset, so it
never overrides an earlier layer. Several header lines (or comma-separated members, which HTTP
treats the same) count only when every member is the same valid value; otherwise the layer is a
protocol error (``conflicting_values`` when both ``1`` and ``0`` appear).

Only the effective layer carries a purpose; an overridden layer is still recorded, with no
purposes and the note ``superseded``. ``tdm-policy`` is recorded and never fetched; with ``0``
it is not processed at all (note ``policy_ignored``). Implications (tdm => ai-train) and
combination with other mechanisms happen in :mod:`auditor.signals.usage`, not here.

The tdmrep.json parser lives in :mod:`auditor.signals.tdmrep_file`; its public names are
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from auditor.crawl.robots import path_and_query
from auditor.model import Evaluation, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import FetchMeta, ImageEvidence, OriginEvidence, PageEvidence
from auditor.signals.tdmrep_file import (
    HTTP_WS,
    INVALID,
    MAX_TDMREP_BYTES,
    MAX_TDMREP_DEPTH,
    MAX_TDMREP_ENTRIES,
    NOT_FETCHED,
    POLICY,
    RESERVATION,
    TdmrepEntry,
    TdmrepFile,
    parse_tdmrep_file,
)

__all__ = [
    "MAX_TDMREP_BYTES",
    "MAX_TDMREP_DEPTH",
    "MAX_TDMREP_ENTRIES",
    "TdmrepEntry",
    "TdmrepFile",
    "page_tdmrep_signals",
    "parse_tdm_reservation",
    "parse_tdmrep_file",
    "tdmrep_signals",
]

_MAX_PARSED_PROBLEMS = 5  # problems spelt out in a record's ``parsed``; the rest are counted


def parse_tdm_reservation(value: str | None) -> int | None:
    """Return 1 or 0 for a valid ``tdm-reservation`` value once trimmed, else None (unset)."""
    if value is None:
        return None
    trimmed = value.strip(HTTP_WS)
    return int(trimmed) if trimmed in ("0", "1") else None


# --- records -----------------------------------------------------------------------------------


def _tdm(value: int) -> dict[str, Verdict]:
    return {"tdm": Verdict.DISALLOWED if value == 1 else Verdict.ALLOWED}


def _meaning(value: int | None, policies: list[str]) -> tuple[str, list[str]]:
    """Return the ``parsed`` text and notes for a reservation value and its policy URLs."""
    if value == 1:
        return "; ".join(["reserved", *(f"policy {url}" for url in policies)]), []
    notes = ["policy_ignored"] if policies else []  # processed only with a reservation of 1
    if value == 0:
        return "not reserved", notes
    return "protocol error: tdm-reservation is not 1 or 0; unset", ["protocol_error", *notes]


@dataclass(frozen=True)
class _Layer:
    """One precedence layer's record (purposes still empty) and the value it states, if any."""

    record: SignalRecord
    value: int | None


def _resolve(layers: list[_Layer]) -> list[SignalRecord]:
    """Give the last layer that states a value its purpose; mark earlier stating layers."""
    stating = [position for position, layer in enumerate(layers) if layer.value is not None]
    effective = stating[-1] if stating else None
    records = []
    for position, layer in enumerate(layers):
        record = layer.record
        if position == effective and layer.value is not None:
            record = replace(record, purposes=frozen_map(_tdm(layer.value)))
        elif layer.value is not None:
            record = replace(record, notes=(*record.notes, "superseded"))
        records.append(record)
    return records


def _summary(problems: tuple[str, ...]) -> str:
    shown = list(problems[:_MAX_PARSED_PROBLEMS])
    if len(problems) > _MAX_PARSED_PROBLEMS:
        shown.append(f"and {len(problems) - _MAX_PARSED_PROBLEMS} more")
    return "; ".join(shown)


def _file_record(
    meta: FetchMeta,
    resource_url: str,
    evaluation: Evaluation,
    parsed: str,
    notes: list[str],
    *,
    raw: str | None = None,
) -> SignalRecord:
    if meta.final_url and meta.final_url != meta.source_url:
        notes = [*notes, "redirected"]
    return SignalRecord(
        mechanism="tdmrep.file",
        scope=Scope.ORIGIN,
        source_url=meta.source_url,
        applies_to=resource_url,
        raw_value=raw,
        purposes=frozen_map(),
        fetched_at=meta.fetched_at,
        http_status=meta.status,
        parsed=parsed,
        notes=tuple(dict.fromkeys(notes)),
        sha256=meta.sha256,
        evaluation=evaluation,
    )


def _unusable(meta: FetchMeta, file: TdmrepFile) -> tuple[Evaluation, str, list[str]] | None:
    """Return (evaluation, parsed, notes) for a file that was not fetched or is invalid.

    The fetch metadata wins over the parse: a fetch error is "not evaluated" whatever the
    parser was given. A 4xx (the origin does not implement TDMRep) returns None: nothing to say.
    """
    error, code = meta.error, file.reason_code
    if error is not None and error != "too_large":
        code = error if error.startswith("robots_") else "fetch_error"
        return (
            Evaluation.NOT_EVALUATED,
            f"tdmrep.json not fetched: {error}",
            ["not_evaluated", code],
        )
    if code in NOT_FETCHED:
        parsed = f"tdmrep.json not fetched: {file.reason}"
        return Evaluation.NOT_EVALUATED, parsed, ["not_evaluated", code or "fetch_error"]
    if error == "too_large" or code in INVALID:
        reason = file.reason if code in INVALID else "too_large"
        note = code if code in INVALID and code is not None else "too_large"
        return Evaluation.ERROR, f"invalid tdmrep.json: {reason}", [note]
    return None


def _file_layer(meta: FetchMeta, file: TdmrepFile, resource_url: str) -> _Layer | None:
    """Return the origin-file layer for one resource, or None when there is nothing to record."""
    unusable = _unusable(meta, file)
    if unusable is not None:
        return _Layer(_file_record(meta, resource_url, *unusable), None)
    if not file.implemented:  # unavailable (404 ...): the origin does not implement TDMRep
        return None
    entry = file.match(path_and_query(resource_url))
    if entry is None:
        if not file.problems:
            return None  # evaluated, no matching entry: unset
        notes = ["file_problems", *(["entries_capped"] if file.capped else [])]
        parsed = f"no valid entry matches; {_summary(file.problems)}"
        return _Layer(_file_record(meta, resource_url, Evaluation.ERROR, parsed, notes), None)
    meaning, notes = _meaning(entry.reservation, [entry.policy] if entry.policy else [])
    if file.problems:
        notes.append("file_problems")
    parsed = f"entry {entry.index}: {meaning}"
    record = _file_record(meta, resource_url, Evaluation.EVALUATED, parsed, notes, raw=entry.raw)
    return _Layer(record, entry.reservation)


def _declaration_layer(
    lines: list[tuple[str, str]],
    *,
    mechanism: str,
    scope: Scope,
    source_url: str,
    applies_to: str | None,
    fetched_at: str | None,
    http_status: int | None,
    split_members: bool,
) -> _Layer | None:
    """Return the header or meta layer of ``(name, value)`` lines; None when there are none."""
    reservations = [value for name, value in lines if name == RESERVATION]
    policies = [v.strip(HTTP_WS) for n, v in lines if n == POLICY and v.strip(HTTP_WS)]
    if not reservations and not policies:
        return None
    value: int | None = None
    if reservations:
        members = [
            member
            for raw in reservations
            for member in (raw.split(",") if split_members else [raw])
        ]
        values = {parse_tdm_reservation(member) for member in members}
        if len(values) == 1 and None not in values:
            value = values.pop()
        parsed, notes = _meaning(value, policies)
        if value is not None and len(members) > 1:
            notes.append("repeated")
        if values >= {0, 1}:
            notes.append("conflicting_values")
    else:
        parsed = "no tdm-reservation: unset; tdm-policy not processed"
        notes = ["policy_without_reservation", "policy_ignored"]
    record = SignalRecord(
        mechanism=mechanism,
        scope=scope,
        source_url=source_url,
        applies_to=applies_to,
        raw_value="\n".join(f"{name}: {raw}" for name, raw in lines),
        purposes=frozen_map(),
        fetched_at=fetched_at,
        http_status=http_status,
        parsed=parsed,
        notes=tuple(dict.fromkeys(notes)),
    )
    return _Layer(record, value)


def _tdm_lines(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if name in (RESERVATION, POLICY)]


def tdmrep_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """TDMRep records for an image: origin file, overridden by the image's response headers."""
    origin = evidence.origin
    layers: list[_Layer] = []
    file_layer = _file_layer(origin.tdmrep_meta, origin.tdmrep, evidence.url)
    if file_layer is not None:
        layers.append(file_layer)
    if evidence.response_headers is None:
        not_evaluated = SignalRecord(
            mechanism="tdmrep.header",
            scope=Scope.RESPONSE,
            source_url=evidence.url,
            raw_value=None,
            purposes=frozen_map(),
            fetched_at=evidence.fetched_at,
            http_status=evidence.status,
            parsed="no image response: headers not seen",
            notes=("not_evaluated",),
            evaluation=Evaluation.NOT_EVALUATED,
        )
        layers.append(_Layer(not_evaluated, None))
    else:
        header_layer = _declaration_layer(
            _tdm_lines(evidence.response_headers),
            mechanism="tdmrep.header",
            scope=Scope.RESPONSE,
            source_url=evidence.url,
            applies_to=None,
            fetched_at=evidence.fetched_at,
            http_status=evidence.status,
            split_members=True,
        )
        if header_layer is not None:
            layers.append(header_layer)
    return _resolve(layers)


def page_tdmrep_signals(page: PageEvidence, origin: OriginEvidence) -> list[SignalRecord]:
    """TDMRep records for a page itself: origin file, then its response headers, then meta.

    The page's headers and meta tags are recorded with scope ``page`` (optout-signals.md
    section 0). They govern the page only: :func:`tdmrep_signals` never reads them.
    """
    layers: list[_Layer] = []
    candidates = [
        _file_layer(origin.tdmrep_meta, origin.tdmrep, page.url),
        _declaration_layer(
            _tdm_lines(page.headers),
            mechanism="tdmrep.header",
            scope=Scope.PAGE,
            source_url=page.url,
            applies_to=None,
            fetched_at=page.fetched_at,
            http_status=page.status,
            split_members=True,
        ),
        _declaration_layer(
            _tdm_lines(page.tdm_meta),
            mechanism="tdmrep.html",
            scope=Scope.PAGE,
            source_url=page.url,
            applies_to=None,
            fetched_at=page.fetched_at,
            http_status=page.status,
            split_members=False,
        ),
    ]
    layers.extend(layer for layer in candidates if layer is not None)
    return _resolve(layers)
