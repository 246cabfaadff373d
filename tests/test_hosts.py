"""Two hosts, one service (issue 21): two web servers with their own data directories on
one PostgreSQL database, as two machines behind a proxy would be. What one host stored,
the other serves; what one erases is gone from both; a session issued by one is taken by
the other. (The same with real processes behind nginx: tests/test_deploy.py.)"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.channels.web.app import create_app
from storage.models import Photo, PhotoBlob
from storage.photos import SharedPhotoStore, photo_store
from storage.staff import StaffRepository
from tests.conftest import STAFF_PASSWORD, make_bot, web_config
from tests.images import jpeg_with_gps
from tests.test_staff import log_in
from tests.test_web import open_session, turn

SECRET = "one-secret-for-every-host-0123456789abcdef"


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
async def make_hosts(nlu, taxonomy, tmp_path, postgres_server, aiohttp_client):
    """Hosts A and B: each its own data directory and runtime, one database, one secret
    (`overrides`: the same configuration changes on both)."""
    from tests.postgres import create_database

    made = []

    async def make(**overrides):
        url = await create_database(postgres_server, f"jalerte_hosts_{secrets.token_hex(4)}")
        for name in ("a", "b"):
            data = tmp_path / name
            bot = await make_bot(nlu, taxonomy, data, url, secret=SECRET.encode())
            bot.photos = bot.service.photos = photo_store(data / "photos", bot.db)
            config = web_config(
                tmp_path / name,
                secret_key=SECRET,
                database_url=url,
                staff_secure_cookies=False,
                **overrides,
            )
            client = await aiohttp_client(create_app(config, rt=bot.runtime))
            client.bot, client.data = bot, data
            made.append(client)
        await StaffRepository(made[0].bot.db).add_user("agent", STAFF_PASSWORD)
        return made

    yield make
    for client in made:
        await client.bot.db.close()


@pytest.fixture
async def hosts(make_hosts):
    return await make_hosts()


async def upload(client, session: str) -> str:
    form = aiohttp.FormData()
    form.add_field("session", session)
    form.add_field("file", jpeg_with_gps(), filename="IMG_1.jpg", content_type="image/jpeg")
    return (await (await client.post("/upload", data=form)).json())["upload_id"]


async def test_a_photo_given_to_one_host_is_seen_and_erased_through_the_other(hosts) -> None:
    a, b = hosts
    assert isinstance(a.bot.photos, SharedPhotoStore)
    # A person starts on host A and sends a photo there...
    ws, first = await open_session(a)
    session = first["session"]
    out = await turn(ws, {"type": "message", "text": "colis Chronopost perdu depuis 10 jours"})
    assert out["expecting"] == "location"
    out = await turn(ws, {"type": "photo", "upload_id": await upload(a, session)})
    assert "Photo ajoutée" in out["replies"][0]["text"]
    await ws.close()
    # ...then the proxy sends their reconnection to host B: same session, same draft.
    ws, again = await open_session(b, session)
    assert again["session"] == session and again["history"]
    out = await turn(ws, {"type": "message", "text": "Nantes"})
    assert out["expecting"] == "contacted_customer_service"
    out = await turn(ws, {"type": "choice", "value": "contacted_customer_service:no"})
    out = await turn(ws, {"type": "choice", "value": "confirm:send"})
    assert out["alert_id"] and len(out["alert"]["photos"]) == 1

    # No host keeps the photo on its disk: the bytes are in the database.
    assert files_under(a.data / "photos") == files_under(b.data / "photos") == []
    async with a.bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(PhotoBlob)) == 1

    # A staff member on host B opens the alert and sees the photo host A received.
    await log_in(b)
    detail = await (await b.get(f"/staff/alerts/{out['alert_id']}")).text()
    [src] = re.findall(r'<img src="(/staff/photos/[^"]+)"', detail)
    image = await b.get(src)
    assert image.status == 200 and image.headers["Content-Type"] == "image/jpeg"
    body = await image.read()
    assert body[:2] == b"\xff\xd8" and b"Exif" not in body  # cleaned, no GPS

    # « Oubliez-moi » handled by host A: the photo's row and bytes go in its transaction.
    ws2, _ = await open_session(a, session)
    out = await turn(ws2, {"type": "message", "text": "/oubliez-moi"})
    out = await turn(ws2, {"type": "choice", "value": "forget:yes"})
    async with b.bot.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(PhotoBlob)) == 0
        assert await s.scalar(select(func.count()).select_from(Photo)) == 0
    assert (await b.get(src)).status == 404
    assert files_under(a.data / "photos") == files_under(b.data / "photos") == []
    await ws.close()
    await ws2.close()


async def test_a_redaction_on_one_host_replaces_the_bytes_every_host_serves(hosts) -> None:
    a, b = hosts
    ws, first = await open_session(a)
    session = first["session"]
    await turn(ws, {"type": "message", "text": "colis Chronopost perdu depuis 10 jours"})
    await turn(ws, {"type": "photo", "upload_id": await upload(a, session)})
    await turn(ws, {"type": "message", "text": "Nantes"})
    await turn(ws, {"type": "choice", "value": "contacted_customer_service:no"})
    out = await turn(ws, {"type": "choice", "value": "confirm:send"})
    alert_id = out["alert_id"]
    await ws.close()
    async with a.bot.db.session() as s:
        [before] = (await s.execute(select(PhotoBlob.sha256))).scalars().all()

    await log_in(a)
    page = await (await a.get(f"/staff/alerts/{alert_id}/photos/1/redact")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = await a.post(
        f"/staff/alerts/{alert_id}/photos/1/redact",
        data={"csrf_token": token, "x1": "0", "y1": "0", "w1": "50", "h1": "50"},
        allow_redirects=False,
    )
    assert done.status == 302, await done.text()
    async with b.bot.db.session() as s:
        [after] = (await s.execute(select(PhotoBlob.sha256))).scalars().all()
    assert after != before  # the unredacted bytes are gone from the database

    await log_in(b)
    detail = await (await b.get(f"/staff/alerts/{alert_id}")).text()
    [src] = re.findall(r'<img src="(/staff/photos/[^"]+)"', detail)
    assert after in src and (await b.get(src)).status == 200
    assert files_under(a.data / "photos") == files_under(b.data / "photos") == []


async def test_a_stopping_host_answers_the_turns_in_flight_then_sends_people_elsewhere(
    aiohttp_server, sqlite_bot, tmp_path
) -> None:
    """SIGTERM (the server's cleanup): no new connections, the turn being answered is
    answered, then every socket is closed with 1012 so that the widget reconnects through
    the proxy to another host; a person who was only reading is sent there at once."""
    import asyncio

    from aiohttp import WSMsgType

    service = sqlite_bot.service
    real = service.handle
    started = asyncio.Event()

    async def slow(*args, **kwargs):
        started.set()
        await asyncio.sleep(0.8)  # a turn still in flight when the host is told to stop
        return await real(*args, **kwargs)

    server = await aiohttp_server(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    session = aiohttp.ClientSession()
    try:
        url = str(server.make_url("/ws"))
        busy = await session.ws_connect(url)
        reading = await session.ws_connect(url)
        for ws in (busy, reading):
            assert (await ws.receive_json())["type"] == "session"
        service.handle = slow
        await busy.send_json({"type": "message", "text": "colis Chronopost perdu depuis 10 jours"})
        await started.wait()
        stopping = asyncio.create_task(server.close())
        closed = await reading.receive(timeout=5)
        assert closed.type == WSMsgType.CLOSE and closed.data == 1012
        answer = await busy.receive_json(timeout=5)  # answered, not cut
        assert answer["type"] == "turn" and answer["expecting"] == "location"
        closed = await busy.receive(timeout=5)
        assert closed.type == WSMsgType.CLOSE and closed.data == 1012
        await stopping
    finally:
        service.handle = real
        await session.close()


async def test_an_address_limit_counts_what_every_host_received(make_hosts) -> None:
    """Per-address limits are counted in the database: spreading a burst over hosts does
    not multiply it."""
    from bot.channels.web.clients import AddressLimits
    from tests.conftest import clear_of_a_minute_change

    limits = AddressLimits(
        connections=0,
        sessions_per_hour=0,
        turns_per_minute=4,
        uploads_per_minute=0,
        notices_per_minute=0,
    )
    a, b = await make_hosts(web_address_limits=limits)
    await clear_of_a_minute_change()
    answers = []
    for client in (a, b, a, b, a, b):
        ws, _ = await open_session(client)
        answers.append(await turn(ws, {"type": "message", "text": "bonjour"}))
        await ws.close()
    kinds = [x.get("code") or x["type"] for x in answers]
    assert kinds == ["turn"] * 4 + ["rate_limited"] * 2


async def test_photos_a_host_kept_on_its_disk_are_shared_at_its_start(hosts) -> None:
    """A host that ran alone, or on the previous release, has photos on its disk: at
    start they are moved into the database, so that the other host serves them too and an
    erasure through the other host leaves nothing on this one."""
    from storage.photos import PhotoStore, share_local_photos

    from storage.shared import SharedState

    a, b = hosts
    stored = PhotoStore(a.data / "photos").ingest(jpeg_with_gps())  # as the previous release
    await SharedState(a.bot.db).put_upload("someone", stored.to_dict())  # still in use
    erased = PhotoStore(a.data / "photos").ingest(jpeg_with_gps(size=(320, 200)))
    assert await b.bot.photos.read(stored.path) is None
    local = (a.data / "photos" / stored.path).read_bytes()
    assert await share_local_photos(a.bot.photos) == 1
    assert await b.bot.photos.read(stored.path) == local
    assert not (a.data / "photos" / stored.path).exists()  # moved: no copy left on A
    # A photo nothing refers to any more (erased through B meanwhile) never comes back;
    # its file is left to the retention purge.
    assert await b.bot.photos.read(erased.path) is None
    assert await share_local_photos(a.bot.photos) == 0  # once
    (a.data / "photos" / "ab").mkdir()
    (a.data / "photos" / "ab" / f"{'ab' * 32}.jpg").write_bytes(b"not the bytes of that name")
    assert await share_local_photos(a.bot.photos) == 0  # never shared under a wrong name
    assert (a.data / "photos" / "ab" / f"{'ab' * 32}.jpg").exists()  # nor deleted


async def test_the_purge_keeps_the_bytes_of_a_picture_someone_is_sending_again(hosts) -> None:
    """Photos are stored by content: an old alert's picture sent again today by someone
    else is in their draft. The retention purge takes the old alert's photo, not the
    bytes the draft holds."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from storage.models import Alert
    from storage.retention import purge

    a, b = hosts
    ws, first = await open_session(a)
    await turn(ws, {"type": "message", "text": "colis Chronopost perdu depuis 10 jours"})
    await turn(ws, {"type": "photo", "upload_id": await upload(a, first["session"])})
    await turn(ws, {"type": "message", "text": "Nantes"})
    await turn(ws, {"type": "choice", "value": "contacted_customer_service:no"})
    sent = await turn(ws, {"type": "choice", "value": "confirm:send"})
    await ws.close()
    [photo] = sent["alert"]["photos"]
    async with a.bot.db.session() as s, s.begin():
        long_ago = datetime.now(timezone.utc) - timedelta(days=200)
        await s.execute(update(Alert).values(created_at=long_ago))

    ws, other = await open_session(b)  # someone else, the same picture, today
    await turn(ws, {"type": "message", "text": "colis Colissimo jamais arrivé"})
    out = await turn(ws, {"type": "photo", "upload_id": await upload(b, other["session"])})
    assert "Photo ajoutée" in out["replies"][0]["text"]
    await ws.close()

    report = await purge(a.bot.db, a.data / "photos", 90, 365)
    assert report.alert_photos == 1  # the old alert lost its photo…
    assert await b.bot.photos.read(photo["path"]) is not None  # …not the draft


async def test_a_stopping_host_receives_the_photo_being_uploaded_first(
    trained_model, nlu, tmp_path
) -> None:
    """`jalerte run` told to stop (SIGTERM) while a phone still sends its photo: the
    upload is received, the person's socket stays open for the photo frame, which is
    answered; then the socket is sent elsewhere (1012) and the process exits cleanly."""
    import asyncio
    import signal

    from aiohttp import WSMsgType

    from tests.test_run import start_server

    proc, base = start_server(trained_model, tmp_path / "data", JALERTE_NLU=f"unix:{nlu.socket}")
    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(f"{base}/ws")
        hello = await ws.receive_json()
        await ws.send_json({"type": "message", "text": "colis Chronopost perdu depuis 10 jours"})
        assert (await ws.receive_json())["expecting"] == "location"
        photo = jpeg_with_gps()

        async def slowly():  # a phone on a poor connection: the body in small pieces
            for i in range(0, len(photo), 256):
                yield photo[i : i + 256]
                await asyncio.sleep(0.05)

        form = aiohttp.FormData()
        form.add_field("session", hello["session"])
        form.add_field("file", slowly(), filename="a.jpg", content_type="image/jpeg")
        sending = asyncio.create_task(session.post(f"{base}/upload", data=form))
        await asyncio.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        uploaded = await (await sending).json()
        await ws.send_json({"type": "photo", "upload_id": uploaded["upload_id"]})
        answer = await ws.receive_json(timeout=5)
        assert "Photo ajoutée" in answer["replies"][0]["text"]
        closed = await ws.receive(timeout=5)
        assert closed.type == WSMsgType.CLOSE and closed.data == 1012
        _out, err = await asyncio.to_thread(proc.communicate, timeout=30)
        assert proc.returncode == 0, err.decode()[-2000:]
    finally:
        await session.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
