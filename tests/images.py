"""Pictures made on the fly for the photo tests (no binary fixtures in the repository)."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size: tuple[int, int] = (300, 200), orientation: int = 6) -> bytes:
    """A JPEG carrying GPS coordinates and an orientation tag, like a phone photo."""
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (120, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 40)).save(out, fmt)
    return out.getvalue()


def pixel_bomb() -> bytes:
    """A small PNG file that decodes to 50 megapixels."""
    out = io.BytesIO()
    Image.new("1", (8000, 6300)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML_AS_JPG = b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>"
