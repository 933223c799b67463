"""Pixels and files of the benchmark site: textures, faces, metadata variants, unique bytes.

Split from :mod:`sitegen` (which plans the site and writes its pages and ground truth). Pixels
are encoded once per variant (size class x format x content x metadata) and cached; every file
is then made unique by inserting a per-image comment, so each has its own sha256.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Final, Literal

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

REPO: Final = Path(__file__).resolve().parent.parent
FACES_DIR: Final = REPO / "fixtures" / "images" / "faces"
Format = Literal["JPEG", "PNG", "WEBP"]


@dataclass(frozen=True)
class SizeClass:
    """One image size of the mix: pixels and the encoder quality that gives realistic bytes."""

    name: str
    width: int
    height: int
    noise: int
    """Amplitude of the fine grain added to the texture; more grain, more bytes."""


SIZE_CLASSES: Final = {
    c.name: c
    for c in (
        SizeClass("thumb", 480, 360, 12),
        SizeClass("1mp", 1152, 864, 12),
        SizeClass("3mp", 2048, 1536, 10),
        SizeClass("5mp", 2592, 1944, 10),
        SizeClass("12mp", 4000, 3000, 8),
    )
}
JPEG_QUALITY: Final = 85
WEBP_QUALITY: Final = 80

FACE_SOURCES: Final = {"portrait": ("portrait.jpg", 1), "group": ("group.jpg", 3),
                       "noface": ("noface.jpg", 0)}  # fmt: skip
"""Face fixture per content kind, with its labelled human face count (fixtures' docstring)."""
DATA_MINING: Final = {
    "dm-aiml": "DMI-PROHIBITED-AIMLTRAINING",
    "dm-genai": "DMI-PROHIBITED-GENAIMLTRAINING",
}
GPS_POSITION: Final = (51.5072, -0.1276)
"""London; the auditor coarsens it to 2 decimals."""


# --- pixels and files -----------------------------------------------------------------------


def texture(width: int, height: int, seed: int, noise: int) -> Image.Image:
    """A photo-like texture: smooth colour fields plus grain, so encoders work as on photos."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (max(2, height // 48), max(2, width // 48), 3), dtype=np.uint8)
    base = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(base).astype(np.int16)
    pixels += rng.integers(-noise, noise + 1, (height, width, 1), dtype=np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@cache
def face_source(content: str) -> Image.Image:
    image = Image.open(FACES_DIR / FACE_SOURCES[content][0])
    image.load()
    return image.convert("RGB")


def xmp_packet(metadata: str) -> bytes:
    """An XMP packet with IPTC ``plus:DataMining`` and/or rights fields, as cameras and DAMs
    write them."""
    fields = []
    if metadata in DATA_MINING:
        fields.append(
            f"<plus:DataMining>http://ns.useplus.org/ldf/vocab/{DATA_MINING[metadata]}"
            "</plus:DataMining>"
        )
    if "rights" in metadata:
        fields.append(
            "<xmpRights:Marked>True</xmpRights:Marked>"
            "<xmpRights:WebStatement>https://photos.example/licence</xmpRights:WebStatement>"
            "<dc:rights><rdf:Alt><rdf:li xml:lang='x-default'>(c) Bench Photo Ltd</rdf:li>"
            "</rdf:Alt></dc:rights>"
        )
    return (
        "<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>"
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
        "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        "<rdf:Description rdf:about='' xmlns:plus='http://ns.useplus.org/ldf/xmp/1.0/' "
        "xmlns:xmpRights='http://ns.adobe.com/xap/1.0/rights/' "
        "xmlns:dc='http://purl.org/dc/elements/1.1/'>"
        f"{''.join(fields)}</rdf:Description></rdf:RDF></x:xmpmeta>"
        "<?xpacket end='w'?>"
    ).encode()


def exif_for(metadata: str) -> Image.Exif | None:
    if "gps" not in metadata and "rights" not in metadata:
        return None
    exif = Image.Exif()
    if "rights" in metadata:
        exif[0x013B] = "Bench Photographer"  # Artist
        exif[0x8298] = "(c) Bench Photo Ltd"  # Copyright
    if "gps" in metadata:
        gps = exif.get_ifd(0x8825)
        for axis, value, refs in ((1, GPS_POSITION[0], "NS"), (3, GPS_POSITION[1], "EW")):
            degrees = abs(value)
            minutes = (degrees % 1) * 60
            gps[axis] = refs[0] if value >= 0 else refs[1]
            gps[axis + 1] = (float(int(degrees)), float(int(minutes)), round((minutes % 1) * 60, 2))
    return exif


@lru_cache(maxsize=2)
def pixels_for(size: str, content: str, variant: int) -> Image.Image:
    """The pixels of one variant: a texture, or a face fixture centred on a texture."""
    shape = SIZE_CLASSES[size]
    canvas = texture(shape.width, shape.height, 1000 * variant + shape.width, shape.noise)
    if content == "texture":
        return canvas
    photo = face_source(content)
    scale = shape.height / photo.height
    scaled = photo.resize(
        (round(photo.width * scale), shape.height), Image.Resampling.LANCZOS, reducing_gap=3.0
    )
    canvas.paste(scaled, ((shape.width - scaled.width) // 2, 0))
    return canvas


@lru_cache(maxsize=6)
def plain_jpeg(size: str, content: str, variant: int) -> bytes:
    out = io.BytesIO()
    pixels_for(size, content, variant).save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


@lru_cache(maxsize=32)
def encoded_variant(size: str, fmt: Format, content: str, metadata: str, variant: int) -> bytes:
    """Encode one variant once; every image of the variant is a copy with its own comment.

    JPEG metadata (EXIF, XMP) is spliced in as APP1 segments after SOI, so the pixels of a
    JPEG variant are encoded once whatever its metadata; WebP and PNG go through Pillow.
    """
    exif = exif_for(metadata)
    xmp = xmp_packet(metadata) if metadata in DATA_MINING or "rights" in metadata else None
    if fmt == "JPEG":
        plain = plain_jpeg(size, content, variant)
        segments = b""
        if exif is not None:
            segments += jpeg_segment(0xE1, b"Exif\x00\x00" + exif.tobytes())
        if xmp is not None:
            segments += jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + xmp)
        return plain[:2] + segments + plain[2:]
    image = pixels_for(size, content, variant)
    options: dict[str, object] = {}
    if exif is not None:
        # As bytes: Pillow skips an Exif object whose only content is the GPS IFD (its
        # truthiness counts top-level tags only).
        options["exif"] = exif.tobytes()
    out = io.BytesIO()
    if fmt == "WEBP":
        if xmp is not None:
            options["xmp"] = xmp
        image.save(out, "WEBP", quality=WEBP_QUALITY, **options)
    else:
        info = PngImagePlugin.PngInfo()
        if xmp is not None:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode(), zip=False)
        # Posterised: PNG on the web is mostly graphics, and grainy photos would be huge.
        ImageOps.posterize(image, 3).save(out, "PNG", pnginfo=info, **options)
    return out.getvalue()


def personalise(data: bytes, fmt: str, tag: bytes) -> bytes:
    """Insert a comment that makes the file's bytes (and sha256) unique, without re-encoding.

    JPEG: a ``COM`` segment right after SOI. PNG: a ``tEXt`` chunk before ``IEND``. WebP: an
    unknown ``BNCH`` chunk appended to the RIFF container (decoders skip unknown chunks), with
    the RIFF size fixed up.
    """
    if fmt == "JPEG":
        return data[:2] + b"\xff\xfe" + struct.pack(">H", len(tag) + 2) + tag + data[2:]
    if fmt == "PNG":
        body = b"Comment\x00" + tag
        chunk = struct.pack(">I", len(body)) + b"tEXt" + body
        chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
        return data[:-12] + chunk + data[-12:]
    padded = tag + b"\x00" * (len(tag) % 2)
    extra = b"BNCH" + struct.pack("<I", len(tag)) + padded
    return data[:4] + struct.pack("<I", len(data) - 8 + len(extra)) + data[8:] + extra
