"""How many messages from a first message to a saved alert (target: median ≤ 4).

Scripted users whose first message names the operator and the problem answer each
question the bot asks (the first offered choice, a town for the place, "non" for
customer service) and press "send" at the summary. Prints the count per
conversation, the median and the turn latency. Run with `make bench`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.process.config import Config  # noqa: E402
from bot.process.wiring import runtime  # noqa: E402
from dialogues.events import ChoiceEvent, TextEvent  # noqa: E402

FIRST_MESSAGES = [
    "Free me prélève encore alors que j'ai résilié",
    "slt g pa de reseau ac orange dan mon village",
    "pas de réseau Bouygues à Plouha depuis 2 semaines",
    "ma livebox est en panne depuis 3 jours",
    "mon adsl SFR est hyper lent le soir",
    "le technicien Free n'est jamais venu raccorder la fibre",
    "SFR refuse ma résiliation et me réclame des frais",
    "impossible de joindre le service client de Bouygues",
    "mon numéro n'a pas été transféré chez Sosh malgré le RIO",
    "un vendeur SFR au porte à porte m'a fait signer un contrat",
    "my parcel from Chronopost never arrived",
    "colis Colissimo perdu depuis 10 jours",
    "le facteur de La Poste ne passe plus dans ma rue",
    "colis DPD abîmé à la livraison",
    "RED by SFR me facture un hors forfait que je n'ai pas fait",
    "Orange a coupé ma ligne fixe sans prévenir",
    "UPS a laissé un avis de passage alors que j'étais là",
    "la 4G Free ne passe pas dans mon bureau à Lyon",
]
ANSWERS = {
    "location": "Rennes",
    "contacted_customer_service": "non",
    "description": "Le problème dure depuis des semaines.",
}


async def run() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="jalerte-bench-"))
    config = Config.from_env(
        {**os.environ, "JALERTE_DATA_DIR": str(data_dir), "JALERTE_DATABASE_URL": ""}
    )
    counts, latencies = [], []
    async with runtime(config) as rt:
        for n, first in enumerate(FIRST_MESSAGES):
            user, event, sent = f"bench-{n}", TextEvent(first), 0
            while sent < 12:
                started = time.perf_counter()
                out = await rt.service.handle("cli", user, event)
                latencies.append((time.perf_counter() - started) * 1000)
                sent += 1
                if out.alert_id:
                    break
                choices = [c for r in out.replies for c in r.choices]
                if out.expecting == "confirmation":
                    event = ChoiceEvent("confirm:send")
                elif out.expecting in ANSWERS:
                    event = TextEvent(ANSWERS[out.expecting])
                elif choices:
                    event = ChoiceEvent(choices[0].value)
                else:
                    event = TextEvent("je ne sais pas")
            counts.append(sent)
            print(f"{sent:3d}  {first}")
    print(
        f"\nmessages to a saved alert: median {statistics.median(counts)}, "
        f"min {min(counts)}, max {max(counts)} over {len(counts)} conversations"
    )
    latencies.sort()
    print(
        f"turn latency (NLU + SQLite write): p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)]:.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(run())
