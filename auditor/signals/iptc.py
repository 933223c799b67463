"""IPTC/PLUS ``plus:DataMining`` in the image's XMP (mechanism ``iptc.data_mining``).

The ``xmp`` extractor has already found every packet (including Extended XMP) and kept each
``plus:DataMining`` value as written; this module gives each value its meaning per the table of
optout-signals.md 7.1 and records it (9.7): one record per value, scope ``embedded``, the image
URL as ``source_url``. The mechanism never applies the implications of 9.4 nor combines values:
:mod:`auditor.signals.usage` does both.

Reading a value
    The canonical form is the vocabulary URI ``http://ns.useplus.org/ldf/vocab/<KEY>`` as
    element (or attribute) text. An ``rdf:resource`` value, a bare key (``DMI-PROHIBITED``), an
    ``https`` URI, a trailing slash or a key in the wrong case is still read, with the note
    ``non_canonical``. Anything else is recorded with no purposes and the note
    ``unknown_value``.

Review values
    ``DMI-PROHIBITED-SEECONSTRAINT``, ``-SEEEMBEDDEDRIGHTSEXPR`` and ``-SEELINKEDRIGHTSEXPR``
    count as ``DMI-PROHIBITED`` and carry the note ``review``; ``parsed`` surfaces the
    ``plus:OtherConstraints`` text, the embedded rights expression or the linked expression's
    URL (or says it is absent, with the note ``reference_missing``).

Other records (the registry's convention: no record for "looked, found nothing")
    - XMP examined, no ``plus:DataMining``: no record (every purpose stays unknown).
    - XMP that could not be fully read (``XmpFacts.error``): one ``error`` record, note
      ``xmp_error``, the problem in ``parsed``, besides the records of the values that were read.
    - XMP not examined: one ``not_evaluated`` record, note ``not_fetched`` (the image was not
      fetched) or ``not_examined`` (not an image, or a container the extractor does not read).
    - ``tdm:reservation`` / ``tdm:policy`` in XMP (TDMRep's PDF technique, section 3.5) are
      recorded as embedded evidence under ``xmp.rights`` with no purposes and the note
      ``tdm_reservation_in_xmp``: TDMRep defines no image technique, so they decide nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

from auditor.extract.embedded import DataMiningValue, XmpFacts
from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence

MECHANISM: Final = "iptc.data_mining"
RIGHTS_MECHANISM: Final = "xmp.rights"
VOCAB_PREFIX: Final = "http://ns.useplus.org/ldf/vocab/"

_D, _A = Verdict.DISALLOWED, Verdict.ALLOWED
_PROHIBITED: Final[Mapping[str, Verdict]] = {
    Purpose.TDM.value: _D,
    Purpose.AI_TRAIN.value: _D,
    Purpose.GENAI_TRAIN.value: _D,
    Purpose.AI_INPUT.value: _D,
    Purpose.SEARCH.value: _D,
}

DATA_MINING_PURPOSES: Final[Mapping[str, Mapping[str, Verdict]]] = {
    "DMI-UNSPECIFIED": {},
    "DMI-ALLOWED": {
        Purpose.TDM.value: _A,
        Purpose.AI_TRAIN.value: _A,
        Purpose.GENAI_TRAIN.value: _A,
    },
    "DMI-PROHIBITED-AIMLTRAINING": {Purpose.AI_TRAIN.value: _D, Purpose.GENAI_TRAIN.value: _D},
    "DMI-PROHIBITED-GENAIMLTRAINING": {Purpose.GENAI_TRAIN.value: _D},
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": {
        Purpose.TDM.value: _D,
        Purpose.AI_TRAIN.value: _D,
        Purpose.GENAI_TRAIN.value: _D,
        Purpose.AI_INPUT.value: _D,
        Purpose.SEARCH.value: _A,
    },
    "DMI-PROHIBITED": _PROHIBITED,
    "DMI-PROHIBITED-SEECONSTRAINT": _PROHIBITED,
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": _PROHIBITED,
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": _PROHIBITED,
}
"""optout-signals.md 7.1: each key's contribution; purposes not named stay unknown."""

#: Review keys -> (the property they point to, the XmpFacts field holding it).
REVIEW_REFERENCES: Final[Mapping[str, tuple[str, str]]] = {
    "DMI-PROHIBITED-SEECONSTRAINT": ("plus:OtherConstraints", "other_constraints"),
    "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR": (
        "Iptc4xmpExt:EmbdEncRightsExpr",
        "embedded_rights_expr",
    ),
    "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR": ("Iptc4xmpExt:LinkedEncRightsExpr", "linked_rights_expr"),
}

_VOCAB_URI = re.compile(r"https?://ns\.useplus\.org/ldf/vocab/([^/?#\s]+)/?", re.IGNORECASE)
_TDM_VALUES: Final = {"1": "reserved", "0": "not reserved"}


def iptc_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Return the ``iptc.data_mining`` records for one image (see the module docstring)."""
    xmp = evidence.facts.xmp if evidence.facts is not None else None
    if xmp is None:
        return [not_evaluated_record(evidence, MECHANISM)]
    records = [_value_record(evidence, xmp, value) for value in xmp.data_mining]
    if xmp.error is not None:  # facts of readable packets are kept; the problem is one record
        records.append(
            embedded_record(
                evidence,
                MECHANISM,
                raw_value=None,
                parsed=xmp.error,
                notes=("xmp_error",),
                evaluation=Evaluation.ERROR,
            )
        )
    tdm = _tdm_record(evidence, xmp)
    if tdm is not None:
        records.append(tdm)
    return records


def data_mining_key(value: DataMiningValue) -> tuple[str | None, bool]:
    """Return the vocabulary key a value names (``None`` if none) and whether it is canonical.

    Canonical means the exact URI ``http://ns.useplus.org/ldf/vocab/<KEY>`` written as text.
    """
    text = value.value.strip()
    match = _VOCAB_URI.fullmatch(text)
    candidate = match.group(1) if match else text
    key = candidate.upper()
    if key not in DATA_MINING_PURPOSES:
        return None, False
    canonical = value.form == "text" and text == VOCAB_PREFIX + key
    return key, canonical


def _value_record(evidence: ImageEvidence, xmp: XmpFacts, value: DataMiningValue) -> SignalRecord:
    key, canonical = data_mining_key(value)
    notes: list[str] = []
    if key is None:
        return embedded_record(
            evidence,
            MECHANISM,
            raw_value=value.value,
            parsed="not a PLUS DataMining vocabulary value",
            notes=("unknown_value",),
        )
    if not canonical:
        notes.append("non_canonical")
    parsed = key
    reference = REVIEW_REFERENCES.get(key)
    if reference is not None:
        prop, field = reference
        target = getattr(xmp, field)
        notes.append("review")
        if target is None:
            notes.append("reference_missing")
            parsed = f"{key}; {prop} absent"
        else:
            parsed = f"{key}; {prop} = {target}"
    return embedded_record(
        evidence,
        MECHANISM,
        raw_value=value.value,
        parsed=parsed,
        purposes=DATA_MINING_PURPOSES[key],
        notes=tuple(notes),
    )


def _tdm_record(evidence: ImageEvidence, xmp: XmpFacts) -> SignalRecord | None:
    if xmp.tdm_reservation is None and xmp.tdm_policy is None:
        return None
    raw = {"tdm:reservation": xmp.tdm_reservation, "tdm:policy": xmp.tdm_policy}
    notes = ["tdm_reservation_in_xmp"]
    reservation = xmp.tdm_reservation
    if reservation is not None and reservation not in _TDM_VALUES:
        notes.append("protocol_error")
    parsed = {
        "reservation": _TDM_VALUES.get(reservation or "", "unset"),
        "policy": xmp.tdm_policy,
    }
    return embedded_record(
        evidence,
        RIGHTS_MECHANISM,
        raw_value=as_json(raw),
        parsed=as_json(parsed),
        notes=tuple(notes),
    )


# --- shared with auditor.signals.licence ------------------------------------------------------


def embedded_record(
    evidence: ImageEvidence,
    mechanism: str,
    *,
    raw_value: str | None,
    parsed: str | None,
    purposes: Mapping[str, Verdict] | None = None,
    notes: tuple[str, ...] = (),
    evaluation: Evaluation = Evaluation.EVALUATED,
) -> SignalRecord:
    """Build a record for a value found in the image's own bytes (scope ``embedded``)."""
    facts = evidence.facts
    return SignalRecord(
        mechanism=mechanism,
        scope=Scope.EMBEDDED,
        source_url=evidence.url,
        raw_value=raw_value,
        purposes=frozen_map(purposes),
        applies_to=None,
        fetched_at=evidence.fetched_at,
        http_status=evidence.status,
        parsed=parsed,
        notes=notes,
        sha256=facts.sha256 if facts is not None else None,
        evaluation=evaluation,
    )


def not_evaluated_record(evidence: ImageEvidence, mechanism: str) -> SignalRecord:
    """Build the record of an embedded mechanism whose metadata was not read for this image."""
    facts = evidence.facts
    if facts is None:
        note, parsed = "not_fetched", "image not fetched"
    elif facts.format is None:
        note, parsed = "not_examined", "not an image"
    else:
        note, parsed = "not_examined", f"{facts.format}: this metadata was not read"
    return embedded_record(
        evidence,
        mechanism,
        raw_value=None,
        parsed=parsed,
        notes=(note,),
        evaluation=Evaluation.NOT_EVALUATED,
    )


def as_json(values: Mapping[str, object]) -> str:
    """Compact, key-sorted JSON of the values that are present (``None`` and empty dropped)."""
    present = {key: value for key, value in values.items() if value not in (None, (), [])}
    return json.dumps(present, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
