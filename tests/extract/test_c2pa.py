"""The ``c2pa`` extractor: manifests found and read, never fetched, never a crash (E39-E42)."""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import struct
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from auditor.extract import EXTRACTORS, extract_image
from auditor.extract import c2pa as c2pa_extract
from auditor.extract.c2pa import READER_SETTINGS, c2pa_available, read_c2pa
from auditor.extract.embedded import C2paAssertion, C2paEntry, C2paFacts
from auditor.testing import SiteServer

from . import FIXTURE_IMAGES, encode, fixture_bytes

C2PA_DIR = FIXTURE_IMAGES / "c2pa"
FIXTURES = (
    "cawg-genai-notallowed.jpg",
    "c2pa-train-constrained.jpg",
    "cawg-tdm-allowed.png",
    "ingredient-only.jpg",
    "tampered.jpg",
    "large-manifest.jpg",
    "remote-ref.jpg",
)
REMOTE_FIXTURE_URL = "http://127.0.0.1:9/fixture-manifest.c2pa"

needs_c2pa = pytest.mark.skipif(not c2pa_available(), reason="the c2pa extra is not installed")


def c2pa_bytes(name: str) -> bytes:
    return (C2PA_DIR / name).read_bytes()


def c2pa_facts(name: str) -> C2paFacts:
    facts = extract_image(c2pa_bytes(name))
    assert facts.c2pa is not None
    return facts.c2pa


def trust_root() -> str:
    return (C2PA_DIR / "test-root.pem").read_text()


def load_generator() -> ModuleType:
    path = FIXTURE_IMAGES / "make_c2pa_images.py"
    spec = importlib.util.spec_from_file_location("make_c2pa_images", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def app11_segments(data: bytes) -> list[bytes]:
    """The payloads of the JPEG's APP11 segments, in order (header segments only)."""
    found, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] != 0xDA:
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if data[pos + 1] == 0xEB:
            found.append(data[pos + 4 : pos + 2 + length])
        pos += 2 + length
    return found


@pytest.fixture
def fresh_library() -> Iterator[None]:
    """Forget the cached import before and after the test (for tests that patch it)."""
    c2pa_extract._library.cache_clear()
    yield
    c2pa_extract._library.cache_clear()


# --- registration and the fallback without the package ---------------------------------------


def test_registered_as_an_extractor() -> None:
    assert EXTRACTORS["c2pa"] is c2pa_extract.extract_c2pa


def test_reader_settings_turn_off_every_network_access() -> None:
    assert READER_SETTINGS["verify"]["remote_manifest_fetch"] is False
    assert READER_SETTINGS["verify"]["ocsp_fetch"] is False
    assert READER_SETTINGS["core"]["allowed_network_hosts"] == []


@pytest.mark.usefixtures("fresh_library")
@pytest.mark.parametrize("failure", [ImportError("No module named 'c2pa'"), RuntimeError("no .so")])
def test_without_the_package_c2pa_is_not_examined(
    monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    calls = []

    def unavailable() -> ModuleType:
        calls.append(1)
        raise failure

    monkeypatch.setattr(c2pa_extract, "_import_c2pa", unavailable)
    facts = extract_image(fixture_bytes("plain.jpg"))
    assert facts.c2pa is None
    assert facts.error is None
    assert not c2pa_available()
    assert read_c2pa(c2pa_bytes("cawg-genai-notallowed.jpg"), "JPEG") is None
    assert len(calls) == 1  # tried once per process, then cached


def test_a_stray_native_library_in_the_working_directory_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "libs").mkdir()
    stray = tmp_path / "libs" / "libc2pa_c.so"
    stray.write_bytes(b"not a library")
    assert c2pa_extract._stray_native_library(tmp_path) == stray
    (tmp_path / "clean").mkdir()
    assert c2pa_extract._stray_native_library(tmp_path / "clean") is None
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "c2pa", raising=False)
    with pytest.raises(ImportError, match="stray native library"):
        c2pa_extract._import_c2pa()


# --- E39-E42 through extract_image -------------------------------------------------------------


@needs_c2pa
def test_e39_active_cawg_assertion() -> None:
    facts = extract_image(c2pa_bytes("cawg-genai-notallowed.jpg"))
    assert (facts.format, facts.error) == ("JPEG", None)
    c2pa = facts.c2pa
    assert c2pa is not None
    assert c2pa.present
    assert c2pa.error is None
    assert c2pa.validation_state == "Valid"
    assert "signingCredential.untrusted" in c2pa.validation_errors  # self-made test root
    assert c2pa.claim_generator == "auditor-fixtures/1.0"
    assert c2pa.active_manifest is not None
    assert c2pa.active_manifest.startswith("urn:c2pa:")
    assert c2pa.remote_manifest is None
    assert c2pa.training_mining == (
        C2paAssertion(
            label="cawg.training-mining",
            manifest=c2pa.active_manifest,
            active=True,
            entries=(C2paEntry("cawg.ai_generative_training", "notAllowed"),),
        ),
    )


@needs_c2pa
def test_old_label_with_both_constraint_spellings() -> None:
    c2pa = c2pa_facts("c2pa-train-constrained.jpg")
    (assertion,) = c2pa.training_mining
    assert (assertion.label, assertion.active) == ("c2pa.training-mining", True)
    assert {entry.key: (entry.use, entry.constraint_info) for entry in assertion.entries} == {
        "c2pa.ai_training": ("constrained", "Licence required: rights@example.org"),
        "c2pa.ai_inference": ("constrained", "Only with attribution"),
        "c2pa.data_mining": ("allowed", None),
    }


@needs_c2pa
def test_e42_png_cabx_chunk_is_read() -> None:
    data = c2pa_bytes("cawg-tdm-allowed.png")
    assert b"caBX" in data
    facts = extract_image(data)
    assert (facts.format, facts.error) == ("PNG", None)
    assert facts.c2pa is not None
    (assertion,) = facts.c2pa.training_mining
    assert assertion.entries == (C2paEntry("cawg.data_mining", "allowed"),)


@needs_c2pa
def test_e42_manifest_split_across_several_app11_segments() -> None:
    data = c2pa_bytes("large-manifest.jpg")
    assert len(app11_segments(data)) >= 3
    c2pa = c2pa_facts("large-manifest.jpg")
    assert c2pa.error is None
    assert c2pa.validation_state == "Valid"
    (assertion,) = c2pa.training_mining
    assert assertion.entries == (C2paEntry("cawg.ai_training", "notAllowed"),)


@needs_c2pa
def test_e40_assertion_only_in_an_ingredient() -> None:
    c2pa = c2pa_facts("ingredient-only.jpg")
    (assertion,) = c2pa.training_mining
    assert assertion.active is False
    assert assertion.manifest != c2pa.active_manifest
    assert assertion.label == "cawg.training-mining"
    assert assertion.entries == (C2paEntry("cawg.ai_training", "notAllowed"),)


@needs_c2pa
def test_e41_tampered_bytes_fail_validation_and_keep_the_entries() -> None:
    facts = extract_image(c2pa_bytes("tampered.jpg"))
    assert facts.error is None  # the pixels are fine; only the provenance is broken
    c2pa = facts.c2pa
    assert c2pa is not None
    assert c2pa.validation_state == "Invalid"
    assert "assertion.dataHash.mismatch" in c2pa.validation_errors
    (assertion,) = c2pa.training_mining
    assert [entry.use for entry in assertion.entries] == ["notAllowed", "allowed"]
    trusted = read_c2pa(c2pa_bytes("tampered.jpg"), "JPEG", trust_anchors=trust_root())
    assert trusted is not None
    assert trusted.validation_state == "Invalid"  # trust does not repair a hash mismatch


@needs_c2pa
def test_e41_no_manifest_at_all() -> None:
    for name in ("plain.jpg", "photo.jpg", "graphic.png", "photo.webp", "anim.gif"):
        assert extract_image(fixture_bytes(name)).c2pa == C2paFacts(present=False), name


@needs_c2pa
@pytest.mark.parametrize(
    "name", [n for n in FIXTURES if n not in {"remote-ref.jpg", "tampered.jpg"}]
)
def test_a_configured_trust_anchor_makes_the_fixtures_trusted(name: str) -> None:
    fmt = "PNG" if name.endswith(".png") else "JPEG"
    c2pa = read_c2pa(c2pa_bytes(name), fmt, trust_anchors=trust_root())
    assert c2pa is not None
    assert (c2pa.validation_state, c2pa.validation_errors) == ("Trusted", ())


@needs_c2pa
def test_formats_that_cannot_carry_a_manifest_are_not_read() -> None:
    bmp = encode(Image.new("RGB", (8, 8), (1, 2, 3)), "BMP")
    facts = extract_image(bmp)
    assert facts.format == "BMP"
    assert facts.c2pa == C2paFacts(present=False)


# --- remote manifests are never fetched --------------------------------------------------------


@needs_c2pa
def test_remote_fixture_is_recorded_not_fetched() -> None:
    c2pa = c2pa_facts("remote-ref.jpg")
    assert c2pa == C2paFacts(present=True, remote_manifest=REMOTE_FIXTURE_URL)


@pytest.fixture(scope="module")
def chain() -> Any:
    pytest.importorskip("cryptography")
    if not c2pa_available():
        pytest.skip("the c2pa extra is not installed")
    return load_generator().TestChain()


def remote_signed(chain: Any, url: str, *, embed: bool) -> tuple[bytes, bytes]:
    generator = load_generator()
    definition = generator.manifest(
        generator.training_mining(
            "cawg.training-mining", {"cawg.ai_training": {"use": "notAllowed"}}
        ),
        title="remote.jpg",
    )
    result: tuple[bytes, bytes] = generator.sign_both(
        chain, definition, "image/jpeg", generator.source_jpeg(7), remote_url=url, embed=embed
    )
    return result


@pytest.mark.parametrize("embed", [False, True])
def test_a_referenced_remote_manifest_causes_no_request(
    chain: Any, tmp_path: Path, embed: bool
) -> None:
    with SiteServer(tmp_path) as server:
        url = server.url("/manifests/remote.c2pa")
        image, store = remote_signed(chain, url, embed=embed)
        (tmp_path / "manifests").mkdir()
        (tmp_path / "manifests" / "remote.c2pa").write_bytes(store)  # a fetch would succeed

        facts = extract_image(image)

        assert server.requests == []
        assert facts.c2pa is not None
        assert facts.c2pa.remote_manifest == url
        if embed:  # the embedded copy is read, the remote one is only noted
            assert facts.c2pa.active_manifest is not None
            assert len(facts.c2pa.training_mining) == 1
        else:
            assert facts.c2pa == C2paFacts(present=True, remote_manifest=url)

        # Control: the library with its default settings does go to the network for this file,
        # so the empty request log above is the settings' doing, not an unreachable server.
        if not embed:
            c2pa = importlib.import_module("c2pa")

            with c2pa.Context() as context:
                try:
                    reader = c2pa.Reader.try_create("image/jpeg", io.BytesIO(image), None, context)
                    if reader is not None:
                        reader.close()
                except c2pa.C2paError:
                    pass
            assert [path for _, path, _ in server.requests] == ["/manifests/remote.c2pa"]


# --- hostile, oversized and corrupt JUMBF never raises -----------------------------------------


def _app11(payload: bytes) -> bytes:
    return b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload


def _jumbf_segment(box: bytes, sequence: int = 1) -> bytes:
    # Common JUMBF-in-APP11 header: "JP", box instance 0x0001, packet sequence number.
    return _app11(b"JP" + struct.pack(">HI", 1, sequence) + box)


def _with_segments(*segments: bytes) -> bytes:
    plain = fixture_bytes("plain.jpg")
    return plain[:2] + b"".join(segments) + plain[2:]


def _c2pa_superbox(length: int, body: bytes = b"") -> bytes:
    description = (
        struct.pack(">I", 29) + b"jumd" + bytes.fromhex("6332706100110010800000aa00389b71")
    )
    description += b"\x03c2pa\x00"
    return struct.pack(">I", length) + b"jumb" + description + body


def _hostile_jpegs() -> dict[str, bytes]:
    manifest_jpeg = c2pa_bytes("cawg-genai-notallowed.jpg")
    segments = app11_segments(manifest_jpeg)
    first = manifest_jpeg.find(b"\xff\xeb")
    corrupted = bytearray(segments[0])
    corrupted[120:320] = b"\xff" * 200
    start, end = first, first + 4 + len(segments[0])
    return {
        "garbage": _with_segments(_app11(b"JP\x02\x11" + b"\x00" * 10 + b"garbage")),
        "box_claims_4gb": _with_segments(_jumbf_segment(_c2pa_superbox(0xFFFFFFF0))),
        "xl_box_claims_2e62": _with_segments(
            _jumbf_segment(struct.pack(">I", 1) + b"jumb" + struct.pack(">Q", 2**62) + b"\0" * 32)
        ),
        "truncated_superbox": _with_segments(_jumbf_segment(_c2pa_superbox(4096))),
        "zero_length_box": _with_segments(_jumbf_segment(_c2pa_superbox(0))),
        "deep_nesting": _with_segments(_jumbf_segment((struct.pack(">I", 8) + b"jumb") * 4000)),
        "sequence_gap": _with_segments(
            _jumbf_segment(_c2pa_superbox(200_000)), _jumbf_segment(b"\0" * 100, sequence=5)
        ),
        "corrupted_manifest": manifest_jpeg[:start]
        + _app11(bytes(corrupted))
        + manifest_jpeg[end:],
        "two_stores": manifest_jpeg[:start] + manifest_jpeg[start:end] * 2 + manifest_jpeg[end:],
        "oversized_zeros": _with_segments(
            *(_jumbf_segment(b"\0" * 65_000, sequence=i + 1) for i in range(40))
        ),
    }


def _png_with_cabx(payload: bytes) -> bytes:
    png = fixture_bytes("graphic.png")
    crc = zlib.crc32(b"caBX" + payload) & 0xFFFFFFFF
    chunk = struct.pack(">I", len(payload)) + b"caBX" + payload + struct.pack(">I", crc)
    return png[:33] + chunk + png[33:]  # after the 8-byte signature and the 25-byte IHDR


@needs_c2pa
@pytest.mark.parametrize("name", sorted(_hostile_jpegs()))
def test_hostile_jumbf_in_jpeg_never_raises(name: str) -> None:
    data = _hostile_jpegs()[name]
    started = time.perf_counter()
    facts = extract_image(data)
    assert time.perf_counter() - started < 10
    assert facts.format == "JPEG"
    assert facts.error is None  # a broken manifest is a C2PA fact, not an image failure
    assert isinstance(facts.c2pa, C2paFacts)
    if facts.c2pa.error is not None:
        assert facts.c2pa.error.split(":")[0] in {"read_failed", "unsupported"}
        assert len(facts.c2pa.error) <= 300


@needs_c2pa
@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\0" * 16,
        _c2pa_superbox(0xFFFFFFFF),
        _c2pa_superbox(64, b"\xff" * 40),
        b"\x00\x00\x00\x08jumb" * 500,
    ],
)
def test_hostile_cabx_chunk_never_raises(payload: bytes) -> None:
    facts = extract_image(_png_with_cabx(payload))
    assert facts.format == "PNG"
    assert isinstance(facts.c2pa, C2paFacts)


@needs_c2pa
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_mutated_manifest_bytes_never_raise(data: st.DataObject) -> None:
    original = c2pa_bytes("cawg-genai-notallowed.jpg")
    start = original.find(b"\xff\xeb") + 4
    (length,) = struct.unpack_from(">H", original, start - 2)
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 12))):
        position = data.draw(st.integers(start + 8, start + length - 3))
        mutated[position] = data.draw(st.integers(0, 255))
    facts = extract_image(bytes(mutated))
    assert isinstance(facts.c2pa, C2paFacts)


@needs_c2pa
def test_bytes_that_are_not_an_image_never_raise() -> None:
    for data in (b"", b"JP\0\0", b"\xff\xd8\xff\xeb\x00\x04JP", b"RIFF\0\0\0\0WEBPC2PA"):
        result = read_c2pa(data)
        assert result is not None
        assert result.training_mining == ()


# --- reading the store JSON (hostile shapes, without the library) ------------------------------


def store(manifests: dict[str, Any], active: str | None = "m1", **extra: Any) -> Any:
    return {"active_manifest": active, "manifests": manifests, **extra}


def manifest_with(*assertions: Any, ingredients: Any = (), **extra: Any) -> dict[str, Any]:
    return {"assertions": list(assertions), "ingredients": list(ingredients), **extra}


def tm(label: str, data: Any) -> dict[str, Any]:
    return {"label": label, "data": data}


def from_store(value: Any, data: bytes = b"") -> C2paFacts:
    return c2pa_extract._facts_from_store(json.loads(json.dumps(value)), data)


def test_store_entries_in_every_accepted_shape() -> None:
    facts = from_store(
        store(
            {
                "m1": manifest_with(
                    tm(
                        "cawg.training-mining__2",
                        {
                            "entries": {
                                "cawg.ai_training": "notAllowed",
                                "cawg.data_mining": {
                                    "use": "constrained",
                                    "constraint_info": {"a": 1},
                                },
                                "cawg.ai_inference": {"constraint_info": "no use given"},
                                "org.example.custom": {"use": "allowed"},
                                "cawg.broken": 5,
                            }
                        },
                    ),
                    tm("c2pa.training-mining", {"c2pa.ai_training": {"use": "notAllowed"}}),
                    tm("c2pa.actions", {"actions": []}),
                    tm("cawg.training-mining-extended", {"entries": {}}),
                    "not an assertion",
                    {"label": 7},
                    claim_generator="Tool 1.0",
                )
            }
        )
    )
    first, second = facts.training_mining
    assert first.label == "cawg.training-mining"
    assert first.entries == (
        C2paEntry("cawg.ai_training", "notAllowed"),
        C2paEntry("cawg.data_mining", "constrained", '{"a":1}'),
        C2paEntry("org.example.custom", "allowed"),
    )
    assert second.entries == (C2paEntry("c2pa.ai_training", "notAllowed"),)  # CAWG 1.0 shape
    assert facts.claim_generator == "Tool 1.0"


def test_store_ingredients_are_walked_once_and_bounded() -> None:
    assertion = tm("cawg.training-mining", {"entries": {"cawg.ai_training": {"use": "notAllowed"}}})
    manifests = {
        "m1": manifest_with(
            ingredients=[{"active_manifest": "m2"}, {"active_manifest": "nowhere"}]
        ),
        "m2": manifest_with(
            assertion,
            ingredients=[{"active_manifest": "m1"}, {"manifest_data": {"identifier": "m3"}}],
        ),
        "m3": manifest_with(assertion, ingredients=[{"active_manifest": "m2"}]),
        "orphan": manifest_with(assertion),
    }
    facts = from_store(store(manifests))
    assert [(a.manifest, a.active) for a in facts.training_mining] == [("m2", False), ("m3", False)]

    chain = {f"m{i}": manifest_with(assertion, ingredients=[{"active_manifest": f"m{i + 1}"}])
             for i in range(1, 500)}  # fmt: skip
    long = from_store(store(chain))
    assert len(long.training_mining) == c2pa_extract.MAX_MANIFESTS


def test_store_caps_entries_assertions_codes_and_text() -> None:
    many = {f"cawg.k{i}": {"use": "notAllowed", "constraint_info": "x" * 3000} for i in range(40)}
    facts = from_store(
        store(
            {"m1": manifest_with(*[tm("cawg.training-mining", {"entries": many})] * 70)},
            validation_status=[{"code": f"c{i}"} for i in range(500)],
            validation_state="\x1b[31mInvalid\x1b[0m",
        )
    )
    assert len(facts.training_mining) == c2pa_extract.MAX_ASSERTIONS
    assert len(facts.training_mining[0].entries) == c2pa_extract.MAX_ENTRIES
    assert all(len(e.constraint_info or "") <= 1000 for e in facts.training_mining[0].entries)
    assert len(facts.validation_errors) == c2pa_extract.MAX_CODES
    assert facts.validation_state is not None
    assert "\x1b" not in facts.validation_state


@pytest.mark.parametrize(
    "value",
    [[], "text", None, {"manifests": []}, {"active_manifest": 3, "manifests": {"3": {}}}],
)
def test_store_of_the_wrong_shape_never_raises(value: Any) -> None:
    facts = from_store(value)
    assert facts.present
    assert facts.training_mining == ()


def test_validation_codes_from_every_place_deduplicated() -> None:
    facts = from_store(
        store(
            {"m1": manifest_with()},
            validation_results={
                "activeManifest": {"failure": [{"code": "a"}, {"code": "b"}]},
                "ingredientDeltas": [{"validationDeltas": {"failure": [{"code": "c"}]}}],
            },
            validation_status=[{"code": "a"}, {"nocode": 1}],
        )
    )
    assert facts.validation_errors == ("a", "b", "c")


def test_claim_generator_from_claim_generator_info() -> None:
    info = [{"name": "App", "version": "2.0"}, {"name": "Other"}]
    assert from_store(store({"m1": manifest_with(claim_generator_info=info)})).claim_generator == (
        "App/2.0"
    )
    no_version = [{"name": "App"}]
    facts = from_store(store({"m1": manifest_with(claim_generator_info=no_version)}))
    assert facts.claim_generator == "App"


def test_remote_reference_in_both_xmp_forms() -> None:
    attribute = b'<rdf:Description dcterms:provenance="https://m.example/a.c2pa"/>'
    element = b"<dcterms:provenance> https://m.example/b.c2pa </dcterms:provenance>"
    assert c2pa_extract._remote_reference(attribute) == "https://m.example/a.c2pa"
    assert c2pa_extract._remote_reference(element) == "https://m.example/b.c2pa"
    assert c2pa_extract._remote_reference(b"dcterms:provenance=''") is None


@pytest.mark.usefixtures("fresh_library")
def test_unexpected_library_failures_become_error_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    class C2paError(Exception):
        NotSupported: type[Exception]

    class NotSupported(C2paError):  # noqa: N818 - the library's own name
        pass

    C2paError.NotSupported = NotSupported
    fake = ModuleType("c2pa")
    fake.C2paError = C2paError  # type: ignore[attr-defined]
    monkeypatch.setattr(c2pa_extract, "_import_c2pa", lambda: fake)

    def failing(exc: Exception) -> Callable[..., Any]:
        def read(*_: Any) -> Any:
            raise exc

        return read

    cases = {
        "internal: ValueError: boom": ValueError("boom"),
        "read_failed: Verify: bad": C2paError("Verify: bad"),
        "unsupported: NotSupported: no": C2paError.NotSupported("NotSupported: no"),
    }
    for expected, exc in cases.items():
        monkeypatch.setattr(c2pa_extract, "_read_store", failing(exc))
        result = read_c2pa(b"\xff\xd8\xff\xebJPjumb", "JPEG")
        assert result is not None
        assert result.error == expected
        assert result.present is expected.startswith("read_failed")
    monkeypatch.setattr(c2pa_extract, "_read_store", failing(C2paError("Remote: from url x")))
    assert read_c2pa(b'dcterms:provenance="https://r.example/m"', "JPEG") == C2paFacts(
        present=True, remote_manifest="https://r.example/m"
    )
    monkeypatch.setattr(c2pa_extract, "_read_store", failing(C2paError("Remote: no address")))
    assert read_c2pa(b"jumb", "JPEG") == C2paFacts(
        present=True, error="read_failed: Remote: no address"
    )
    monkeypatch.setattr(c2pa_extract, "_read_store", lambda *_: "{not json")
    result = read_c2pa(b"jumb", "JPEG")
    assert result is not None
    assert result.error is not None
    assert result.error.startswith("read_failed: JSONDecodeError")


def test_extractor_keeps_other_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    found = C2paFacts(present=True, validation_state="Valid")
    monkeypatch.setattr(c2pa_extract, "read_c2pa", lambda data, fmt: found)
    facts = extract_image(fixture_bytes("photo.jpg"))
    assert facts.c2pa is found
    assert facts.exif is not None
    assert replace(facts, c2pa=None) == replace(
        extract_image(fixture_bytes("photo.jpg")), c2pa=None
    )


# --- the generator ----------------------------------------------------------------------------


def test_generator_writes_every_committed_fixture(chain: Any) -> None:
    generator = load_generator()
    built: dict[str, bytes] = generator.build(chain)
    assert set(built) == {*FIXTURES, "test-root.pem"}
    assert all(len(data) < 200_000 for data in built.values())
    assert all((C2PA_DIR / name).stat().st_size < 200_000 for name in built)
    assert len(app11_segments(built["large-manifest.jpg"])) >= 3
    for name in FIXTURES:
        fmt = "PNG" if name.endswith(".png") else "JPEG"
        fresh = read_c2pa(built[name], fmt, trust_anchors=chain.root_pem.decode())
        committed = read_c2pa(c2pa_bytes(name), fmt, trust_anchors=trust_root())
        assert fresh is not None
        assert committed is not None
        assert _shape(fresh) == _shape(committed), name


def _shape(facts: C2paFacts) -> Any:
    """What a regeneration keeps stable (manifest labels are random)."""
    return (
        facts.present,
        facts.validation_state,
        facts.validation_errors,
        facts.claim_generator,
        [(a.label, a.active, a.entries) for a in facts.training_mining],
        facts.remote_manifest,
        facts.error,
    )


def test_bytes_without_a_jumbf_box_or_provenance_are_answered_without_the_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every embedded manifest is a JUMBF ``jumb`` box; a remote one is named in XMP."""
    asked: list[bytes] = []

    def read_store(_library: object, data: bytes, *_: object) -> str | None:
        asked.append(data)
        return None

    monkeypatch.setattr(c2pa_extract, "_import_c2pa", lambda: ModuleType("c2pa"))
    monkeypatch.setattr(c2pa_extract, "_read_store", read_store)
    plain = fixture_bytes("photo.jpg")
    assert b"jumb" not in plain
    assert read_c2pa(plain, "JPEG") == C2paFacts(present=False)
    assert asked == []
    for data in (plain + b"jumb", b'<x dcterms:provenance="https://r.example/m"/>'):
        read_c2pa(data, "JPEG")
    assert len(asked) == 2
