"""Telegram channel (python-telegram-bot 22): a thin adapter around the dialogue service.

Runs inside the aiohttp server's event loop: long polling by default, or a webhook on
the same server when a public URL is configured. Replies are rendered here (inline
keyboards, Telegram HTML, URL buttons); no dialogue logic lives in this module.
"""
from __future__ import annotations

import asyncio
import hmac
import html
import logging
import os
import re
import secrets
import weakref
from typing import Any, AsyncIterator, Awaitable, Callable

from aiohttp import web
from telegram import (
    BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update,
)
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application, ApplicationBuilder, BaseUpdateProcessor, CallbackQueryHandler, CommandHandler,
    ContextTypes, MessageHandler, filters,
)

from bot.config import Config
from dialogues.events import (
    ChoiceEvent, CommandEvent, Event, LocationEvent, PhotoEvent, TextEvent, UnsupportedEvent,
)
from dialogues.replies import AdviceReply, Reply, ShareReply
from dialogues.service import ConversationService, IncomingPhoto, TurnOutput
from storage.photos import MAX_BYTES
from storage.shared import TelegramUpdates

log = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
CALLBACK_DATA_MAX = 64  # bytes, Telegram's limit
COMMANDS = {
    "fr": [("aide", "Comment ça marche"), ("annuler", "Abandonner le signalement en cours"),
           ("nouveau", "Signaler un nouveau problème"),
           ("oublier", "Effacer vos messages et vos photos"),
           ("confidentialite", "Vos données et leur conservation"), ("start", "Démarrer")],
    None: [("help", "How it works"), ("cancel", "Drop the report in progress"),
           ("new", "Report a new problem"), ("forget", "Erase your messages and photos"),
           ("privacy", "Your data and how long it is kept"), ("start", "Start")],
}
COMMAND_NAMES = {"start": "start", "aide": "help", "help": "help", "annuler": "cancel",
                 "cancel": "cancel", "nouveau": "new", "new": "new", "oublier": "forget",
                 "forget": "forget", "confidentialite": "privacy", "privacy": "privacy"}


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Updates of one person one after the other (an album stays in order); people in
    parallel."""

    def __init__(self, max_concurrent_updates: int = 256,
                 done: Callable[[object], Awaitable[None]] | None = None):
        super().__init__(max_concurrent_updates)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._done = done

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            await coroutine
        else:
            lock = self._locks.get(user.id)
            if lock is None:
                lock = self._locks[user.id] = asyncio.Lock()
            async with lock:
                await coroutine
        if self._done is not None:
            try:
                await self._done(update)
            except Exception:  # never stop the channel for bookkeeping
                log.exception("could not mark a Telegram update handled")

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


# -- rendering -------------------------------------------------------------------------
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https://[^)\s]+)\)")


def markdown_to_html(markdown: str) -> str:
    """The advice sheets' Markdown subset as Telegram HTML, everything else escaped."""
    escaped = html.escape(markdown, quote=False)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    return _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', escaped)


def split_message(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Pieces under Telegram's limit, cut between paragraphs, then lines, then anywhere."""
    if len(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        pieces, current = [], ""
        for part in text.split(separator):
            candidate = f"{current}{separator}{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            elif len(part) <= limit:
                pieces.append(current)
                current = part
            else:
                break
        else:
            return [p for p in [*pieces, current] if p]
    return [text[i:i + limit] for i in range(0, len(text), limit)]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(c.label, callback_data=c.value)]
            for c in reply.choices if len(c.value.encode()) <= CALLBACK_DATA_MAX]
    if isinstance(reply, ShareReply):
        rows += [[InlineKeyboardButton(name, url=url)] for name, url in reply.links]
    return InlineKeyboardMarkup(rows) if rows else None


_REFERENCE = re.compile(r"\bJA-[A-Z0-9]{8}\b")


def render(reply: Reply) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """(HTML text, keyboard) messages for one reply; the keyboard goes on the last piece."""
    if isinstance(reply, AdviceReply):
        body = f"<b>{html.escape(reply.title)}</b>\n\n{markdown_to_html(reply.markdown)}"
    elif isinstance(reply, ShareReply):
        body = f"{html.escape(reply.text)}\n\n<code>{html.escape(reply.share_text)}</code>"
    else:
        # The alert's reference in monospace: one tap copies it, and it stays whole.
        body = _REFERENCE.sub(r"<code>\g<0></code>", html.escape(reply.text, quote=False))
    pieces = split_message(body)
    return [(piece, keyboard(reply) if i == len(pieces) - 1 else None)
            for i, piece in enumerate(pieces)]


# -- the channel -------------------------------------------------------------------------
class TelegramChannel:
    def __init__(self, config: Config, service: Callable[[], ConversationService],
                 updates: Callable[[], TelegramUpdates] | None = None):
        self.config = config
        self._service = service
        self._updates = updates
        self.webhook_secret = config.telegram_webhook_secret or secrets.token_urlsafe(32)
        webhook = bool(config.telegram_webhook_url and updates)
        builder = (
            ApplicationBuilder()
            .token(config.telegram_token or "")
            .base_url(f"{config.telegram_api_url}/bot")
            .base_file_url(f"{config.telegram_api_url}/file/bot")
            .concurrent_updates(PerUserUpdateProcessor(done=self._handled if webhook else None))
        )
        if config.telegram_webhook_url:
            builder = builder.updater(None)
        self.application: Application = builder.build()
        self._add_handlers()

    def _add_handlers(self) -> None:
        app = self.application
        app.add_handler(CommandHandler(list(COMMAND_NAMES), self._on_command))
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self._on_text))
        app.add_handler(MessageHandler(filters.COMMAND, self._on_text))  # unknown commands
        app.add_handler(MessageHandler(filters.PHOTO, self._on_photo))
        app.add_handler(MessageHandler(filters.Document.ALL, self._on_document))
        app.add_handler(MessageHandler(filters.LOCATION, self._on_location))
        app.add_handler(MessageHandler(filters.ALL, self._on_other))
        app.add_error_handler(self._on_error)

    async def lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: starts with the server, stops before the database."""
        app = self.application
        try:
            await app.initialize()
            for language, commands in COMMANDS.items():
                await app.bot.set_my_commands([BotCommand(c, d) for c, d in commands],
                                              language_code=language)
            if self.config.telegram_webhook_url:
                await app.bot.set_webhook(
                    url=self.config.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH,
                    secret_token=self.webhook_secret, allowed_updates=Update.ALL_TYPES)
            await app.start()
            if app.updater is not None:
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            elif self._updates is not None and os.environ.get("JALERTE_WORKER", "0") == "0":
                # Acknowledged to Telegram but not handled when the server stopped.
                for payload in await self._updates().unhandled():
                    await app.update_queue.put(Update.de_json(payload, app.bot))
            log.info("Telegram: serving @%s", app.bot.username)
            started = True
        except TelegramError:
            log.exception("Telegram could not start; the web channel still runs")
            started = False
        yield
        if started:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
            await app.shutdown()

    async def webhook(self, request: web.Request) -> web.Response:
        """Telegram's POSTs; the secret header must match or nothing is processed."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            return web.Response(status=400, text="bad update")
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.Response(status=400, text="bad update")
        try:
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return web.Response(status=400, text="bad update")
        # Stored before Telegram hears 200 (it never sends an acknowledged update again);
        # an update it sends twice is recognised and not handled again.
        if self._updates is not None and not await self._updates().receive(update_id, data):
            return web.Response(text="ok")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    async def _handled(self, update: object) -> None:
        if isinstance(update, Update) and self._updates is not None:
            await self._updates().handled(update.update_id)

    # -- handlers ----------------------------------------------------------------------
    async def _turn(self, update: Update, event: Event | IncomingPhoto) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        try:
            await chat.send_chat_action(ChatAction.TYPING)
        except TelegramError:
            log.debug("typing indicator failed", exc_info=True)
        hint = (user.language_code or "")[:2] or None  # the language of their Telegram app
        output = await self._service().handle(CHANNEL, str(user.id), event, language=hint)
        await self._send(chat.id, output)

    async def _send(self, chat_id: int, output: TurnOutput) -> None:
        bot = self.application.bot
        for reply in output.replies:
            for text, markup in render(reply):
                await bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True))

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = update.effective_message.text if update.effective_message else ""
        word = (text or "/").split()[0][1:].split("@")[0].lower()
        await self._turn(update, CommandEvent(COMMAND_NAMES.get(word, "help")))

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._turn(update, TextEvent(update.effective_message.text or ""))

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer()
        if isinstance(query.message, Message):
            try:  # the keyboard has been used: remove it
                await query.message.edit_reply_markup(reply_markup=None)
            except BadRequest:
                log.debug("keyboard already gone", exc_info=True)
        await self._turn(update, ChoiceEvent(query.data or ""))

    async def _on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._turn(update, await self._download(update.effective_message.photo[-1]))

    async def _on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._turn(update, await self._download(update.effective_message.document))

    async def _download(self, media: Any) -> Event | IncomingPhoto:
        if media.file_size and media.file_size > MAX_BYTES:
            return PhotoEvent(error="too_large")
        try:
            file = await media.get_file()
            return IncomingPhoto(bytes(await file.download_as_bytearray()))
        except TelegramError:
            log.warning("Telegram file download failed", exc_info=True)
            return PhotoEvent(error="corrupt")

    async def _on_location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        location = update.effective_message.location
        await self._turn(update, LocationEvent(location.latitude, location.longitude))

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        kind = next((k for k in ("sticker", "voice", "video", "audio", "animation",
                                 "video_note", "contact", "poll") if getattr(message, k, None)),
                    "other")
        await self._turn(update, UnsupportedEvent(kind))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed", exc_info=context.error)


def setup_telegram(app: web.Application, config: Config,
                   service: Callable[[], ConversationService],
                   updates: Callable[[], TelegramUpdates] | None = None) -> TelegramChannel:
    """Mounts the channel on the aiohttp app: lifecycle, and the webhook route if used."""
    channel = TelegramChannel(config, service, updates)
    app.cleanup_ctx.append(channel.lifecycle)
    if config.telegram_webhook_url:
        app.router.add_post(WEBHOOK_PATH, channel.webhook)
    return channel
