"""The fake Bot API (tests/fake_telegram.py) against the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from aiohttp import web
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    ReplyKeyboardMarkup,
    TelegramObject,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from tests.fake_telegram import FakeTelegram, FakeTelegramTimeout

USER = 4242


@pytest.fixture
async def fake():
    telegram = FakeTelegram()
    await telegram.start()
    try:
        yield telegram
    finally:
        await telegram.stop()


@pytest.fixture
async def bot(fake: FakeTelegram):
    async with Bot(
        fake.token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot"
    ) as b:
        yield b


def build_app(fake: FakeTelegram) -> Application:
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot")
        .build()
    )


def jpeg(width: int = 640, height: int = 480) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def unknown_fields(obj: object, path: str = "update") -> list[str]:
    """Keys PTB did not recognise (they land in api_kwargs), anywhere in the object tree."""
    if isinstance(obj, (tuple, list)):
        return [p for i, item in enumerate(obj) for p in unknown_fields(item, f"{path}[{i}]")]
    if not isinstance(obj, TelegramObject):
        return []
    found = [f"{path}.{key}" for key in obj.api_kwargs]
    names = {name for cls in type(obj).__mro__[:-1] for name in getattr(cls, "__slots__", ())}
    for name in sorted(names):
        if not name.startswith("_"):
            found += unknown_fields(getattr(obj, name, None), f"{path}.{name}")
    return found


async def test_get_me_tokens_and_unknown_methods(fake: FakeTelegram, bot: Bot):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "jalerte_test_bot", True)
    assert unknown_fields(me) == []
    assert fake.calls[0] == ("getMe", {})

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram", api_kwargs={"chat_id": USER})
    assert fake.calls[-1][0] == "sendHologram"

    intruder = Bot("999:WRONG", base_url=f"{fake.url}/bot")
    try:
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await intruder.initialize()  # initialize() calls getMe
    finally:
        await intruder.shutdown()
    assert fake.calls[-1] == ("getMe", {})


async def test_update_builders_parse_cleanly_in_ptb(fake: FakeTelegram, bot: Bot):
    fake.add_user(USER)
    sent = await bot.send_message(
        USER,
        "Choisissez",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="yes")]]),
    )
    builders = [
        fake.text_update(USER, "/start@jalerte_test_bot coucou"),
        fake.photo_update(USER, jpeg(), caption="mon antenne"),
        fake.document_update(USER, b"%PDF-1.4", "facture.pdf", "application/pdf"),
        fake.sticker_update(USER),
        fake.voice_update(USER),
        fake.location_update(USER, 48.8566, 2.3522),
        fake.callback_update(USER, "yes"),
    ]
    updates = [Update.de_json(data, bot) for data in builders]
    assert [unknown_fields(u) for u in updates] == [[]] * len(updates)
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    command, photo, document, sticker, voice, location, callback = updates
    assert command.message.text.startswith("/start")
    assert command.message.entities == (
        MessageEntity("bot_command", 0, len("/start@jalerte_test_bot")),
    )
    assert command.effective_chat.id == command.effective_user.id == USER
    assert [(p.width, p.height) for p in photo.message.photo] == [(320, 240), (640, 480)]
    assert photo.message.caption == "mon antenne"
    assert document.message.document.file_name == "facture.pdf"
    assert sticker.message.sticker.emoji == "👍" and voice.message.voice.mime_type == "audio/ogg"
    assert (location.message.location.latitude, location.message.location.longitude) == (
        48.8566,
        2.3522,
    )
    assert callback.callback_query.data == "yes"
    assert callback.callback_query.message.message_id == sent.message_id
    message_ids = [u.message.message_id for u in updates[:-1]]
    assert message_ids == sorted(message_ids) and sent.message_id < message_ids[0]
    with pytest.raises(ValueError, match="no button"):
        fake.callback_update(USER, "no")


async def test_send_message_with_keyboard_and_markup(fake: FakeTelegram, bot: Bot):
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(USER, "hello")  # the user never wrote to the bot
    fake.push(fake.text_update(USER, "bonjour"))
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Oui", callback_data="yes"),
                InlineKeyboardButton("Non", callback_data="no"),
            ],
            [InlineKeyboardButton("Site", url="https://jalerte.arcep.fr")],
        ]
    )
    message = await bot.send_message(
        USER, "<b>Votre</b> opérateur &amp; vous", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    assert message.reply_markup == keyboard
    assert message.text == "Votre opérateur & vous"
    assert message.entities == (MessageEntity("bold", 0, 5),)
    assert message.from_user.is_bot and message.chat.id == USER

    [record] = fake.sent(USER)
    assert record["message_id"] == message.message_id
    assert record["text"] == "Votre opérateur & vous"
    assert record["_params"]["parse_mode"] == "HTML"
    assert record["_params"]["text"] == "<b>Votre</b> opérateur &amp; vous"
    assert record["_params"]["chat_id"] == USER
    assert record["_params"]["reply_markup"] == keyboard.to_dict()

    # reply keyboards are sent but never echoed back, like Telegram
    reply = await bot.send_message(
        USER, "Oui ?", reply_markup=ReplyKeyboardMarkup([["Oui", "Non"]])
    )
    assert reply.reply_markup is None
    assert fake.sent(USER)[-1]["_params"]["reply_markup"] == {
        "keyboard": [[{"text": "Oui"}, {"text": "Non"}]]
    }  # PTB leaves the False defaults out

    # Telegram's errors, as PTB reports them: it drops "Bad Request: " and str.capitalize()s the rest
    with pytest.raises(
        BadRequest, match=r"^Can't parse entities: unsupported start tag \"3\" at byte offset 10$"
    ):
        await bot.send_message(USER, "je t'aime <3 ok>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"^Can't parse entities: character '\.' is reserved"):
        await bot.send_message(USER, "Merci. Au revoir", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match="^Button_data_invalid$"):
        await bot.send_message(
            USER,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("x", callback_data="x" * 65)]]
            ),
        )
    with pytest.raises(BadRequest, match="^Message text is empty$"):
        await bot.send_message(USER, "  \n ")

    edited = await bot.edit_message_text(
        "Plus de choix", chat_id=USER, message_id=message.message_id
    )
    assert edited.text == "Plus de choix" and edited.reply_markup is None and edited.edit_date
    with pytest.raises(BadRequest, match="^Message is not modified"):
        await bot.edit_message_text("Plus de choix", chat_id=USER, message_id=message.message_id)
    assert fake.message(USER, message.message_id)["text"] == "Plus de choix"
    assert fake.sent(USER)[0]["text"] == "Votre opérateur & vous"  # as it was sent

    fake.blocked.add(USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "encore là ?")


async def test_photo_download_and_send_photo(fake: FakeTelegram, bot: Bot):
    data = jpeg(1024, 768)
    update = fake.photo_update(USER, data, caption="antenne")
    full = update["message"]["photo"][-1]
    assert full["file_size"] == len(data)

    file = await bot.get_file(full["file_id"])
    assert file.file_path.startswith(f"{fake.url}/file/bot{fake.token}/photos/")
    assert file.file_size == len(data) and file.file_unique_id == full["file_unique_id"]
    assert bytes(await file.download_as_bytearray()) == data
    thumb = await bot.get_file(update["message"]["photo"][0]["file_id"])
    assert Image.open(io.BytesIO(await thumb.download_as_bytearray())).size == (320, 240)
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("AgACnope")

    sent = await bot.send_photo(USER, photo=data, caption="<i>reçue</i>", parse_mode=ParseMode.HTML)
    assert sent.caption == "reçue" and sent.caption_entities == (MessageEntity("italic", 0, 5),)
    upload = fake.sent(USER)[-1]["_params"]["photo"]
    assert (upload.data, upload.content_type) == (data, "application/octet-stream")
    again = await bot.send_photo(USER, photo=sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    assert bytes(await (await sent.photo[-1].get_file()).download_as_bytearray()) == data


async def test_polling_application_receives_messages_and_callbacks(fake: FakeTelegram):
    app = build_app(fake)
    texts: list[str] = []

    async def on_text(update: Update, context) -> None:
        texts.append(update.message.text)
        await update.message.reply_text(
            f"Reçu : {update.message.text}",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Confirmer", callback_data="confirm")]]
            ),
        )

    async def on_callback(update: Update, context) -> None:
        await update.callback_query.answer("C'est noté")
        await update.callback_query.edit_message_reply_markup(None)

    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.add_handler(CallbackQueryHandler(on_callback))
    started = time.monotonic()
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await fake.wait_for_call("getUpdates")
        fake.push(fake.text_update(USER, "Pas de réseau à Brest"))
        await fake.wait_for(lambda f: f.sent(USER), timeout=3)
        fake.push(fake.callback_update(USER, "confirm"))
        await fake.wait_for_call("editMessageReplyMarkup", timeout=3)
        await app.updater.stop()
        await app.stop()
    assert time.monotonic() - started < 3
    assert texts == ["Pas de réseau à Brest"]
    [reply] = fake.sent(USER)
    assert reply["text"] == "Reçu : Pas de réseau à Brest"
    assert fake.message(USER, reply["message_id"]).get("reply_markup") is None
    [(query_id, answer)] = fake.callback_answers.items()
    assert answer == {"callback_query_id": query_id, "text": "C'est noté"}
    assert fake.pending_updates == []  # the last getUpdates confirmed everything
    assert [m for m, _ in fake.calls][:2] == ["getMe", "deleteWebhook"]
    polls = fake.calls_to("getUpdates")
    assert polls[0] == {"offset": 0, "timeout": 1}  # as PTB 22.8 sends it
    assert polls[-1]["timeout"] == 0 and polls[-1]["offset"] > 0


async def test_answer_callback_query(fake: FakeTelegram, bot: Bot):
    fake.add_user(USER)
    await bot.send_message(
        USER,
        "Alors ?",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="yes")]]),
    )
    update = Update.de_json(fake.callback_update(USER, "yes"), bot)
    assert await update.callback_query.answer("Merci", show_alert=True) is True
    assert fake.callback_answers[update.callback_query.id] == {
        "callback_query_id": update.callback_query.id,
        "text": "Merci",
        "show_alert": True,
    }
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await update.callback_query.answer()  # a query is answered once


async def test_commands_per_language_and_scope(fake: FakeTelegram, bot: Bot):
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands(
        [BotCommand("start", "Commencer"), BotCommand("aide", "Aide")], language_code="fr"
    )
    await bot.set_my_commands(
        [BotCommand("signaler", "Signaler")],
        language_code="fr",
        scope=BotCommandScopeAllPrivateChats(),
    )
    assert fake.commands[None] == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    assert fake.commands["fr"] == [{"command": "signaler", "description": "Signaler"}]
    assert fake.scoped_commands[("default", "fr")][1]["command"] == "aide"
    fr = await bot.get_my_commands(language_code="fr")
    assert [c.command for c in fr] == ["start", "aide"]
    await bot.delete_my_commands(language_code="fr", scope=BotCommandScopeAllPrivateChats())
    assert [c["command"] for c in fake.commands["fr"]] == ["start", "aide"]
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Uppercase is refused")])


async def test_long_polling_is_responsive(fake: FakeTelegram, bot: Bot):
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_call("getUpdates")
    fake.push(fake.text_update(USER, "vite"))
    [update] = await poll
    assert update.message.text == "vite" and time.monotonic() - started < 1
    assert len(fake.pending_updates) == 1  # not confirmed until the next offset
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert fake.pending_updates == []

    # a second instance of the bot polling: Telegram ends the older poll with 409
    # (a second poll from the same Bot would wait for the single getUpdates connection instead)
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_call("getUpdates", count=3)
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as other:
        second = asyncio.create_task(other.get_updates(timeout=5))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await first
        await fake.wait_for_call("getUpdates", count=4)
        started = time.monotonic()
        await fake.stop()  # ends the pending poll at once
        assert await second == () and time.monotonic() - started < 1.5


async def test_webhook(fake: FakeTelegram, bot: Bot):
    with pytest.raises(BadRequest, match="https url must be provided"):
        await bot.set_webhook("http://bot.example.org/telegram")
    await bot.set_webhook(
        "https://bot.example.org/telegram",
        secret_token="s3cr3t",
        allowed_updates=["message", "callback_query"],
    )
    assert fake.webhook["url"] == "https://bot.example.org/telegram"
    assert fake.webhook["secret_token"] == "s3cr3t"
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.org/telegram" and info.pending_update_count == 0
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()

    received: list[tuple[str | None, dict]] = []

    async def endpoint(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/telegram", endpoint)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        update = fake.text_update(USER, "par webhook")
        assert await fake.post_webhook(f"http://127.0.0.1:{port}/telegram", update, "s3cr3t") == 200
        assert await fake.post_webhook(f"http://127.0.0.1:{port}/nowhere", update, None) == 404
    finally:
        await runner.cleanup()
    assert received == [("s3cr3t", update)]
    with pytest.raises(ValueError, match="127.0.0.1"):
        await fake.post_webhook("https://bot.example.org/telegram", update, "s3cr3t")

    assert await bot.delete_webhook() is True
    assert fake.webhook is None
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.close() is True and await bot.log_out() is True


async def test_wait_for_timeout_and_injected_failures(fake: FakeTelegram, bot: Bot):
    fake.add_user(USER)
    fake.fail("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(USER, "trop vite")
    assert str(flood.value) == "Flood control exceeded. Retry in 0:00:03"
    assert flood.value.retry_after.total_seconds() == 3
    await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match="^Wrong parameter action in request$"):
        await bot.send_chat_action(USER, "dancing")
    with pytest.raises(FakeTelegramTimeout) as timeout:
        await fake.wait_for_call("sendMessage", count=2, timeout=0.1)
    assert isinstance(timeout.value, asyncio.TimeoutError)
    dump = str(timeout.value)
    assert "sendMessage called 1 time(s), expected 2" in dump
    assert (
        "sendMessage(chat_id=4242, text='trop vite') -> 429 Too Many Requests: retry after 3"
        in dump
    )
    assert "sendChatAction(chat_id=4242, action='dancing') -> 400" in dump
    assert fake.internal_errors == []
