"""Turns are stored as they happen: restarts resume, simultaneous messages queue up."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from dialogues.events import ChoiceEvent, CommandEvent, LocationEvent, TextEvent
from dialogues.service import IncomingPhoto
from storage.models import Conversation
from tests.conftest import make_bot
from tests.images import image_bytes


async def test_a_restart_mid_conversation_resumes_where_it_was(
    nlu, taxonomy, tmp_path, database_url
) -> None:
    first = await make_bot(nlu, taxonomy, tmp_path, database_url)
    await first.send("le facteur ne passe plus dans ma rue")
    await first.db.close()  # the process stops here

    second = await make_bot(nlu, taxonomy, tmp_path, database_url)
    out = await second.send("Brest")
    assert out.expecting == "started_on"
    out = await second.send("depuis 3 semaines")
    assert out.expecting == "contacted_customer_service"
    out = await second.send("non")
    out = await second.send(ChoiceEvent("confirm:send"))
    assert out.alert["location"] == "Brest (29200)" and out.alert["operator"] == "la_poste"
    await second.db.close()


async def test_two_messages_at_once_are_both_handled(bot) -> None:
    await bot.send("colis DPD perdu")
    album = [IncomingPhoto(image_bytes("PNG", size=(20 + i, 20))) for i in range(3)]
    outs = await asyncio.gather(*(bot.send(p) for p in album))
    counts = sorted(r.text for o in outs for r in o.replies if r.text.startswith("Photo"))
    assert counts == ["Photo ajoutée (1/3).", "Photo ajoutée (2/3).", "Photo ajoutée (3/3)."]
    state = await bot.service.state_of("cli", "alice")
    assert len(state.draft.photos) == 3


async def test_double_tap_on_send_saves_one_alert(bot) -> None:
    await bot.send("Orange me facture deux fois ma box")
    await bot.send("non")
    outs = await asyncio.gather(
        bot.send(ChoiceEvent("confirm:send")), bot.send(ChoiceEvent("confirm:send"))
    )
    saved = [o.alert_id for o in outs if o.alert_id]
    assert len(saved) == 1


async def test_people_are_pseudonymous_and_separate(bot) -> None:
    await bot.send("colis UPS perdu", user="123456789")
    await bot.send("bonjour", user="987654321")
    async with bot.db.session() as session:
        keys = (await session.execute(select(Conversation.user_key))).scalars().all()
    assert len(keys) == 2
    assert all(len(k) == 64 and "123456789" not in k for k in keys)
    assert (await bot.service.state_of("cli", "987654321")).draft is None


async def test_transcript_keeps_every_message_and_the_parse(bot) -> None:
    await bot.send("pas de réseau SFR à Lannion")
    await bot.send(ChoiceEvent("technology:4g"))
    key = bot.service.user_key("cli", "alice")
    messages = await bot.repository.transcript("cli", key)
    users = [m for m in messages if m.sender == "user"]
    assert [m.kind for m in users] == ["text", "choice"]
    assert users[0].nlu["category"] == "coverage" and users[0].nlu["operator"] == "sfr"
    assert users[1].payload == {"value": "technology:4g"}
    assert any(m.sender == "bot" and "technologie" in m.text for m in messages)


async def test_a_shared_position_becomes_its_commune(bot) -> None:
    await bot.send("pas de réseau Free dans mon hameau")
    await bot.send(ChoiceEvent("technology:4g"))
    out = await bot.send(LocationEvent(48.856613, 2.352222))
    assert out.expecting == "started_on"
    assert "Paris\u00a0(75)" in out.replies[0].text or "Paris (75)" in out.replies[0].text
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.location == "Paris (75)"
    key = bot.service.user_key("cli", "alice")
    stored = [
        m.payload for m in await bot.repository.transcript("cli", key) if m.kind == "location"
    ]
    assert stored == [{"latitude": 48.86, "longitude": 2.35}]  # rounded in the transcript


async def test_a_position_at_sea_is_kept_rounded(bot) -> None:
    await bot.send("pas de réseau Free sur mon bateau")
    await bot.send(ChoiceEvent("technology:4g"))
    out = await bot.send(LocationEvent(46.123456, -8.987654))
    assert "arrondie" in out.replies[0].text
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.location == "46.12, -8.99"


async def test_a_failing_turn_is_a_polite_answer_and_changes_nothing(bot, monkeypatch) -> None:
    await bot.send("colis Relais Colis perdu")
    before = await bot.service.state_of("cli", "alice")

    async def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(bot.service.engine, "handle", broken)
    out = await bot.send("Nantes")
    assert "problème technique" in out.replies[0].text
    monkeypatch.undo()
    assert await bot.service.state_of("cli", "alice") == before


async def test_the_channels_language_starts_a_new_conversation(bot) -> None:
    out = await bot.service.handle("telegram", "anglophone", CommandEvent("start"), language="en")
    assert out.replies[0].text.startswith("Hello!")
    # Later the words decide: a French sentence switches, the hint is no longer used.
    out = await bot.service.handle(
        "telegram", "anglophone", TextEvent("Orange me facture deux fois ma box"), language="en"
    )
    assert out.language == "fr"


async def test_storage_refuses_an_inconsistent_alert(bot) -> None:
    """The last line: whatever writes an alert, contradicting fields are never stored."""
    from storage.models import Alert
    from storage.repository import InconsistentAlert

    record = {
        "id": "JA-BROKEN01",
        "language": "fr",
        "user_type": "individual",
        "sector": "postal",
        "operator": "orange",
        "operator_text": "Orange",
        "category": "coverage",
        "technology": "4g",
        "location": None,
        "description": "colis",
        "contacted_customer_service": "no",
        "photos": [],
        "advice_sheet": "coverage",
        "advice_rating": None,
        "shared": False,
    }
    try:
        async with bot.repository.turn("cli", "someone") as turn:
            await turn.save_alert(record, "cli")
    except InconsistentAlert as refused:
        assert "coverage does not apply to sector postal" in str(refused)
    else:
        raise AssertionError("an inconsistent alert was stored")
    async with bot.db.session() as session:
        assert (await session.execute(select(Alert))).scalars().all() == []


async def test_typed_personal_data_is_in_no_stored_file(bot, tmp_path) -> None:
    await bot.send(
        "plus d'internet chez SFR, mon numéro 06 12 34 56 78, écrivez à jean.dupont@example.org"
    )
    await bot.db.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"06 12 34 56 78" not in data and b"jean.dupont" not in data, path


async def test_abandoning_erases_the_draft_from_every_file(bot, tmp_path) -> None:
    """« Rien ne sera enregistré » is true: the draft's messages, its parse and its photo
    are gone from the database, its files (WAL included) and the photo store; an alert
    saved before stays whole."""
    from storage.models import Message

    await bot.send("Orange me facture deux fois ma box")
    await bot.send("non")
    saved = await bot.send(ChoiceEvent("confirm:send"))
    assert saved.alert_id
    secret = "Kerloc'h-Plouzané-7731"
    await bot.send(f"nouveau problème : colis DPD perdu, livré au lieu-dit {secret}")
    out = await bot.send(IncomingPhoto(image_bytes("PNG", size=(31, 17))))
    assert any(r.text.startswith("Photo ajoutée") for r in out.replies)
    state = await bot.service.state_of("cli", "alice")
    photo = bot.photos.root / state.draft.photos[0]["path"]
    assert photo.exists()

    await bot.send(CommandEvent("cancel"))
    out = await bot.send(ChoiceEvent("cancel:yes"))
    assert "abandonné" in " ".join(r.text for r in out.replies).lower()
    assert not photo.exists()
    async with bot.db.session() as session:
        texts = [m.text or "" for m in (await session.execute(select(Message))).scalars()]
    assert not any("DPD" in t for t in texts)
    assert any("Orange me facture" in t for t in texts)  # the saved alert's transcript
    assert (await bot.repository.alert(saved.alert_id))["operator"] == "orange"
    if bot.db.url.startswith("sqlite"):
        await bot.db.close()
        needle = secret.encode()
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert needle not in path.read_bytes(), path


async def test_a_photo_another_draft_uses_is_kept_when_one_is_abandoned(bot) -> None:
    picture = image_bytes("PNG", size=(23, 29))
    for user in ("alice", "bob"):
        await bot.send(TextEvent("colis DPD perdu"), user=user)
        await bot.send(IncomingPhoto(picture), user=user)
    state = await bot.service.state_of("cli", "bob")
    photo = bot.photos.root / state.draft.photos[0]["path"]
    await bot.send(CommandEvent("cancel"), user="alice")
    await bot.send(ChoiceEvent("cancel:yes"), user="alice")
    assert photo.exists()  # same picture, same file: Bob's draft still needs it


async def test_forget_me_erases_the_person_and_keeps_anonymous_counts(bot, tmp_path) -> None:
    from storage.models import Alert, Message

    secret = "rue des Glycines, escalier Zorba"
    await bot.send(f"Orange me facture deux fois ma box, j'habite {secret}")
    await bot.send(IncomingPhoto(image_bytes("PNG", size=(37, 11))))
    state = await bot.service.state_of("cli", "alice")
    photo = bot.photos.root / state.draft.photos[0]["path"]
    await bot.send("non")
    for _ in range(4):  # to the summary, whatever is still asked
        state = await bot.service.state_of("cli", "alice")
        if state.expecting == "confirmation":
            break
        await bot.send("je ne sais pas")
    saved = await bot.send(ChoiceEvent("confirm:send"))
    assert saved.alert_id and photo.exists()
    await bot.send("Bonjour", user="bob")  # someone else, untouched

    asked = await bot.send(CommandEvent("forget"))
    assert [c.value for r in asked.replies for c in r.choices] == ["forget:yes", "forget:no"]
    kept = await bot.send(ChoiceEvent("forget:no"))
    assert "rien n'est effacé" in kept.replies[0].text
    await bot.send(CommandEvent("forget"))
    done = await bot.send(ChoiceEvent("forget:yes"))
    assert "effacés" in done.replies[0].text

    assert not photo.exists()
    assert await bot.repository.transcript("cli", bot.service.user_key("cli", "alice")) == []
    async with bot.db.session() as session:
        alert = await session.get(Alert, saved.alert_id)
        assert (alert.category, alert.operator) == ("billing", "orange")  # still counted
        assert alert.description == "" and alert.operator_text is None
        texts = [m.text or "" for m in (await session.execute(select(Message))).scalars()]
    assert texts and not any("Glycines" in t for t in texts)  # Bob's messages stay
    assert (await bot.repository.alert(saved.alert_id))["photos"] == []
    fresh = await bot.send("bonjour")  # a new conversation, knowing nothing
    state = await bot.service.state_of("cli", "alice")
    assert state.last_alert_id is None and fresh.replies
    if bot.db.url.startswith("sqlite"):
        await bot.db.close()
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert b"Glycines" not in path.read_bytes(), path


async def test_forgotten_words_leave_every_file_even_past_a_long_reader(
    sqlite_bot, tmp_path
) -> None:
    """While the server runs: SQLite's log is folded at once, or, when a reader still
    holds an older snapshot (a staff export being downloaded), as soon as it lets go."""
    import asyncio
    import sqlite3

    bot = sqlite_bot  # SQLite's own files: its log is what a reader holds back
    secret = b"impasse des Trois-Lutins"

    def files_with_secret() -> list[str]:
        return [p.name for p in tmp_path.rglob("*") if p.is_file() and secret in p.read_bytes()]

    await bot.send(f"Orange me facture deux fois ma box, j'habite {secret.decode()}")
    database = bot.db.url.split("///", 1)[1]
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM messages").fetchone()  # a snapshot, held
    await bot.send(CommandEvent("forget"))
    await bot.send(ChoiceEvent("forget:yes"))
    assert files_with_secret()  # the log cannot be folded past the reader yet…
    reader.execute("COMMIT")
    reader.close()
    for _ in range(50):  # …and is, in the background, once it has gone
        if not files_with_secret():
            break
        await asyncio.sleep(0.1)
    assert files_with_secret() == []


def test_forget_is_a_command_in_french_and_english() -> None:
    from dialogues.events import command_from_text

    assert command_from_text("/oublier") == CommandEvent("forget")
    assert command_from_text("/forget@jalerte_bot") == CommandEvent("forget")


async def test_a_correction_of_the_place_while_another_question_is_open(bot) -> None:
    """« euh non pardon c'est à Perros-Guirec » after « à Lannion »: the place changes,
    and the person is told; a plain mention without a correction word changes nothing."""
    await bot.send("plus aucun réseau SFR à la maison depuis une semaine")
    await bot.send("à Lannion")
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.location.startswith("Lannion")
    out = await bot.send("euh non pardon c'est à Perros-Guirec")
    said = " ".join(r.text for r in out.replies)
    assert "Lannion" in said and "Perros-Guirec" in said and "corrigé" in said
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.location.startswith("Perros-Guirec")


async def test_nul_characters_and_lone_surrogates_lose_no_message(bot) -> None:
    """JSON may carry "\\u0000" and "\\ud800"; PostgreSQL refuses NUL in text."""
    out = await bot.send("colis\x00 Chronopost perdu \ud800 depuis lundi")
    assert out.expecting == "location"
    messages = await bot.repository.transcript("cli", bot.service.user_key("cli", "alice"))
    assert messages[0].text == "colis Chronopost perdu \ufffd depuis lundi"
    out = await bot.send(ChoiceEvent("location:\x00\udfff"))
    assert out.replies  # an unknown button, answered


async def test_saying_they_called_customer_service_is_not_the_problem(bot) -> None:
    """Tried as a user: at « quel est le problème ? », « oui j'ai appelé le service
    client deux fois » became the category « Service client »."""
    await bot.send("j'ai un souci avec sfr à la maison, enfin je crois, c'est red en fait")
    state = await bot.service.state_of("cli", "alice")
    assert state.expecting == "category"  # no problem said: it is asked
    await bot.send("oui j'ai appelé le service client deux fois")
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.category != "customer_service"
    assert state.draft.contacted_customer_service == "yes"
    assert state.expecting == "category"  # still asked, the fact is noted


async def test_customer_service_is_the_problem_when_they_say_it_fails(bot) -> None:
    await bot.send(
        "j'ai appelé le service client Bouygues cinq fois, personne ne répond, aucune solution"
    )
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.category == "customer_service"
