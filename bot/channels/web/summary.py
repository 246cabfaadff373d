"""« Ce que la personne garde »: a printable summary of a saved alert, without personal data.

The widget posts a form (`POST /summary`: session, alert, lang, optional download) in a new
tab: the session id travels in the body, never in a URL (no history, no Referer, no logs).
The server answers only when the alert was saved in that session's own conversation; any
other case gets the same « indisponible » page (no oracle on references).

What the summary holds: the reference, the date (Europe/Paris), the structured fields with
their labels and the advice sheet. Never the description, a typed operator name or photos.
"""

from __future__ import annotations

import html
import re
import secrets
from datetime import date, datetime

from aiohttp import web
from sqlalchemy import func, select

from bot.channels.web.base import (
    CHANNEL,
    CONFIG,
    SECRET,
    STATIC,
    address_of,
    issued_session,
    origin_allowed,
    rt_of,
    within_rate,
)
from dialogues.messages import day_text, has_labels, label
from domain.fields import FIELD, SUMMARY_ORDER
from storage.models import Alert, AlertPhoto, Conversation
from storage.paris import in_paris

REFERENCE = re.compile(r"^JA-[A-Z0-9]{8}$")
TEXTS = {
    "fr": {
        "title": "Récapitulatif de votre alerte",
        "reference": "Référence",
        "date": "Date",
        "advice": "Nos conseils pour agir",
        "intro": "Vous avez signalé ce problème à l'Arcep, le régulateur des télécoms et de la "
        "Poste, avec l'assistant J'alerte l'Arcep. Gardez ce récapitulatif : sa "
        "référence permet de retrouver votre alerte.",
        "private": "Ce document ne contient aucune donnée personnelle : ni la description "
        "que vous avez écrite, ni vos photos.",
        "follow": "Les alertes ne font pas l'objet d'un suivi individuel : elles permettent à "
        "l'Arcep de repérer les dysfonctionnements de chaque opérateur et d'orienter "
        "son action.",
        "print": "Imprimer ou enregistrer en PDF",
        "photos_n": "{n} photo(s) jointe(s)",
        "none": "—",
        "at": "à",
        "gone": "Récapitulatif indisponible",
        "gone_text": "Ce récapitulatif n'est pas disponible : l'alerte est introuvable, ou elle "
        "n'a pas été enregistrée dans cette conversation.",
        "busy": "Vous avez fait beaucoup de demandes : patientez une minute, puis réessayez.",
    },
    "en": {
        "title": "Summary of your alert",
        "reference": "Reference",
        "date": "Date",
        "advice": "Our advice",
        "intro": "You reported this problem to Arcep, the French telecom and postal regulator, "
        "with the J'alerte l'Arcep assistant. Keep this summary: its reference "
        "identifies your alert.",
        "private": "This document holds no personal data: neither the description you wrote "
        "nor your photos.",
        "follow": "Alerts get no individual follow-up: Arcep uses them to spot each "
        "operator's failings and target its action.",
        "print": "Print or save as PDF",
        "photos_n": "{n} photo(s) attached",
        "none": "—",
        "at": "at",
        "gone": "Summary unavailable",
        "gone_text": "This summary is not available: the alert does not exist, or it was not "
        "saved in this conversation.",
        "busy": "You made many requests: wait a minute and try again.",
    },
}
CSS = """body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
color:#1e1e1e;background:#fff}
main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}
.brand{color:#000091;font-weight:700;margin:0 0 .5rem}
h1{font-size:1.6rem;margin:.2rem 0 1rem;color:#000091}
h2{font-size:1.25rem;margin:2rem 0 .6rem;color:#000091}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
.ref{font-size:1.3rem;font-weight:700;letter-spacing:.03em;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.35rem 1.2rem;margin:0;
padding:1rem;border:1px solid #929292;border-radius:6px}
dt{font-weight:600} dd{margin:0;overflow-wrap:anywhere}
@media (max-width:32rem){dl{grid-template-columns:minmax(0,1fr);gap:0}dd{margin:0 0 .6rem}}
.note{color:#3a3a3a;font-size:.95rem}
a{color:#000091}
button{font:inherit;padding:.5rem 1rem;border:1px solid #000091;border-radius:6px;
background:#000091;color:#fff;cursor:pointer}
:focus-visible{outline:3px solid #000091;outline-offset:2px}
@media print{.no-print{display:none}main{padding:0;max-width:none}a{color:#1e1e1e}
a[href]::after{content:" (" attr(href) ")";font-size:.85em;overflow-wrap:anywhere}}"""


def headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
            "img-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex",
    }


def format_date(moment: datetime, lang: str) -> str:
    local = in_paris(moment)  # SQLite gives naive UTC datetimes back
    return f"{day_text(local.date(), lang)} {'à' if lang == 'fr' else 'at'} {local:%H:%M}"


def markdown_html(md: str) -> str:
    """The advice sheets' small Markdown subset, escaped: paragraphs, numbered or bulleted
    lines, **bold**, [label](https://…)."""

    def inline(text: str) -> str:
        out, last = [], 0
        for m in re.finditer(r"\*\*(.+?)\*\*|\[([^\]]+)\]\((https://[^)\s]+)\)", text):
            out.append(html.escape(text[last : m.start()]))
            if m.group(1) is not None:
                out.append(f"<strong>{inline(m.group(1))}</strong>")
            else:
                out.append(f'<a href="{html.escape(m.group(3))}">{html.escape(m.group(2))}</a>')
            last = m.end()
        out.append(html.escape(text[last:]))
        return "".join(out)

    blocks = []
    for block in re.split(r"\n[ \t]*\n", md.replace("\r\n", "\n")):
        kind, items, para = None, [], []

        def flush() -> None:
            nonlocal kind, items, para
            if items:
                blocks.append(f"<{kind}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{kind}>")
            if para:
                blocks.append("<p>" + "<br>".join(para) + "</p>")
            kind, items, para = None, [], []

        for line in block.split("\n"):
            num = re.match(r"^\s*\d+[.)]\s+(.*)$", line)
            bullet = re.match(r"^\s*[-*]\s+(.*)$", line)
            if num or bullet:
                tag = "ol" if num else "ul"
                if para or (kind and kind != tag):
                    flush()
                kind = tag
                items.append(inline((num or bullet).group(1)))
            elif line.strip():
                if items:
                    flush()
                para.append(inline(line.strip()))
        flush()
    return "\n".join(blocks)


def _page(lang: str, title: str, body: str, nonce: str, printable: bool) -> str:
    script = (
        f'<script nonce="{nonce}">document.getElementById("print").hidden=false;'
        'document.getElementById("print").addEventListener("click",function(){'
        "window.print();});</script>"
        if printable
        else ""
    )
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{html.escape(title)} · J'alerte l'Arcep</title>\n"
        f'<style nonce="{nonce}">{CSS}</style>\n</head>\n<body>\n<main>\n'
        f"{body}\n</main>\n{script}\n</body>\n</html>\n"
    )


def render_summary(
    alert: Alert, advice_sheet, operator_name: str | None, photo_count: int, lang: str, nonce: str
) -> str:
    t = TEXTS[lang]

    def field(kind: str, value: str | None) -> str:
        return label(kind, value, lang) if value else t["none"]

    rows = [
        (t["reference"], f'<span class="ref">{html.escape(alert.id)}</span>'),
        (t["date"], html.escape(format_date(alert.created_at, lang))),
    ]
    # The summary's lines in the registry's order; a follow-up question's line only when
    # the problem asks it or it was given; the description is the person's own, not here.
    for name in SUMMARY_ORDER:
        f = FIELD[name]
        value = photo_count if name == "photo" else getattr(alert, name, None)
        if name == "description" or (
            f.categories is not None and not value and alert.category not in f.categories
        ):
            continue
        if name == "operator":
            shown = operator_name or t["none"]
        elif name == "photo":
            if not photo_count:
                continue
            shown = t["photos_n"].format(n=photo_count)
        elif isinstance(value, date):
            shown = day_text(value, lang)
        elif has_labels(name):
            shown = field(name, value)
        else:
            shown = value or t["none"]
        rows.append((label("fields", f.label_key, lang), html.escape(shown)))
    fields = "\n".join(f"<dt>{html.escape(k)}</dt><dd>{v}</dd>" for k, v in rows)
    advice = ""
    if advice_sheet is not None:
        advice = (
            f'<section aria-labelledby="advice"><h2 id="advice">{t["advice"]}</h2>\n'
            f"<h3>{html.escape(advice_sheet.title)}</h3>\n"
            f"{markdown_html(advice_sheet.body)}\n</section>"
        )
    body = (
        f"<p class=\"brand\">J'alerte l'Arcep</p>\n<h1>{t['title']}</h1>\n"
        f"<p>{html.escape(t['intro'])}</p>\n"
        f'<p class="no-print"><button type="button" id="print" hidden>'
        f"{html.escape(t['print'])}</button></p>\n"
        f"<dl>\n{fields}\n</dl>\n"
        f'<p class="note">{html.escape(t["private"])}</p>\n'
        f'<p class="note">{html.escape(t["follow"])}</p>\n{advice}'
    )
    return _page(lang, t["title"], body, nonce, printable=True)


def unavailable(lang: str, status: int = 404, why: str = "gone_text") -> web.Response:
    nonce = secrets.token_urlsafe(16)
    t = TEXTS[lang]
    body = (
        f"<p class=\"brand\">J'alerte l'Arcep</p>\n<h1>{t['gone']}</h1>\n"
        f"<p>{html.escape(t[why])}</p>"
    )
    return web.Response(
        text=_page(lang, t["gone"], body, nonce, printable=False),
        content_type="text/html",
        status=status,
        headers=headers(nonce),
    )


async def summary(request: web.Request) -> web.Response:
    """POST /summary: session, alert, lang, download (optional)."""
    lang = "en" if request.query.get("lang") == "en" else "fr"
    if not origin_allowed(request, request.app[CONFIG].web_allowed_origins):
        return unavailable(lang, 403)
    try:
        form = await request.post()
    except (ValueError, AssertionError):
        return unavailable(lang, 400)
    lang = "en" if form.get("lang") == "en" else lang
    session, reference = str(form.get("session", "")), str(form.get("alert", ""))
    if not issued_session(request.app[SECRET], session) or not REFERENCE.match(reference):
        return unavailable(lang)
    if not await within_rate(request.app, session, address_of(request)):
        return unavailable(lang, 429, "busy")
    rt = rt_of(request.app)
    key = rt.service.user_key(CHANNEL, session)
    async with rt.db.session() as db:
        row = (
            await db.execute(
                select(Alert)
                .join(Conversation, Alert.conversation_id == Conversation.id)
                .where(
                    Alert.id == reference,
                    Conversation.channel == CHANNEL,
                    Conversation.user_key == key,
                )
            )
        ).scalar_one_or_none()
        if row is None:
            return unavailable(lang)
        photo_count = await db.scalar(
            select(func.count()).select_from(AlertPhoto).where(AlertPhoto.alert_id == reference)
        )
    # The alert's own language: the conversation's, French unless it was in English.
    lang = "en" if row.language == "en" else "fr"
    engine = rt.service.engine
    sheets = [s for s in engine.advice.sheets if s.id == row.advice_sheet]
    sheet = next((s for s in sheets if s.language == lang), sheets[0] if sheets else None)
    # An alert about several operators (a dead zone) names them all.
    operators = engine.taxonomy.operators
    operator = ", ".join(operators[o].name for o in row.operators if o in operators) or None
    nonce = secrets.token_urlsafe(16)
    page = render_summary(row, sheet, operator, photo_count, lang, nonce)
    response = web.Response(text=page, content_type="text/html", headers=headers(nonce))
    if form.get("download"):
        name = ("recapitulatif-" if lang == "fr" else "summary-") + row.id + ".html"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


STATEMENT_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


async def accessibility_page(request: web.Request) -> web.FileResponse:
    """The accessibility statement (RGAA), linked from the demo page and the console."""
    return web.FileResponse(
        STATIC / "accessibilite.html",
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-cache",
            "Content-Security-Policy": STATEMENT_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
