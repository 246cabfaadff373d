"""The privacy notice as a page (`/confidentialite`, `/privacy`): the very notice the bot
gives in chat (`privacy` in dialogues/messages.py), with this server's retention periods."""

from __future__ import annotations

import html
from string import Template

from aiohttp import web

from bot.channels.web.base import CONFIG, STATIC
from dialogues.messages import text

CSP = (
    "default-src 'none'; style-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PAGE = Template((STATIC / "privacy.html").read_text(encoding="utf-8"))
WORDS = {
    "fr": {
        "title": "Vos données personnelles",
        "other_href": "/privacy",
        "other_lang": "en",
        "other_label": "This page in English",
        "widget": "Dans la fenêtre de discussion, le bouton « Effacer mes données » fait de "
        "même que /oublier.",
    },
    "en": {
        "title": "Your personal data",
        "other_href": "/confidentialite",
        "other_lang": "fr",
        "other_label": "Cette page en français",
        "widget": "In the chat window, the “Erase my data” button does the same as /forget.",
    },
}


async def privacy_page(request: web.Request) -> web.Response:
    lang = "en" if request.path == "/privacy" else "fr"
    config = request.app[CONFIG]
    notice = text(
        "privacy",
        lang,
        transcript_days=config.retention_transcript_days,
        free_text_days=config.retention_free_text_days,
    )
    words = {k: html.escape(v, quote=True) for k, v in WORDS[lang].items()}
    page = PAGE.substitute(lang=lang, notice=html.escape(notice, quote=False), **words)
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP},
    )
