"""Telegram channel (python-telegram-bot 22): a thin adapter around the dialogue service.

Runs inside the aiohttp server's event loop: long polling by default, or a webhook on
the same server when a public URL is configured. Replies are rendered here (inline
keyboards, Telegram HTML, URL buttons); no dialogue logic lives in this module.

Telegram allows one poller per token (a second getUpdates is answered 409), so among all
the processes on one database (the workers of `jalerte run --workers N`, or `jalerte run`
on several machines) the database elects the one that polls (storage.db.Election): when
it dies, another takes over within a few seconds. Polled updates are stored before they
are confirmed to Telegram, like webhook updates, so the next poller handles what the
previous one confirmed but did not handle, and nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import logging
import re
import secrets
import weakref
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence, cast

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import BadRequest, Conflict, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    Updater,
    filters,
)

from bot.process.config import Config
from dialogues.events import (
    ChoiceEvent,
    CommandEvent,
    Event,
    LocationEvent,
    PhotoEvent,
    TextEvent,
    UnsupportedEvent,
)
from dialogues.replies import AdviceReply, Reply, ShareReply
from dialogues.service import ConversationService, IncomingPhoto, TurnOutput
from storage.db import Election
from storage.photos import MAX_BYTES
from storage.shared import TelegramUpdates

log = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
MAX_UPDATE_ID = 2**63 - 1  # telegram_updates.update_id is a BIGINT
CALLBACK_DATA_MAX = 64  # bytes, Telegram's limit
POLLER = "telegram poller"  # the election's name (its advisory lock key derives from it)
POLLER_RETRY = 5.0  # seconds between tries to become the poller (Config.telegram_poller_retry)
HANDOVER_GRACE = 10.0  # seconds a stepping-down poller gives the updates it fetched
STORE_RETRY = 1.0  # seconds before fetching again a batch that could not be stored
COMMANDS = {
    "fr": [
        ("aide", "Comment ça marche"),
        ("annuler", "Abandonner le signalement en cours"),
        ("nouveau", "Signaler un nouveau problème"),
        ("oublier", "Effacer vos messages et vos photos"),
        ("confidentialite", "Vos données et leur conservation"),
        ("start", "Démarrer"),
    ],
    None: [
        ("help", "How it works"),
        ("cancel", "Drop the report in progress"),
        ("new", "Report a new problem"),
        ("forget", "Erase your messages and photos"),
        ("privacy", "Your data and how long it is kept"),
        ("start", "Start"),
    ],
}
COMMAND_NAMES = {
    "start": "start",
    "aide": "help",
    "help": "help",
    "annuler": "cancel",
    "cancel": "cancel",
    "nouveau": "new",
    "new": "new",
    "oublier": "forget",
    "forget": "forget",
    "confidentialite": "privacy",
    "privacy": "privacy",
}


def webhook_url(configured: str) -> str:
    """The URL given to Telegram: JALERTE_TELEGRAM_WEBHOOK_URL, the public base or the
    whole URL (ending with the webhook's path, which is then not added twice)."""
    base = configured.rstrip("/")
    return base if base.endswith(WEBHOOK_PATH) else base + WEBHOOK_PATH


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Updates of one person one after the other (an album stays in order); people in
    parallel."""

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        done: Callable[[object], Awaitable[None]] | None = None,
    ):
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
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(c.label, callback_data=c.value)]
        for c in reply.choices
        if len(c.value.encode()) <= CALLBACK_DATA_MAX
    ]
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
    return [
        (piece, keyboard(reply) if i == len(pieces) - 1 else None) for i, piece in enumerate(pieces)
    ]


# -- long polling -------------------------------------------------------------------------
class _StoringBot:
    """The bot as the Updater sees it: each batch of polled updates goes through `keep`
    (stored, and only what is to be handled returned) before the Updater confirms it to
    Telegram with its next getUpdates. A batch made only of updates handled elsewhere is
    confirmed too (the offset never goes back), else Telegram would give it forever."""

    def __init__(self, bot: ExtBot, keep: Callable[[Sequence[Update]], Awaitable[list[Update]]]):
        self._bot = bot
        self._keep = keep
        self._offset = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    async def get_updates(self, offset: int | None = None, **kwargs: Any) -> tuple[Update, ...]:
        updates = await self._bot.get_updates(offset=max(offset or 0, self._offset), **kwargs)
        if not updates:
            return updates
        try:
            fresh = await self._keep(updates)
        except Exception:  # not confirmed: Telegram gives them again
            log.warning(
                "could not store polled Telegram updates; fetching them again", exc_info=True
            )
            await asyncio.sleep(STORE_RETRY)
            return ()
        self._offset = updates[-1].update_id + 1
        return tuple(fresh)


# -- the channel -------------------------------------------------------------------------
class TelegramChannel:
    def __init__(
        self,
        config: Config,
        service: Callable[[], ConversationService],
        updates: Callable[[], TelegramUpdates] | None = None,
        poller_retry: float = POLLER_RETRY,
    ):
        self.config = config
        self._service = service
        self._updates = updates
        self.poller_retry = poller_retry
        self.webhook_secret = config.telegram_webhook_secret or secrets.token_urlsafe(32)
        builder = (
            ApplicationBuilder()
            .token(config.telegram_token or "")
            .base_url(f"{config.telegram_api_url}/bot")
            .base_file_url(f"{config.telegram_api_url}/file/bot")
            .concurrent_updates(PerUserUpdateProcessor(done=self._handled if updates else None))
            .updater(None)  # ours, below: it polls only while this process is elected
        )
        self.application: Application = builder.build()
        # Polling: each batch is stored before the Updater confirms it to Telegram.
        self.updater: Updater | None = None
        if not config.telegram_webhook_url:
            self.updater = Updater(
                cast(Bot, _StoringBot(self.application.bot, self._keep)),
                self.application.update_queue,
            )
        self._queued: set[int] = set()  # update ids in this process's queue, not handled yet
        self._election: Election | None = None
        self._add_handlers()

    @property
    def polling(self) -> bool:
        """This process is the one that polls Telegram (shown by /healthz)."""
        return self.updater is not None and self.updater.running

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
                await app.bot.set_my_commands(
                    [BotCommand(c, d) for c, d in commands], language_code=language
                )
            if self.config.telegram_webhook_url:
                await app.bot.set_webhook(
                    url=webhook_url(self.config.telegram_webhook_url),
                    secret_token=self.webhook_secret,
                    allowed_updates=Update.ALL_TYPES,
                )
            await app.start()
            if self.updater is not None:
                await self.updater.initialize()
            elif (self.config.worker or "0") == "0":
                # Webhook: acknowledged to Telegram but not handled when the server stopped.
                await self._replay()
            log.info("Telegram: serving @%s", app.bot.username)
            started = True
        except TelegramError:
            log.exception("Telegram could not start; the web channel still runs")
            started = False
        if started and self.updater is not None:
            if self._updates is None:  # no database to elect with: alone by assumption
                await self._start_polling()
            else:
                self._election = Election(
                    self._updates().db,
                    POLLER,
                    self._start_polling,
                    self._stop_polling,
                    every=self.poller_retry,
                )
                await self._election.start()
        yield
        if started:
            if self._election is not None:
                await self._election.stop()  # polling stops before the lock is released
            elif self.polling:
                await self._stop_polling()
            await app.stop()
            await app.shutdown()

    async def _start_polling(self) -> None:
        """Elected: first what the previous poller confirmed but did not handle, then
        what Telegram has."""
        await self._replay()
        assert self.updater is not None
        await self.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, error_callback=self._on_poll_error
        )
        log.info("Telegram: this process polls")

    async def _stop_polling(self) -> None:
        """Stepping down: no more getUpdates, and what was fetched is handled before the
        lock goes (the next poller replays whatever is still unhandled then)."""
        if self.updater is not None and self.updater.running:
            await self.updater.stop()
            log.info("Telegram: this process no longer polls")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.application.update_queue.join(), HANDOVER_GRACE)

    async def _replay(self) -> None:
        """Updates stored and confirmed to Telegram, never handled: their process stopped
        first. Oldest first; those already in this process's queue are not queued again."""
        if self._updates is None:
            return
        app = self.application
        for payload in await self._updates().unhandled():
            update = Update.de_json(payload, app.bot)
            if update.update_id not in self._queued:
                self._queued.add(update.update_id)
                await app.update_queue.put(update)

    async def _keep(self, updates: Sequence[Update]) -> list[Update]:
        """A polled batch, stored; what to handle: neither handled already (by a poller
        that stopped before confirming it) nor in this process's queue (replayed)."""
        if self._updates is None:
            return list(updates)
        wanted = set(
            await self._updates().polled(
                [(u.update_id, u.to_dict()) for u in updates],
                {u.update_id: person for u in updates if (person := self._person(u))},
            )
        )
        fresh = [u for u in updates if u.update_id in wanted and u.update_id not in self._queued]
        self._queued.update(u.update_id for u in fresh)
        return fresh

    def _on_poll_error(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):  # a second poller: only ever for a moment
            log.warning("Telegram: another process polls this bot (%s)", error)
        else:
            log.error("Telegram polling failed; trying again", exc_info=error)

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
        if (
            not isinstance(update_id, int)
            or isinstance(update_id, bool)
            or not 0 <= update_id <= MAX_UPDATE_ID
        ):  # Telegram's ids are positive
            return web.Response(status=400, text="bad update")
        try:
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return web.Response(status=400, text="bad update")
        # Stored before Telegram hears 200 (it never sends an acknowledged update again);
        # an update it sends twice is recognised and not handled again.
        if self._updates is not None and not await self._updates().receive(
            update_id, data, self._person(update)
        ):
            return web.Response(text="ok")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    def _person(self, update: Update) -> str | None:
        """The sender's key, as their conversation knows it: « Oubliez-moi » also drops
        their updates stored and not handled yet."""
        user = update.effective_user
        return self._service().user_key(CHANNEL, str(user.id)) if user else None

    async def _handled(self, update: object) -> None:
        if isinstance(update, Update) and self._updates is not None:
            await self._updates().handled(update.update_id)
            self._queued.discard(update.update_id)

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
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )

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
        kind = next(
            (
                k
                for k in (
                    "sticker",
                    "voice",
                    "video",
                    "audio",
                    "animation",
                    "video_note",
                    "contact",
                    "poll",
                )
                if getattr(message, k, None)
            ),
            "other",
        )
        await self._turn(update, UnsupportedEvent(kind))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed", exc_info=context.error)


def setup_telegram(
    app: web.Application,
    config: Config,
    service: Callable[[], ConversationService],
    updates: Callable[[], TelegramUpdates] | None = None,
    poller_retry: float = POLLER_RETRY,
) -> TelegramChannel:
    """Mounts the channel on the aiohttp app: lifecycle, and the webhook route if used."""
    channel = TelegramChannel(config, service, updates, poller_retry)
    app.cleanup_ctx.append(channel.lifecycle)
    if config.telegram_webhook_url:
        app.router.add_post(WEBHOOK_PATH, channel.webhook)
    return channel
