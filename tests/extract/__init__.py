"""Tests for :mod:`auditor.extract`, plus builders for the in-memory images they use."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

FIXTURE_IMAGES = Path(__file__).resolve().parents[2] / "fixtures" / "images"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURE_IMAGES / name).read_bytes()


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def small_jpeg(exif: Image.Exif | bytes | None = None, size: tuple[int, int] = (48, 32)) -> bytes:
    image = Image.new("RGB", size, (90, 140, 200))
    image.paste((200, 60, 40), (0, 0, size[0] // 2, size[1] // 2))
    if exif is None:
        return encode(image, "JPEG")
    return encode(image, "JPEG", exif=exif)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A ~60-byte PNG whose IHDR claims ``width`` x ``height`` RGB pixels (built by hand)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00\x00\x00")  # one filtered row of one pixel
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def spy_on_decoders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every pixel decoder Pillow creates from now on (one per decode)."""
    created: list[str] = []
    real: Callable[..., Any] = Image._getdecoder

    def spy(mode: str, decoder_name: str, *args: Any) -> Any:
        created.append(decoder_name)
        return real(mode, decoder_name, *args)

    monkeypatch.setattr(Image, "_getdecoder", spy)
    return created
