"""Photo redaction in the console: black rectangles, re-encoded without metadata, the
original erased, every reference moved to the new file."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.async_api import expect
from sqlalchemy import select

from bot.console.redact import Zone, ZoneError, parse_zones, redact_bytes
from bot.channels.web.app import create_app
from storage.models import AlertPhoto, Message, Photo
from storage.staff import StaffRepository
from tests.conftest import to_the_summary, web_config
from tests.images import image_bytes
from tests.test_accessibility import assert_accessible
from tests.test_browser import ARTIFACTS
from tests.test_staff import PASSWORD, csrf_of, log_in, make_alert


def white(fmt: str, size=(200, 120)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(out, fmt)
    return out.getvalue()


def darkest_and_brightest(data: bytes, box) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        region = im.convert("L").crop(box)
        return region.getextrema()


def test_zones_are_parsed_clipped_and_checked() -> None:
    assert parse_zones({"x1": "10", "y1": "5", "w1": "500", "h1": "20"}, 100, 50) == [
        Zone(10, 5, 90, 20)
    ]  # clipped to the image
    assert parse_zones({"x2": "0", "y2": "0", "w2": "1", "h2": "1"}, 10, 10) == [
        Zone(0, 0, 1, 1)
    ]  # zone 1 left empty
    assert parse_zones({}, 10, 10) == []
    for bad in (
        {"x1": "1", "y1": "1", "w1": "2"},
        {"x1": "a", "y1": "1", "w1": "2", "h1": "2"},
        {"x1": "-1", "y1": "1", "w1": "2", "h1": "2"},
        {"x1": "1", "y1": "1", "w1": "0", "h1": "2"},
        {"x1": "10", "y1": "1", "w1": "2", "h1": "2"},
    ):
        with pytest.raises(ZoneError):
            parse_zones(bad, 10, 10)


def test_png_rectangle_is_exactly_black_and_the_rest_untouched() -> None:
    out, width, height = redact_bytes(white("PNG"), "PNG", [Zone(20, 30, 50, 40)])
    assert (width, height) == (200, 120)
    assert darkest_and_brightest(out, (20, 30, 70, 70)) == (0, 0)
    assert darkest_and_brightest(out, (71, 0, 200, 120)) == (255, 255)


def test_jpeg_rectangle_is_widened_to_whole_blocks() -> None:
    out, _, _ = redact_bytes(white("JPEG"), "JPEG", [Zone(20, 30, 50, 40)])
    # 20..70 × 30..70 becomes 16..80 × 16..80: whole 16-pixel blocks, black after decoding.
    assert darkest_and_brightest(out, (16, 16, 80, 80))[1] <= 2
    with Image.open(io.BytesIO(out)) as im:
        assert not im.getexif() and "exif" not in im.info


async def test_redaction_over_http(console, sqlite_bot) -> None:  # noqa: F811
    alert = await make_alert(sqlite_bot, "bob", "colis DPD perdu depuis 10 jours", photo=True)
    old = alert["photos"][0]
    root = sqlite_bot.photos.root
    assert (root / old["path"]).is_file()
    base = f"/staff/alerts/{alert['id']}/photos/1"

    # Behind the login, like every console route.
    assert (await console.get(base + "/redact", allow_redirects=False)).status == 302
    assert (await console.get(base + "/preview.png")).status == 401
    await log_in(console)
    page = await (await console.get(f"/staff/alerts/{alert['id']}")).text()
    assert f'href="{base}/redact"' in page
    page = await (await console.get(base + "/redact?x1=0&y1=0&w1=64&h1=64")).text()
    assert 'name="x1"' in page and "Masquer définitivement 1 zone(s)" in page
    preview = await console.get(base + "/preview.png?x1=0&y1=0&w1=64&h1=64")
    assert preview.status == 200 and preview.content_type == "image/png"
    assert (await console.get(f"/staff/alerts/{alert['id']}/photos/2/redact")).status == 404

    zone = {"x1": "0", "y1": "0", "w1": "64", "h1": "64"}
    refused = await console.post(base + "/redact", data=zone, allow_redirects=False)
    assert refused.status == 403  # no CSRF token
    token = await csrf_of(console, base + "/redact")
    bad = await console.post(base + "/redact", data={"csrf_token": token, "x1": "0"})
    assert bad.status == 400 and "Zone 1" in await bad.text()
    done = await console.post(
        base + "/redact", data={"csrf_token": token, **zone}, allow_redirects=False
    )
    assert done.status == 302 and done.headers["Location"].startswith(
        f"/staff/alerts/{alert['id']}"
    )

    assert not (root / old["path"]).exists()  # the original is erased
    async with sqlite_bot.db.session() as session:
        new_sha = (
            await session.execute(
                select(AlertPhoto.photo_sha256).where(AlertPhoto.alert_id == alert["id"])
            )
        ).scalar_one()
        new = await session.get(Photo, new_sha)
        assert await session.get(Photo, old["sha256"]) is None
        attachments = [
            m.attachments
            for m in (
                await session.execute(select(Message).where(Message.kind == "photo"))
            ).scalars()
        ]
    assert new_sha != old["sha256"] and new.path != old["path"]
    assert attachments and all(a[0]["sha256"] == new_sha for a in attachments)
    data = (root / new.path).read_bytes()
    assert darkest_and_brightest(data, (0, 0, 64, 64))[1] <= 2  # black
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif() and (im.width, im.height) == (new.width, new.height)
    assert (await console.get(f"/staff/photos/{old['path']}")).status == 404
    assert (await console.get(f"/staff/photos/{new.path}")).status == 200


async def test_redaction_with_the_keyboard_in_a_browser(
    browser,
    aiohttp_server,  # noqa: F811
    sqlite_bot,
    tmp_path,
):
    from dialogues.events import ChoiceEvent
    from dialogues.service import IncomingPhoto

    await to_the_summary(sqlite_bot)
    await sqlite_bot.send(IncomingPhoto(image_bytes("PNG", size=(320, 200))))
    alert = (await sqlite_bot.send(ChoiceEvent("confirm:send"))).alert
    old = alert["photos"][0]
    await StaffRepository(sqlite_bot.db).add_user("agent", PASSWORD)
    server = await aiohttp_server(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    base = str(server.make_url("/")).rstrip("/")

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{base}/staff/alerts/{alert['id']}")
    await page.get_by_label("Nom").fill("agent")
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_label("Mot de passe").press("Enter")
    link = page.get_by_role("link", name="Masquer des zones de la photo 1")
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=re.compile("Masquer des zones"))).to_be_visible()
    await page.get_by_role("spinbutton", name="Gauche (x)").first.focus()
    for value in ("40", "50", "100", "60"):  # x, y, width, height: Tab from field to field
        await page.keyboard.type(value)
        await page.keyboard.press("Tab")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Enter")  # submits the preview form
    apply = page.get_by_role("button", name="Masquer définitivement 1 zone(s)")
    await expect(apply).to_be_visible()
    # The preview is served and decodes (decode() waits for it, and fails on a broken
    # picture): checking `complete` at once raced the picture's download under load.
    assert await page.locator("figure img").evaluate(
        "i => i.decode().then(() => i.naturalWidth > 0, () => false)"
    )
    await assert_accessible(page, "console-redact")
    await page.screenshot(path=str(ARTIFACTS / "staff-redact.png"), full_page=True)
    await apply.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=re.compile("Alerte JA-"))).to_be_visible()
    await context.close()

    root = sqlite_bot.photos.root
    assert not (root / old["path"]).exists()
    async with sqlite_bot.db.session() as session:
        sha = (
            await session.execute(
                select(AlertPhoto.photo_sha256).where(AlertPhoto.alert_id == alert["id"])
            )
        ).scalar_one()
        new = await session.get(Photo, sha)
    data = (root / new.path).read_bytes()
    assert darkest_and_brightest(data, (40, 50, 140, 110)) == (0, 0)  # PNG: exactly black
    with Image.open(io.BytesIO(data)) as im:
        outside = im.convert("RGB").getpixel((200, 150))
    assert outside != (0, 0, 0)
