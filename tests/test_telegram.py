"""Telegram end to end against a local fake Bot API server (Telegram is unreachable here)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp

from bot.channels.web.app import create_app
from tests.conftest import web_config
from tests.fake_telegram import FakeTelegram
from tests.images import image_bytes, jpeg_with_gps
from tests.test_run import free_port

ALICE, BOB = 4242, 777


def texts(fake: FakeTelegram, chat: int) -> list[str]:
    return [m.get("text", "") for m in fake.sent(chat)]


async def bot_says(fake: FakeTelegram, chat: int, needle: str, count: int = 1) -> None:
    await fake.wait_for(lambda f: sum(needle in t for t in texts(f, chat)) >= count, timeout=20)


def buttons(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_polling_conversation_to_a_saved_alert_with_photo(
    fake, sqlite_bot, aiohttp_client, tmp_path
) -> None:
    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url)
    await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    assert {c["command"] for c in fake.commands["fr"]} >= {"aide", "annuler", "nouveau"}
    assert {c["command"] for c in fake.commands[None]} >= {"help", "cancel", "new"}

    fake.push(fake.text_update(ALICE, "/start"))
    await bot_says(fake, ALICE, "Bonjour")
    fake.push(fake.text_update(ALICE, "colis Chronopost perdu depuis 10 jours"))
    await bot_says(fake, ALICE, "Où cela se passe")
    fake.push(fake.photo_update(ALICE, jpeg_with_gps()))
    await bot_says(fake, ALICE, "Photo ajoutée (1/3)")
    await bot_says(fake, ALICE, "Où cela se passe", count=2)  # asked again, with its button
    fake.push(fake.callback_update(ALICE, "location:skip"))
    await bot_says(fake, ALICE, "service client")
    fake.push(fake.callback_update(ALICE, "contacted_customer_service:no"))
    await bot_says(fake, ALICE, "Tout est correct")
    fake.push(fake.callback_update(ALICE, "confirm:send"))
    await bot_says(fake, ALICE, "Référence")
    await bot_says(fake, ALICE, "utiles")  # the last message of the turn

    # Every button press answered, its keyboard removed, "typing…" shown.
    assert len(fake.calls_to("answerCallbackQuery")) == 3
    assert all(
        c.get("reply_markup") in (None, "", {}) for c in fake.calls_to("editMessageReplyMarkup")
    )
    assert len(fake.calls_to("editMessageReplyMarkup")) == 3
    assert fake.calls_to("sendChatAction")
    sent = fake.sent(ALICE)
    share = next(
        m for m in sent if any(b.get("url", "").startswith("https://wa.me/") for b in buttons(m))
    )
    assert {b["text"] for b in buttons(share)} >= {"X", "Facebook", "Telegram", "WhatsApp"}
    advice = next(
        m
        for m in sent
        if "Colis perdu" in m.get("text", "")
        or "colis" in m.get("text", "").lower()
        and m.get("entities")
    )
    assert any(e["type"] == "bold" for e in advice["entities"])

    reference = next(t for t in texts(fake, ALICE) if "Référence" in t).split(": ")[-1].strip()
    saved = next(m for m in sent if "Référence" in m.get("text", ""))
    assert any(e["type"] == "code" for e in saved.get("entities", []))  # tap to copy, whole
    alert = await sqlite_bot.repository.alert(reference)
    assert alert["channel"] == "telegram" and alert["operator"] == "chronopost"
    assert len(alert["photos"]) == 1


async def test_album_forged_button_sticker_and_people_in_parallel(
    fake, sqlite_bot, aiohttp_client, tmp_path
) -> None:
    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url)
    await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    fake.push(
        fake.text_update(ALICE, "colis DPD abîmé à la livraison"),
        fake.text_update(BOB, "Free me prélève encore alors que j'ai résilié"),
    )
    await bot_says(fake, ALICE, "Où cela se passe")
    await bot_says(fake, BOB, "Cela concerne")

    # An album: three photos in one go, all three kept, in order.
    fake.push(*(fake.photo_update(ALICE, image_bytes("PNG", size=(30 + i, 30))) for i in range(3)))
    await bot_says(fake, ALICE, "Photo ajoutée (3/3)")
    added = [t for t in texts(fake, ALICE) if t.startswith("Photo ajoutée")]
    assert added == ["Photo ajoutée (1/3).", "Photo ajoutée (2/3).", "Photo ajoutée (3/3)."]

    fake.push(fake.callback_update(ALICE, "operator:forged<script>", strict=False))
    await bot_says(fake, ALICE, "plus valable")
    fake.push(fake.sticker_update(ALICE))
    await bot_says(fake, ALICE, "Je ne peux lire que du texte")
    fake.push(fake.document_update(ALICE, b"%PDF-1.4 fake", "facture.pdf", "application/pdf"))
    await bot_says(fake, ALICE, "JPEG, PNG ou WEBP")
    fake.push(fake.location_update(ALICE, 47.218371, -1.553621))
    await bot_says(fake, ALICE, "Nantes")
    assert len(fake.calls_to("answerCallbackQuery")) == 1
    state = await sqlite_bot.service.state_of("telegram", str(ALICE))
    assert len(state.draft.photos) == 3 and state.draft.location == "Nantes (44)"


async def test_webhook_checks_its_secret(fake, sqlite_bot, aiohttp_server, tmp_path) -> None:
    config = web_config(
        tmp_path,
        telegram_token=fake.token,
        telegram_api_url=fake.url,
        telegram_webhook_url="https://bot.example.org",
        telegram_webhook_secret="s3cret_Token-42",
    )
    server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    assert fake.webhook["url"] == "https://bot.example.org/telegram/webhook"
    assert fake.webhook["secret_token"] == "s3cret_Token-42"
    url = str(server.make_url("/telegram/webhook"))

    assert await fake.post_webhook(url, fake.text_update(ALICE, "/start"), "wrong") == 403
    assert await fake.post_webhook(url, fake.text_update(ALICE, "/start"), None) == 403
    await asyncio.sleep(0.3)
    assert fake.sent(ALICE) == []  # nothing processed

    async def send(update: dict) -> None:
        assert await fake.post_webhook(url, update, "s3cret_Token-42") == 200

    await send(fake.text_update(ALICE, "pas de réseau Orange à Brest"))
    await bot_says(fake, ALICE, "technologie")
    await send(fake.callback_update(ALICE, "technology:4g"))
    await bot_says(fake, ALICE, "Depuis quand")
    await send(fake.callback_update(ALICE, "started_on:yesterday"))
    await bot_says(fake, ALICE, "service client")
    await send(fake.photo_update(ALICE, jpeg_with_gps()))
    await bot_says(fake, ALICE, "Photo ajoutée")
    await bot_says(fake, ALICE, "service client", count=2)
    await send(fake.callback_update(ALICE, "contacted_customer_service:yes"))
    await bot_says(fake, ALICE, "Tout est correct")
    await send(fake.callback_update(ALICE, "confirm:send"))
    await bot_says(fake, ALICE, "Référence")
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url, data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret_Token-42"}
        ) as r:
            assert r.status == 400


async def test_jalerte_run_serves_telegram_through_the_configured_api_url(
    fake, trained_model, tmp_path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "JALERTE_MODEL_PATH": str(trained_model),
        "JALERTE_PORT": str(port),
        "JALERTE_DATA_DIR": str(tmp_path / "data"),
        "JALERTE_TELEGRAM_TOKEN": fake.token,
        "JALERTE_TELEGRAM_API_URL": fake.url,
    }
    env.pop("JALERTE_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.process.cli",
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.3)
        fake.push(fake.text_update(ALICE, "/aide"))
        await bot_says(fake, ALICE, "annuler")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert fake.calls_to("getMe") and fake.calls_to("getUpdates")


def test_long_html_is_split_under_telegrams_limit() -> None:
    from bot.channels.telegram import render, split_message
    from dialogues.replies import Reply

    paragraphs = "\n\n".join(f"Paragraphe {i} " + "x" * 900 for i in range(12))
    pieces = split_message(paragraphs)
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    assert "".join(pieces).replace("\n", "") == paragraphs.replace("\n", "")
    [(html, _)] = render(Reply('<script>alert(1)</script> & "Orange"'))
    assert html == '&lt;script&gt;alert(1)&lt;/script&gt; &amp; "Orange"'


async def test_user_text_with_markup_reaches_the_summary_escaped(
    fake, sqlite_bot, aiohttp_client, tmp_path
) -> None:
    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url)
    await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    fake.push(fake.text_update(ALICE, "Orange <b>me facture</b> deux fois ma box & <script>"))
    await bot_says(fake, ALICE, "service client")
    fake.push(fake.callback_update(ALICE, "contacted_customer_service:no"))
    await bot_says(fake, ALICE, "Tout est correct")
    summary = next(t for t in texts(fake, ALICE) if "Tout est correct" in t)
    assert "<b>me facture</b> deux fois ma box & <script>" in summary  # shown as typed


async def test_an_english_telegram_app_gets_english(fake, sqlite_bot, aiohttp_client, tmp_path):
    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url)
    await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    fake.add_user(BOB, "Bob", language_code="en")
    fake.push(fake.text_update(BOB, "/start"))
    await bot_says(fake, BOB, "Hello!")


async def test_webhook_updates_are_stored_first_handled_once_and_kept_without_names(
    fake, sqlite_bot, aiohttp_server, tmp_path
) -> None:
    from sqlalchemy import select

    from storage.models import TelegramUpdate

    config = web_config(
        tmp_path,
        telegram_token=fake.token,
        telegram_api_url=fake.url,
        telegram_webhook_url="https://bot.example.org",
        telegram_webhook_secret="s3cret_Token-42",
    )
    server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    url = str(server.make_url("/telegram/webhook"))
    secret = {
        "X-Telegram-Bot-Api-Secret-Token": "s3cret_Token-42",
        "Content-Type": "application/json",
    }
    async with aiohttp.ClientSession() as http:
        for body in (
            b"[1, 2]",
            b'"a string"',
            b"[" * 100_000,
            b'{"update_id": "7"}',
            b'{"update_id": true}',
            b"\xff\xfe",
            b'{"update_id": 5, "message": 3}',
        ):
            async with http.post(url, data=body, headers=secret) as response:
                assert response.status == 400, body[:20]

    update = fake.text_update(ALICE, "colis Chronopost perdu")
    assert await fake.post_webhook(url, update, "s3cret_Token-42") == 200
    assert await fake.post_webhook(url, update, "s3cret_Token-42") == 200  # redelivered
    await bot_says(fake, ALICE, "Où")
    await asyncio.sleep(0.5)
    assert len(fake.sent(ALICE)) == 1  # answered once
    async with sqlite_bot.db.session() as session:
        row = await session.get(TelegramUpdate, update["update_id"])
        assert row.handled_at is not None and row.payload is None
        assert len((await session.execute(select(TelegramUpdate))).all()) == 1


async def test_an_acknowledged_update_survives_a_stop_before_it_is_handled(
    fake, sqlite_bot, aiohttp_server, tmp_path
) -> None:
    """Stored, then the server stops before handling it: the next start handles it."""
    from storage.shared import TelegramUpdates

    update = fake.text_update(ALICE, "colis Chronopost perdu")
    update["message"]["from"]["username"] = "alice_dupont"
    assert await TelegramUpdates(sqlite_bot.db).receive(update["update_id"], update)
    stored = await TelegramUpdates(sqlite_bot.db).unhandled()
    assert "alice_dupont" not in str(stored) and stored[0]["message"]["from"]["first_name"] == ""

    config = web_config(
        tmp_path,
        telegram_token=fake.token,
        telegram_api_url=fake.url,
        telegram_webhook_url="https://bot.example.org",
        telegram_webhook_secret="s3cret_Token-42",
    )
    await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    await bot_says(fake, ALICE, "Où")
    await asyncio.sleep(0.3)
    assert await TelegramUpdates(sqlite_bot.db).unhandled() == []


# -- what is stored of an update: masked, only what handling needs, erased on time ------
PHONE, EMAIL = "06 12 34 56 78", "jean.dupont@example.org"


def files_holding(root, *needles: str) -> list[str]:
    """The files under `root` (the database, its log…) that hold any of `needles`."""
    return sorted(
        {
            path.name
            for path in root.rglob("*")
            if path.is_file()
            for needle in needles
            if needle.encode() in path.read_bytes()
        }
    )


async def unhandled(db) -> list[dict]:
    from storage.shared import TelegramUpdates

    return await TelegramUpdates(db).unhandled()


async def test_a_phone_or_email_typed_on_telegram_is_in_no_file_before_or_after_handling(
    fake, sqlite_bot, aiohttp_client, tmp_path
) -> None:
    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url)
    await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    fake.pause("sendChatAction")  # the turn waits there: the update is stored, not handled
    fake.push(
        fake.text_update(
            ALICE, f"Orange me facture deux fois, rappelez-moi au {PHONE} ou écrivez à {EMAIL}"
        )
    )
    await fake.wait_for_call("sendChatAction")
    assert len(await unhandled(sqlite_bot.db)) == 1
    assert files_holding(tmp_path, PHONE, EMAIL) == []

    fake.resume("sendChatAction")
    await bot_says(fake, ALICE, "J'ai retiré de votre message des coordonnées personnelles")
    await fake.wait_for_call("sendMessage", 2)
    for _ in range(50):
        if not await unhandled(sqlite_bot.db):
            break
        await asyncio.sleep(0.1)
    assert await unhandled(sqlite_bot.db) == []
    assert files_holding(tmp_path, PHONE, EMAIL) == []


async def test_an_update_never_handled_is_kept_masked_then_erased_by_forget_and_retention(
    fake, sqlite_bot, aiohttp_server, tmp_path
) -> None:
    """Telegram unreachable as the server starts: webhook updates are acknowledged and
    stored, never handled. What is kept is masked; « Oubliez-moi » erases the person's,
    and the retention period everyone's, from every file."""
    from datetime import datetime, timedelta, timezone

    from dialogues.events import ChoiceEvent, CommandEvent
    from storage.retention import purge

    fake.fail("getMe", 502, "Bad Gateway")
    config = web_config(
        tmp_path,
        telegram_token=fake.token,
        telegram_api_url=fake.url,
        telegram_webhook_url="https://bot.example.org",
        telegram_webhook_secret="s3cret_Token-42",
    )
    server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    url = str(server.make_url("/telegram/webhook"))
    alice = fake.text_update(
        ALICE,
        f"Orange me facture deux fois, j'habite au lieu-dit Kerlochtrez, rappelez-moi au {PHONE}",
    )
    bob = fake.text_update(BOB, f"colis perdu à Plouzatrez, écrivez-moi à {EMAIL}")
    for update in (alice, bob):
        assert await fake.post_webhook(url, update, "s3cret_Token-42") == 200
    await asyncio.sleep(0.3)
    assert fake.sent(ALICE) == fake.sent(BOB) == []
    assert len(await unhandled(sqlite_bot.db)) == 2
    assert files_holding(tmp_path, PHONE, EMAIL) == []
    assert files_holding(tmp_path, "Kerlochtrez", "Plouzatrez")  # kept, to be handled

    # « Oubliez-moi » (through a process that reaches Telegram): Alice's update goes too.
    await sqlite_bot.send(CommandEvent("forget"), user=str(ALICE), channel="telegram")
    await sqlite_bot.send(ChoiceEvent("forget:yes"), user=str(ALICE), channel="telegram")
    assert [u["update_id"] for u in await unhandled(sqlite_bot.db)] == [bob["update_id"]]
    assert files_holding(tmp_path, "Kerlochtrez") == []

    # Retention: kept as long as transcripts are, then erased from every file.
    now = datetime.now(timezone.utc)
    await purge(sqlite_bot.db, sqlite_bot.photos.root, 90, 365, now=now + timedelta(days=89))
    assert len(await unhandled(sqlite_bot.db)) == 1
    report = await purge(
        sqlite_bot.db, sqlite_bot.photos.root, 90, 365, now=now + timedelta(days=91)
    )
    assert report.updates == 1 and "1 messages Telegram jamais traités" in report.as_text()
    assert await unhandled(sqlite_bot.db) == []
    assert files_holding(tmp_path, "Plouzatrez") == []


async def test_a_stored_update_keeps_what_handling_needs_masked_and_nothing_else(fake) -> None:
    """Replayed from the database (the server stopped first), an update is read and
    routed as it came: same person, chat, command, button, photo, place; without names,
    typed coordinates, captions, file names or a shared contact's number."""
    import json

    from telegram import Update
    from telegram.ext import filters

    from storage.shared import kept_update
    from tests.test_fake_telegram import unknown_fields

    fake.add_user(ALICE, "Alice", last_name="Dupont", username="alice_dupont")
    fake.add_user(BOB, "Bob", language_code="en")
    command = fake.text_update(ALICE, f"/start appelez le {PHONE}")
    text = fake.text_update(ALICE, f"écrivez à {EMAIL} ou au {PHONE}")
    english = fake.text_update(BOB, f"call me on {PHONE}")
    photo = fake.photo_update(ALICE, image_bytes("PNG"), caption=f"mon numéro {PHONE}")
    document = fake.document_update(
        ALICE, b"%PDF-1.4", "facture_alice_dupont.pdf", "application/pdf"
    )
    location = fake.location_update(ALICE, 47.218371, -1.553621)
    sticker = fake.sticker_update(ALICE)
    voice = fake.voice_update(ALICE)
    contact = fake.text_update(ALICE, "x")
    del contact["message"]["text"]
    contact["message"]["contact"] = {
        "phone_number": "+33612345678",
        "first_name": "Jean",
        "last_name": "Martin",
        "user_id": 99,
        "vcard": "BEGIN:VCARD\nEMAIL:jean@example.org\nEND:VCARD",
    }
    button = fake.callback_update(
        ALICE, "operator:orange", message_id=text["message"]["message_id"], strict=False
    )
    raw = [command, text, english, photo, document, location, sticker, voice, contact, button]
    kept = [kept_update(update) for update in raw]

    for update in kept:
        stored = json.dumps(update, ensure_ascii=False)
        for personal in (
            "Alice",
            "Dupont",
            "alice_dupont",
            "Bob",
            PHONE,
            EMAIL,
            "33612345678",
            "Jean",
            "Martin",
            "VCARD",
            "facture_alice",
        ):
            assert personal not in stored, (personal, stored)
        assert update["update_id"] in {u["update_id"] for u in raw}
    read = [Update.de_json(update, None) for update in kept]
    assert [unknown_fields(u) for u in read] == [[]] * len(read)
    assert [u.effective_user.id for u in read] == [ALICE] * 2 + [BOB] + [ALICE] * 7
    assert [u.effective_chat.id for u in read] == [ALICE] * 2 + [BOB] + [ALICE] * 7
    (
        r_command,
        r_text,
        r_english,
        r_photo,
        r_document,
        r_location,
        r_sticker,
        r_voice,
        r_contact,
        r_button,
    ) = read
    assert filters.COMMAND.check_update(r_command) and r_command.message.text.startswith("/start")
    assert r_text.message.text == "écrivez à [e-mail retiré] ou au [téléphone retiré]"
    assert r_english.message.text == "call me on [phone removed]"
    assert r_english.effective_user.language_code == "en"
    assert [p.file_id for p in r_photo.message.photo] == [
        p["file_id"] for p in photo["message"]["photo"]
    ]
    assert r_photo.message.caption is None
    assert r_document.message.document.file_id == document["message"]["document"]["file_id"]
    assert (r_location.message.location.latitude, r_location.message.location.longitude) == (
        47.218371,
        -1.553621,
    )
    assert r_sticker.message.sticker and r_voice.message.voice and r_contact.message.contact
    assert filters.TEXT.check_update(r_text) and not filters.TEXT.check_update(r_contact)
    assert (r_button.callback_query.id, r_button.callback_query.data) == (
        button["callback_query"]["id"],
        "operator:orange",
    )
    assert r_button.callback_query.message.message_id == text["message"]["message_id"]
    assert r_button.callback_query.message.chat.id == ALICE
