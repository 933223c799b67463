"""C2PA and CAWG training-and-mining assertions (mechanisms ``c2pa.training_mining``, ``cawg.*``).

Reads the :class:`~auditor.extract.embedded.C2paFacts` the ``c2pa`` extractor stored and turns
each training-and-mining assertion into one evidence record of scope ``embedded``
(optout-signals.md 8 and 9.2). The mechanism follows the label: ``c2pa.training-mining`` (C2PA
1.x) -> ``c2pa.training_mining``, ``cawg.training-mining`` -> ``cawg.training_mining``.

Entries, under either prefix (``c2pa.`` or ``cawg.``): ``data_mining`` -> tdm, ``ai_training`` ->
ai-train, ``ai_generative_training`` -> genai-train, ``ai_inference`` -> ai-input. ``allowed`` ->
allowed; ``notAllowed`` and ``constrained`` -> disallowed (CAWG: constrained without further
information is equivalent to notAllowed); the record notes ``constrained`` and ``parsed`` shows the
constraint text for review. Any other use, or any other key, gives no verdict (notes
``nonstandard_use`` / ``custom_entry``). A record names only the purposes its entries state; the
implications of 9.4 are applied by :mod:`auditor.signals.usage`. When an entry allows what another
entry's implication disallows (``ai_training`` notAllowed, ``ai_generative_training`` allowed) the
record notes ``conflict``.

Which manifest counts (8.2):

- the **active** manifest's assertions give verdicts;
- an assertion found only in an **ingredient** manifest is inherited evidence: a record with no
  purposes and the note ``inherited`` (E40); the policy pack decides;
- an **unverified** manifest may restrict but never permit: ``notAllowed``/``constrained`` still
  give ``disallowed``, ``allowed`` is dropped (the purpose stays unknown) and the record notes
  ``unverified``. Verified means the library's validation state is ``Trusted``, or ``Valid``
  with no failure code. A correctly signed manifest whose signer does not chain to a configured
  trust anchor is ``Valid`` with ``signingCredential.untrusted`` and therefore unverified
  ("untrusted certificate" in 8.2);
- **no manifest**: no record (every purpose unknown).

Status records (one, mechanism ``c2pa.training_mining``, which names the manifest store as a
whole): ``not_evaluated`` when the image was not fetched (note ``not_fetched``), when it was not an
image (``not_examined``) or when C2PA support is not installed (``c2pa_support_not_installed``);
``not_evaluated`` with ``remote_manifest_not_fetched`` when the only manifest is remote (the
auditor never fetches it; the URL is the raw value); ``error`` when the store could not be read.
Records of an image whose XMP also references a remote manifest carry the note
``remote_manifest_not_fetched`` as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

from auditor.extract.embedded import C2paAssertion, C2paEntry, C2paFacts
from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence
from auditor.signals.usage import implied

__all__ = [
    "ENTRY_PURPOSES",
    "MECHANISM_FOR_LABEL",
    "STORE_MECHANISM",
    "c2pa_signals",
    "is_verified",
]

MECHANISM_FOR_LABEL: Final = {
    "c2pa.training-mining": "c2pa.training_mining",
    "cawg.training-mining": "cawg.training_mining",
}
"""Assertion label -> evidence mechanism name."""

STORE_MECHANISM: Final = "c2pa.training_mining"
"""The mechanism of status records about the manifest store as a whole."""

ENTRY_PURPOSES: Final = {
    "data_mining": Purpose.TDM,
    "ai_training": Purpose.AI_TRAIN,
    "ai_generative_training": Purpose.GENAI_TRAIN,
    "ai_inference": Purpose.AI_INPUT,
}
"""Standard entry name (after the ``c2pa.`` or ``cawg.`` prefix) -> purpose (8.1)."""

_PREFIXES: Final = ("c2pa.", "cawg.")
_USES: Final = {
    "allowed": Verdict.ALLOWED,
    "notallowed": Verdict.DISALLOWED,
    "constrained": Verdict.DISALLOWED,
}
_CANONICAL_USES: Final = frozenset({"allowed", "notAllowed", "constrained"})
_MAX_FIELD: Final = 2_000


def c2pa_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Evidence records for the image's C2PA training-and-mining assertions (module docstring)."""
    facts = evidence.facts
    if facts is None:
        return [_status(evidence, Evaluation.NOT_EVALUATED, "image not fetched", "not_fetched")]
    c2pa = facts.c2pa
    if c2pa is None:
        if facts.error == "extractor_failed" and (facts.error_detail or "").startswith("c2pa:"):
            return [_status(evidence, Evaluation.ERROR, facts.error_detail, "extractor_failed")]
        if facts.format is None:
            return [_status(evidence, Evaluation.NOT_EVALUATED, "not an image", "not_examined")]
        detail = "C2PA support (the optional extra c2pa) is not installed"
        return [_status(evidence, Evaluation.NOT_EVALUATED, detail, "c2pa_support_not_installed")]
    records = [_assertion_record(evidence, c2pa, assertion) for assertion in c2pa.training_mining]
    if c2pa.error is not None and not records:
        kind = c2pa.error.split(":", 1)[0].strip() or "read_failed"
        return [_status(evidence, Evaluation.ERROR, c2pa.error, f"c2pa_{kind}")]
    if c2pa.remote_manifest is not None and c2pa.active_manifest is None:
        records.append(
            _status(
                evidence,
                Evaluation.NOT_EVALUATED,
                "remote manifest referenced, not fetched",
                "remote_manifest_not_fetched",
                raw_value=c2pa.remote_manifest,
            )
        )
    return records


def is_verified(c2pa: C2paFacts) -> bool:
    """Whether the manifest's preferences may permit: ``Trusted``, or ``Valid`` with no failure."""
    state = (c2pa.validation_state or "").casefold()
    return state == "trusted" or (state == "valid" and not c2pa.validation_errors)


def _status(
    evidence: ImageEvidence,
    evaluation: Evaluation,
    parsed: str | None,
    note: str,
    *,
    raw_value: str | None = None,
) -> SignalRecord:
    notes = ("not_evaluated", note) if evaluation is Evaluation.NOT_EVALUATED else (note,)
    return SignalRecord(
        mechanism=STORE_MECHANISM,
        scope=Scope.EMBEDDED,
        source_url=evidence.url,
        raw_value=raw_value,
        purposes=frozen_map(),
        fetched_at=evidence.fetched_at,
        http_status=evidence.status,
        parsed=parsed,
        notes=notes,
        sha256=evidence.facts.sha256 if evidence.facts else None,
        evaluation=evaluation,
    )


def _assertion_record(
    evidence: ImageEvidence, c2pa: C2paFacts, assertion: C2paAssertion
) -> SignalRecord:
    verified = is_verified(c2pa)
    notes: list[str] = []
    stated: dict[Purpose, set[Verdict]] = {}
    for entry in assertion.entries:
        purpose, verdict = _meaning(entry, notes)
        if purpose is not None and verdict is not Verdict.UNKNOWN:
            stated.setdefault(purpose, set()).add(verdict)
    declared: dict[str, Verdict] = {}
    for purpose, verdicts in stated.items():
        most_restrictive = Verdict.DISALLOWED if Verdict.DISALLOWED in verdicts else Verdict.ALLOWED
        declared[purpose.value] = most_restrictive
        if len(verdicts) > 1:
            notes.append("conflict")
    if any(
        declared.get(purpose.value) is Verdict.ALLOWED and verdict is Verdict.DISALLOWED
        for purpose, verdict in implied(declared).items()
    ):
        notes.append("conflict")
    purposes = declared
    if not verified:
        notes.append("unverified")
        purposes = {k: v for k, v in declared.items() if v is Verdict.DISALLOWED}
    if not assertion.active:
        notes.append("inherited")
        purposes = {}
    if c2pa.remote_manifest is not None:
        notes.append("remote_manifest_not_fetched")
    return SignalRecord(
        mechanism=MECHANISM_FOR_LABEL.get(assertion.label, STORE_MECHANISM),
        scope=Scope.EMBEDDED,
        source_url=evidence.url,
        raw_value=_raw_value(assertion.entries),
        purposes=frozen_map(purposes),
        fetched_at=evidence.fetched_at,
        http_status=evidence.status,
        parsed=_parsed(c2pa, assertion),
        notes=tuple(dict.fromkeys(notes)),
        sha256=evidence.facts.sha256 if evidence.facts else None,
    )


def _meaning(entry: C2paEntry, notes: list[str]) -> tuple[Purpose | None, Verdict]:
    """Return the purpose and verdict one entry states; append the notes it calls for."""
    purpose = None
    for prefix in _PREFIXES:
        if entry.key.startswith(prefix):
            purpose = ENTRY_PURPOSES.get(entry.key.removeprefix(prefix))
    if purpose is None:
        notes.append("custom_entry")
    verdict = _USES.get(entry.use.casefold(), Verdict.UNKNOWN)
    if verdict is Verdict.UNKNOWN:
        notes.append("nonstandard_use")
    elif entry.use not in _CANONICAL_USES:
        notes.append("lenient_parse")
    if entry.use.casefold() == "constrained":
        notes.append("constrained")
    return purpose, verdict


def _raw_value(entries: Iterable[C2paEntry]) -> str:
    """Return the entries as JSON, in the assertion's own shape."""
    raw: dict[str, dict[str, str]] = {}
    for entry in entries:
        value = {"use": entry.use}
        if entry.constraint_info is not None:
            value["constraint_info"] = entry.constraint_info
        raw[entry.key] = value
    return json.dumps({"entries": raw}, ensure_ascii=False, separators=(",", ":"))[:_MAX_FIELD]


def _parsed(c2pa: C2paFacts, assertion: C2paAssertion) -> str:
    """Describe each entry (use, constraint text), then the manifest and its validation."""
    parts = []
    for entry in assertion.entries:
        text = f"{entry.key}={entry.use}"
        if entry.constraint_info is not None:
            text += f" (constraint: {entry.constraint_info})"
        parts.append(text)
    where = "active manifest" if assertion.active else "ingredient manifest"
    validation = c2pa.validation_state or "not reported"
    if c2pa.validation_errors:
        validation += f" ({', '.join(c2pa.validation_errors)})"
    summary = "; ".join(parts) or "no entries"
    return f"{summary} | {where} {assertion.manifest}; validation {validation}"[:_MAX_FIELD]
