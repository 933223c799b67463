"""The ``c2pa`` extractor: C2PA manifests and their training-and-mining assertions.

Reads the image's C2PA manifest store with ``c2pa-python`` (the optional extra ``c2pa``) and
records :class:`~auditor.extract.embedded.C2paFacts`: whether a manifest is present, the
library's validation state and failure codes, the active manifest's label and claim generator,
and every ``c2pa.training-mining`` (C2PA 1.x) and ``cawg.training-mining`` (CAWG) assertion of
the active manifest (``active=True``) and of the ingredient manifests reachable from it
(``active=False``), entry by entry. What the entries *mean* is decided by
:mod:`auditor.signals.c2pa` (optout-signals.md 8).

Library use (optout-signals.md 8.3)
    ``c2pa`` is imported lazily, on first use, once per process (:func:`c2pa_available`). When it
    is not installed (or its native library cannot be loaded) the extractor leaves
    ``facts.c2pa = None`` ("not examined"); that is never an error. Every read gets a fresh
    ``Context`` with :data:`READER_SETTINGS`, which turn off every network access:
    ``verify.remote_manifest_fetch`` and ``verify.ocsp_fetch`` are false, and
    ``core.allowed_network_hosts`` is an empty allow list, so even a fetch some other code path
    would attempt is refused. The bytes are read from memory (``io.BytesIO``) with the MIME type
    of the container Pillow detected, through ``Reader.try_create`` (``None``: no manifest).

    ``c2pa`` loads its native library from the working directory (and ``./artifacts``,
    ``./libs``) before its own package directory. If such a stray library file exists when the
    package is first imported, this module refuses to import it and treats C2PA support as not
    installed (logged as a warning): run the auditor from a directory you control.

Outcomes
    - no manifest: ``C2paFacts(present=False)``; a container the library cannot carry a manifest
      in (BMP, ICO) is recorded the same way without calling the library;
    - a manifest referenced only remotely (XMP ``dcterms:provenance``): ``present=True``,
      ``remote_manifest`` = the URL, nothing fetched;
    - a manifest store the library cannot read (corrupt or hostile JUMBF): ``present=True`` and
      ``error`` = ``read_failed: <library message>``; a container it refuses: ``present=False``,
      ``error`` = ``unsupported: ...``. Library failures never raise and never set
      ``ImageFacts.error``: they concern the C2PA facts only.

Decisions, so reviewers know where to look:

- ``validation_errors`` lists the failure codes of the active manifest
  (``validation_results.activeManifest.failure``), of ingredient deltas, and the top-level
  ``validation_status`` list, deduplicated in order. Without a configured trust list a correctly
  signed manifest is ``Valid`` with ``signingCredential.untrusted`` among the failures; the
  signals module decides what that means.
- Assertion labels are recorded without the instance suffix the library adds to repeated
  assertions (``cawg.training-mining__1`` -> ``cawg.training-mining``).
- Entries are read from ``data.entries``; when ``entries`` is missing (the CAWG 1.0 schema
  forgot it) object-valued top-level members other than ``metadata`` are read as entries. An
  entry written as a bare string (``"cawg.ai_training": "notAllowed"``) is read as its use.
  ``constraint_info`` (schema) and ``constraints_info`` (prose) are both accepted; a non-string
  value is kept as compact JSON. Every string is cleaned and capped with :func:`clean_text`.
- Hostile stores are bounded: at most :data:`MAX_MANIFESTS` manifests are walked,
  :data:`MAX_ASSERTIONS` assertions and :data:`MAX_ENTRIES` entries per assertion kept,
  :data:`MAX_CODES` validation codes.
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import logging
import re
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from auditor.extract.embedded import C2paAssertion, C2paEntry, C2paFacts
from auditor.extract.imagefacts import (
    MAX_DETAIL,
    ImageContext,
    ImageFacts,
    clean_text,
    describe,
)

__all__ = [
    "MIME_FOR_FORMAT",
    "READER_SETTINGS",
    "TRAINING_MINING_LABELS",
    "c2pa_available",
    "extract_c2pa",
    "read_c2pa",
]

logger = logging.getLogger(__name__)

TRAINING_MINING_LABELS: Final = frozenset({"c2pa.training-mining", "cawg.training-mining"})
"""The assertion labels read (C2PA 1.x and CAWG 1.x); optout-signals.md 8.1."""

READER_SETTINGS: Final[Mapping[str, Any]] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "core": {"allowed_network_hosts": []},
}
"""Settings of every read: the library never goes to the network (see the module docstring)."""

MIME_FOR_FORMAT: Final[Mapping[str, str]] = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "AVIF": "image/avif",
    "TIFF": "image/tiff",
}
"""Pillow formats that can carry a C2PA manifest, and the MIME type the reader is given."""

MAX_MANIFESTS: Final = 32
MAX_ASSERTIONS: Final = 64
MAX_ENTRIES: Final = 32
MAX_CODES: Final = 32
_MAX_KEY: Final = 200
_MAX_URL: Final = 2_048

_NATIVE_LIBRARIES: Final = ("libc2pa_c.so", "libc2pa_c.dylib", "c2pa_c.dll")
_INSTANCE_SUFFIX: Final = re.compile(r"__\d+$")
_PROVENANCE: Final = (
    re.compile(rb"""dcterms:provenance\s*=\s*["']([^"'<>\s]{1,2048})["']"""),
    re.compile(rb"<dcterms:provenance>\s*([^<>\s]{1,2048})\s*</dcterms:provenance>"),
)
_URL_IN_MESSAGE: Final = re.compile(r"""(https?://[^\s"'<>]{1,2048})""")


def extract_c2pa(context: ImageContext, facts: ImageFacts) -> ImageFacts:
    """Record :class:`C2paFacts` for the image; ``None`` when C2PA support is not installed."""
    return replace(facts, c2pa=read_c2pa(context.data, context.format))


def c2pa_available() -> bool:
    """Whether the optional ``c2pa`` package could be imported (tried once per process)."""
    return _library() is not None


def read_c2pa(
    data: bytes, image_format: str | None = None, *, trust_anchors: str | None = None
) -> C2paFacts | None:
    """Read the C2PA facts of ``data``; ``None`` when C2PA support is not installed.

    ``image_format`` is the Pillow format detected for the bytes (``None``: let the library
    detect the container). ``trust_anchors`` (PEM) adds root certificates the signer may chain
    to (the library's ``trust.user_anchors``); by default only the library's own trust
    configuration applies. Never raises for any bytes.
    """
    library = _library()
    if library is None:
        return None
    mime = None if image_format is None else MIME_FOR_FORMAT.get(image_format)
    if (image_format is not None and mime is None) or not _may_hold_manifest(data):
        return C2paFacts(present=False)
    try:
        store = _read_store(library, data, mime, trust_anchors)
    except Exception as exc:  # noqa: BLE001 - the library fails in many ways on hostile bytes
        return _failure_facts(library, exc, data)
    if store is None:
        return C2paFacts(present=False)
    try:
        return _facts_from_store(json.loads(store), data)
    except Exception as exc:  # noqa: BLE001 - defensive: hostile content in the store JSON
        return C2paFacts(present=True, error=_capped(f"read_failed: {describe(exc)}"))


def _may_hold_manifest(data: bytes) -> bool:
    """Whether ``data`` can hold a C2PA manifest at all, without asking the library.

    An embedded manifest store is a JUMBF superbox in every container C2PA defines (JPEG APP11
    segments each repeat the box header; PNG ``caBX``, WebP ``C2PA``, GIF, BMFF ``uuid`` and
    TIFF carry the box whole), so its box type ``jumb`` is in the bytes; a remote manifest is
    referenced from XMP ``dcterms:provenance``. Bytes with neither are answered "no manifest"
    here: building the library's reader costs about 0.5 ms per image, and most images have none.
    """
    return b"jumb" in data or b"provenance" in data


@functools.cache
def _library() -> ModuleType | None:
    """Return the ``c2pa`` module, or ``None`` when it cannot be used in this process."""
    try:
        return _import_c2pa()
    except ImportError as exc:
        logger.debug("C2PA support not available: %s", exc)
    except Exception:  # the native library may fail to load in any way
        logger.warning("C2PA support not available: c2pa failed to load", exc_info=True)
    return None


def _import_c2pa() -> ModuleType:
    """Import ``c2pa``, refusing when a stray native library would be loaded instead of its own."""
    if "c2pa" not in sys.modules:
        stray = _stray_native_library(Path.cwd())
        if stray is not None:
            logger.warning(
                "not loading c2pa: %s would be loaded instead of the package's own native "
                "library; run the auditor from another working directory",
                stray,
            )
            raise ImportError(f"stray native library {stray}")
    return importlib.import_module("c2pa")


def _stray_native_library(cwd: Path) -> Path | None:
    """Return a native library file ``c2pa`` would load from the working directory, if any."""
    for base in (cwd, cwd / "artifacts", cwd / "libs"):
        for name in _NATIVE_LIBRARIES:
            if (base / name).exists():
                return base / name
            for found in base.glob(f"*/{name}"):
                return found
    return None


def _read_store(
    library: ModuleType, data: bytes, mime: str | None, trust_anchors: str | None
) -> str | None:
    """Return the manifest store as the library's JSON, or ``None`` when there is no manifest."""
    settings: dict[str, Any] = {key: dict(value) for key, value in READER_SETTINGS.items()}
    if trust_anchors is not None:
        settings["trust"] = {"user_anchors": trust_anchors}
    context = library.Context.from_dict(settings)
    try:
        reader = library.Reader.try_create(mime, io.BytesIO(data), None, context)
        if reader is None:
            return None
        try:
            return str(reader.json())
        finally:
            reader.close()
    finally:
        context.close()


def _failure_facts(library: ModuleType, exc: Exception, data: bytes) -> C2paFacts:
    message = clean_text(str(exc), MAX_DETAIL) or type(exc).__name__
    if not isinstance(exc, library.C2paError):
        return C2paFacts(present=False, error=_capped(f"internal: {describe(exc)}"))
    if message.startswith("Remote"):
        # The manifest lives only at a URL; the settings forbid fetching it.
        url = _remote_reference(data) or _url_in(message)
        if url is not None:
            return C2paFacts(present=True, remote_manifest=url)
    if isinstance(exc, getattr(library.C2paError, "NotSupported", ())):
        return C2paFacts(present=False, error=_capped(f"unsupported: {message}"))
    return C2paFacts(present=True, error=_capped(f"read_failed: {message}"))


def _capped(text: str) -> str:
    return clean_text(text, MAX_DETAIL) or "read_failed"


def _remote_reference(data: bytes) -> str | None:
    """Return the remote manifest URL the XMP names (``dcterms:provenance``), if any."""
    if b"dcterms:provenance" not in data:  # a plain substring search is much faster
        return None
    for pattern in _PROVENANCE:
        found = pattern.search(data)
        if found is not None:
            return clean_text(found.group(1), _MAX_URL)
    return None


def _url_in(message: str) -> str | None:
    found = _URL_IN_MESSAGE.search(message)
    return found.group(1) if found else None


def _facts_from_store(store: object, data: bytes) -> C2paFacts:
    if not isinstance(store, dict):
        return C2paFacts(present=True, error="read_failed: the manifest store is not an object")
    manifests = _as_dict(store.get("manifests"))
    active_label = store.get("active_manifest")
    active_label = active_label if isinstance(active_label, str) else None
    active = _as_dict(manifests.get(active_label)) if active_label is not None else {}
    assertions: list[C2paAssertion] = []
    for label, manifest, is_active in _walk(manifests, active_label):
        assertions.extend(_training_mining(label, manifest, active=is_active))
        if len(assertions) >= MAX_ASSERTIONS:
            break
    return C2paFacts(
        present=True,
        validation_state=clean_text(store.get("validation_state"), _MAX_KEY),
        validation_errors=_failure_codes(store),
        active_manifest=clean_text(active_label, _MAX_KEY),
        claim_generator=_claim_generator(active),
        training_mining=tuple(assertions[:MAX_ASSERTIONS]),
        remote_manifest=_remote_reference(data),
    )


def _walk(
    manifests: dict[str, Any], active_label: str | None
) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Yield the active manifest, then the ingredient manifests reachable from it (BFS)."""
    if active_label is None:
        return
    queue, seen, walked = deque([active_label]), {active_label}, 0
    while queue and walked < MAX_MANIFESTS:
        label = queue.popleft()
        manifest = _as_dict(manifests.get(label))
        if not manifest:
            continue
        walked += 1
        yield label, manifest, label == active_label
        for ingredient in _as_list(manifest.get("ingredients")):
            for ref in _ingredient_refs(_as_dict(ingredient)):
                if ref not in seen and ref in manifests:
                    seen.add(ref)
                    queue.append(ref)


def _ingredient_refs(ingredient: dict[str, Any]) -> list[str]:
    refs = [
        ingredient.get("active_manifest"),
        _as_dict(ingredient.get("manifest_data")).get("identifier"),
    ]
    return [ref for ref in refs if isinstance(ref, str)]


def _training_mining(label: str, manifest: dict[str, Any], *, active: bool) -> list[C2paAssertion]:
    found: list[C2paAssertion] = []
    for item in _as_list(manifest.get("assertions")):
        if len(found) >= MAX_ASSERTIONS:
            break
        assertion = _as_dict(item)
        raw_label = assertion.get("label")
        if not isinstance(raw_label, str):
            continue
        base = _INSTANCE_SUFFIX.sub("", raw_label)
        if base in TRAINING_MINING_LABELS:
            found.append(
                C2paAssertion(
                    label=base,
                    manifest=clean_text(label, _MAX_KEY) or "",
                    active=active,
                    entries=_entries(assertion.get("data")),
                )
            )
    return found


def _entries(data: object) -> tuple[C2paEntry, ...]:
    data = _as_dict(data)
    raw = data.get("entries")
    if not isinstance(raw, dict):
        raw = {k: v for k, v in data.items() if k != "metadata" and isinstance(v, dict)}
    entries: list[C2paEntry] = []
    for key, value in raw.items():
        if len(entries) >= MAX_ENTRIES:
            break
        entry = _entry(key, value)
        if entry is not None:
            entries.append(entry)
    return tuple(entries)


def _entry(key: object, value: object) -> C2paEntry | None:
    name = clean_text(key, _MAX_KEY)
    if name is None:
        return None
    if isinstance(value, str):
        use = clean_text(value, _MAX_KEY)
        return C2paEntry(name, use) if use else None
    if not isinstance(value, dict):
        return None
    use = clean_text(value.get("use"), _MAX_KEY)
    if use is None:
        return None
    info = value.get("constraint_info", value.get("constraints_info"))
    if info is not None and not isinstance(info, str):
        info = json.dumps(info, ensure_ascii=False, separators=(",", ":"), default=str)
    return C2paEntry(name, use, clean_text(info))


def _failure_codes(store: dict[str, Any]) -> tuple[str, ...]:
    results = _as_dict(store.get("validation_results"))
    statuses = _as_list(_as_dict(results.get("activeManifest")).get("failure"))
    for delta in _as_list(results.get("ingredientDeltas")):
        deltas = _as_dict(_as_dict(delta).get("validationDeltas"))
        statuses.extend(_as_list(deltas.get("failure")))
    statuses.extend(_as_list(store.get("validation_status")))
    codes: dict[str, None] = {}
    for status in statuses:
        code = clean_text(_as_dict(status).get("code"), _MAX_KEY)
        if code is not None:
            codes[code] = None
    return tuple(codes)[:MAX_CODES]


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    generator = manifest.get("claim_generator")
    if isinstance(generator, str):
        return clean_text(generator, _MAX_KEY)
    for item in _as_list(manifest.get("claim_generator_info"))[:1]:
        info = _as_dict(item)
        name, version = clean_text(info.get("name"), _MAX_KEY), info.get("version")
        if name is not None and isinstance(version, str) and version:
            return clean_text(f"{name}/{version}", _MAX_KEY)
        return name
    return None


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []
