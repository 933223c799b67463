"""Hostile payloads built at test time, so no large or dangerous file is committed.

Each builder writes into a case folder copied from ``fixtures/hostile/<family>/<case>/``;
:data:`PAYLOADS` maps ``"<family>/<case>"`` to its builder. Builders are small and
deterministic: a bomb is a few kilobytes on disk that claims gigapixels or decompresses to
tens of megabytes.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image

FIXTURE_IMAGES = Path(__file__).resolve().parents[2] / "fixtures" / "images"
GOOD_JPEG = (FIXTURE_IMAGES / "plain.jpg").read_bytes()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A ~60-byte PNG whose header claims ``width`` x ``height`` pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_with_garbled_pixels() -> bytes:
    """A valid PNG header and IDAT chunk (correct CRC) whose compressed pixels are noise."""
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    noise = bytes((i * 31 + 7) % 256 for i in range(2_000))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", b"\x78\x9c" + noise)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """The good JPEG with its frame header (SOF) rewritten to claim other dimensions."""
    data = bytearray(GOOD_JPEG)
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at > 0:
            data[at + 5 : at + 9] = struct.pack(">HH", height, width)
            return bytes(data)
    raise AssertionError("plain.jpg has no SOF0/SOF2 marker")


def jpeg_with_segment(marker: int, payload: bytes) -> bytes:
    """The good JPEG with one more APPn segment right after SOI."""
    segment = struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload
    return GOOD_JPEG[:2] + segment + GOOD_JPEG[2:]


def _xmp(dtd: str) -> bytes:
    packet = (
        f'<?xml version="1.0"?>{dtd}'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:rights>&e;</dc:rights>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    return jpeg_with_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode())


def billion_laughs_dtd(levels: int = 10) -> str:
    """The classic entity-expansion DTD: each level names the previous one ten times."""
    entities = ['<!ENTITY e0 "lol">'] + [
        f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, levels)
    ]
    return f'<!DOCTYPE x [{"".join(entities)}<!ENTITY e "&e{levels - 1};">]>'


def gif_with_frames(count: int) -> bytes:
    """A 2x2 animated GIF with ``count`` frames (alternating colours so none are merged)."""
    frames = [Image.new("P", (2, 2), i % 2) for i in range(count)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 255, 255] * 128)
    buffer = BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=10, loop=0)
    return buffer.getvalue()


def jumbf_claiming(size: int) -> bytes:
    """A JPEG APP11 (JUMBF) segment whose superbox declares ``size`` bytes it does not have."""
    box = struct.pack(">I", size) + b"jumb" + struct.pack(">I", 16) + b"jumd" + b"c2pa" * 4
    return jpeg_with_segment(0xEB, b"JP" + struct.pack(">HI", 1, 1) + box)


def _write(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _images_bomb(root: Path) -> None:
    _write(root, {"bomb.png": png_claiming(50_000, 50_000)})


def _images_huge_dimensions(root: Path) -> None:
    _write(root, {"huge.jpg": jpeg_claiming(65_000, 65_000)})


def _images_truncated(root: Path) -> None:
    _write(root, {"cut.jpg": GOOD_JPEG[: len(GOOD_JPEG) * 2 // 3]})


def _images_corrupt(root: Path) -> None:
    noise = bytes((i * 7919 + 13) % 251 for i in range(20_000))
    _write(root, {"noise.jpg": noise, "garbled.png": png_with_garbled_pixels()})


def _images_content_type(root: Path) -> None:
    _write(root, {"photo-as-html.jpg": GOOD_JPEG, "untyped.jpg": GOOD_JPEG})


def _images_frames(root: Path) -> None:
    _write(root, {"flood.gif": gif_with_frames(3_000)})


def _images_xmp_entities(root: Path) -> None:
    external = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    _write(root, {"laughs.jpg": _xmp(billion_laughs_dtd()), "xxe.jpg": _xmp(external)})


def _images_exif(root: Path) -> None:
    garbage_ifd = b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 0xFFFF)
    _write(root, {"exif.jpg": jpeg_with_segment(0xE1, garbage_ifd + b"\x01" * 64)})


def _images_c2pa(root: Path) -> None:
    _write(root, {"c2pa.jpg": jumbf_claiming(0x7FFF_FFF0)})


def _html_bombs(root: Path) -> None:
    decoded = b"<p>" + b"A" * (40 * 1024 * 1024) + b"</p>"
    _write(
        root,
        {
            "gzip-bomb.html": gzip.compress(decoded, compresslevel=9),
            "deflate-bomb.html": zlib.compress(decoded, 9),
        },
    )


def _html_long_line(root: Path) -> None:
    line = "<p>" + "x" * (1024 * 1024) + '</p><img src="/after-the-line.jpg" alt="end">'
    _write(root, {"long.html": line.encode(), "after-the-line.jpg": GOOD_JPEG})


def _html_encodings(root: Path) -> None:
    _write(
        root,
        {
            "bad-utf8.html": b"<title>caf\xc3 \xff\xfe</title><img src='/enc.jpg' alt='\xe9\x80'>",
            "utf16-lie.html": "<title>lie</title>".encode("utf-16") + b"\x00<img src='/x.jpg'>",
            "enc.jpg": GOOD_JPEG,
        },
    )


def _html_nesting(root: Path) -> None:
    depth = 100_000
    page = "<div>" * depth + '<img src="/deep.jpg" alt="deep">' + "</div>" * depth
    _write(root, {"deep.html": page.encode(), "deep.jpg": GOOD_JPEG})


def _html_robots_huge(root: Path) -> None:
    head = b"User-agent: *\nDisallow: /private/\n"
    filler = b"# " + b"padding " * 12 + b"\n"
    _write(root, {"robots.txt": head + filler * (3 * 1024 * 1024 // len(filler))})


def _html_robots_binary(root: Path) -> None:
    _write(root, {"robots.txt": bytes(range(256)) * 64})


def _html_tdmrep(root: Path) -> None:
    _write(
        root,
        {
            ".well-known/tdmrep.json": b"[" + b'{"location": "/", "tdm-reservation": 1},' * 20_000,
            "ai.txt": b"\x00\xff" * 300_000,
        },
    )


def _html_many_images(root: Path) -> None:
    tags = "".join(f'<img src="/many/{i}.jpg" alt="{i}">' for i in range(1_500))
    _write(root, {"many.html": tags.encode()})


def _transport_photos(root: Path) -> None:
    names = ("short.jpg", "long.jpg", "reset.jpg", "endless.jpg", "img-loop.jpg")
    _write(root, dict.fromkeys(names, GOOD_JPEG))


def _reports_markup(root: Path) -> None:
    _write(root, {"headers.jpg": GOOD_JPEG})


PAYLOADS: dict[str, Callable[[Path], None]] = {
    "images/bomb": _images_bomb,
    "images/huge_dimensions": _images_huge_dimensions,
    "images/truncated": _images_truncated,
    "images/corrupt": _images_corrupt,
    "images/content_type": _images_content_type,
    "images/frames": _images_frames,
    "images/xmp_entities": _images_xmp_entities,
    "images/exif": _images_exif,
    "images/c2pa": _images_c2pa,
    "html_text/compression_bombs": _html_bombs,
    "html_text/long_line": _html_long_line,
    "html_text/encodings": _html_encodings,
    "html_text/nesting": _html_nesting,
    "html_text/robots_huge": _html_robots_huge,
    "html_text/robots_binary": _html_robots_binary,
    "html_text/origin_files": _html_tdmrep,
    "html_text/many_images": _html_many_images,
    "transport/content_length": _transport_photos,
    "transport/resets": _transport_photos,
    "transport/endless": _transport_photos,
    "reports_injection/markup": _reports_markup,
}
