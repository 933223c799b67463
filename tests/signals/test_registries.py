"""Spawning Do-Not-Train registry (``auditor.signals.registries``, optout-signals.md 5.1, E43).

The client talks to a fake registry API: a real stdlib HTTP server on 127.0.0.1 in a thread
that answers ``POST`` like the Spawning API (newline-separated URLs in, ``{"urls": [{url,
optOut, optIn}]}`` out) and records every request it receives. The real API is never contacted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.config import SpawningRegistry
from auditor.model import Evaluation, Scope, SignalRecord, Verdict
from auditor.signals.evidence import ImageEvidence, OriginEvidence
from auditor.signals.registries import (
    MAX_RAW_CHARS,
    MAX_RESPONSE_BYTES,
    SPAWNING_API,
    RegistryAnswer,
    SpawningClient,
    parse_response,
    spawning_signals,
)
from auditor.signals.usage import combine

KEY = "sk-test-0123-SECRET-registry-key"
UA = "AcmeImageBot/1.0 (+https://acme.example/bot)"
OUT = "https://img.example/opted-out.jpg"
IN = "https://img.example/opted-in.jpg"
BOTH = "https://img.example/both.jpg"
PLAIN = "https://img.example/plain.jpg"
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
D, A, U = Verdict.DISALLOWED, Verdict.ALLOWED, Verdict.UNKNOWN


# --- the fake registry API --------------------------------------------------------------------


@dataclass
class Reply:
    """What the fake API sends back for one request."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0  # seconds before answering
    trickle: float | None = None  # send the body one byte at a time, this many seconds apart
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    urls: list[str]


def entries_for(urls: Sequence[str]) -> list[dict[str, Any]]:
    """Spawning-style entries: OUT opted out, IN opted in, BOTH both, anything else neither."""
    return [{"url": u, "optOut": u in {OUT, BOTH}, "optIn": u in {IN, BOTH}} for u in urls]


def standard(urls: list[str], headers: dict[str, str]) -> Reply:
    return Reply(body=json.dumps({"urls": entries_for(urls)}).encode())


class QuietServer(ThreadingHTTPServer):
    """Handler threads never block shutdown; a client hanging up mid-answer is not an error."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class FakeApi:
    """A loopback HTTP server answering POST like the registry API, recording each request."""

    def __init__(self) -> None:
        self.respond: Callable[[list[str], dict[str, str]], Reply] = standard
        self.received: list[Received] = []
        self.stopping = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                headers = {key.lower(): value for key, value in self.headers.items()}
                urls = body.split("\n") if body else []
                api.received.append(Received(self.path, headers, urls))
                api.answer(self, api.respond(urls, headers))

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v2/query/urls/"

    def answer(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay and self.stopping.wait(reply.delay):
            return
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            if reply.length:
                handler.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if reply.trickle is None:
                handler.wfile.write(reply.body)
                return
            for byte in reply.body:
                if self.stopping.wait(reply.trickle):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        except OSError:  # the client gave up (timeout, size cap): nothing to do
            pass

    def start(self) -> FakeApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def api() -> Iterator[FakeApi]:
    server = FakeApi().start()
    yield server
    server.stop()


# --- helpers ----------------------------------------------------------------------------------


def evidence(url: str) -> ImageEvidence:
    # The registry reads only the image URL; the origin bundle is irrelevant to it.
    return ImageEvidence(
        url=url,
        tokens=("mybot",),
        origin=cast(OriginEvidence, None),
        response_headers=None,
        status=None,
        fetched_at=None,
        facts=None,
        pages=(),
    )


def client(api: FakeApi | None, *, key: str | None = KEY, **options: Any) -> SpawningClient:
    endpoint = api.url if api is not None else SPAWNING_API
    return SpawningClient(endpoint=endpoint, api_key=key, user_agent=UA, **options)


def lookup(spawning: SpawningClient, urls: Sequence[str]) -> dict[str, SignalRecord]:
    """Prefetch ``urls`` and return each URL's single record; the key must be in none."""

    async def go() -> None:
        async with spawning:
            await spawning.prefetch(urls)

    asyncio.run(go())
    records = {}
    for url in urls:
        found = spawning.signals(evidence(url))
        assert len(found) == 1, found
        records[url] = found[0]
    assert_key_absent(records.values())
    return records


def assert_key_absent(records: Any) -> None:
    for record in records:
        assert KEY not in repr(record)
        assert "SECRET" not in repr(record)


def usage(record: SignalRecord) -> dict[str, Verdict]:
    return dict(combine([record]).usage)


# --- E43 and the verdict mapping --------------------------------------------------------------


def test_e43_opt_out_makes_ai_train_disallowed(api: FakeApi) -> None:
    record = lookup(client(api), [OUT])[OUT]
    assert record.mechanism == "registry.spawning"
    assert record.scope is Scope.LIST
    assert record.evaluation is Evaluation.EVALUATED
    assert record.source_url == api.url
    assert record.applies_to == OUT
    assert dict(record.purposes) == {"ai-train": D}
    assert record.raw_value == json.dumps(entries_for([OUT])[0], separators=(",", ":"))
    assert record.parsed == "optOut=true, optIn=false"
    assert record.http_status == 200
    assert record.fetched_at is not None
    assert ISO_SECONDS.match(record.fetched_at)
    assert usage(record)["ai-train"] is D
    assert usage(record)["genai-train"] is D  # ai-train disallowed implies it (9.4)


def test_e43_without_a_key_nothing_is_sent_and_nothing_is_allowed(api: FakeApi) -> None:
    record = lookup(client(api, key=None), [OUT, IN])[IN]
    assert api.received == []
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("no_api_key_configured",)
    assert dict(record.purposes) == {}
    assert record.source_url == api.url
    assert record.applies_to == IN
    assert usage(record)["ai-train"] is U


@pytest.mark.parametrize("key", ["", "   "], ids=["empty", "blank"])
def test_an_empty_key_is_no_key(api: FakeApi, key: str) -> None:
    record = lookup(client(api, key=key), [OUT])[OUT]
    assert api.received == []
    assert record.notes == ("no_api_key_configured",)


def test_the_unconfigured_slot_still_records_not_evaluated() -> None:
    (record,) = spawning_signals(evidence(OUT))
    assert record.mechanism == "registry.spawning"
    assert record.source_url == SPAWNING_API
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("no_api_key_configured",)
    assert usage(record)["ai-train"] is U


def test_opt_in_makes_ai_train_allowed(api: FakeApi) -> None:
    record = lookup(client(api), [IN])[IN]
    assert dict(record.purposes) == {"ai-train": A}
    assert record.notes == ()
    assert usage(record)["ai-train"] is A
    assert usage(record)["genai-train"] is U  # 9.2 names ai-train only


def test_opt_out_and_opt_in_is_disallowed_with_a_conflict_note(api: FakeApi) -> None:
    record = lookup(client(api), [BOTH])[BOTH]
    assert dict(record.purposes) == {"ai-train": D}
    assert record.notes == ("conflict",)


def test_neither_flag_is_evaluated_without_a_verdict(api: FakeApi) -> None:
    record = lookup(client(api), [PLAIN])[PLAIN]
    assert record.evaluation is Evaluation.EVALUATED
    assert dict(record.purposes) == {}
    assert record.notes == ("not_listed",)
    assert record.parsed == "optOut=false, optIn=false"


def test_an_entry_without_boolean_flags_is_an_error_never_a_verdict(api: FakeApi) -> None:
    api.respond = lambda urls, headers: Reply(
        body=json.dumps([{"url": OUT, "optOut": "true"}, {"url": IN}]).encode()
    )
    records = lookup(client(api), [OUT, IN])
    for record in records.values():
        assert record.evaluation is Evaluation.ERROR
        assert record.notes == ("invalid_entry",)
        assert dict(record.purposes) == {}
    assert records[OUT].raw_value == '{"url":"https://img.example/opted-out.jpg","optOut":"true"}'


# --- the request ------------------------------------------------------------------------------


def test_request_shape_key_and_user_agent(api: FakeApi) -> None:
    unicode_url = "https://img.example/éxample.png"
    lookup(client(api), [OUT, unicode_url])
    (request,) = api.received
    assert request.path == "/api/v2/query/urls/"
    assert request.headers["authorization"] == f"API {KEY}"
    assert request.headers["user-agent"] == UA
    assert request.headers["content-type"].startswith("text/plain")
    assert request.urls == [OUT, unicode_url]


def test_batching_250_urls_in_batches_of_100_is_three_requests(api: FakeApi) -> None:
    urls = [f"https://img.example/{n}.jpg" for n in range(250)]
    records = lookup(client(api, batch_size=100), [*urls, *urls[:10]])  # repeats are sent once
    assert [len(request.urls) for request in api.received] == [100, 100, 50]
    assert [url for request in api.received for url in request.urls] == urls
    assert all(request.headers["authorization"] == f"API {KEY}" for request in api.received)
    assert all(record.notes == ("not_listed",) for record in records.values())


def test_batch_size_comes_from_the_configuration(api: FakeApi) -> None:
    config = SpawningRegistry(endpoint=api.url, batch_size=2, api_key_env="MY_SPAWNING_KEY")
    spawning = SpawningClient.from_config(config, user_agent=UA, environ={"MY_SPAWNING_KEY": KEY})
    lookup(spawning, [OUT, IN, PLAIN])
    assert [len(request.urls) for request in api.received] == [2, 1]
    assert api.received[0].headers["authorization"] == f"API {KEY}"


def test_from_config_without_the_variable_has_no_key(api: FakeApi) -> None:
    config = SpawningRegistry(endpoint=api.url)
    spawning = SpawningClient.from_config(config, user_agent=UA, environ={})
    assert not spawning.has_key
    assert lookup(spawning, [OUT])[OUT].notes == ("no_api_key_configured",)
    assert api.received == []


def test_proxy_variables_are_ignored(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: would fail
    assert dict(lookup(client(api), [OUT])[OUT].purposes) == {"ai-train": D}


def test_redirects_are_not_followed(api: FakeApi) -> None:
    api.respond = lambda urls, headers: Reply(status=302, headers={"Location": api.url + "x"})
    record = lookup(client(api), [OUT])[OUT]
    assert len(api.received) == 1
    assert record.notes == ("api_error",)
    assert record.parsed == "HTTP 302 (redirects are not followed)"
    assert record.http_status == 302


def test_urls_that_cannot_be_sent_are_not_sent(api: FakeApi) -> None:
    broken = "https://img.example/a\nb.jpg"
    records = lookup(client(api), [broken, OUT])
    assert api.received[0].urls == [OUT]
    assert records[broken].evaluation is Evaluation.NOT_EVALUATED
    assert records[broken].notes == ("unsendable_url",)
    assert records[OUT].purposes["ai-train"] is D


def test_a_key_that_is_not_a_header_value_sends_nothing(api: FakeApi) -> None:
    bad_key = "sk SECRET\nInjected: yes"
    spawning = client(api, key=bad_key)
    records = lookup(spawning, [OUT])
    assert api.received == []
    assert records[OUT].notes == ("api_error",)
    assert "SECRET" not in repr(records[OUT])
    assert "SECRET" not in repr(spawning)


# --- errors: never raised, always NOT_EVALUATED with the reason -------------------------------


def assert_api_error(record: SignalRecord, reason: str) -> None:
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("api_error",)
    assert dict(record.purposes) == {}
    assert record.raw_value is None
    assert record.parsed is not None
    assert reason in record.parsed
    assert record.fetched_at is not None
    assert ISO_SECONDS.match(record.fetched_at)
    assert usage(record)["ai-train"] is U


def test_http_500_is_an_api_error_for_every_url_of_the_batch(api: FakeApi) -> None:
    api.respond = lambda urls, headers: Reply(status=500, body=b"oops")
    records = lookup(client(api), [OUT, IN])
    for record in records.values():
        assert_api_error(record, "HTTP 500")
        assert record.http_status == 500


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>maintenance</html>", "invalid JSON"),
        (b"", "invalid JSON"),
        (b"\xff\xfe\x00garbage", "invalid JSON"),
        (b'{"message": "ok"}', "unexpected response shape"),
        (b'"urls"', "unexpected response shape"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    ],
    ids=["html", "empty", "bad-utf8", "object-without-urls", "string", "nested"],
)
def test_bad_json_is_an_api_error(api: FakeApi, body: bytes, reason: str) -> None:
    api.respond = lambda urls, headers: Reply(body=body)
    record = lookup(client(api), [OUT])[OUT]
    assert_api_error(record, reason)
    assert record.http_status == 200


def test_a_slow_api_times_out(api: FakeApi) -> None:
    api.respond = lambda urls, headers: Reply(delay=5.0, body=b"[]")
    record = lookup(client(api, timeout=0.3), [OUT])[OUT]
    assert_api_error(record, "timeout")


def test_a_trickling_response_hits_the_total_deadline(api: FakeApi) -> None:
    body = json.dumps({"urls": entries_for([OUT])}).encode()
    api.respond = lambda urls, headers: Reply(body=body, trickle=0.05)
    record = lookup(client(api, timeout=0.5), [OUT])[OUT]
    assert_api_error(record, "timeout: no complete response within 0.5 s")


@pytest.mark.parametrize("length", [True, False], ids=["declared", "streamed"])
def test_response_size_is_bounded(api: FakeApi, length: bool) -> None:
    big = b"[" + b" " * MAX_RESPONSE_BYTES + b"]"
    api.respond = lambda urls, headers: Reply(body=big, length=length)
    record = lookup(client(api), [OUT])[OUT]
    assert_api_error(record, f"response larger than {MAX_RESPONSE_BYTES} bytes")


def test_an_unreachable_api_is_an_api_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}/api/"
    spawning = SpawningClient(endpoint=endpoint, api_key=KEY, user_agent=UA, timeout=2.0)
    assert_api_error(lookup(spawning, [OUT])[OUT], "network error: ConnectError")


def test_one_failed_batch_does_not_spoil_the_others(api: FakeApi) -> None:
    calls = iter([Reply(status=503), None])

    def respond(urls: list[str], headers: dict[str, str]) -> Reply:
        return next(calls) or standard(urls, headers)

    api.respond = respond
    records = lookup(client(api, batch_size=1), [IN, OUT])
    assert_api_error(records[IN], "HTTP 503")
    assert dict(records[OUT].purposes) == {"ai-train": D}


def test_failed_urls_are_retried_by_a_later_prefetch(api: FakeApi) -> None:
    spawning = client(api)
    api.respond = lambda urls, headers: Reply(status=500)
    lookup(spawning, [OUT])
    api.respond = standard
    assert dict(lookup(spawning, [OUT, IN])[OUT].purposes) == {"ai-train": D}
    assert [request.urls for request in api.received] == [[OUT], [OUT, IN]]
    lookup(spawning, [OUT, IN])  # everything answered: nothing is sent again
    assert len(api.received) == 2


# --- the response -----------------------------------------------------------------------------


def test_url_missing_from_the_response(api: FakeApi) -> None:
    api.respond = lambda urls, headers: Reply(
        body=json.dumps({"urls": entries_for([OUT, "https://other.example/x.jpg"])}).encode()
    )
    records = lookup(client(api), [OUT, IN])
    assert dict(records[OUT].purposes) == {"ai-train": D}
    missing = records[IN]
    assert missing.evaluation is Evaluation.NOT_EVALUATED
    assert missing.notes == ("missing_from_response",)
    assert missing.parsed == "the response has no entry for this URL"
    assert missing.http_status == 200
    assert missing.fetched_at is not None
    assert usage(missing)["ai-train"] is U


def test_an_empty_answer_leaves_every_url_missing(api: FakeApi) -> None:
    api.respond = lambda urls, headers: Reply(body=b'{"urls": []}')
    records = lookup(client(api), [OUT, IN])
    assert {record.notes for record in records.values()} == {("missing_from_response",)}


def test_an_image_that_was_never_prefetched_is_not_evaluated(api: FakeApi) -> None:
    spawning = client(api)
    lookup(spawning, [OUT])
    (record,) = spawning.signals(evidence(IN))
    assert record.evaluation is Evaluation.NOT_EVALUATED
    assert record.notes == ("not_queried",)


@pytest.mark.parametrize(
    "shape",
    [
        lambda entries: {"urls": entries},
        lambda entries: entries,
        lambda entries: entries[0],
    ],
    ids=["wrapped", "bare-list", "single-object"],
)
def test_response_shapes(api: FakeApi, shape: Callable[[list[dict[str, Any]]], Any]) -> None:
    api.respond = lambda urls, headers: Reply(body=json.dumps(shape(entries_for(urls))).encode())
    assert dict(lookup(client(api), [OUT])[OUT].purposes) == {"ai-train": D}


def test_duplicate_entries_combine_most_restrictively(api: FakeApi) -> None:
    entries = [{"url": OUT, "optOut": False}, {"url": OUT, "optOut": True}]
    api.respond = lambda urls, headers: Reply(body=json.dumps(entries).encode())
    record = lookup(client(api), [OUT])[OUT]
    assert dict(record.purposes) == {"ai-train": D}
    assert record.notes == ("duplicate_in_response",)
    assert record.raw_value is not None
    assert json.loads(record.raw_value) == entries


def test_the_key_echoed_by_the_api_is_redacted(api: FakeApi) -> None:
    def echo(urls: list[str], headers: dict[str, str]) -> Reply:
        entries = [{**entry, "seen": headers["authorization"]} for entry in entries_for(urls)]
        return Reply(body=json.dumps(entries).encode())

    api.respond = echo
    record = lookup(client(api), [OUT])[OUT]  # lookup() asserts the key is in no record
    assert record.raw_value is not None
    assert "[redacted]" in record.raw_value


def test_the_key_is_in_no_log_line(api: FakeApi, caplog: pytest.LogCaptureFixture) -> None:
    api.respond = lambda urls, headers: Reply(status=500)
    with caplog.at_level(logging.DEBUG):
        lookup(client(api), [OUT])
        api.respond = standard
        lookup(client(api), [IN])
    assert caplog.records  # httpx/httpcore did log the exchanges
    assert KEY not in caplog.text


def test_the_client_is_a_mechanism_for_combine(api: FakeApi) -> None:
    spawning = client(api)
    lookup(spawning, [OUT, IN, PLAIN])
    verdicts = combine(
        record for url in (OUT, IN, PLAIN) for record in spawning.signals(evidence(url))
    )
    assert verdicts.usage["ai-train"] is D
    assert verdicts.conflicts == ("ai-train",)


# --- the parser never raises ------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)
FLAG = st.none() | st.booleans() | st.integers(0, 1) | st.sampled_from(["true", "false", ""])
ENTRY = st.fixed_dictionaries(
    {"url": st.sampled_from([OUT, IN]) | JSON},
    optional={"optOut": FLAG | JSON, "optIn": FLAG | JSON, "extra": JSON},
)
ENTRIES = st.lists(ENTRY | JSON, max_size=8)
DOCUMENT = JSON | ENTRIES | st.builds(lambda e: {"urls": e}, ENTRIES)


def check_answers(answers: Any) -> None:
    for url, answer in answers.items():
        assert isinstance(url, str)
        assert isinstance(answer, RegistryAnswer)
        assert answer.opt_out in {True, False, None}
        assert answer.opt_in in {True, False, None}
        assert isinstance(answer.raw, str)
        assert len(answer.raw) <= MAX_RAW_CHARS


@given(DOCUMENT)
def test_parser_never_raises_on_arbitrary_json(document: Any) -> None:
    parsed = parse_response(json.dumps(document).encode())
    check_answers(parsed.answers)
    assert parsed.error is None or not parsed.answers


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_parser_never_raises_on_arbitrary_bytes(body: bytes | str) -> None:
    check_answers(parse_response(body).answers)


@given(ENTRIES)
def test_opt_out_is_true_exactly_when_an_entry_says_true(entries: list[Any]) -> None:
    answer = parse_response(json.dumps(entries)).answers.get(OUT)
    said = [e.get("optOut") for e in entries if isinstance(e, dict) and e.get("url") == OUT]
    if not said:
        assert answer is None
    else:
        assert answer is not None
        assert (answer.opt_out is True) == any(value is True for value in said)


def test_long_entries_are_cut() -> None:
    body = json.dumps([{"url": OUT, "optOut": True, "note": "x" * 10_000}])
    answer = parse_response(body).answers[OUT]
    assert answer.opt_out is True
    assert len(answer.raw) == MAX_RAW_CHARS
    assert answer.raw.endswith("...[truncated]")
