"""Synthetic alerts for load and statistics benchmarks (`jalerte seed-alerts N`).

Every alert is consistent with the taxonomy (only combinations `alert_problems` accepts)
and belongs to one synthetic conversation on the channel "seed", spread over two years;
no text, no photo. Inserted in batches, with progress.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import insert, select

from domain.taxonomy import Taxonomy
from storage.counts import rebuild
from storage.db import Database
from storage.models import Alert, Conversation

BATCH = 5000


def valid_combinations(taxonomy: Taxonomy) -> list[tuple[str, str, str, str]]:
    """(sector, category, operator, user type) the taxonomy accepts."""
    found = []
    for sector in taxonomy.sectors:
        for category in taxonomy.categories:
            for operator in taxonomy.operators:
                for user_type in taxonomy.user_types:
                    record = {
                        "sector": sector,
                        "category": category,
                        "operator": operator,
                        "user_type": user_type,
                        "technology": None,
                    }
                    if not taxonomy.alert_problems(record):
                        found.append((sector, category, operator, user_type))
    return found


async def seed_alerts(
    db: Database,
    taxonomy: Taxonomy,
    count: int,
    seed: int = 7,
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    rng = random.Random(seed)
    combos = valid_combinations(taxonomy)
    weights = [rng.paretovariate(1.2) for _ in combos]  # a few operators dominate, as in life
    now = datetime.now(timezone.utc)
    async with db.session() as session, session.begin():
        conversation = (
            await session.execute(
                select(Conversation).where(
                    Conversation.channel == "seed", Conversation.user_key == "seed"
                )
            )
        ).scalar_one_or_none()
        if conversation is None:
            conversation = Conversation(channel="seed", user_key="seed", state={})
            session.add(conversation)
            await session.flush()
        cid = conversation.id
        start = (
            await session.execute(
                select(Alert.id).where(Alert.id.like("SEED-%")).order_by(Alert.id.desc()).limit(1)
            )
        ).scalar()
    first = int(start[5:]) + 1 if start else 0
    done = 0
    while done < count:
        rows = []
        for n in range(first + done, first + min(count, done + BATCH)):
            sector, category, operator, user_type = rng.choices(combos, weights)[0]
            rows.append(
                {
                    "id": f"SEED-{n:011d}",
                    "conversation_id": cid,
                    "channel": rng.choice(("web", "telegram")),
                    "language": "fr",
                    "created_at": now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
                    "user_type": user_type,
                    "sector": sector,
                    "operator": operator,
                    "category": category,
                    "description": "",
                    "shared": False,
                    "contacted_customer_service": rng.choice(("yes", "no", "unknown")),
                }
            )
        async with db.session() as session, session.begin():
            await session.execute(insert(Alert), rows)
        done += len(rows)
        if progress:
            progress("alerts", done, count)
    async with db.session() as session, session.begin():
        await rebuild(session)  # the dashboard's counts, from every alert at once
    return done
