"""External opt-out registries (scope ``list``): the Spawning Do-Not-Train registry.

optout-signals.md 5.1: the registry is queried by ``POST``-ing newline-separated image URLs
with an ``Authorization: API <key>`` header; the answer lists ``{url, optOut, optIn}`` per URL.
``optOut: true`` makes ai-train ``disallowed``, ``optIn: true`` makes it ``allowed`` (9.2).
Without an API key, on an API error, or for a URL missing from the answer, the registry's status
is ``not_evaluated`` and the verdict unknown: never "allowed" and never silently skipped, so
every image's evidence shows that the registry was not consulted.

Querying the registry sends image URLs to a third party, so it runs only when ``audit.yaml``
has a ``registries: {spawning: {}}`` section; :func:`spawning_signals` is the mechanism used
otherwise. :class:`SpawningClient` looks every image of a run up in batches before any image is
examined (the recorder's ``Prefetcher`` protocol) and then answers per image from memory.

The API key is read from the environment, sent only in the ``Authorization`` header, and never
written into a record, an error reason or a log line.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from auditor.crawl.fetcher import utc_now_iso
from auditor.model import Evaluation, Purpose, Scope, SignalRecord, Verdict, frozen_map
from auditor.signals.evidence import ImageEvidence

if TYPE_CHECKING:
    from auditor.config import SpawningRegistry

SPAWNING_API = "https://opts-api.spawningaiapi.com/api/v2/query/urls/"
MECHANISM = "registry.spawning"

#: Largest response body read for one batch (decoded); a bigger one is an API error.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: Longest ``raw`` kept for one answer object; longer ones are cut and marked.
MAX_RAW_CHARS = 4096
_TRUNCATED = "...[truncated]"
_REDACTED = "[redacted]"

# Notes on records (optout-signals.md 9.7).
NOTE_NO_KEY = "no_api_key_configured"
NOTE_API_ERROR = "api_error"
NOTE_MISSING = "missing_from_response"
NOTE_NOT_QUERIED = "not_queried"
NOTE_UNSENDABLE = "unsendable_url"
NOTE_NOT_LISTED = "not_listed"
NOTE_CONFLICT = "conflict"
NOTE_INVALID_ENTRY = "invalid_entry"
NOTE_DUPLICATE = "duplicate_in_response"


def spawning_signals(evidence: ImageEvidence) -> list[SignalRecord]:
    """Record that the Spawning registry was not consulted for this image (none configured)."""
    return [
        SignalRecord(
            mechanism=MECHANISM,
            scope=Scope.LIST,
            source_url=SPAWNING_API,
            applies_to=evidence.url,
            raw_value=None,
            purposes=frozen_map(),
            notes=(NOTE_NO_KEY,),
            evaluation=Evaluation.NOT_EVALUATED,
        )
    ]


@dataclass(frozen=True)
class RegistryAnswer:
    """What the registry said about one URL.

    ``opt_out`` and ``opt_in`` are the entry's ``optOut`` / ``optIn`` when they are JSON
    booleans, else ``None``; ``raw`` is the compact JSON of the entry (several entries for the
    same URL: a JSON list of them, combined most restrictively).
    """

    opt_out: bool | None
    opt_in: bool | None
    raw: str


@dataclass(frozen=True)
class ParsedResponse:
    """A response body read as registry answers: answers by URL, or why it could not be read."""

    answers: Mapping[str, RegistryAnswer]
    error: str | None = None
    duplicates: frozenset[str] = frozenset()


def _compact(value: Any) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return "<unserialisable>"
    if len(text) > MAX_RAW_CHARS:
        return text[: MAX_RAW_CHARS - len(_TRUNCATED)] + _TRUNCATED
    return text


def _flag(entry: Mapping[str, Any], key: str) -> bool | None:
    value = entry.get(key)
    return value if isinstance(value, bool) else None


def _any_true(values: Sequence[bool | None]) -> bool | None:
    """Combine flags most restrictively: any true, else any false, else None."""
    if True in values:
        return True
    return False if False in values else None


def _entries(document: Any) -> list[Any] | None:
    """Return the answer objects of a bare list, a ``{"urls": [...]}`` or a single entry."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        wrapped = document.get("urls")
        if isinstance(wrapped, list):
            return wrapped
        if isinstance(document.get("url"), str):
            return [document]
    return None


def parse_response(body: bytes | str) -> ParsedResponse:
    """Read a registry response body; never raises.

    Accepted shapes: ``[{url, optOut, optIn}, ...]``, ``{"urls": [...]}`` (what the API and
    ``datadiligence`` use) and a single ``{url, ...}`` object. Entries that are not objects or
    have no string ``url`` are ignored. Several entries for one URL are combined: any ``true``
    wins for each flag.
    """
    try:
        document = json.loads(body)
    except RecursionError:
        return ParsedResponse({}, "invalid JSON: nested too deeply")
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        return ParsedResponse({}, f"invalid JSON: {_short(str(exc))}")
    entries = _entries(document)
    if entries is None:
        return ParsedResponse({}, f"unexpected response shape: {type(document).__name__}")
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            grouped.setdefault(entry["url"], []).append(entry)
    answers = {}
    for url, group in grouped.items():
        answers[url] = RegistryAnswer(
            opt_out=_any_true([_flag(entry, "optOut") for entry in group]),
            opt_in=_any_true([_flag(entry, "optIn") for entry in group]),
            raw=_compact(group[0] if len(group) == 1 else group),
        )
    duplicates = frozenset(url for url, group in grouped.items() if len(group) > 1)
    return ParsedResponse(frozen_map(answers), None, duplicates)


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class _Lookup:
    """The outcome for one URL: an answer, or a note (and reason) saying why there is none."""

    fetched_at: str | None  # when the batch was answered (None: nothing was sent)
    http_status: int | None
    answer: RegistryAnswer | None = None
    note: str | None = None
    reason: str | None = None
    duplicate: bool = False


class _BatchError(Exception):
    """A batch could not be answered; ``reason`` is safe to record (no key)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _sendable(url: str) -> bool:
    return bool(url) and "\n" not in url and "\r" not in url


def _valid_key(key: str) -> bool:
    """Tell whether a key can be sent as a header value as-is (printable ASCII, no spaces)."""
    return key.isascii() and key.isprintable() and " " not in key


class SpawningClient:
    """Looks image URLs up in the Spawning Do-Not-Train registry, then answers per image.

    ``await prefetch(urls)`` once with every image URL of the run (the recorder's
    ``Prefetcher``), then use :meth:`signals` as the ``registry.spawning`` image mechanism.
    Batches are sent one after another; nothing here ever raises out of :meth:`prefetch`.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        api_key: str | None,
        batch_size: int = 100,
        timeout: float = 20.0,
        user_agent: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.endpoint = endpoint
        self.batch_size = batch_size
        self.timeout = timeout
        self.user_agent = user_agent
        self._key = (api_key or "").strip() or None
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._lookups: dict[str, _Lookup] = {}
        self.requests_sent = 0

    @classmethod
    def from_config(
        cls,
        config: SpawningRegistry,
        *,
        user_agent: str,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> SpawningClient:
        """Build the client for ``registries.spawning``; the key comes from ``api_key_env``."""
        env = os.environ if environ is None else environ
        return cls(
            endpoint=config.endpoint,
            api_key=env.get(config.api_key_env),
            batch_size=config.batch_size,
            user_agent=user_agent,
            transport=transport,
        )

    @property
    def has_key(self) -> bool:
        """Whether an API key is configured (without one nothing is ever sent)."""
        return self._key is not None

    def __repr__(self) -> str:
        key = "set" if self._key else "none"
        return f"SpawningClient(endpoint={self.endpoint!r}, api_key={key})"

    async def __aenter__(self) -> SpawningClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client, if one was opened."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def prefetch(self, urls: Sequence[str]) -> None:
        """Look every URL up, in batches of ``batch_size``; without a key, do nothing.

        URLs already answered (or found missing) are not sent again; URLs whose batch failed are
        retried by a later call. Errors are remembered per URL, never raised.
        """
        if self._key is None:
            return
        pending = [
            url
            for url in dict.fromkeys(urls)
            if url not in self._lookups or self._lookups[url].note == NOTE_API_ERROR
        ]
        for url in [url for url in pending if not _sendable(url)]:
            reason = "the URL is empty or contains a line break, so it cannot be sent"
            self._lookups[url] = _Lookup(None, None, note=NOTE_UNSENDABLE, reason=reason)
        pending = [url for url in pending if _sendable(url)]
        if not _valid_key(self._key):
            reason = "the API key is not a valid HTTP header value; nothing was sent"
            for url in pending:
                self._lookups[url] = _Lookup(None, None, note=NOTE_API_ERROR, reason=reason)
            return
        for start in range(0, len(pending), self.batch_size):
            await self._query(pending[start : start + self.batch_size])

    async def _query(self, batch: list[str]) -> None:
        """Send one batch and remember the outcome for each of its URLs."""
        status: int | None = None
        try:
            status, body = await self._post(batch)
        except _BatchError as exc:
            self._fail(batch, exc.reason, exc.status)
            return
        except Exception as exc:  # noqa: BLE001 - prefetch must never raise; recorded per URL
            self._fail(batch, f"unexpected error: {type(exc).__name__}: {exc}", status)
            return
        if self._key is not None:  # an echoed key must not survive into raw, even cut short
            body = body.replace(self._key.encode("ascii"), _REDACTED.encode("ascii"))
        parsed = parse_response(body)
        if parsed.error is not None:
            self._fail(batch, parsed.error, status)
            return
        answered = utc_now_iso()
        for url in batch:
            answer = parsed.answers.get(url)
            self._lookups[url] = _Lookup(
                answered,
                status,
                answer=answer,
                note=None if answer is not None else NOTE_MISSING,
                reason=None if answer is not None else "the response has no entry for this URL",
                duplicate=url in parsed.duplicates,
            )

    def _fail(self, batch: list[str], reason: str, status: int | None) -> None:
        safe = self._redact(_short(reason, 500))
        at = utc_now_iso()
        for url in batch:
            self._lookups[url] = _Lookup(at, status, note=NOTE_API_ERROR, reason=safe)

    def _redact(self, text: str) -> str:
        return text.replace(self._key, _REDACTED) if self._key else text

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(self.timeout),
                transport=self._transport,
            )
        return self._client

    async def _post(self, batch: list[str]) -> tuple[int, bytes]:
        """POST one batch; return the status and the capped body, or raise ``_BatchError``."""
        headers = {
            "Authorization": f"API {self._key}",
            "User-Agent": self.user_agent,
            "Content-Type": "text/plain; charset=utf-8",
            "Accept": "application/json",
        }
        content = "\n".join(batch).encode("utf-8")
        self.requests_sent += 1
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(content, headers)
        except TimeoutError:
            raise _BatchError(f"timeout: no complete response within {self.timeout:g} s") from None
        except httpx.TimeoutException as exc:
            raise _BatchError(f"timeout: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise _BatchError(f"network error: {type(exc).__name__}: {exc}") from None
        except OSError as exc:
            raise _BatchError(f"network error: {type(exc).__name__}: {exc}") from None

    async def _exchange(self, content: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        async with self._http().stream(
            "POST", self.endpoint, content=content, headers=headers
        ) as response:
            status = response.status_code
            if not 200 <= status < 300:  # noqa: PLR2004 - the 2xx range
                detail = " (redirects are not followed)" if 300 <= status < 400 else ""  # noqa: PLR2004
                raise _BatchError(f"HTTP {status}{detail}", status)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                raise _BatchError(f"response larger than {MAX_RESPONSE_BYTES} bytes", status)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise _BatchError(f"response larger than {MAX_RESPONSE_BYTES} bytes", status)
            return status, bytes(body)

    def signals(self, evidence: ImageEvidence) -> list[SignalRecord]:
        """Return the ``registry.spawning`` record for one image from what prefetch learnt."""
        if self._key is None:
            return [self._record(evidence.url, notes=(NOTE_NO_KEY,))]
        lookup = self._lookups.get(evidence.url)
        if lookup is None:
            reason = "the URL was not part of the registry lookup (prefetch)"
            return [self._record(evidence.url, notes=(NOTE_NOT_QUERIED,), parsed=reason)]
        answer = lookup.answer
        if answer is None:
            return [
                self._record(
                    evidence.url,
                    notes=(lookup.note or NOTE_API_ERROR,),
                    parsed=lookup.reason,
                    fetched_at=lookup.fetched_at,
                    http_status=lookup.http_status,
                )
            ]
        extra = (NOTE_DUPLICATE,) if lookup.duplicate else ()
        raw = self._redact(answer.raw)
        parsed = f"optOut={_json(answer.opt_out)}, optIn={_json(answer.opt_in)}"
        if answer.opt_out is None and answer.opt_in is None:
            return [
                self._record(
                    evidence.url,
                    notes=(NOTE_INVALID_ENTRY, *extra),
                    parsed=f"{parsed}: the entry has no boolean optOut or optIn",
                    raw=raw,
                    fetched_at=lookup.fetched_at,
                    http_status=lookup.http_status,
                    evaluation=Evaluation.ERROR,
                )
            ]
        purposes: dict[str, Verdict] = {}
        notes: tuple[str, ...] = ()
        if answer.opt_out:
            purposes[Purpose.AI_TRAIN.value] = Verdict.DISALLOWED
            notes = (NOTE_CONFLICT,) if answer.opt_in else ()
        elif answer.opt_in:
            purposes[Purpose.AI_TRAIN.value] = Verdict.ALLOWED
        else:
            notes = (NOTE_NOT_LISTED,)
        return [
            self._record(
                evidence.url,
                notes=(*notes, *extra),
                parsed=parsed,
                raw=raw,
                fetched_at=lookup.fetched_at,
                http_status=lookup.http_status,
                purposes=purposes,
                evaluation=Evaluation.EVALUATED,
            )
        ]

    def _record(
        self,
        url: str,
        *,
        notes: tuple[str, ...],
        parsed: str | None = None,
        raw: str | None = None,
        fetched_at: str | None = None,
        http_status: int | None = None,
        purposes: Mapping[str, Verdict] | None = None,
        evaluation: Evaluation = Evaluation.NOT_EVALUATED,
    ) -> SignalRecord:
        return SignalRecord(
            mechanism=MECHANISM,
            scope=Scope.LIST,
            source_url=self.endpoint,
            applies_to=url,
            raw_value=raw,
            purposes=frozen_map(purposes),
            fetched_at=fetched_at,
            http_status=http_status,
            parsed=self._redact(parsed) if parsed is not None else None,
            notes=notes,
            evaluation=evaluation,
        )


def _json(value: bool | None) -> str:
    return json.dumps(value)
