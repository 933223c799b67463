"""Page-level licence evidence (mechanism ``licence.link``): never a verdict.

Pages state licences with ``<link rel=license>`` / ``<a rel=license>`` and, per image, with
schema.org ``ImageObject`` fields (``license``, ``acquireLicensePage``, ``copyrightNotice``,
``creditText``) in JSON-LD. optout-signals.md 7.2: these are licence evidence for the policy
packs and contribute no purpose verdict.
"""

from __future__ import annotations

import json

from auditor.model import Scope, SignalRecord, frozen_map
from auditor.signals.evidence import ImageEvidence


def licence_link_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """One record per JSON-LD rights statement about the image and per page licence link."""
    records = []
    fetched = {page.url: page.fetched_at for page in evidence.pages}
    for context in evidence.contexts:
        rights = {
            "license": context.license,
            "acquireLicensePage": context.acquire_license_page,
            "copyrightNotice": context.copyright_notice,
            "creditText": context.credit_text,
        }
        stated = {key: value for key, value in rights.items() if value}
        if stated:
            records.append(
                SignalRecord(
                    mechanism="licence.link",
                    scope=Scope.PAGE,
                    source_url=context.page_url,
                    applies_to=evidence.url,
                    raw_value=json.dumps(stated, sort_keys=True, ensure_ascii=False),
                    parsed=context.license,
                    purposes=frozen_map(),
                    fetched_at=fetched.get(context.page_url),
                    notes=("jsonld_image_object",),
                )
            )
    for page in evidence.pages:
        records.extend(
            SignalRecord(
                mechanism="licence.link",
                scope=Scope.PAGE,
                source_url=page.url,
                applies_to=evidence.url,
                raw_value=link,
                parsed=link,
                purposes=frozen_map(),
                fetched_at=page.fetched_at,
                notes=("rel_license",),
            )
            for link in page.license_links
        )
    return records
