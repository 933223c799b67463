"""Licence and rights evidence embedded in the image (optout-signals.md 7.2): never a verdict.

Three mechanisms, one record per field group present, every record with empty ``purposes``:

``xmp.rights``
    XMP Rights Management (``xmpRights:Marked``, ``UsageTerms``, ``WebStatement``, ``Owner``),
    ``dc:rights`` and ``dc:creator``, PLUS ``CopyrightStatus`` and ``Licensor``, and the IPTC
    rights texts (``plus:OtherConstraints``, ``Iptc4xmpExt:EmbdEncRightsExpr`` and
    ``LinkedEncRightsExpr``).
``cc.license``
    Creative Commons XMP: ``cc:license`` with ``attributionName``, ``attributionURL`` and
    ``morePermissions``; ``parsed`` adds an SPDX-style identifier for creativecommons.org
    licence URLs (``CC-BY-4.0``, ``CC0-1.0``).
``exif.copyright``
    EXIF ``Copyright`` (0x8298) and ``Artist`` (0x013B).

``raw_value`` is a compact JSON object of the properties as found, keyed by their XMP/EXIF
names; ``parsed`` a JSON object of the normalised values (``marked`` as a boolean, PLUS
vocabulary URIs reduced to their key). Creator and artist names are personal data: they are
recorded as found (the store applies minimisation) and the record carries the note
``personal_data`` (so do records with ``xmpRights:Owner`` or ``cc:attributionName``). Page-level
licence evidence (``licence.link``: ``rel=license``, schema.org ``license``) comes from the page
contexts and is recorded elsewhere.

When the metadata was not read the mechanism is ``not_evaluated`` (notes ``not_fetched`` or
``not_examined``, as for ``iptc.data_mining``); when it could not be read completely and the group
is absent, the record is ``error`` with the problem in ``parsed``; a group that was read despite a
problem elsewhere in the metadata carries the note ``xmp_error`` or ``exif_malformed``.
"""

from __future__ import annotations

import re
from typing import Final

from auditor.extract.embedded import XmpFacts
from auditor.extract.imagefacts import ExifFacts
from auditor.model import Evaluation, SignalRecord
from auditor.signals.evidence import ImageEvidence
from auditor.signals.iptc import (
    RIGHTS_MECHANISM,
    VOCAB_PREFIX,
    as_json,
    embedded_record,
    not_evaluated_record,
)

CC_MECHANISM: Final = "cc.license"
EXIF_MECHANISM: Final = "exif.copyright"
EXIF_MALFORMED: Final = "exif_malformed"

_CC_URL = re.compile(
    r"https?://(?:www\.)?creativecommons\.org/"
    r"(?P<kind>licenses|publicdomain)/(?P<name>[a-z-]+)/(?P<version>\d+(?:\.\d+)?)"
    r"(?:/(?P<port>[a-z]{2}(?:-[a-z]+)?))?/?(?:legalcode(?:\.[a-z-]+)?)?",
    re.IGNORECASE,
)


def licence_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Return the licence evidence records for one image (see the module docstring)."""
    facts = evidence.facts
    xmp = facts.xmp if facts is not None else None
    records: list[SignalRecord] = []
    if xmp is None:
        records.append(not_evaluated_record(evidence, RIGHTS_MECHANISM))
        records.append(not_evaluated_record(evidence, CC_MECHANISM))
    else:
        records.extend(_xmp_group(evidence, xmp, RIGHTS_MECHANISM, _rights_fields(xmp)))
        records.extend(_xmp_group(evidence, xmp, CC_MECHANISM, _cc_fields(xmp)))
    records.extend(_exif_records(evidence))
    return records


def cc_licence_id(url: str) -> str | None:
    """SPDX-style id of a creativecommons.org licence URL (``CC-BY-SA-4.0``), else ``None``."""
    match = _CC_URL.fullmatch(url.strip())
    if match is None:
        return None
    name, version, port = match["name"].upper(), match["version"], match["port"]
    if match["kind"].lower() == "publicdomain":
        return f"CC0-{version}" if name == "ZERO" else None
    suffix = f"-{port.upper()}" if port else ""
    return f"CC-{name}-{version}{suffix}"


def _vocab_key(value: str | None) -> str | None:
    if value is None:
        return None
    return value.removeprefix(VOCAB_PREFIX) if value.startswith(VOCAB_PREFIX) else value


Fields = tuple[dict[str, object], dict[str, object], bool]


def _rights_fields(xmp: XmpFacts) -> Fields:
    marked = None if xmp.rights_marked is None else str(xmp.rights_marked)
    raw: dict[str, object] = {
        "xmpRights:Marked": marked,
        "xmpRights:UsageTerms": xmp.usage_terms,
        "xmpRights:WebStatement": xmp.web_statement,
        "xmpRights:Owner": list(xmp.rights_owners),
        "dc:rights": xmp.dc_rights,
        "dc:creator": list(xmp.dc_creators),
        "plus:CopyrightStatus": xmp.plus_copyright_status,
        "plus:Licensor": list(xmp.plus_licensors),
        "plus:OtherConstraints": xmp.other_constraints,
        "Iptc4xmpExt:EmbdEncRightsExpr": xmp.embedded_rights_expr,
        "Iptc4xmpExt:LinkedEncRightsExpr": xmp.linked_rights_expr,
    }
    parsed: dict[str, object] = {
        "marked": xmp.rights_marked,
        "usage_terms": xmp.usage_terms,
        "web_statement": xmp.web_statement,
        "owners": list(xmp.rights_owners),
        "rights": xmp.dc_rights,
        "creators": list(xmp.dc_creators),
        "copyright_status": _vocab_key(xmp.plus_copyright_status),
        "licensors": list(xmp.plus_licensors),
        "other_constraints": xmp.other_constraints,
        "embedded_rights_expr": xmp.embedded_rights_expr,
        "linked_rights_expr": xmp.linked_rights_expr,
    }
    return raw, parsed, bool(xmp.dc_creators or xmp.rights_owners)


def _cc_fields(xmp: XmpFacts) -> Fields:
    raw: dict[str, object] = {
        "cc:license": xmp.cc_license,
        "cc:attributionName": xmp.cc_attribution_name,
        "cc:attributionURL": xmp.cc_attribution_url,
        "cc:morePermissions": xmp.cc_more_permissions,
    }
    parsed: dict[str, object] = {
        "license": xmp.cc_license,
        "licence_id": cc_licence_id(xmp.cc_license) if xmp.cc_license else None,
        "attribution_name": xmp.cc_attribution_name,
        "attribution_url": xmp.cc_attribution_url,
        "more_permissions": xmp.cc_more_permissions,
    }
    return raw, parsed, xmp.cc_attribution_name is not None


def _present(values: dict[str, object]) -> bool:
    return any(value not in (None, []) for value in values.values())


def _xmp_group(
    evidence: ImageEvidence,
    xmp: XmpFacts,
    mechanism: str,
    fields: Fields,
) -> list[SignalRecord]:
    raw, parsed, personal = fields
    if not _present(raw):
        if xmp.error is None:
            return []
        return [_error_record(evidence, mechanism, xmp.error, "xmp_error")]
    notes = ("personal_data",) if personal else ()
    if xmp.error is not None:
        notes = (*notes, "xmp_error")
    record = embedded_record(
        evidence, mechanism, raw_value=as_json(raw), parsed=as_json(parsed), notes=notes
    )
    return [record]


def _exif_records(evidence: ImageEvidence) -> list[SignalRecord]:
    facts = evidence.facts
    exif: ExifFacts | None = facts.exif if facts is not None else None
    malformed = facts is not None and facts.error == EXIF_MALFORMED
    if exif is None:
        if malformed and facts is not None:
            detail = facts.error_detail or EXIF_MALFORMED
            return [_error_record(evidence, EXIF_MECHANISM, detail, EXIF_MALFORMED)]
        return [not_evaluated_record(evidence, EXIF_MECHANISM)]
    if exif.copyright is None and exif.artist is None:
        return []
    notes = ("personal_data",) if exif.artist is not None else ()
    if malformed:
        notes = (*notes, EXIF_MALFORMED)
    raw = {"Copyright": exif.copyright, "Artist": exif.artist}
    parsed = {"copyright": exif.copyright, "artist": exif.artist}
    record = embedded_record(
        evidence, EXIF_MECHANISM, raw_value=as_json(raw), parsed=as_json(parsed), notes=notes
    )
    return [record]


def _error_record(evidence: ImageEvidence, mechanism: str, problem: str, note: str) -> SignalRecord:
    return embedded_record(
        evidence,
        mechanism,
        raw_value=None,
        parsed=problem,
        notes=(note,),
        evaluation=Evaluation.ERROR,
    )
