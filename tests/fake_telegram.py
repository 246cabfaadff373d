"""A fake Telegram Bot API server, for offline tests of the python-telegram-bot (PTB 22) bot.

Telegram is never reachable from the tests: this aiohttp application plays the part of
``https://api.telegram.org`` on 127.0.0.1. Point PTB at it with::

    fake = FakeTelegram()
    url = await fake.start()
    app = (ApplicationBuilder().token(fake.token)
           .base_url(f"{url}/bot").base_file_url(f"{url}/file/bot").build())

Requests then arrive at ``{url}/bot{token}/{method}`` and file downloads at
``{url}/file/bot{token}/{file_path}``. A test then plays the user and reads the bot::

    fake.push(fake.text_update(4242, "/start"))          # polled by the bot (getUpdates)
    await fake.wait_for_call("sendMessage")                # or wait_for(lambda f: f.sent(4242))
    [reply] = fake.sent(4242)                              # Message dict + "_params" sent
    fake.push(fake.callback_update(4242, "yes"))           # presses a button of that reply
    await fake.post_webhook(bot_url, update, secret)       # or deliver it to a webhook

Stop the bot (``app.updater.stop(); app.stop()``) before the fake, otherwise PTB keeps polling
a closed port and logs connection errors. One FakeTelegram per test; it runs in the loop that
called start(). ``fail()`` injects an error (a 429, a 403...), ``pause()`` holds calls to a
method until ``resume()``, ``blocked`` makes a user block the bot, ``dump()`` shows the recent
calls (wait_for's timeout error includes it).

Several bot processes may share one fake (one token): ``poll_peers()`` gives the client address
of every ``getUpdates`` (which connection, hence which process, polled) and
``max_concurrent_polls`` how many long polls were ever pending at once.

What it does like Telegram, so that the bot's mistakes show up in tests rather than in
production:

* answers are ``{"ok": true, "result": ...}`` with Message/User/Chat/File objects that PTB's
  ``de_json`` accepts, errors are ``{"ok": false, "error_code": ..., "description": ...}``
  with the same HTTP status and Telegram's own descriptions (PTB turns them into
  ``BadRequest``/``Forbidden``/``InvalidToken``/``Conflict``/``RetryAfter``);
* parameters are read from a JSON body, a form (what PTB sends: every value that is not a
  string is JSON-encoded inside the form, e.g. ``reply_markup``) or multipart (uploads);
* ``parse_mode`` HTML, MarkdownV2 and Markdown are parsed after Telegram's own parser
  (tdlib): the text that comes back has no markup and carries ``entities``, and malformed
  markup fails with "Bad Request: can't parse entities: ..." (an unescaped ``<`` in HTML,
  an unescaped ``.`` in MarkdownV2...);
* the bot can only write to chats it knows: users who sent an update built here, or who were
  added with :meth:`FakeTelegram.add_user`; anything else is "Bad Request: chat not found";
* long polling honours ``offset`` (updates below it are confirmed and dropped), ``limit`` and
  ``timeout``, returns as soon as an update is pushed, and a newer ``getUpdates`` terminates
  a pending one with 409 Conflict, as Telegram does; ``getUpdates`` with a webhook set is a
  409 too;
* inline keyboards: callback_data must be 1-64 bytes, a button needs an action; only an
  inline keyboard is echoed in the returned Message (never a reply keyboard);
* editing a message into exactly what it already is fails with "message is not modified";
  a callback query can be answered once.

Not modelled: groups and channels, inline mode, payments, media other than photos sent by
the bot, automatic url/mention/hashtag entities in the bot's texts, flood limits (use
:meth:`FakeTelegram.fail` to inject a 429 or any other error).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import io
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, web

__all__ = ["FakeTelegram", "FakeTelegramTimeout", "UploadedFile", "parse_formatted_text"]


# --------------------------------------------------------------------------------------
# Small types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded (a multipart part with a filename), as found in ``calls``."""

    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


class FakeTelegramTimeout(TimeoutError):
    """Raised by wait_for/wait_for_call (asyncio.TimeoutError is TimeoutError since 3.11)."""


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class _LogEntry:
    method: str
    params: dict
    status: int | None = None
    description: str | None = None
    peer: tuple[str, int] | None = None  # the client's address: which process called


# --------------------------------------------------------------------------------------
# Text formatting: a Python rendition of tdlib's parse_html / parse_markdown_v2 /
# parse_markdown (the parsers behind the Bot API's parse_mode), error messages included.
# Offsets in errors are byte offsets in the UTF-8 text, entity offsets are UTF-16 units.
# --------------------------------------------------------------------------------------

_SPACE = frozenset(b" \t\r\n\v\f\0")
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _is_alnum(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _utf16_units(c: int) -> int:
    """UTF-16 units contributed by one UTF-8 byte (0 for continuation bytes)."""
    if c & 0xC0 == 0x80:
        return 0
    return 2 if c >= 0xF0 else 1


def _checked_link(url: str) -> str:
    """Roughly tdlib's LinkManager::get_checked_link: '' when the URL is not acceptable."""
    if not url or any(ch.isspace() for ch in url):
        return ""
    lowered = url.lower()
    if lowered.startswith(("tg:", "ton:")):
        return url
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
        url = "http://" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on an invalid port
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https", "ftp"):
        return ""
    is_ip = re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host) is not None
    labels = host.split(".")
    if not is_ip and (
        len(labels) < 2
        or not re.fullmatch(r"[a-z]{2,}|xn--[a-z0-9-]+", labels[-1])
        or any(not re.fullmatch(r"[a-z0-9_-]+|xn--[a-z0-9-]+", lab) for lab in labels)
    ):
        return ""
    netloc = parts.netloc.lower() if "@" not in parts.netloc else parts.netloc
    rest = url.split("://", 1)[1][len(parts.netloc) :]  # path, "?query", "#fragment" as written
    if not rest.startswith("/"):
        rest = "/" + rest
    return f"{parts.scheme.lower()}://{netloc}{rest}"


# tdlib's order of entities: by offset, longer first, then by type priority
_ENTITY_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
    "date_time": 99,
}


def _sort_entities(entities: list[dict]) -> list[dict]:
    return sorted(
        entities, key=lambda e: (e["offset"], -e["length"], _ENTITY_PRIORITY.get(e["type"], 50))
    )


def _link_user_id(url: str) -> int | None:
    m = re.fullmatch(r"tg:(?://)?user/?\?(?:.*&)?id=(\d+)(?:&.*)?", url.strip().lower())
    return int(m.group(1)) if m else None


def _decode_html_entity(b: bytes, pos: int) -> tuple[int, int]:
    """(code point, position after the entity), code point 0 when it is not an entity."""
    n = len(b)

    def at(i: int) -> int:
        return b[i] if i < n else 0

    end = pos + 1
    res = 0
    if at(pos + 1) == 0x23:  # '#'
        end += 1
        if at(pos + 2) == 0x78:  # 'x'
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                res = res * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while 0x30 <= at(end) <= 0x39:
                res = res * 10 + at(end) - 0x30
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while 0x41 <= at(end) <= 0x5A or 0x61 <= at(end) <= 0x7A:
            end += 1
        res = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(b[pos + 1 : end], 0)
        if not res:
            return 0, pos
    if at(end) == 0x3B:  # ';'
        end += 1
    return res, end


_SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


class _ParseError(Exception):
    pass


def _parse_html(text: str, users: dict[int, dict]) -> tuple[str, list[dict]]:
    b = text.encode("utf-8")
    n = len(b)

    def at(i: int) -> int:
        return b[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[dict] = []
    nested: list[dict] = []
    i = 0
    while i < n:
        c = b[i]
        if c == 0x26:  # '&'
            code, after = _decode_html_entity(b, i)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    raise _ParseError(_SURROGATE_ERROR)
                utf16 += 2 if code > 0xFFFF else 1
                out += chr(code).encode("utf-8")
                i = after
                continue
        if c != 0x3C:  # not '<'
            utf16 += _utf16_units(c)
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != 0x2F:  # a start tag
            while at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            if i >= n:
                raise _ParseError(f"Unclosed start tag at byte offset {begin}")
            tag = b[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise _ParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            attrs: dict[str, str] = {}
            while at(i) != 0x3E:
                while i < n and at(i) in _SPACE:
                    i += 1
                if at(i) == 0x3E:
                    break
                attr_begin = i
                while at(i) not in _SPACE and at(i) not in (0x3D, 0x3E):
                    i += 1
                attr_name = b[attr_begin:i].decode("utf-8", "replace")
                if not attr_name:
                    raise _ParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while i < n and at(i) in _SPACE:
                    i += 1
                if at(i) != 0x3D:  # '='
                    if tag == "blockquote" and attr_name == "expandable":
                        attrs[attr_name] = ""
                        continue
                    raise _ParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin}'
                    )
                i += 1
                while i < n and at(i) in _SPACE:
                    i += 1
                if i >= n:
                    raise _ParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (0x22, 0x27):  # a name token
                    token_begin = i
                    while _is_alnum(at(i)) or at(i) in (0x2E, 0x2D):
                        i += 1
                    value = b[token_begin:i].decode("ascii").lower()
                    if at(i) not in _SPACE and at(i) != 0x3E:
                        raise _ParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:  # a quoted string
                    quote = at(i)
                    i += 1
                    raw = bytearray()
                    while i < n and at(i) != quote:
                        if at(i) == 0x26:
                            code, after = _decode_html_entity(b, i)
                            if code:
                                raw += chr(code).encode("utf-8", "surrogatepass")
                                i = after
                                continue
                        raw.append(at(i))
                        i += 1
                    if at(i) == quote and i < n:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if i >= n:
                    raise _ParseError(f"Unclosed start tag at byte offset {begin}")
                attrs[attr_name] = value
            argument = ""
            if tag == "a":
                argument = attrs.get("href", "")
            elif tag == "code" and attrs.get("class", "").startswith("language-"):
                argument = attrs["class"][len("language-") :]
            elif tag == "span" and attrs.get("class", "").startswith("tg-"):
                argument = attrs["class"][3:]
            elif tag == "tg-emoji":
                argument = attrs.get("emoji-id", "")
            if tag == "span" and argument != "spoiler":
                raise _ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            nested.append(
                {
                    "tag": tag,
                    "argument": argument,
                    "attrs": attrs,
                    "offset": utf16,
                    "begin": len(out),
                }
            )
            i += 1  # past '>'
        else:  # an end tag
            if not nested:
                raise _ParseError(f"Unexpected end tag at byte offset {begin}")
            i += 1
            while at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            end_tag = b[begin + 2 : i].decode("utf-8", "replace").lower()
            while i < n and at(i) in _SPACE:
                i += 1
            if at(i) != 0x3E:
                raise _ParseError(f"Unclosed end tag at byte offset {begin}")
            i += 1
            top = nested.pop()
            tag = top["tag"]
            if end_tag and end_tag != tag:
                raise _ParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                    f'found "</{end_tag}>"'
                )
            if utf16 > top["offset"]:
                offset, length = top["offset"], utf16 - top["offset"]
                entity: dict | None = {"offset": offset, "length": length}
                if tag in ("i", "em"):
                    entity["type"] = "italic"
                elif tag in ("b", "strong"):
                    entity["type"] = "bold"
                elif tag in ("s", "strike", "del"):
                    entity["type"] = "strikethrough"
                elif tag in ("u", "ins"):
                    entity["type"] = "underline"
                elif tag in ("tg-spoiler", "span"):
                    entity["type"] = "spoiler"
                elif tag == "tg-emoji":
                    if not top["argument"].isdigit() or int(top["argument"]) == 0:
                        raise ApiError(
                            400, "Bad Request: Invalid custom emoji identifier specified"
                        )
                    entity.update(type="custom_emoji", custom_emoji_id=top["argument"])
                elif tag == "tg-time":
                    unix = top["attrs"].get("unix", "")
                    if not unix.isdigit():
                        raise _ParseError("Invalid date and time specified")
                    entity.update(type="date_time", unix_time=int(unix))
                    if top["attrs"].get("format"):
                        entity["date_time_format"] = top["attrs"]["format"]
                elif tag == "a":
                    url = top["argument"] or out[top["begin"] :].decode("utf-8", "replace")
                    entity = _link_entity(url, offset, length, users)
                elif tag == "pre":
                    last = entities[-1] if entities else None
                    if (
                        last
                        and last["type"] == "code"
                        and last["offset"] == offset
                        and last["length"] == length
                        and last.get("language")
                    ):
                        last["type"] = "pre"
                        entity = None
                    else:
                        entity["type"] = "pre"
                elif tag == "code":
                    last = entities[-1] if entities else None
                    if (
                        last
                        and last["type"] == "pre"
                        and last["offset"] == offset
                        and last["length"] == length
                        and top["argument"]
                    ):
                        last["language"] = top["argument"]
                        entity = None
                    else:
                        entity["type"] = "code"
                        if top["argument"]:
                            entity["language"] = top["argument"]
                elif tag == "blockquote":
                    expandable = "expandable" in top["attrs"]
                    entity["type"] = "expandable_blockquote" if expandable else "blockquote"
                if entity is not None:
                    entities.append(entity)
    if nested:
        raise _ParseError(f"Can't find end tag corresponding to start tag {nested[-1]['tag']}")
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return out.decode("utf-8", "replace"), _sort_entities(entities)


def _link_entity(url: str, offset: int, length: int, users: dict[int, dict]) -> dict | None:
    user_id = _link_user_id(url)
    if user_id is not None:
        user = users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": str(user_id)}
        return {"type": "text_mention", "offset": offset, "length": length, "user": dict(user)}
    checked = _checked_link(url)
    if not checked:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


def _parse_markdown_v2(text: str, users: dict[int, dict]) -> tuple[str, list[dict]]:
    b = text.encode("utf-8")
    n = len(b)

    def at(i: int) -> int:
        return b[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[dict] = []
    nested: list[dict] = []
    have_blockquote = False

    def reserved(c: int) -> str:
        return f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'"

    def read_parenthesised(i: int, what: str) -> tuple[str, int]:
        """The "(...)" after a link or emoji, '\\' escapes resolved; i is on its first byte."""
        begin = i
        raw = bytearray()
        while i < n and at(i) != 0x29:
            if at(i) == 0x5C and 0 < at(i + 1) <= 126:
                raw.append(at(i + 1))
                i += 2
                continue
            raw.append(at(i))
            i += 1
        if at(i) != 0x29:
            raise _ParseError(f"Can't find end of {what} at byte offset {begin}")
        return raw.decode("utf-8", "replace"), i

    def close_blockquote(top: dict) -> None:
        length = utf16 - top["offset"]
        if length:
            entities.append(
                {
                    "type": "expandable_blockquote" if top.get("expandable") else "blockquote",
                    "offset": top["offset"],
                    "length": length,
                }
            )

    i = 0
    while i < n:
        c = b[i]
        if c == 0x5C and 0 < at(i + 1) <= 126:  # '\' escapes any ASCII character
            i += 1
            utf16 += 1
            out.append(b[i])
            i += 1
            continue
        in_code = bool(nested) and nested[-1]["type"] in ("code", "pre", "pre_code")
        reserved_chars = b"`" if in_code else b"_*[]()~`>#+-=|{}.!\n"
        if c not in reserved_chars:
            utf16 += _utf16_units(c)
            out.append(c)
            i += 1
            continue

        # "||" right before the end of a line closes an expandable blockquote
        if (
            have_blockquote
            and c == 0x7C
            and at(i + 1) == 0x7C
            and at(i + 2) in (0x0A, 0)
            and nested
            and nested[-1]["type"] == "blockquote"
        ):
            nested[-1]["expandable"] = True
            i += 2
            continue

        is_end = False
        if nested:
            top_type = nested[-1]["type"]
            if have_blockquote and c == 0x0A and (i + 1 == n or at(i + 1) != 0x3E):
                is_end = True
            elif top_type == "bold":
                is_end = c == 0x2A
            elif top_type == "italic":
                is_end = c == 0x5F and at(i + 1) != 0x5F
            elif top_type == "code":
                is_end = c == 0x60
            elif top_type in ("pre", "pre_code"):
                is_end = c == 0x60 and at(i + 1) == 0x60 and at(i + 2) == 0x60
            elif top_type in ("text_link", "custom_emoji"):
                is_end = c == 0x5D
            elif top_type == "underline":
                is_end = c == 0x5F and at(i + 1) == 0x5F
            elif top_type == "strikethrough":
                is_end = c == 0x7E
            elif top_type == "spoiler":
                is_end = c == 0x7C and at(i + 1) == 0x7C

        if not is_end:
            etype: str | None
            argument = ""
            byte_offset = i
            expandable = False
            if c == 0x5F:
                if at(i + 1) == 0x5F:
                    etype = "underline"
                    i += 1
                else:
                    etype = "italic"
            elif c == 0x2A:
                if (
                    at(i + 1) == 0x2A
                    and at(i + 2) == 0x3E
                    and not have_blockquote
                    and (i == 0 or b[i - 1] == 0x0A)
                ):
                    etype = "blockquote"
                    expandable = True
                    have_blockquote = True
                    i += 2
                else:
                    etype = "bold"
            elif c == 0x7E:
                etype = "strikethrough"
            elif c == 0x7C:
                if at(i + 1) != 0x7C:
                    raise _ParseError(reserved(c))
                etype = "spoiler"
                i += 1
            elif c == 0x5B:
                etype = "text_link"
            elif c == 0x60:
                if at(i + 1) == 0x60 and at(i + 2) == 0x60:
                    i += 3
                    etype = "pre"
                    language_end = i
                    while at(language_end) not in _SPACE and at(language_end) != 0x60:
                        language_end += 1
                    if i != language_end and language_end < n and at(language_end) != 0x60:
                        etype = "pre_code"
                        argument = b[i:language_end].decode("utf-8", "replace")
                        i = language_end
                    if at(i) in (0x0A, 0x0D):  # skip one new line at the beginning
                        if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    etype = "code"
            elif c == 0x21:
                if at(i + 1) != 0x5B:
                    raise _ParseError(reserved(c))
                etype = "custom_emoji"
                i += 1
            elif c == 0x0A:
                utf16 += 1
                out.append(0x0A)
                etype = None
                if at(i + 1) == 0x3E:
                    i += 1
                    if not have_blockquote:
                        etype = "blockquote"
                        have_blockquote = True
            elif c == 0x3E:
                if i != 0:
                    raise _ParseError(reserved(c))
                etype = "blockquote"
                have_blockquote = True
            else:
                raise _ParseError(reserved(c))
            i += 1
            if etype is None:
                continue
            nested.append(
                {
                    "type": etype,
                    "argument": argument,
                    "offset": utf16,
                    "byte_offset": byte_offset,
                    "begin": len(out),
                    "expandable": expandable,
                }
            )
            continue

        # the end of an entity
        top = nested[-1]
        etype = top["type"]
        if c == 0x0A and etype != "blockquote":
            raise _ParseError(
                f"Can't find end of {_MD2_NAMES[etype]} entity at byte offset {top['byte_offset']}"
            )
        skip = utf16 == top["offset"]
        entity: dict | None = None
        if etype in ("underline", "spoiler"):
            i += 1
        elif etype in ("pre", "pre_code"):
            i += 2
        elif etype == "text_link":
            if at(i + 1) != 0x28:  # '('
                url = out[top["begin"] :].decode("utf-8", "replace")
            else:
                url, i = read_parenthesised(i + 2, "a URL")
            if not skip:
                entity = _link_entity(url, top["offset"], utf16 - top["offset"], users)
                skip = entity is None
        elif etype == "custom_emoji":
            if at(i + 1) != 0x28:
                raise ApiError(
                    400, "Bad Request: Custom emoji entity must contain a tg://emoji URL"
                )
            url, i = read_parenthesised(i + 2, "a custom emoji URL")
            if m := re.fullmatch(r"tg://emoji\?id=(\d+)", url):
                entity = {
                    "type": "custom_emoji",
                    "offset": top["offset"],
                    "length": utf16 - top["offset"],
                    "custom_emoji_id": m.group(1),
                }
            elif m := re.fullmatch(r"tg://time\?unix=(\d+)(?:&format=(\w+))?", url):
                entity = {
                    "type": "date_time",
                    "offset": top["offset"],
                    "length": utf16 - top["offset"],
                    "unix_time": int(m.group(1)),
                }
                if m.group(2):
                    entity["date_time_format"] = m.group(2)
            else:
                raise ApiError(400, "Bad Request: Invalid custom emoji URL specified")
        elif etype == "blockquote":
            have_blockquote = False
            out.append(0x0A)
            utf16 += 1
            nested.pop()
            close_blockquote_entity = {
                "type": "expandable_blockquote" if top.get("expandable") else "blockquote",
                "offset": top["offset"],
                "length": utf16 - top["offset"],
            }
            if not skip:
                entities.append(close_blockquote_entity)
            i += 1
            continue
        if not skip:
            if entity is None:
                entity = {
                    "type": "pre" if etype == "pre_code" else etype,
                    "offset": top["offset"],
                    "length": utf16 - top["offset"],
                }
                if etype == "pre_code":
                    entity["language"] = top["argument"]
            entities.append(entity)
        nested.pop()
        i += 1

    if have_blockquote and nested and nested[-1]["type"] == "blockquote":
        close_blockquote(nested.pop())
    if nested:
        top = nested[-1]
        raise _ParseError(
            f"Can't find end of {_MD2_NAMES[top['type']]} entity at byte offset "
            f"{top['byte_offset']}"
        )
    return out.decode("utf-8", "replace"), _sort_entities(entities)


def _parse_markdown(text: str, users: dict[int, dict]) -> tuple[str, list[dict]]:
    """The legacy Markdown mode."""
    b = text.encode("utf-8")
    n = len(b)

    def at(i: int) -> int:
        return b[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[dict] = []
    i = 0
    while i < n:
        c = b[i]
        if c == 0x5C and at(i + 1) in b"_*`[":
            i += 1
            out.append(b[i])
            utf16 += 1
            i += 1
            continue
        if c not in b"_*`[":
            utf16 += _utf16_units(c)
            out.append(c)
            i += 1
            continue
        begin = i
        end_char = 0x5D if c == 0x5B else c
        is_pre = False
        language = ""
        i += 1
        if c == 0x60 and at(i) == 0x60 and at(i + 1) == 0x60:
            i += 2
            is_pre = True
            language_end = i
            while at(language_end) not in _SPACE and at(language_end) != 0x60:
                language_end += 1
            if i != language_end and language_end < n and at(language_end) != 0x60:
                language = b[i:language_end].decode("utf-8", "replace")
                i = language_end
            if at(i) in (0x0A, 0x0D):
                if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        offset = utf16
        while i < n and (
            at(i) != end_char or (is_pre and not (at(i + 1) == 0x60 and at(i + 2) == 0x60))
        ):
            utf16 += _utf16_units(at(i))
            out.append(at(i))
            i += 1
        if i >= n:
            raise _ParseError(f"Can't find end of the entity starting at byte offset {begin}")
        if offset != utf16:
            length = utf16 - offset
            if c == 0x5F:
                entities.append({"type": "italic", "offset": offset, "length": length})
            elif c == 0x2A:
                entities.append({"type": "bold", "offset": offset, "length": length})
            elif c == 0x5B:
                if at(i + 1) != 0x28:
                    url = b[begin + 1 : i].decode("utf-8", "replace")
                else:
                    i += 2
                    start = i
                    while i < n and at(i) != 0x29:
                        i += 1
                    url = b[start:i].decode("utf-8", "replace")
                entity = _link_entity(url, offset, length, users)
                if entity:
                    entities.append(entity)
            elif is_pre:
                entity = {"type": "pre", "offset": offset, "length": length}
                if language:
                    entity["language"] = language
                entities.append(entity)
            else:
                entities.append({"type": "code", "offset": offset, "length": length})
        if is_pre:
            i += 2
        i += 1
    return out.decode("utf-8", "replace"), _sort_entities(entities)


def _trim(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram drops leading and trailing white space of a text (and clips entities)."""
    stripped_left = text.lstrip(" \t\r\n\v\f")
    left = _utf16_len(text) - _utf16_len(stripped_left)
    result = stripped_left.rstrip(" \t\r\n\v\f")
    total = _utf16_len(result)
    fixed = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, total)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


def parse_formatted_text(
    text: str,
    parse_mode: str | None,
    entities: list | None = None,
    users: dict[int, dict] | None = None,
) -> tuple[str, list[dict]]:
    """The text and entities Telegram stores for ``text`` sent with ``parse_mode``.

    Raises ApiError(400, "Bad Request: can't parse entities: ...") on malformed markup.
    """
    users = users or {}
    mode = (parse_mode or "").lower()
    try:
        if mode == "html":
            text, found = _parse_html(text, users)
        elif mode == "markdownv2":
            text, found = _parse_markdown_v2(text, users)
        elif mode == "markdown":
            text, found = _parse_markdown(text, users)
        elif mode in ("", "none"):
            found = [dict(e) for e in entities or []]
        else:
            raise _bad("unsupported parse_mode")
    except _ParseError as exc:
        raise _bad(f"can't parse entities: {exc}") from None
    return _trim(text, found)


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------

# Parameters whose value is a string even when it looks like JSON ("123", "true"...).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "ip_address",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "language_code",
        "action",
        "emoji",
        "description",
        "short_description",
        "name",
        "title",
        "query_id",
        "business_connection_id",
        "message_effect_id",
        "photo",
        "document",
        "audio",
        "video",
        "animation",
        "voice",
        "video_note",
        "sticker",
        "thumbnail",
        "certificate",
        "question",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "explanation",
        "address",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "game_short_name",
        "error_message",
        "shipping_query_id",
        "pre_checkout_query_id",
        "custom_title",
        "invite_link",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "web_app_query_id",
        "set_name",
        "sticker_set_name",
        "format",
        "quote",
        "quote_parse_mode",
    }
)


def _decode_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> dict:
    params: dict[str, Any] = {
        key: _decode_value(key, value) for key, value in request.query.items()
    }
    ctype = request.content_type
    if request.method not in ("POST", "PUT") or not request.body_exists:
        return params
    if ctype == "application/json":
        body = await request.read()
        if body.strip():
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("JSON body is not an object")
            params.update(data)
    elif ctype == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if part.filename is not None:
                data = bytes(await part.read(decode=True))
                params[part.name] = UploadedFile(
                    part.filename, part.headers.get("Content-Type"), data
                )
            else:
                params[part.name] = _decode_value(part.name, await part.text())
    elif ctype == "application/x-www-form-urlencoded":
        form = await request.post()
        for key, value in form.items():
            params[key] = _decode_value(key, value) if isinstance(value, str) else value
    else:
        await request.read()
    return params


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _bad(f"{name} is invalid")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise _bad(f"{name} is invalid")


def _as_json(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {name} JSON object") from None
    return value


_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"

_KINDS = {  # file_id prefix, file_path folder, extension
    "photo": ("AgACAgQAAxkBAAI", "photos", "jpg"),
    "document": ("BQACAgQAAxkBAAI", "documents", None),
    "sticker": ("CAACAgIAAxkBAAI", "stickers", "webp"),
    "voice": ("AwACAgQAAxkBAAI", "voice", "oga"),
}


def _image_sizes(data: bytes) -> tuple[int, int, bytes, int, int]:
    """(width, height, thumbnail bytes, thumbnail width, thumbnail height) of a picture."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            thumb = image.convert("RGB")
            thumb.thumbnail((320, 320))
            buffer = io.BytesIO()
            thumb.save(buffer, "JPEG", quality=70)
            return width, height, buffer.getvalue(), thumb.width, thumb.height
    except Exception:  # not an image (or no Pillow): made-up dimensions, same bytes
        return 1280, 960, data, 320, 240


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------


class FakeTelegram:
    """The Bot API on 127.0.0.1, with helpers to build updates and read what the bot did.

    Public state (read it in tests, don't replace it):

    * ``calls``: every API call received, ``(method, params)``; uploads are UploadedFile;
    * ``webhook``: the last ``setWebhook`` params, None when there is no webhook;
    * ``commands``: ``setMyCommands`` lists per language_code (None = default), whatever the
      scope (last write wins); ``scoped_commands[(scope_type, language_code)]`` keeps them
      per scope;
    * ``callback_answers``: ``answerCallbackQuery`` params per callback query id;
    * ``users``: the users the bot may write to (filled by the update builders and add_user);
    * ``blocked``: user ids that blocked the bot (sending to them gives 403).
    """

    def __init__(self, token: str = "123456:TEST-TOKEN", bot_username: str = "jalerte_test_bot"):
        self.token = token
        self.bot_username = bot_username
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot_user: dict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "J'alerte (test)",
            "username": bot_username,
        }
        self.url: str = ""
        self.calls: list[tuple[str, dict]] = []
        self.webhook: dict | None = None
        self.commands: dict[str | None, list] = {}
        self.scoped_commands: dict[tuple[str, str | None], list] = {}
        self.callback_answers: dict[str, dict] = {}
        self.users: dict[int, dict] = {}
        self.blocked: set[int] = set()
        self.closed = False
        self.logged_out = False
        self.internal_errors: list[BaseException] = []  # bugs of the fake itself (answered 500)

        self._log: list[_LogEntry] = []
        self._pending: list[dict] = []  # updates not confirmed yet, by update_id
        self._update_id = 700_000_000
        self._last_confirmed = 0
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._poll_terminator = ""
        self._next_message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict] = {}  # current state of every message
        self._bot_messages: set[tuple[int, int]] = set()
        self._sent: dict[int, list[dict]] = {}
        self._files: dict[str, dict] = {}  # file_id -> {"meta": File dict, "data": bytes}
        self._files_by_path: dict[str, str] = {}
        self._photo_groups: dict[str, list[dict]] = {}  # any photo file_id -> its PhotoSize list
        self._file_counter = 0
        self._callback_counter = 4_400_000_000_000_000_000
        self._open_callbacks: set[str] = set()
        self._failures: list[dict] = []
        self._paused: dict[str, asyncio.Event] = {}
        self._polls_pending = 0
        self.max_concurrent_polls = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None

    # ---------------------------------------------------------------- server lifecycle

    async def start(self) -> str:
        """Serve on 127.0.0.1 on a free port; returns the base url, also in ``self.url``."""
        if self._runner is not None:
            return self.url
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll the client gave up on ends with its connection
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered (empty) at once."""
        if self._runner is None:
            return
        self._closing = True
        self._notify()
        await asyncio.sleep(0)
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _notify(self) -> None:
        """Wake up long polls and waiters (something changed)."""
        if self._changed is None or self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self._loop:
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._notify)
            return
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, timeout: float) -> None:
        assert self._changed is not None, "FakeTelegram is not started"
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), max(timeout, 0))
        except asyncio.TimeoutError:
            pass

    # ---------------------------------------------------------------- users, chats, ids

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "fr",
    ) -> dict:
        """Declare a user who has started the bot (the update builders do it for you)."""
        if user_id <= 0:
            raise ValueError("a user id is a positive integer")
        user = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return dict(user)

    def _user(self, user_id: int) -> dict:
        if user_id not in self.users:
            self.add_user(user_id)
        return dict(self.users[user_id])

    def _chat(self, chat_id: int) -> dict:
        user = self.users[chat_id]
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_ids[chat_id] = self._next_message_ids.get(chat_id, 0) + 1
        return self._next_message_ids[chat_id]

    def _next_update_id(self) -> int:
        self._update_id += 1
        return self._update_id

    def _resolve_chat(self, params: dict, required: bool = True) -> int | None:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            if required:
                raise _bad("chat_id is empty")
            return None
        try:
            chat_id = _as_int(raw, "chat_id")
        except ApiError:
            raise _bad("chat not found") from None
        if chat_id not in self.users:
            raise _bad("chat not found")
        return chat_id

    def _check_can_send(self, chat_id: int) -> None:
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    # ---------------------------------------------------------------- files

    def _register_file(self, kind: str, data: bytes, ext: str | None = None) -> dict:
        self._file_counter += 1
        n = self._file_counter
        prefix, folder, default_ext = _KINDS[kind]
        file_id = f"{prefix}{n:06d}Zm{kind[:2]}{n * 7919 % 1000003:07d}EAA"
        unique_id = f"AQAD{n:06d}{kind[:1]}X"
        suffix = ext or default_ext
        file_path = f"{folder}/file_{n}.{suffix}" if suffix else f"{folder}/file_{n}"
        meta = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_size": len(data),
            "file_path": file_path,
        }
        self._files[file_id] = {"meta": meta, "data": bytes(data)}
        self._files_by_path[file_path] = file_id
        return meta

    def _photo_sizes(self, data: bytes) -> list[dict]:
        width, height, thumb_data, thumb_w, thumb_h = _image_sizes(data)
        sizes = []
        for blob, w, h in ((thumb_data, thumb_w, thumb_h), (data, width, height)):
            meta = self._register_file("photo", blob)
            sizes.append(
                {
                    "file_id": meta["file_id"],
                    "file_unique_id": meta["file_unique_id"],
                    "file_size": meta["file_size"],
                    "width": w,
                    "height": h,
                }
            )
        for size in sizes:
            self._photo_groups[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def file_data(self, file_id: str) -> bytes:
        """The bytes behind a file_id (from an update or uploaded by the bot)."""
        return self._files[file_id]["data"]

    # ---------------------------------------------------------------- building updates

    def _user_message_update(self, user_id: int, **content: Any) -> dict:
        user = self._user(user_id)
        message_id = self._new_message_id(user_id)
        message = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat(user_id),
            "date": int(time.time()),
            **content,
        }
        self._messages[(user_id, message_id)] = copy.deepcopy(message)
        return {"update_id": self._next_update_id(), "message": message}

    def text_update(self, user_id: int, text: str) -> dict:
        """A private text message; a text starting with "/" gets a bot_command entity."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._user_message_update(user_id, **content)

    def photo_update(self, user_id: int, data: bytes, caption: str | None = None) -> dict:
        """A photo: message.photo has a thumbnail and the full size (whose bytes are ``data``)."""
        content: dict[str, Any] = {"photo": self._photo_sizes(data)}
        if caption is not None:
            content["caption"] = caption
        return self._user_message_update(user_id, **content)

    def document_update(
        self, user_id: int, data: bytes, file_name: str, mime_type: str, caption: str | None = None
    ) -> dict:
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else None
        meta = self._register_file("document", data, ext)
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            "file_id": meta["file_id"],
            "file_unique_id": meta["file_unique_id"],
            "file_size": meta["file_size"],
        }
        content: dict[str, Any] = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self._user_message_update(user_id, **content)

    def sticker_update(self, user_id: int, emoji: str = "👍") -> dict:
        meta = self._register_file(
            "sticker",
            b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00"
            b"\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00",
        )
        sticker = {
            "file_id": meta["file_id"],
            "file_unique_id": meta["file_unique_id"],
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "JalerteTestStickers",
            "file_size": meta["file_size"],
        }
        return self._user_message_update(user_id, sticker=sticker)

    def voice_update(self, user_id: int, duration: int = 3) -> dict:
        meta = self._register_file("voice", b"OggS\x00\x02" + bytes(200))
        voice = {
            "file_id": meta["file_id"],
            "file_unique_id": meta["file_unique_id"],
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": meta["file_size"],
        }
        return self._user_message_update(user_id, voice=voice)

    def location_update(self, user_id: int, latitude: float, longitude: float) -> dict:
        return self._user_message_update(
            user_id, location={"latitude": latitude, "longitude": longitude}
        )

    def callback_update(
        self, user_id: int, data: str, message_id: int | None = None, *, strict: bool = True
    ) -> dict:
        """The user presses an inline button on a bot message (default: the bot's last message
        to that chat). With ``strict``, ``data`` must be the callback_data of one of the buttons
        the message currently shows, since a user can press nothing else."""
        user = self._user(user_id)
        if message_id is None:
            sent = self._sent.get(user_id)
            if not sent:
                raise LookupError(
                    f"the bot sent nothing to chat {user_id}: no message to press a button on"
                )
            message_id = sent[-1]["message_id"]
        key = (user_id, message_id)
        if key not in self._messages:
            raise LookupError(f"no message {message_id} in chat {user_id}")
        message = copy.deepcopy(self._messages[key])
        if strict:
            buttons = [
                button.get("callback_data")
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for button in row
            ]
            if data not in buttons:
                raise ValueError(
                    f"message {message_id} in chat {user_id} has no button with callback_data "
                    f"{data!r} (it has {buttons!r}); pass strict=False to send it anyway"
                )
        self._callback_counter += 1
        query_id = str(self._callback_counter)
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str((user_id * 2654435761) % (2**62)),
            "data": data,
        }
        return {"update_id": self._next_update_id(), "callback_query": query}

    def push(self, *updates: dict) -> None:
        """Queue updates for getUpdates (long polling)."""
        for update in updates:
            if not isinstance(update.get("update_id"), int):
                raise ValueError("an update needs an integer update_id")
            if update["update_id"] < self._last_confirmed:
                raise ValueError(
                    f"update {update['update_id']} is older than the offset the bot already "
                    f"confirmed ({self._last_confirmed}): it would never be delivered"
                )
            self._pending.append(copy.deepcopy(update))
        self._pending.sort(key=lambda u: u["update_id"])
        self._notify()

    @property
    def pending_updates(self) -> list[dict]:
        """Updates pushed and not confirmed by the bot yet."""
        return copy.deepcopy(self._pending)

    async def post_webhook(self, url: str, update: dict, secret: str | None) -> int:
        """POST an update to the bot's webhook like Telegram; returns the HTTP status.

        Only loopback URLs are allowed: this must never reach out of the machine.
        """
        host = (urlsplit(url).hostname or "").lower()
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"post_webhook only posts to 127.0.0.1 (got {url!r})")
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                return response.status

    # ---------------------------------------------------------------- reading what the bot did

    def sent(self, chat_id: int) -> list[dict]:
        """Messages the bot sent to that chat, in order, as returned to the bot (not edited),
        with the request's params under "_params"."""
        return copy.deepcopy(self._sent.get(chat_id, []))

    def message(self, chat_id: int, message_id: int) -> dict:
        """The current state of a message (after the bot's edits)."""
        return copy.deepcopy(self._messages[(chat_id, message_id)])

    def calls_to(self, method: str) -> list[dict]:
        """Params of every call to ``method`` so far."""
        return [
            copy.deepcopy(params) for name, params in self.calls if name.lower() == method.lower()
        ]

    def fail(
        self,
        method: str,
        error_code: int = 400,
        description: str = "Bad Request: test failure",
        *,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail with that error (retry_after: a 429)."""
        if retry_after is not None:
            error_code = 429
            description = f"Too Many Requests: retry after {retry_after}"
        self._failures.append(
            {
                "method": method.lower(),
                "code": error_code,
                "description": description,
                "times": times,
                "retry_after": retry_after,
            }
        )

    def pause(self, method: str) -> None:
        """Calls to ``method`` from now on wait, before anything is done, until resume()."""
        self._paused.setdefault(method.lower(), asyncio.Event())

    def resume(self, method: str) -> None:
        """The paused calls to ``method`` go on; new ones are no longer held."""
        gate = self._paused.pop(method.lower(), None)
        if gate is not None:
            gate.set()

    def poll_peers(self, pending: bool = False) -> list[tuple[str, int] | None]:
        """The client address (host, port) of every getUpdates so far, in order; `pending`:
        of those not answered yet (long polling, or paused), whose client is still there."""
        return [
            entry.peer
            for entry in self._log
            if entry.method == "getUpdates"
            and (not pending or (entry.status is None and entry.description is None))
        ]

    async def wait_for(
        self, predicate: Callable[[FakeTelegram], Any], timeout: float = 10.0
    ) -> Any:
        """Wait until predicate(self) is truthy (returns it); FakeTelegramTimeout otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate(self)
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                name = getattr(predicate, "__name__", repr(predicate))
                raise FakeTelegramTimeout(
                    f"condition {name} not met after {timeout} s\n{self.dump()}"
                )
            if self._changed is None:
                await asyncio.sleep(min(remaining, 0.02))
            else:
                await self._wait_change(min(remaining, 0.05))

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """Wait until ``method`` was called at least ``count`` times; returns all its params."""
        try:
            await self.wait_for(lambda fake: len(fake.calls_to(method)) >= count, timeout)
        except FakeTelegramTimeout:
            got = len(self.calls_to(method))
            raise FakeTelegramTimeout(
                f"{method} called {got} time(s), expected {count}, after {timeout} s\n{self.dump()}"
            ) from None
        return self.calls_to(method)

    def dump(self, last: int = 30) -> str:
        """Recent calls and the queue, for error messages."""
        lines = [
            f"FakeTelegram at {self.url or '(not started)'}: {len(self.calls)} call(s), "
            f"{len(self._pending)} pending update(s) {[u['update_id'] for u in self._pending]}, "
            f"webhook={self.webhook and self.webhook.get('url')!r}"
        ]
        entries = self._log[-last:]
        if len(self._log) > last:
            lines.append(f"  ... {len(self._log) - last} earlier call(s)")
        for index, entry in enumerate(entries, start=len(self._log) - len(entries) + 1):
            params = ", ".join(f"{k}={_short(v)}" for k, v in entry.params.items())
            status = "pending" if entry.status is None else str(entry.status)
            error = f" {entry.description}" if entry.description else ""
            lines.append(f"  {index}. {entry.method}({params}) -> {status}{error}")
        return "\n".join(lines)

    # ---------------------------------------------------------------- HTTP handlers

    def _json(self, payload: dict, status: int = 200) -> web.Response:
        return web.Response(
            body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            status=status,
            content_type="application/json",
        )

    def _error(self, entry: _LogEntry, error: ApiError) -> web.Response:
        entry.status = error.code
        entry.description = error.description
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": error.code,
            "description": error.description,
        }
        if error.parameters:
            payload["parameters"] = error.parameters
        return self._json(payload, error.code)

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        handler_name = _METHODS.get(raw_method.lower())
        method = handler_name[0] if handler_name else raw_method
        try:
            params = await _read_params(request)
        except Exception as exc:  # noqa: BLE001 - report it like Telegram would
            params = {}
            entry = _LogEntry(method, params)
            self._log.append(entry)
            self.calls.append((method, params))
            return self._error(entry, _bad(f"can't parse request: {exc}"))
        entry = _LogEntry(method, params)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        entry.peer = tuple(peer[:2]) if peer else None
        self._log.append(entry)
        self.calls.append((method, params))
        try:
            gate = self._paused.get(method.lower())
            if gate is not None:
                await gate.wait()  # the client going away cancels this (handler_cancellation)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if handler_name is None:
                raise ApiError(404, "Not Found: method not found")
            self._maybe_fail(method)
            handler = getattr(self, handler_name[1])
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            response = self._error(entry, error)
        except asyncio.CancelledError:
            entry.description = "(the client went away)"
            raise
        except Exception as exc:  # a bug of the fake: make it loud, not a silent 500
            self.internal_errors.append(exc)
            response = self._error(
                entry,
                ApiError(500, f"Internal Server Error: FakeTelegram failed on {method}: {exc!r}"),
            )
        else:
            entry.status = 200
            response = self._json({"ok": True, "result": result})
        self._notify()
        return response

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        entry = _LogEntry("(file download)", {"file_path": path})
        self._log.append(entry)
        if request.match_info["token"] != self.token:
            entry.status = 401
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        file_id = self._files_by_path.get(path)
        if file_id is None:
            entry.status = 404
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        entry.status = 200
        return web.Response(
            body=self._files[file_id]["data"], content_type="application/octet-stream"
        )

    def _maybe_fail(self, method: str) -> None:
        for failure in self._failures:
            if failure["method"] == method.lower() and failure["times"] > 0:
                failure["times"] -= 1
                parameters = (
                    {"retry_after": failure["retry_after"]} if failure["retry_after"] else None
                )
                self._failures = [f for f in self._failures if f["times"] > 0]
                raise ApiError(failure["code"], failure["description"], parameters)

    # ---------------------------------------------------------------- methods

    def _get_me(self, params: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict) -> list[dict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset", 0), "offset")
        limit = min(max(_as_int(params.get("limit", 100), "limit"), 1), 100)
        timeout = params.get("timeout", 0)
        if isinstance(timeout, str):
            timeout = _decode_value("timeout", timeout)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool):
            raise _bad("timeout is invalid")
        allowed = params.get("allowed_updates")
        if allowed is not None:
            allowed = _as_json(allowed, "allowed_updates")
            self._allowed_updates = list(allowed) or None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._poll_terminator = (
            "other getUpdates request; make sure that only one bot instance is running"
        )
        self._notify()  # a pending poll of an older generation must now end with 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(float(timeout), 0.0)
        self._polls_pending += 1
        self.max_concurrent_polls = max(self.max_concurrent_polls, self._polls_pending)
        try:
            while True:
                if generation != self._poll_generation:
                    raise ApiError(409, f"Conflict: terminated by {self._poll_terminator}")
                ready = self._deliverable(limit)
                if ready or self._closing:
                    return ready
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self._wait_change(remaining)
        finally:
            self._polls_pending -= 1

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self._last_confirmed = max(self._last_confirmed, offset)
        elif offset < 0:
            self._pending = self._pending[offset:]
            if self._pending:
                self._last_confirmed = max(self._last_confirmed, self._pending[0]["update_id"])

    def _deliverable(self, limit: int) -> list[dict]:
        result = []
        for update in self._pending:
            kind = next((k for k in update if k != "update_id"), None)
            if self._allowed_updates is not None:
                if kind not in self._allowed_updates:
                    continue
            elif kind in _DEFAULT_EXCLUDED_UPDATES:
                continue
            result.append(copy.deepcopy(update))
            if len(result) >= limit:
                break
        return result

    def _check_reply_markup(self, params: dict) -> dict | None:
        """Validates reply_markup; returns it when it is an inline keyboard (echoed back)."""
        if params.get("reply_markup") in (None, ""):
            return None
        markup = _as_json(params["reply_markup"], "reply_markup")
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
                raise _bad("can't parse reply keyboard markup JSON object")
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'can\'t parse inline keyboard button: field "inline_keyboard" must be an Array '
                "of Arrays"
            )
        actions = (
            "url",
            "callback_data",
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                if not any(k in button for k in actions):
                    raise _bad(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= 64:
                        raise _bad("BUTTON_DATA_INVALID")
                if "url" in button and not _checked_link(str(button["url"])):
                    raise _bad(
                        f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
                    )
        return markup

    def _formatted(self, params: dict, text_key: str, entities_key: str) -> tuple[str, list[dict]]:
        text = params.get(text_key)
        if text is None:
            return "", []
        entities = params.get(entities_key)
        if entities not in (None, ""):
            entities = _as_json(entities, entities_key)
        return parse_formatted_text(str(text), params.get("parse_mode"), entities, self.users)

    def _reply_to(self, params: dict, chat_id: int) -> dict | None:
        reply = params.get("reply_parameters")
        if reply in (None, ""):
            if params.get("reply_to_message_id") in (None, ""):
                return None
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        reply = _as_json(reply, "reply_parameters")
        message_id = _as_int(reply.get("message_id"), "message_id")
        target_chat = _as_int(reply.get("chat_id", chat_id), "chat_id")
        original = self._messages.get((target_chat, message_id))
        if original is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        original = copy.deepcopy(original)
        original.pop("reply_to_message", None)
        return original

    def _store_sent(self, chat_id: int, message: dict, params: dict) -> dict:
        key = (chat_id, message["message_id"])
        self._messages[key] = copy.deepcopy(message)
        self._bot_messages.add(key)
        record = {**copy.deepcopy(message), "_params": copy.deepcopy(params)}
        self._sent.setdefault(chat_id, []).append(record)
        return message

    def _new_bot_message(self, chat_id: int, params: dict) -> dict:
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        reply_to = self._reply_to(params, chat_id)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if params.get("protect_content") is True:
            message["has_protected_content"] = True
        return message

    def _send_message(self, params: dict) -> dict:
        chat_id = self._resolve_chat(params)
        assert chat_id is not None
        self._check_can_send(chat_id)
        if params.get("text") in (None, ""):
            raise _bad("message text is empty")
        text, entities = self._formatted(params, "text", "entities")
        if not text:
            raise _bad("message text is empty")
        if len(text) > 4096:
            raise _bad("message is too long")
        markup = self._check_reply_markup(params)
        message = self._new_bot_message(chat_id, params)
        message["text"] = text
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        return self._store_sent(chat_id, message, params)

    def _send_photo(self, params: dict) -> dict:
        chat_id = self._resolve_chat(params)
        assert chat_id is not None
        self._check_can_send(chat_id)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo[len("attach://") :])
        if isinstance(photo, UploadedFile):
            if not photo.data:
                raise _bad("file must be non-empty")
            sizes = self._photo_sizes(photo.data)
        elif isinstance(photo, str) and photo in self._photo_groups:
            sizes = copy.deepcopy(self._photo_groups[photo])
        elif isinstance(photo, str) and photo.lower().startswith(("http://", "https://")):
            sizes = self._photo_sizes(b"")  # Telegram would download it; offline, a blank photo
        elif photo in (None, ""):
            raise _bad("there is no photo in the request")
        else:
            raise _bad("wrong file identifier/HTTP URL specified")
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if len(caption) > 1024:
            raise _bad("message caption is too long")
        markup = self._check_reply_markup(params)
        message = self._new_bot_message(chat_id, params)
        message["photo"] = sizes
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        if params.get("has_spoiler") is True:
            message["has_media_spoiler"] = True
        if params.get("show_caption_above_media") is True:
            message["show_caption_above_media"] = True
        if markup is not None:
            message["reply_markup"] = markup
        return self._store_sent(chat_id, message, params)

    def _editable(self, params: dict) -> tuple[tuple[int, int] | None, dict | None]:
        if params.get("inline_message_id") not in (None, ""):
            return None, None
        chat_id = self._resolve_chat(params)
        assert chat_id is not None
        if params.get("message_id") in (None, ""):
            raise _bad("message identifier is not specified")
        message_id = _as_int(params["message_id"], "message_id")
        key = (chat_id, message_id)
        if key not in self._messages:
            raise _bad("message to edit not found")
        if key not in self._bot_messages:
            raise _bad("message can't be edited")
        return key, self._messages[key]

    def _edit_message_text(self, params: dict) -> dict | bool:
        key, message = self._editable(params)
        if params.get("text") in (None, ""):
            raise _bad("text must be non-empty")
        text, entities = self._formatted(params, "text", "entities")
        if not text:
            raise _bad("text must be non-empty")
        if len(text) > 4096:
            raise _bad("MESSAGE_TOO_LONG")
        markup = self._check_reply_markup(params)
        if key is None or message is None:
            return True
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        if (
            message["text"] == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise _bad(_NOT_MODIFIED)
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _edit_message_reply_markup(self, params: dict) -> dict | bool:
        key, message = self._editable(params)
        markup = self._check_reply_markup(params)
        if key is None or message is None:
            return True
        if message.get("reply_markup") == markup:
            raise _bad(_NOT_MODIFIED)
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _answer_callback_query(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise _bad(_QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = copy.deepcopy(params)
        return True

    def _send_chat_action(self, params: dict) -> bool:
        chat_id = self._resolve_chat(params)
        assert chat_id is not None
        self._check_can_send(chat_id)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _get_file(self, params: dict) -> dict:
        file_id = params.get("file_id")
        if not file_id:
            raise _bad("file_id is empty")
        stored = self._files.get(str(file_id))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored["data"]) > 20 * 1024 * 1024:
            raise _bad("file is too big")
        return dict(stored["meta"])

    def _set_webhook(self, params: dict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        parts = urlsplit(url)
        if parts.scheme.lower() != "https":
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if parts.port not in (None, 80, 88, 443, 8443):
            raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        self.webhook = copy.deepcopy(params)
        self._poll_generation += 1
        self._poll_terminator = "setWebhook request"
        return True

    def _delete_webhook(self, params: dict) -> bool:
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        self.webhook = None
        return True

    def _get_webhook_info(self, params: dict) -> dict:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook is not None:
            info.update(
                url=self.webhook["url"],
                has_custom_certificate=self.webhook.get("certificate") is not None,
                max_connections=_as_int(self.webhook.get("max_connections", 40), "max_connections"),
                ip_address="127.0.0.1",
            )
            if self.webhook.get("allowed_updates") is not None:
                info["allowed_updates"] = _as_json(
                    self.webhook["allowed_updates"], "allowed_updates"
                )
        return info

    @staticmethod
    def _scope_key(params: dict) -> tuple[str, str | None]:
        scope = params.get("scope")
        scope = _as_json(scope, "scope") if scope not in (None, "") else {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        key = scope["type"]
        extra = {k: v for k, v in scope.items() if k != "type"}
        if extra:
            key += json.dumps(extra, sort_keys=True)
        language = params.get("language_code") or None
        if language is not None and not re.fullmatch(r"[a-z]{2}", str(language)):
            raise _bad("invalid language code specified")
        return key, language

    def _sync_commands(self, language: str | None) -> None:
        for (_scope, lang), commands in reversed(list(self.scoped_commands.items())):
            if lang == language:
                self.commands[language] = copy.deepcopy(commands)
                return
        self.commands.pop(language, None)

    def _set_my_commands(self, params: dict) -> bool:
        commands = _as_json(params.get("commands"), "commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params)
        self.scoped_commands.pop(key, None)
        if commands:
            self.scoped_commands[key] = copy.deepcopy(commands)
        self._sync_commands(key[1])
        return True

    def _delete_my_commands(self, params: dict) -> bool:
        key = self._scope_key(params)
        self.scoped_commands.pop(key, None)
        self._sync_commands(key[1])
        return True

    def _get_my_commands(self, params: dict) -> list:
        return copy.deepcopy(self.scoped_commands.get(self._scope_key(params), []))

    def _close(self, params: dict) -> bool:
        self.closed = True
        return True

    def _log_out(self, params: dict) -> bool:
        self.logged_out = True
        return True


_METHODS: dict[str, tuple[str, str]] = {
    name.lower(): (name, handler)
    for name, handler in (
        ("getMe", "_get_me"),
        ("getUpdates", "_get_updates"),
        ("sendMessage", "_send_message"),
        ("sendPhoto", "_send_photo"),
        ("editMessageText", "_edit_message_text"),
        ("editMessageReplyMarkup", "_edit_message_reply_markup"),
        ("answerCallbackQuery", "_answer_callback_query"),
        ("sendChatAction", "_send_chat_action"),
        ("getFile", "_get_file"),
        ("setWebhook", "_set_webhook"),
        ("deleteWebhook", "_delete_webhook"),
        ("getWebhookInfo", "_get_webhook_info"),
        ("setMyCommands", "_set_my_commands"),
        ("deleteMyCommands", "_delete_my_commands"),
        ("getMyCommands", "_get_my_commands"),
        ("close", "_close"),
        ("logOut", "_log_out"),
    )
}


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
