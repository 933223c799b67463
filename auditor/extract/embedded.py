"""Records for rights and provenance metadata embedded in image files (XMP, C2PA).

Extractors fill these from the bytes (in the worker process); the mechanisms in
:mod:`auditor.signals` turn them into evidence records with verdicts. Keeping parsing and
meaning apart lets the same facts be re-evaluated from the store without the image bytes. Text
values are as written in the file (cleaned of control characters and capped in length); a field
is ``None`` when the file does not state it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataMiningValue:
    """One ``plus:DataMining`` value and how it was written (optout-signals.md 7.1)."""

    value: str
    form: str  # "text" (element text) or "resource" (rdf:resource attribute)


@dataclass(frozen=True)
class XmpFacts:
    """What the image's XMP says about data mining, rights and licences.

    ``locations`` names every place an XMP packet was found (``jpeg_app1``, ``jpeg_extended``,
    ``png_itxt``, ``png_itxt_compressed``, ``png_text``, ``png_ztxt``, ``webp_xmp``, ``gif_xmp``),
    so a reviewer can see that an Extended XMP part was reassembled. ``error`` is set when a
    packet could not be parsed; facts from other packets are kept.
    """

    locations: tuple[str, ...] = ()
    data_mining: tuple[DataMiningValue, ...] = ()
    other_constraints: str | None = None
    embedded_rights_expr: str | None = None
    linked_rights_expr: str | None = None
    rights_marked: bool | None = None
    usage_terms: str | None = None
    web_statement: str | None = None
    rights_owners: tuple[str, ...] = ()
    dc_rights: str | None = None
    dc_creators: tuple[str, ...] = ()
    cc_license: str | None = None
    cc_attribution_name: str | None = None
    cc_attribution_url: str | None = None
    cc_more_permissions: str | None = None
    plus_copyright_status: str | None = None
    plus_licensors: tuple[str, ...] = ()
    tdm_reservation: str | None = None
    tdm_policy: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class C2paEntry:
    """One training-and-mining entry: key as written (``cawg.ai_training``) and its use."""

    key: str
    use: str  # "allowed" | "notAllowed" | "constrained" | anything else as written
    constraint_info: str | None = None


@dataclass(frozen=True)
class C2paAssertion:
    """A ``c2pa.training-mining`` or ``cawg.training-mining`` assertion in one manifest."""

    label: str
    manifest: str
    active: bool  # False: found only in an ingredient's manifest (inherited evidence)
    entries: tuple[C2paEntry, ...]


@dataclass(frozen=True)
class C2paFacts:
    """The C2PA manifest store of an image, as far as consent signals are concerned.

    ``present`` is False when the file has no manifest (then every purpose stays unknown).
    ``validation_state`` is the library's verdict (for example ``Valid``, ``Trusted`` or
    ``Invalid``); ``validation_errors`` lists the failure codes. ``remote_manifest`` is the URL of
    a manifest referenced but not fetched (the auditor never fetches remote manifests).
    """

    present: bool
    validation_state: str | None = None
    validation_errors: tuple[str, ...] = ()
    active_manifest: str | None = None
    claim_generator: str | None = None
    training_mining: tuple[C2paAssertion, ...] = ()
    remote_manifest: str | None = None
    error: str | None = None
