"""Every conversation, the review inbox and the funnel (issue 12, items 1-2): the markers
each turn stores, the queries on both databases, the pages behind their login."""

from __future__ import annotations

import re
import statistics
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from dialogues.events import ChoiceEvent
from dialogues.service import parse_unsure
from storage.models import MARK_CORRECTED, MARK_REPEATED, MARK_UNSURE, Annotation, Message
from storage.review import ConversationFilter, InboxFilter, ReviewRepository
from storage.staff import StaffRepository
from tests.test_staff import XSS, csrf_of, log_in

ANSWERS = {
    "location": "75011",
    "contacted_customer_service": "non",
    "technology": ChoiceEvent("technology:unknown"),
    "sector": ChoiceEvent("sector:mobile"),
    "category": ChoiceEvent("category:other"),
    "operator": "Orange",
    "description": "plus rien depuis lundi",
    "photo": "non",
}


class Story:
    """One person's conversation driven through the real service, with what the test
    knows independently of the database: the questions the bot asked, the repeats, the
    messages sent before the alert."""

    def __init__(self, bot, user: str, channel: str = "cli"):
        self.bot, self.user, self.channel = bot, user, channel
        self.expecting: str | None = None
        self.asked: set[str] = set()
        self.repeats: list[str] = []
        self.sent = 0
        self.sent_before_alert: int | None = None
        self.alert: dict | None = None
        self.first_text: str | None = None

    async def say(self, event, *, correcting: bool = False):
        if isinstance(event, str) and self.first_text is None:
            self.first_text = event
        before = self.expecting
        out = await self.bot.send(event, user=self.user, channel=self.channel)
        self.sent += 1
        state = await self.bot.service.state_of(self.channel, self.user)
        step = {"confirming": "summary", "rating": "rating", "collecting": state.expecting}.get(
            state.phase.value
        )
        if step:
            self.asked.add(step)
        if step is not None and step == before and not correcting:
            self.repeats.append(step)
        self.expecting = step
        if out.saved:
            self.alert = out.alert
            self.sent_before_alert = self.sent  # the « send » included
        return out

    async def to_summary(self, first: str) -> None:
        await self.say(first)
        for _ in range(8):
            if self.expecting == "summary":
                return
            await self.say(ANSWERS.get(self.expecting or "", "non"))
        assert self.expecting == "summary", self.expecting

    async def send_alert(self, first: str) -> dict:
        await self.to_summary(first)
        await self.say(ChoiceEvent("confirm:send"))
        assert self.alert
        return self.alert


async def make_stories(bot) -> dict[str, Story]:
    stories = {}
    # An alert, its advice rated « not useful ».
    s = stories["rated"] = Story(bot, "rated")
    await s.send_alert("Free me facture deux fois ma box")
    await s.say(ChoiceEvent("rating:not_useful"))
    # An alert after the person corrected the summary.
    s = stories["fixed"] = Story(bot, "fixed", channel="web")
    await s.to_summary("colis DPD perdu depuis 10 jours")
    await s.say(ChoiceEvent("action:fix"), correcting=True)
    await s.say(ChoiceEvent("fix:location"), correcting=True)
    await s.say("Lyon", correcting=True)
    for _ in range(4):
        if s.expecting == "summary":
            break
        await s.say(ANSWERS.get(s.expecting or "", "non"))
    await s.say(ChoiceEvent("confirm:send"))
    assert s.alert
    # A question asked twice, then left open.
    s = stories["repeat"] = Story(bot, "repeat")
    await s.say("aucun réseau SFR dans mon village")
    assert s.expecting not in (None, "summary")
    await s.say("aide")  # the help, then the same question again
    await s.say("bleu")  # no answer to it: the question once more, with a hint
    assert len(s.repeats) == 2, s.repeats
    # Words the model cannot read, nothing more.
    s = stories["lost"] = Story(bot, "lost", channel="web")
    await s.say("xqzw plomf grutz")
    return stories


async def test_markers_list_inbox_and_funnel_agree_with_the_stories(bot) -> None:
    stories = await make_stories(bot)
    review = ReviewRepository(bot.db)
    async with bot.db.session() as session:
        messages = (await session.execute(select(Message).order_by(Message.id))).scalars().all()
    # Markers are ids and flags: never text.
    assert all(m.step is None or re.fullmatch(r"[a-z_]+", m.step) for m in messages)
    corrected = [m for m in messages if (m.marks or 0) & MARK_CORRECTED]
    assert corrected and all(m.sender == "user" for m in corrected)
    repeated_bot = [m.step for m in messages if (m.marks or 0) & MARK_REPEATED]
    assert sorted(repeated_bot) == sorted(r for s in stories.values() for r in s.repeats)
    assert len(repeated_bot) == 2

    rows, total = await review.conversations(ConversationFilter())
    assert total == 4
    ids = {s: (await _conversation_id(bot, st)) for s, st in stories.items()}
    by_id = {r.id: r for r in rows}
    assert by_id[ids["rated"]].outcome == "alert" and by_id[ids["rated"]].not_useful
    assert by_id[ids["fixed"]].corrected and by_id[ids["fixed"]].outcome == "alert"
    assert by_id[ids["repeat"]].repeated and by_id[ids["repeat"]].outcome == "open"
    assert by_id[ids["lost"]].unsure and by_id[ids["lost"]].outcome != "alert"

    async def listed(**kw) -> set[int]:
        found, count = await review.conversations(ConversationFilter(**kw))
        assert count == len(found)
        return {r.id for r in found}

    assert await listed(outcome="alert") == {ids["rated"], ids["fixed"]}
    assert await listed(outcome="open") == {ids["repeat"]} | (
        {ids["lost"]} if by_id[ids["lost"]].outcome == "open" else set()
    )
    later = datetime.now(timezone.utc) + timedelta(days=2)
    abandoned, _ = await review.conversations(ConversationFilter(outcome="abandoned"), now=later)
    assert {r.id for r in abandoned} == {ids["repeat"], ids["lost"]}
    assert await listed(corrected=True) == {ids["fixed"]}
    assert await listed(repeated=True) == {ids[n] for n, s in stories.items() if s.repeats}
    assert await listed(not_useful=True) == {ids["rated"]}
    assert await listed(channel="web") == {ids["fixed"], ids["lost"]}
    assert await listed(language="en") == set()
    assert await listed(text="PLOMF") == {ids["lost"]}
    assert await listed(text=stories["rated"].alert["id"]) == {ids["rated"]}
    assert ids["lost"] in await listed(unsure=True)
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    assert await listed(start=tomorrow) == set()
    assert len(await listed(end=tomorrow)) == 4

    # The inbox: the unsure and the correcting messages; a reviewed one leaves « to review ».
    items, count = await review.inbox(InboxFilter())
    assert count == len(items) > 0
    assert all(i.message.sender == "user" and i.message.text for i in items)
    assert any(i.message.text == "xqzw plomf grutz" and i.unsure for i in items)
    target = next(i for i in items if i.message.text == "xqzw plomf grutz")
    await StaffRepository(bot.db).annotate(target.message.id, "agent", {"intent": "out_of_scope"})
    todo, todo_count = await review.inbox(InboxFilter())
    assert todo_count == count - 1 and target.message.id not in {i.message.id for i in todo}
    done, _ = await review.inbox(InboxFilter(status="done"))
    assert [i.message.id for i in done] == [target.message.id]
    assert done[0].annotation.intent == "out_of_scope"
    unsure, _ = await review.inbox(InboxFilter(status="all", reason="unsure"))
    assert all(i.unsure for i in unsure)

    # The funnel, against what the stories saw.
    funnel = await review.funnel(None, None, None)
    assert funnel.started == 4
    expected_understood = 0
    for s in stories.values():
        parse = await bot.nlu.parse(s.first_text)
        expected_understood += not parse_unsure(parse.to_json())
    assert funnel.understood == expected_understood
    for step in (
        "category",
        "sector",
        "operator",
        "technology",
        "location",
        "description",
        "contacted_customer_service",
        "summary",
        "rating",
    ):
        assert funnel.steps.get(step, 0) == sum(step in s.asked for s in stories.values()), step
    saved = [s for s in stories.values() if s.alert]
    assert funnel.with_alert == funnel.alerts == len(saved) == 2
    assert funnel.rated == 1
    assert funnel.median_messages == statistics.median(s.sent_before_alert for s in saved)
    expected_repeats: dict[str, int] = {}
    for s in stories.values():
        for r in s.repeats:
            expected_repeats[r] = expected_repeats.get(r, 0) + 1
    assert dict(funnel.repeated) == expected_repeats
    web = await review.funnel(None, None, "web")
    assert web.started == 2 and web.with_alert == 1


async def _conversation_id(bot, story: Story) -> int:
    from storage.models import Conversation

    key = bot.service.user_key(story.channel, story.user)
    async with bot.db.session() as session:
        return (
            await session.execute(select(Conversation.id).where(Conversation.user_key == key))
        ).scalar_one()


async def test_pages_answer_and_escape_what_people_wrote(console, sqlite_bot) -> None:
    for i, hostile in enumerate(XSS):
        await sqlite_bot.send(hostile, user=f"x{i}", channel="web")
    await sqlite_bot.send("xqzw plomf grutz", user="lost")
    await log_in(console)
    for path in (
        "/staff/conversations",
        "/staff/conversations?q=script",
        "/staff/inbox?status=all",
        "/staff/funnel",
        "/staff/funnel?channel=web",
        "/staff/conversations?start=2026-13-45&outcome=bogus&channel=<x>&page=-3",
        "/staff/inbox?status=<x>&reason=y&page=z",
    ):
        response = await console.get(path)
        html = await response.text()
        assert response.status == 200, path
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert ">49<" not in html, path
    inbox = await (await console.get("/staff/inbox?status=all")).text()
    assert "&lt;script&gt;" in inbox or "&lt;img" in inbox
    listing = await (await console.get("/staff/conversations")).text()
    assert "Widget web" in listing and re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", listing)
    assert "Conversations</a>" in listing and 'href="/staff/inbox"' in listing


async def test_correct_and_reassign_from_the_inbox(console, sqlite_bot) -> None:
    await sqlite_bot.send("xqzw plomf grutz", user="lost")
    await sqlite_bot.send("Free me facture deux fois ma box", user="bill")
    await sqlite_bot.send("euh je sais pas trop quoi vous dire", user="bill")
    await log_in(console)
    page = await (await console.get("/staff/inbox")).text()
    ids = [int(i) for i in re.findall(r'<li id="m(\d+)"', page)]
    assert ids
    token = await csrf_of(console, "/staff/inbox")
    async with sqlite_bot.db.session() as session:
        parses = {
            m.id: m.nlu
            for m in (await session.execute(select(Message).where(Message.id.in_(ids)))).scalars()
        }
    confirmable = [i for i in ids if (parses[i] or {}).get("intent") not in (None, "nlu_fallback")]
    other = [i for i in ids if i not in confirmable[:1]][0]
    # Without a session, nothing: the login.
    console.session.cookie_jar.clear()
    refused = await console.post(
        f"/staff/messages/{ids[0]}/review", data={"csrf_token": token}, allow_redirects=False
    )
    assert refused.status == 302 and refused.headers["Location"].startswith("/staff/login")
    await log_in(console)
    token = await csrf_of(console, "/staff/inbox")
    if confirmable:
        done = await console.post(
            f"/staff/messages/{confirmable[0]}/review",
            data={"csrf_token": token, "next": "/staff/inbox?status=todo"},
            allow_redirects=False,
        )
        assert done.status == 302 and done.headers["Location"] == "/staff/inbox?status=todo"
    moved = await console.post(
        f"/staff/messages/{other}/annotation",
        data={
            "csrf_token": token,
            "intent": "report",
            "category": "billing",
            "operator": "free",
            "sector": "fixed",
            "next": "https://evil.example/",
        },
        allow_redirects=False,
    )
    assert moved.headers["Location"].startswith("/staff/conversations/")  # never elsewhere
    back = await console.post(
        f"/staff/messages/{other}/annotation",
        data={
            "csrf_token": token,
            "intent": "report",
            "category": "billing",
            "operator": "free",
            "sector": "fixed",
            "next": "/staff/inbox",
        },
        allow_redirects=False,
    )
    assert back.headers["Location"] == "/staff/inbox"
    async with sqlite_bot.db.session() as session:
        notes = {a.message_id: a for a in (await session.execute(select(Annotation))).scalars()}
    assert notes[other].category == "billing" and notes[other].staff_user == "agent"
    if confirmable:
        assert notes[confirmable[0]].intent == parses[confirmable[0]]["intent"]
    todo = await (await console.get("/staff/inbox")).text()
    assert f'id="m{other}"' not in todo
    reviewed = await (await console.get("/staff/inbox?status=done")).text()
    assert f'id="m{other}"' in reviewed and "Vérifié par agent" in reviewed
    missing = await console.post(
        "/staff/messages/999999/review", data={"csrf_token": token}, allow_redirects=False
    )
    assert missing.status == 404


def test_unsure_is_what_the_transcript_calls_a_hesitation() -> None:
    assert parse_unsure({"intent": "nlu_fallback", "confidence": 0.9})
    assert parse_unsure({"intent": "report", "confidence": 0.4})
    assert parse_unsure({"intent": "report", "confidence": 0.9, "is_report": True})
    assert not parse_unsure(
        {"intent": "report", "confidence": 0.9, "is_report": True, "category": "billing"}
    )
    assert not parse_unsure(None)
    assert MARK_UNSURE | MARK_CORRECTED | MARK_REPEATED == 7
