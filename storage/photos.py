"""Untrusted pictures in, clean pictures out: whitelisted formats, no metadata, bounded size."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
import threading
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from PIL import Image, ImageOps, UnidentifiedImageError

from storage.private import private_dir

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2048
# A 48-megapixel phone photo is fine; a 50-megapixel "bomb" is not. JPEG is decoded
# already reduced (DCT scaling: 1/2 to 1/8), so even at the limit it costs little; PNG and
# WEBP are decoded whole (4 bytes a pixel): 16 megapixels at most, about 64 MB.
MAX_PIXELS = 49_000_000
MAX_PIXELS_FULL_DECODE = 16_000_000
# At most two decodes at a time per process, whatever the number of uploads.
_DECODING = threading.BoundedSemaphore(2)
FORMATS = {  # Pillow format -> (content type, extension)
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


class PhotoRejected(Exception):
    """The file is not a picture we accept; `reason` is a stable code for the message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    path: str  # relative to the photo store's root
    content_type: str
    size: int
    width: int
    height: int

    def to_dict(self) -> dict:
        return asdict(self)


def clean_image(data: bytes) -> tuple[bytes, str, int, int]:
    """Decodes, orients, shrinks and re-encodes `data`; returns (bytes, format, w, h).

    Blocking and CPU-heavy: run it in an executor. Raises PhotoRejected.
    """
    if len(data) > MAX_BYTES:
        raise PhotoRejected("too_large")
    if not data:
        raise PhotoRejected("not_an_image")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # The header alone says the format and size: refused before any decoding.
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
                fmt = probe.format
                pixels = probe.width * probe.height
                if pixels > MAX_PIXELS or (fmt != "JPEG" and pixels > MAX_PIXELS_FULL_DECODE):
                    raise PhotoRejected("too_many_pixels")
                probe.verify()
            # verify() leaves the image unusable: decode a fresh one.
            with _DECODING, Image.open(io.BytesIO(data), formats=[fmt]) as im:
                if fmt == "JPEG":
                    im.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decoded at 1/2…1/8 scale
                im.load()
                # Shrunk before anything else copies it; the EXIF orientation stays.
                im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                oriented = ImageOps.exif_transpose(im)
        except PhotoRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected("too_many_pixels") from None
        except UnidentifiedImageError:
            raise PhotoRejected("not_an_image") from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise PhotoRejected("corrupt") from None
    if fmt not in FORMATS:
        raise PhotoRejected("not_an_image")
    encoded = encode_without_metadata(oriented.convert(pixel_mode(oriented.mode, fmt)), fmt)
    return encoded, fmt, oriented.width, oriented.height


def pixel_mode(mode: str, fmt: str) -> str:
    """The mode a picture is re-encoded in: transparency kept where the format has it."""
    return "RGBA" if mode in ("RGBA", "LA", "P") and fmt != "JPEG" else "RGB"


def encode_without_metadata(
    pixels: Image.Image, fmt: str, jpeg_subsampling: int | None = None
) -> bytes:
    """`pixels` re-encoded in `fmt` from a fresh image of its raw pixels, which carries no
    EXIF, GPS, XMP, ICC or text chunks (the one encoder of photos and redactions)."""
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if fmt == "JPEG":
        options = {} if jpeg_subsampling is None else {"subsampling": jpeg_subsampling}
        clean.save(out, "JPEG", quality=85, optimize=True, **options)
    elif fmt == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=85)
    return out.getvalue()


class PhotoStore:
    """Cleaned pictures under `root`, content-addressed by SHA-256: the embedded store of
    one host (SQLite). `SharedPhotoStore` keeps the bytes in PostgreSQL instead."""

    shared = False

    def __init__(self, root: Path):
        self.root = root

    def ingest(self, data: bytes) -> StoredPhoto:
        """Cleans and stores a picture (blocking). Raises PhotoRejected."""
        cleaned, fmt, width, height = clean_image(data)
        digest, relative, content_type = store_file(self.root, cleaned, fmt)
        return StoredPhoto(digest, relative, content_type, len(cleaned), width, height)

    async def store(self, data: bytes) -> StoredPhoto:
        """Cleans (in an executor: CPU-heavy) and stores a picture. Raises PhotoRejected."""
        return await asyncio.get_running_loop().run_in_executor(None, self.ingest, data)

    async def put_cleaned(self, session, data: bytes, fmt: str) -> tuple[str, str, str]:
        """Stores already cleaned bytes (a redaction); (sha256, path, content type).
        `session`: the transaction that refers to them (unused for files)."""
        return await asyncio.get_running_loop().run_in_executor(
            None, store_file, self.root, data, fmt
        )

    async def read(self, relative: str) -> bytes | None:
        """The bytes of a stored photo, None if they are gone."""
        path = self._inside(relative)
        if path is None or not path.is_file():
            return None
        return await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)

    def path_of(self, photo: StoredPhoto) -> Path:
        return self.root / photo.path

    def _inside(self, relative: str) -> Path | None:
        root = self.root.resolve()
        path = (self.root / relative).resolve()
        return path if root in path.parents else None

    def remove(self, photos: list[dict]) -> None:
        """Erases these stored files (only ever inside the store), once the transaction
        that dropped their rows has committed."""
        for photo in photos:
            path = self._inside(str(photo.get("path", "")))
            if path is not None and path.is_file():
                path.unlink()


class SharedPhotoStore(PhotoStore):
    """Cleaned pictures in the shared database (table photo_blobs), so that every host
    sees a photo uploaded through any of them, and the transaction that erases a photo's
    rows erases its bytes too (storage.repository, storage.retention, the redaction).
    Files under `root` from before (a host that ran alone) are still read and erased."""

    shared = True

    def __init__(self, root: Path, db):
        super().__init__(root)
        self.db = db

    async def store(self, data: bytes) -> StoredPhoto:
        loop = asyncio.get_running_loop()
        cleaned, fmt, width, height = await loop.run_in_executor(None, clean_image, data)
        async with self.db.session() as session, session.begin():
            digest, relative, content_type = await self.put_cleaned(session, cleaned, fmt)
        return StoredPhoto(digest, relative, content_type, len(cleaned), width, height)

    async def put_cleaned(self, session, data: bytes, fmt: str) -> tuple[str, str, str]:
        from storage.models import PhotoBlob

        digest = hashlib.sha256(data).hexdigest()
        content_type, ext = FORMATS[fmt]
        table = PhotoBlob.__table__
        await session.execute(
            self.db.insert(table)
            .values(sha256=digest, data=data, created_at=datetime.now(timezone.utc))
            .on_conflict_do_nothing(index_elements=[table.c.sha256])
        )
        return digest, str(Path(digest[:2]) / f"{digest}.{ext}"), content_type

    async def read(self, relative: str) -> bytes | None:
        from sqlalchemy import select

        from storage.models import PhotoBlob

        async with self.db.session() as session:
            data = await session.scalar(
                select(PhotoBlob.data).where(PhotoBlob.sha256 == Path(relative).stem)
            )
        return bytes(data) if data is not None else await super().read(relative)


async def share_local_photos(store: PhotoStore) -> int:
    """A host that ran alone (or on the previous release) kept its photos on its disk:
    those files are moved into the shared store, so that every host serves them and an
    erasure handled by any host leaves no copy on this one. Run at start; idempotent (a
    photo already there only loses its local file). Returns how many were copied."""
    if not isinstance(store, SharedPhotoStore) or not store.root.exists():
        return 0
    from sqlalchemy import select

    from storage.models import PhotoBlob

    files = {p.stem: p for p in store.root.rglob("*.*") if p.is_file() and len(p.stem) == 64}
    if not files:
        return 0
    async with store.db.session() as session:
        there = set(
            (
                await session.execute(
                    select(PhotoBlob.sha256).where(PhotoBlob.sha256.in_(list(files)))
                )
            ).scalars()
        )
        # Only what something still refers to: a photo erased meanwhile (through another
        # host) must not come back; the rest is left to the retention purge.
        used = await still_used(session, set(files) - there)
    copied = 0
    for sha, path in files.items():
        fmt = next((f for f, (_c, ext) in FORMATS.items() if path.suffix == f".{ext}"), None)
        if fmt is None or (sha not in there and sha not in used):
            continue
        if sha not in there:
            try:
                data = path.read_bytes()
            except FileNotFoundError:  # another worker of this host moved it first
                continue
            if hashlib.sha256(data).hexdigest() != sha:
                continue  # not a file of the store (or damaged): never shared under this name
            async with store.db.session() as session, session.begin():
                await store.put_cleaned(session, data, fmt)
            copied += 1
        path.unlink(missing_ok=True)  # committed: the database holds it now
    return copied


async def still_used(session, shas: Iterable[str], but_conversation: int | None = None) -> set[str]:
    """Those of `shas` an alert, a draft or a pending upload refers to (photos are stored
    by content: two people may send the same picture); `but_conversation`: that one's
    draft not counted (the person being forgotten)."""
    from sqlalchemy import String, cast, select

    from storage.models import AlertPhoto, Conversation, PendingUpload

    used = set()
    drafts = cast(Conversation.state, String)
    uploads = cast(PendingUpload.photo, String)
    for sha in {s for s in shas if isinstance(s, str)}:
        in_draft = select(drafts).where(drafts.contains(sha))
        if but_conversation is not None:
            in_draft = in_draft.where(Conversation.id != but_conversation)
        for query in (in_draft, select(uploads).where(uploads.contains(sha))):
            if await session.scalar(query.limit(1)):
                used.add(sha)
        if await session.scalar(
            select(AlertPhoto.photo_sha256).where(AlertPhoto.photo_sha256 == sha).limit(1)
        ):
            used.add(sha)
    return used


async def drop_photo_bytes(session, shas: Iterable[str]) -> None:
    """In the caller's transaction: the shared store's bytes of these photos."""
    from sqlalchemy import delete

    from storage.models import PhotoBlob

    shas = [s for s in shas if isinstance(s, str)]
    if shas:
        await session.execute(delete(PhotoBlob).where(PhotoBlob.sha256.in_(shas)))


def photo_store(root: Path, db) -> PhotoStore:
    """Bytes in the database when it is shared by several hosts, else files."""
    if db.engine.dialect.name == "postgresql":
        return SharedPhotoStore(root, db)
    return PhotoStore(root)


def store_file(root: Path, data: bytes, fmt: str) -> tuple[str, str, str]:
    """Writes cleaned image bytes under `root` by their SHA-256, atomically (a reader
    never sees half a file); returns (sha256, relative path, content type)."""
    digest = hashlib.sha256(data).hexdigest()
    content_type, ext = FORMATS[fmt]
    relative = Path(digest[:2]) / f"{digest}.{ext}"
    target = root / relative
    if not target.exists():
        private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".store-")  # 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    return digest, str(relative), content_type
