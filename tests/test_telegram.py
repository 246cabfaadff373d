"""Telegram end to end against a local fake Bot API server (Telegram is unreachable here)."""
from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp
import pytest

from bot.web.app import create_app
from tests.conftest import web_config
from tests.fake_telegram import FakeTelegram
from tests.images import image_bytes, jpeg_with_gps
from tests.test_run import free_port

ALICE, BOB = 4242, 777


@pytest.fixture
async def fake():
    async with FakeTelegram() as telegram:
        yield telegram


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
    assert all(c.get("reply_markup") in (None, "", {}) for c in fake.calls_to("editMessageReplyMarkup"))
    assert len(fake.calls_to("editMessageReplyMarkup")) == 3
    assert fake.calls_to("sendChatAction")
    sent = fake.sent(ALICE)
    share = next(m for m in sent if any(b.get("url", "").startswith("https://wa.me/")
                                        for b in buttons(m)))
    assert {b["text"] for b in buttons(share)} >= {"X", "Facebook", "Telegram", "WhatsApp"}
    advice = next(m for m in sent if "Colis perdu" in m.get("text", "") or
                  "colis" in m.get("text", "").lower() and m.get("entities"))
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
    fake.push(fake.text_update(ALICE, "colis DPD abîmé à la livraison"),
              fake.text_update(BOB, "Free me prélève encore alors que j'ai résilié"))
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
    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url,
                        telegram_webhook_url="https://bot.example.org",
                        telegram_webhook_secret="s3cret_Token-42")
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
    await bot_says(fake, ALICE, "service client")
    await send(fake.photo_update(ALICE, jpeg_with_gps()))
    await bot_says(fake, ALICE, "Photo ajoutée")
    await bot_says(fake, ALICE, "service client", count=2)
    await send(fake.callback_update(ALICE, "contacted_customer_service:yes"))
    await bot_says(fake, ALICE, "Tout est correct")
    await send(fake.callback_update(ALICE, "confirm:send"))
    await bot_says(fake, ALICE, "Référence")
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=b"{not json",
                             headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret_Token-42"}) as r:
            assert r.status == 400


async def test_jalerte_run_serves_telegram_through_the_configured_api_url(
    fake, trained_model, tmp_path
) -> None:
    port = free_port()
    env = {**os.environ, "JALERTE_MODEL_PATH": str(trained_model), "JALERTE_PORT": str(port),
           "JALERTE_DATA_DIR": str(tmp_path / "data"), "JALERTE_TELEGRAM_TOKEN": fake.token,
           "JALERTE_TELEGRAM_API_URL": fake.url}
    env.pop("JALERTE_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
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
    from bot.telegram import render, split_message
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
        fake, sqlite_bot, aiohttp_server, tmp_path) -> None:
    from sqlalchemy import select

    from storage.models import TelegramUpdate

    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url,
                        telegram_webhook_url="https://bot.example.org",
                        telegram_webhook_secret="s3cret_Token-42")
    server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    url = str(server.make_url("/telegram/webhook"))
    secret = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_Token-42",
              "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        for body in (b"[1, 2]", b'"a string"', b"[" * 100_000, b'{"update_id": "7"}',
                     b'{"update_id": true}', b"\xff\xfe", b'{"update_id": 5, "message": 3}'):
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
        fake, sqlite_bot, aiohttp_server, tmp_path) -> None:
    """Stored, then the server stops before handling it: the next start handles it."""
    from storage.shared import TelegramUpdates

    update = fake.text_update(ALICE, "colis Chronopost perdu")
    update["message"]["from"]["username"] = "alice_dupont"
    assert await TelegramUpdates(sqlite_bot.db).receive(update["update_id"], update)
    stored = await TelegramUpdates(sqlite_bot.db).unhandled()
    assert "alice_dupont" not in str(stored) and stored[0]["message"]["from"]["first_name"] == ""

    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url,
                        telegram_webhook_url="https://bot.example.org",
                        telegram_webhook_secret="s3cret_Token-42")
    await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    await bot_says(fake, ALICE, "Où")
    await asyncio.sleep(0.3)
    assert await TelegramUpdates(sqlite_bot.db).unhandled() == []
