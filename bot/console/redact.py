"""Photo redaction (issue 12, item 4): staff black out rectangles on an alert's photo.

Pure HTML forms, no script (the console's CSP forbids inline scripts and none is needed):
numeric fields give up to MAX_ZONES rectangles in the stored image's pixels, « Prévisualiser »
shows them on a copy with a graduated grid, « Masquer définitivement » applies them.

Applying: the picture is decoded, the rectangles filled with black, and a fresh image
re-encoded from raw pixels (no metadata) in the same format. For JPEG the rectangles are
widened to whole 16-pixel blocks and the chroma is not subsampled, so the black blocks
decode exactly black and nothing of what was under them survives in the compression. The new file is stored by its SHA-256 like any photo,
every reference to the old one (alerts, transcript attachments) points to the new one,
and the original file is erased from the disk.

Registered with one call in `setup_staff`: `redact.setup_redact(app)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import String, cast, delete, select, update

from bot.console.auth import check_csrf, csrf_token
from bot.console.common import (
    PHOTOS,
    STAFF_REPO,
    STAFF_USER,
    base_context,
    path_id,
    staff_only,
)
from storage.models import AlertPhoto, Message, Photo
from storage.photos import (
    FORMATS,
    drop_photo_bytes,
    encode_without_metadata,
    pixel_mode,
    still_used,
)

log = logging.getLogger(__name__)
MAX_ZONES = 3
PREVIEW_SIDE = 900
JPEG_BLOCK = 16  # 4:2:0 chroma subsampling: 16×16 pixel blocks
FIELDS = ("x", "y", "w", "h")
FIELD_LABELS = {"x": "Gauche (x)", "y": "Haut (y)", "w": "Largeur", "h": "Hauteur"}


@dataclass(frozen=True)
class Zone:
    x: int
    y: int
    w: int
    h: int

    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), right and bottom inclusive (PIL's rectangle)."""
        return self.x, self.y, self.x + self.w - 1, self.y + self.h - 1

    def widened(self, block: int, width: int, height: int) -> "Zone":
        left, top = self.x // block * block, self.y // block * block
        right = min(-(-(self.x + self.w) // block) * block, width)
        bottom = min(-(-(self.y + self.h) // block) * block, height)
        return Zone(left, top, right - left, bottom - top)


class ZoneError(ValueError):
    pass


def parse_zones(values: Mapping[str, Any], width: int, height: int) -> list[Zone]:
    """The zones of a form (x1, y1, w1, h1 … up to MAX_ZONES), clipped to the image.
    A zone left empty is skipped; a half-filled or empty-sized one is an error."""
    zones = []
    for n in range(1, MAX_ZONES + 1):
        raw = [str(values.get(f"{f}{n}", "") or "").strip() for f in FIELDS]
        if not any(raw):
            continue
        try:
            x, y, w, h = (int(v) for v in raw)
        except ValueError:
            raise ZoneError(f"Zone {n} : indiquez quatre nombres entiers de pixels.") from None
        if min(x, y) < 0 or min(w, h) <= 0:
            raise ZoneError(
                f"Zone {n} : la position doit être positive ou nulle, la largeur "
                "et la hauteur supérieures à zéro."
            )
        if x >= width or y >= height:
            raise ZoneError(
                f"Zone {n} : elle commence hors de l'image ({width} × {height} pixels)."
            )
        zones.append(Zone(x, y, min(w, width - x), min(h, height - y)))
    return zones


def redact_bytes(data: bytes, fmt: str, zones: list[Zone]) -> tuple[bytes, int, int]:
    """The picture with the zones filled with black, re-encoded without metadata."""
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        im.load()
        mode = pixel_mode(im.mode, fmt)
        pixels = im.convert(mode)
    draw = ImageDraw.Draw(pixels)
    for zone in zones:
        if fmt == "JPEG":
            zone = zone.widened(JPEG_BLOCK, pixels.width, pixels.height)
        draw.rectangle(zone.box(), fill=(0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0))
    # 4:4:4 for JPEG (no chroma subsampling): the decoder's chroma upsampling would
    # otherwise bleed a tint of the neighbouring blocks into the black ones.
    encoded = encode_without_metadata(pixels, fmt, jpeg_subsampling=0)
    return encoded, pixels.width, pixels.height


def preview_png(data: bytes, fmt: str, zones: list[Zone]) -> bytes:
    """A smaller copy with the zones in black (outlined) and a grid every tenth, labelled
    in the stored image's pixels: what staff read to fill the fields."""
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        im.load()
        width, height = im.size
        copy = im.convert("RGB")
    scale = min(1.0, PREVIEW_SIDE / max(width, height))
    copy = copy.resize((max(1, round(width * scale)), max(1, round(height * scale))))
    draw = ImageDraw.Draw(copy)
    font = ImageFont.load_default()
    for i in range(1, 10):
        gx, gy = round(copy.width * i / 10), round(copy.height * i / 10)
        draw.line([(gx, 0), (gx, copy.height)], fill=(255, 153, 64), width=1)
        draw.line([(0, gy), (copy.width, gy)], fill=(255, 153, 64), width=1)
        for text, xy in (
            (str(round(width * i / 10)), (gx + 2, 2)),
            (str(round(height * i / 10)), (2, gy + 2)),
        ):
            draw.text(
                xy, text, fill=(255, 255, 255), font=font, stroke_width=2, stroke_fill=(0, 0, 0)
            )
    for zone in zones:
        if fmt == "JPEG":
            zone = zone.widened(JPEG_BLOCK, width, height)
        left, top, right, bottom = zone.box()
        draw.rectangle(
            (left * scale, top * scale, (right + 1) * scale - 1, (bottom + 1) * scale - 1),
            fill=(0, 0, 0),
            outline=(255, 0, 0),
            width=2,
        )
    out = io.BytesIO()
    copy.save(out, "PNG")
    return out.getvalue()


def _format_of(photo: Photo) -> str:
    return next(fmt for fmt, (ctype, _ext) in FORMATS.items() if ctype == photo.content_type)


async def _photo_of(request: web.Request) -> tuple[str, int, Photo]:
    """The alert's photo at position n (1-based), else 404."""
    alert_id = request.match_info["alert_id"]
    n = path_id(request, "n") or 0  # 0: no such photo
    db = request.config_dict[STAFF_REPO]().db
    async with db.session() as session:
        found = (
            (
                await session.execute(
                    select(Photo)
                    .join(AlertPhoto, AlertPhoto.photo_sha256 == Photo.sha256)
                    .where(AlertPhoto.alert_id == alert_id)
                    .order_by(AlertPhoto.position)
                    .offset(n - 1)
                    .limit(1)
                )
            ).scalar_one_or_none()
            if n >= 1
            else None
        )
    if found is None:
        raise web.HTTPNotFound(text="Photo introuvable.")
    return alert_id, n, found


async def _read(request: web.Request, photo: Photo) -> bytes:
    data = await request.config_dict[PHOTOS]().read(photo.path)
    if data is None:
        raise web.HTTPNotFound(text="Le fichier de cette photo n'est plus enregistré.")
    return data


def _zone_query(values: Mapping[str, Any]) -> dict[str, str]:
    return {
        f"{f}{n}": str(values.get(f"{f}{n}", "") or "")
        for n in range(1, MAX_ZONES + 1)
        for f in FIELDS
        if values.get(f"{f}{n}")
    }


async def _render(
    request: web.Request,
    alert_id: str,
    n: int,
    photo: Photo,
    values: Mapping[str, Any],
    zones: list[Zone],
    error: str | None,
    status: int = 200,
) -> web.Response:
    session = await get_session(request)
    query = _zone_query(values)
    return aiohttp_jinja2.render_template(
        "redact.html",
        request,
        base_context(
            request,
            alert_id=alert_id,
            n=n,
            photo=photo,
            values=values,
            zones=zones,
            error=error,
            fields=FIELDS,
            field_labels=FIELD_LABELS,
            max_zones=MAX_ZONES,
            preview_query=urlencode(query),
            csrf_token=csrf_token(session),
            base=f"/staff/alerts/{alert_id}/photos/{n}",
        ),
        status=status,
    )


@staff_only("page")
async def redact_page(request: web.Request) -> web.Response:
    alert_id, n, photo = await _photo_of(request)
    try:
        zones = parse_zones(request.query, photo.width, photo.height)
        error = None
    except ZoneError as exc:
        zones, error = [], str(exc)
    return await _render(request, alert_id, n, photo, request.query, zones, error)


@staff_only("api")
async def preview(request: web.Request) -> web.Response:
    _alert_id, _n, photo = await _photo_of(request)
    try:
        zones = parse_zones(request.query, photo.width, photo.height)
    except ZoneError:
        zones = []
    data = await _read(request, photo)
    png = await asyncio.get_running_loop().run_in_executor(
        None, preview_png, data, _format_of(photo), zones
    )
    return web.Response(body=png, content_type="image/png")


@staff_only("page")
async def apply(request: web.Request) -> web.StreamResponse:
    form = await check_csrf(request)
    alert_id, n, photo = await _photo_of(request)
    try:
        zones = parse_zones(form, photo.width, photo.height)
    except ZoneError as exc:
        return await _render(request, alert_id, n, photo, form, [], str(exc), status=400)
    if not zones:
        return await _render(
            request,
            alert_id,
            n,
            photo,
            form,
            [],
            "Indiquez au moins une zone à masquer.",
            status=400,
        )
    photos = request.config_dict[PHOTOS]()
    data = await _read(request, photo)
    fmt = _format_of(photo)
    loop = asyncio.get_running_loop()
    redacted, width, height = await loop.run_in_executor(None, redact_bytes, data, fmt, zones)
    await _repoint(
        request.config_dict[STAFF_REPO]().db, photos, photo, redacted, fmt, (width, height)
    )
    if Path(photo.path).stem != hashlib.sha256(redacted).hexdigest():
        photos.remove([{"path": photo.path}])  # a file from the embedded store
    log.info(
        "photo of alert %s redacted by %s (%d zones)", alert_id, request[STAFF_USER], len(zones)
    )
    raise web.HTTPFound(f"/staff/alerts/{alert_id}#photo-{n}")


async def _repoint(db, photos, old: Photo, data: bytes, fmt: str, size: tuple[int, int]) -> None:
    """The redacted bytes stored; every alert and transcript message that had the old
    photo gets the new one; the old photo's row (and its bytes, in a shared store) goes.
    One transaction."""
    async with db.session() as session:
        async with session.begin():
            digest, relative, content_type = await photos.put_cleaned(session, data, fmt)
            new = {
                "sha256": digest,
                "path": relative,
                "content_type": content_type,
                "size": len(data),
                "width": size[0],
                "height": size[1],
            }
            if await session.get(Photo, new["sha256"]) is None:
                session.add(Photo(**new))
                await session.flush()
            await session.execute(
                update(AlertPhoto)
                .where(AlertPhoto.photo_sha256 == old.sha256)
                .values(photo_sha256=new["sha256"])
            )
            messages = (
                (
                    await session.execute(
                        select(Message).where(
                            cast(Message.attachments, String).contains(old.sha256)
                        )
                    )
                )
                .scalars()
                .all()
            )
            for message in messages:
                message.attachments = [
                    dict(new) if isinstance(a, dict) and a.get("sha256") == old.sha256 else a
                    for a in message.attachments or []
                ]
            if new["sha256"] != old.sha256:
                await session.execute(delete(Photo).where(Photo.sha256 == old.sha256))
                if not await still_used(session, [old.sha256]):  # another's draft, say
                    await drop_photo_bytes(session, [old.sha256])


def setup_redact(app: web.Application) -> None:
    r = app.router
    r.add_get("/alerts/{alert_id}/photos/{n}/redact", redact_page)
    r.add_get("/alerts/{alert_id}/photos/{n}/preview.png", preview)
    r.add_post("/alerts/{alert_id}/photos/{n}/redact", apply)
