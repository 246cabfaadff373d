"""The turn's statements on the driver's connection (storage.hot) write what the ORM
would: whatever a turn writes there reads back through the ORM as written, on SQLite
(inline, and in memory) and on PostgreSQL; an error in the turn leaves nothing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from domain.taxonomy import Taxonomy
from storage.db import Database
from storage.models import Conversation, Counter, Message
from storage.repository import ConversationRepository
from storage.shared import SharedState

# What JSON columns hold: nested, accented, emoji, None, numbers.
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
_message = st.fixed_dictionaries(
    {
        "text": st.none() | _text,
        "payload": _json,
        "nlu": st.none() | st.dictionaries(st.text(max_size=6), _json, max_size=3),
        "step": st.none() | st.sampled_from(["location", "summary", "operator"]),
        "marks": st.none() | st.integers(0, 7),
    }
)


@pytest.fixture(params=["inline", "memory", "postgresql"])
async def database(request, tmp_path_factory):
    if request.param == "inline":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('hot') / 'j.db'}"
    elif request.param == "memory":
        url = "sqlite+aiosqlite:///:memory:"
    else:
        from tests.conftest import _databases
        from tests.postgres import create_database

        server = request.getfixturevalue("postgres_server")
        url = await create_database(server, f"jalerte_hot_{next(_databases)}")
    db = await Database.open(url)
    yield db
    await db.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    state=st.dictionaries(st.text(max_size=8), _json, max_size=4),
    messages=st.lists(_message, min_size=1, max_size=4),
    language=st.sampled_from(["fr", "en"]),
    who=st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=20),
)
async def test_what_a_turn_writes_reads_back_through_the_orm(
    database, taxonomy: Taxonomy, state, messages, language, who
) -> None:
    repository = ConversationRepository(database, taxonomy)
    before = datetime.now(timezone.utc)
    async with repository.turn("web", who) as record:
        assert record.state == {} or record.conversation.user_key == who
        for m in messages:
            record.add_message("user", "text", **m)
        last = await record.last_message_id()  # written so far, this turn included
        record.set_state(state, language)
    async with database.session() as session:
        conversation = (
            await session.execute(
                select(Conversation).where(
                    Conversation.channel == "web", Conversation.user_key == who
                )
            )
        ).scalar_one()
        stored = (
            await session.execute(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id.desc())
                .limit(len(messages))
            )
        ).scalars()
        stored = list(reversed(list(stored)))
    assert conversation.state == state and conversation.language == language
    assert [
        {k: getattr(s, k) for k in ("text", "payload", "nlu", "step", "marks")} for s in stored
    ] == messages
    assert stored[-1].id == last
    for moment in (stored[0].created_at, conversation.updated_at):
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite
        assert before <= moment <= datetime.now(timezone.utc)
    async with repository.turn("web", who) as again:  # the next turn reads it back
        assert again.state == state and again.conversation.id == conversation.id


async def test_a_turn_that_fails_leaves_nothing(database, taxonomy: Taxonomy) -> None:
    repository = ConversationRepository(database, taxonomy)
    with pytest.raises(RuntimeError):
        async with repository.turn("web", "someone") as record:
            record.add_message("user", "text", "bonjour")
            await record.last_message_id()  # the message is written…
            record.set_state({"phase": "collecting"}, "fr")
            raise RuntimeError("the engine failed")  # …and rolled back with the rest
    async with database.session() as session:
        assert (await session.execute(select(Message))).first() is None
        assert (await session.execute(select(Conversation))).first() is None


async def test_counters_count_every_hit_and_read_back_through_the_orm(database) -> None:
    shared = SharedState(database, clock=lambda: 1_000_030.0)
    assert await shared.hits({"a": 60, "b": 3600}) == [1, 1]
    assert await shared.hits({"a": 60, "b": 3600}, by=2) == [3, 3]
    async with database.session() as session:
        rows = {(c.key, c.window): c.count for c in (await session.scalars(select(Counter)))}
    assert rows == {("a", 1_000_020): 3, ("b", 997_200): 3}


async def test_a_message_is_counted_as_its_conversation_is_read(database, taxonomy) -> None:
    """`peek` counts a message against its limits, this one included, in the same
    counters as every other limit; on PostgreSQL it reads the person's conversation in
    that statement, and the turn then writes on what it read (a new person's too)."""
    from domain.turns import Limits

    repository = ConversationRepository(database, taxonomy)
    limits = Limits({"web:someone": (60, 100), "addr:turns:somewhere": (60, 100)})
    for n in (1, 2):
        read, counts = await repository.peek("web", "someone", limits)
        assert counts == [n, n]
        assert (read is not None) == (database.engine.dialect.name == "postgresql")
        async with repository.turn("web", "someone", read=read) as record:
            assert record.state == ({} if n == 1 else {"turns": 1})
            record.add_message("user", "text", f"message {n}")
            record.set_state({"turns": n}, "fr")
    assert await SharedState(database).hits({"addr:turns:somewhere": 60}) == [3]
    assert (await repository.peek("web", "someone", None))[1] == []
    async with database.session() as session:
        texts = await session.scalars(select(Message.text).order_by(Message.id))
        assert list(texts) == ["message 1", "message 2"]
        assert await session.scalar(select(Conversation.state)) == {"turns": 2}


async def test_a_turn_on_a_read_that_another_worker_then_changed_writes_nothing(
    postgres_server, taxonomy
) -> None:
    """What `peek` read may be stale when the turn writes (another worker's turn for
    the same person ran during the parse): the turn keeps nothing and says so, and a
    message beyond its limit reserves no conversation id."""
    from domain.turns import Limits, TurnConflict
    from tests.conftest import _databases
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_hot_{next(_databases)}")
    database = await Database.open(url)
    repository = ConversationRepository(database, taxonomy)
    within = Limits({"web:a": (60, 100)})
    try:
        for who in ("someone", "newcomer"):
            read, _ = await repository.peek("web", who, within)
            async with repository.turn("web", who) as other:  # another worker's turn
                other.add_message("user", "text", "first")
                other.set_state({"by": "other"}, "fr")
            with pytest.raises(TurnConflict):
                async with repository.turn("web", who, read=read) as late:
                    late.add_message("user", "text", "late")
                    late.set_state({"by": "late"}, "fr")
        async with database.session() as session:
            assert set(await session.scalars(select(Message.text))) == {"first"}
            assert list(await session.scalars(select(Conversation.state))) == [{"by": "other"}] * 2
        first, _ = await repository.peek("web", "x", within)
        beyond, counts = await repository.peek("web", "y", Limits({"web:b": (60, 0)}))
        assert counts == [1] and beyond[0] is None and beyond[4]  # absent, no id taken
        third, _ = await repository.peek("web", "z", within)
        assert third[0] == first[0] + 1
    finally:
        await database.close()


async def test_a_started_server_has_its_connections_open_before_anyone_comes(
    postgres_server,
) -> None:
    """The first people after a start (a rolling deploy sends a restarted host its
    share at once) do not each wait for a connection's handshake: the pool's
    connections are opened first (`runtime` calls `warm`), and a burst as large as the
    pool opens no other."""
    import asyncio

    from sqlalchemy import text

    from tests.conftest import _databases
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_hot_{next(_databases)}")
    db = await Database.open(url, pool_size=4)
    opened = text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
    try:
        await db.warm()
        await asyncio.sleep(1.2)  # backends report their statistics once a second
        async with db.engine.connect() as connection:
            assert db.engine.pool.checkedin() == 3  # type: ignore[attr-defined]
            before = await connection.scalar(opened)
        shared = SharedState(db)
        await asyncio.gather(*(shared.hit(f"k{n}") for n in range(12)))
        await asyncio.sleep(1.2)  # backends report their statistics once a second
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            assert await connection.scalar(opened) == before
    finally:
        await db.close()


async def test_counters_get_past_a_postgresql_restart(postgres_server) -> None:
    """The server drops every connection (a restart, a failover): the counters' own
    statements, run on the driver's connection, fail once at most, not once per
    connection the pool still holds."""
    import asyncio

    from tests.conftest import _databases
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_hot_{next(_databases)}")
    db = await Database.open(url)
    shared = SharedState(db)
    await asyncio.gather(*(shared.hit(f"k{n}") for n in range(5)))  # several in the pool
    await _drop_every_connection(db)
    failures = 0
    for _ in range(6):
        try:
            await shared.hit("after")
        except Exception:
            failures += 1
    assert failures <= 1
    assert await shared.hit("after") == 7 - failures
    await db.close()


async def _drop_every_connection(db: Database) -> None:
    from sqlalchemy import text

    async with db.engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )


async def test_turns_get_past_a_postgresql_restart(postgres_server, taxonomy: Taxonomy) -> None:
    """The same for the turns, which read and write on the driver's connection without
    SQLAlchemy: one fails at most, and what the next ones write is kept."""
    import asyncio

    from tests.conftest import _databases
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_hot_{next(_databases)}")
    db = await Database.open(url)
    repository = ConversationRepository(db, taxonomy)

    async def turn(who: str, step: int) -> None:
        async with repository.turn("web", who) as record:
            record.add_message("user", "text", f"{who} {step}")
            record.set_state({"step": step}, "fr")

    for step in (1, 2):  # created, then read without a lock, five at a time
        await asyncio.gather(*(turn(f"p{n}", step) for n in range(5)))
    await _drop_every_connection(db)
    failures = 0
    for step in range(3, 9):
        try:
            await turn("p0", step)
        except Exception:
            failures += 1
    assert failures <= 1
    async with repository.turn("web", "p0") as record:
        assert record.state == {"step": 8}
    await db.close()


def _photo(n: int) -> dict:
    return {
        "sha256": f"{n:064x}",
        "path": f"{n:064x}.jpg",
        "content_type": "image/jpeg",
        "size": 1000 + n,
        "width": 640,
        "height": 480,
    }


@pytest.mark.parametrize("in_a_turn", [False, True], ids=["alone", "with-the-turn"])
async def test_a_saved_alert_reads_back_as_the_record_it_returned(
    database, taxonomy: Taxonomy, in_a_turn: bool
) -> None:
    """Saved with the turn's statements: the alert the ORM reads back (and the record the
    chat shows) are the same, several operators, a date and photos included — a photo
    already stored by an earlier alert is linked, not stored twice — and the dashboard's
    counts have one more alert. `with-the-turn`: saved as the engine does, with the
    turn's lines and new state (on PostgreSQL, an alert without photos goes in the
    turn's one last statement)."""
    from storage.models import AlertCount, Photo

    repository = ConversationRepository(database, taxonomy)
    record = {
        "language": "fr",
        "user_type": "individual",
        "sector": "mobile",
        "operator": None,  # several: each in `operators`
        "operators": ["orange", "sfr"],
        "operator_text": None,
        "previous_operator": None,
        "category": "coverage",
        "technology": "4g",
        "location": "Rennes (35000)",
        "started_on": "2026-11-16",
        "description": "plus de réseau 😡",
        "contacted_customer_service": "no",
        "advice_sheet": "coverage",
        "advice_rating": None,
        "shared": False,
    }

    async def save(saved: dict) -> dict:
        async with repository.turn("web", "someone") as turn:
            if in_a_turn:
                turn.add_message("user", "choice", "Envoyer", payload={"value": "confirm:send"})
            alert = await turn.save_alert(saved, "web")
            if in_a_turn:
                turn.add_message("bot", "reply", f"Alerte {saved['id']} enregistrée")
                turn.set_state({"saved": saved["id"]}, "fr")
        return alert

    first = await save({**record, "id": "JA-HOT00001", "photos": [_photo(1)]})
    second = await save({**record, "id": "JA-HOT00002", "photos": [_photo(1), _photo(2)]})
    third = await save(
        {**record, "id": "JA-HOT00003", "photos": [], "operator": "sfr", "operators": ["sfr"]}
    )
    fourth = await save({**record, "id": "JA-HOT00004", "photos": []})
    for alert in (first, second, third, fourth):
        assert alert == await repository.alert(alert["id"])
    assert second["operators"] == ["orange", "sfr"] and second["started_on"] == "2026-11-16"
    assert [p["sha256"] for p in second["photos"]] == [_photo(1)["sha256"], _photo(2)["sha256"]]
    assert third["operator"] == "sfr" and fourth["operators"] == ["orange", "sfr"]
    assert third["photos"] == [] == fourth["photos"]
    async with database.session() as session:
        assert len((await session.scalars(select(Photo))).all()) == 2
        counts = {
            (c.operator, c.category): (c.count, c.alerts)
            for c in await session.scalars(select(AlertCount))
        }
        if in_a_turn:  # the turn's lines and state are there too, each once
            lines = (await session.scalars(select(Message.text).order_by(Message.id))).all()
            state = (await session.scalars(select(Conversation.state))).one()
    assert counts == {("orange", "coverage"): (3, 3), ("sfr", "coverage"): (4, 1)}
    if in_a_turn:
        assert lines == [
            text for n in range(1, 5) for text in ("Envoyer", f"Alerte JA-HOT0000{n} enregistrée")
        ]
        assert state == {"saved": "JA-HOT00004"}


def _bare_record(alert_id: str) -> dict:
    """An alert record with only its required fields (no description, no answer)."""
    return {
        "id": alert_id,
        "language": "fr",
        "user_type": "individual",
        "sector": "postal",
        "operator": "chronopost",
        "category": "parcel_delivery",
        "photos": [],
    }


async def test_an_alert_without_description_or_answer_gets_the_defaults(
    database, taxonomy: Taxonomy
) -> None:
    """A record that leaves out the description and the customer-service answer (any
    writer but the engine, which fills both) is saved with the columns' defaults, and the
    record returned says so too."""
    repository = ConversationRepository(database, taxonomy)
    record = _bare_record("JA-HOT00009")
    async with repository.turn("cli", "someone") as turn:
        saved = await turn.save_alert(record, "cli")
    assert saved["description"] == "" and saved["contacted_customer_service"] == "unknown"
    assert saved == await repository.alert("JA-HOT00009")


async def test_a_turn_that_read_what_another_worker_then_changed_writes_nothing(
    postgres_server, taxonomy: Taxonomy
) -> None:
    """PostgreSQL reads the conversation without a lock: a turn whose person's
    conversation was changed meanwhile by another worker's turn keeps none of its
    writes (lines, alert, counts, state) and says so (TurnConflict); run again locked,
    it goes through on the new state. A turn that needs a transaction midway (the ORM)
    finds out there, before writing anything."""
    from domain.turns import TurnConflict
    from storage.models import Alert, AlertCount
    from tests.conftest import _databases
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_hot_{next(_databases)}")
    database = await Database.open(url)
    repository = ConversationRepository(database, taxonomy)
    record = {  # about two operators: its alert_operators rows go in the statement too
        **_bare_record("JA-HOT00010"),
        "sector": "mobile",
        "operator": None,
        "operators": ["orange", "sfr"],
        "category": "coverage",
        "technology": "4g",
    }
    try:
        async with repository.turn("web", "someone") as first:  # created by its write
            first.add_message("user", "text", "bonjour")
            first.set_state({"step": 1}, "fr")
        with pytest.raises(TurnConflict):
            async with repository.turn("web", "someone") as late:
                assert late.state == {"step": 1}
                async with repository.turn("web", "someone") as other:  # another worker
                    other.add_message("user", "text", "colis perdu")
                    other.set_state({"step": 2}, "fr")
                late.add_message("user", "text", "en retard")
                await late.save_alert(record, "web")
                late.set_state({"step": "late"}, "fr")
        with pytest.raises(TurnConflict):
            async with repository.turn("web", "someone") as late:
                async with repository.turn("web", "someone") as other:
                    other.set_state({"step": 3}, "fr")
                await late.unused_photos([])  # the ORM: a transaction, the row re-read
                pytest.fail("the transaction began on a changed row")
        # A first message: the conversation is created by the turn's last statement,
        # unless another worker created it meanwhile.
        with pytest.raises(TurnConflict):
            async with repository.turn("web", "newcomer") as late:
                assert late.state == {}
                async with repository.turn("web", "newcomer") as other:
                    other.add_message("user", "text", "premier")
                    other.set_state({"by": "other"}, "fr")
                late.add_message("user", "text", "en même temps")
                late.set_state({"by": "late"}, "fr")
        async with repository.turn("web", "newcomer") as after:
            assert after.state == {"by": "other"}
        with pytest.raises(TurnConflict):  # …found when a transaction begins midway
            async with repository.turn("web", "second newcomer") as late:
                async with repository.turn("web", "second newcomer") as other:
                    other.set_state({"by": "other"}, "fr")
                await late.unused_photos([])
                pytest.fail("created over another worker's conversation")
        async with repository.turn("web", "second newcomer") as after:
            assert after.state == {"by": "other"}
        async with database.session() as session:
            lines = (await session.scalars(select(Message.text).order_by(Message.id))).all()
            assert lines == ["bonjour", "colis perdu", "premier"]
            assert (await session.execute(select(Alert))).first() is None
            assert (await session.execute(select(AlertCount))).first() is None
        async with repository.turn("web", "someone", locked=True) as again:
            assert again.state == {"step": 3}
            again.add_message("user", "text", "en retard")
            await again.save_alert(record, "web")
            again.set_state({"step": "late"}, "fr")
        assert (await repository.alert("JA-HOT00010"))["operators"] == ["orange", "sfr"]
        async with repository.turn("web", "someone") as after:
            assert after.state == {"step": "late"}
    finally:
        await database.close()


@pytest.mark.parametrize("holder_commits", [True, False], ids=["commits", "rolls-back"])
async def test_a_turn_waits_for_a_worker_holding_the_row(
    postgres_server, taxonomy: Taxonomy, holder_commits: bool
) -> None:
    """A turn that read without a lock writes while another worker's turn holds the
    row (read FOR UPDATE): its last statement waits, then keeps nothing if that turn
    committed a change (TurnConflict), and is kept if that turn rolled back."""
    import asyncio

    from domain.turns import TurnConflict
    from tests.conftest import _databases
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_hot_{next(_databases)}")
    database = await Database.open(url)
    repository = ConversationRepository(database, taxonomy)
    holding, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        try:
            async with repository.turn("web", "someone", locked=True) as held:
                held.set_state({"step": "held"}, "fr")
                holding.set()
                await release.wait()
                if not holder_commits:
                    raise RuntimeError("the other turn failed")
        except RuntimeError:
            pass

    try:
        async with repository.turn("web", "someone") as first:
            first.set_state({"step": 1}, "fr")
        try:
            async with repository.turn("web", "someone") as late:
                held = asyncio.create_task(holder())
                await holding.wait()
                late.add_message("user", "text", "en retard")
                late.set_state({"step": "late"}, "fr")
                asyncio.get_running_loop().call_later(0.3, release.set)
            conflict = False
        except TurnConflict:
            conflict = True
        await held
        async with repository.turn("web", "someone") as after:
            state = after.state
        async with database.session() as session:
            lines = (await session.scalars(select(Message.text))).all()
        if holder_commits:
            assert conflict and state == {"step": "held"} and lines == []
        else:
            assert not conflict and state == {"step": "late"} and lines == ["en retard"]
    finally:
        await database.close()
