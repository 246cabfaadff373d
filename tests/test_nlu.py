"""The NLU model, trained from the project's data, on messages it never saw."""

from __future__ import annotations

import asyncio

import pytest


# (message, category) — written for these tests, absent from the training data.
CATEGORY_CASES = [
    (
        "depuis lundi aucune barre de réseau chez moi avec bouygues, impossible d'appeler",
        "coverage",
    ),
    ("zone blanche totale dans notre hameau, on capte rien en 4g", "coverage"),
    ("no mobile signal at all in my village with SFR", "coverage"),
    ("la livebox clignote rouge et plus d'internet ni de téléphone depuis 3 jours", "outage"),
    ("ma ligne fixe est coupee depuis l'orage de la semaine derniere", "outage"),
    (
        "mon adsl plafonne à 1 mega alors qu'on me promet 8, la connexion saute tout le temps",
        "slow_speed",
    ),
    ("internet ultra lent le soir, impossible de regarder une video", "slow_speed"),
    ("le technicien pour raccorder la fibre n'est jamais venu, 3e rdv annulé", "fibre_connection"),
    (
        "eligible a la fibre d'apres la carte mais free refuse ma commande, raccordement impossible",
        "fibre_connection",
    ),
    ("Free me prélève encore alors que j'ai résilié", "billing"),
    ("facture de 180 euros de hors forfait que je n'ai jamais consommé", "billing"),
    ("I was charged twice on my last bill by Orange", "billing"),
    ("SFR refuse ma résiliation et me réclame des frais de résiliation abusifs", "contract"),
    ("ils ont changé mon forfait sans mon accord et augmenté l'engagement", "contract"),
    (
        "impossible de joindre le service client, 45 min d'attente puis ça raccroche",
        "customer_service",
    ),
    ("j'ai fait 6 réclamations, personne ne me répond jamais", "customer_service"),
    ("mon numéro n'a pas été porté chez mon nouvel opérateur malgré le RIO", "number_portability"),
    (
        "I lost my phone number when I switched to Free, the port never happened",
        "number_portability",
    ),
    (
        "un vendeur au porte a porte m'a fait signer un contrat fibre sans que je comprenne",
        "unsolicited_sales",
    ),
    ("je recois 5 appels de demarchage par jour pour changer d'operateur", "unsolicited_sales"),
    ("mon colis chronopost est indiqué livré mais je n'ai rien reçu", "parcel_delivery"),
    ("my parcel from Chronopost never arrived", "parcel_delivery"),
    (
        "avis de passage dans la boite alors que j'étais chez moi toute la journée, colissimo",
        "parcel_delivery",
    ),
    ("plus de courrier distribué dans ma rue depuis 2 semaines", "mail_delivery"),
    ("ma lettre recommandée n'est jamais arrivée à destination", "mail_delivery"),
    ("le bureau de poste du village ferme 3 jours par semaine sans prévenir", "other"),
]


@pytest.mark.parametrize(("text", "category"), CATEGORY_CASES)
async def test_each_category_is_recognised(nlu, text: str, category: str) -> None:
    result = await nlu.parse(text)
    assert result.is_report
    assert result.intent == "report"
    assert result.category == category, result.ranking


@pytest.mark.parametrize(
    ("text", "operator", "operator_text"),
    [
        ("pas de réseau avec sosh", "orange", "sosh"),
        ("facture fausse chez RED by SFR", "sfr", "RED by SFR"),
        ("bouyg me facture n'importe quoi", "bouygues", "bouyg"),
        ("free mobil ne capte pas chez moi", "free", "free mobil"),
        ("la poste mobile a coupé ma ligne sans raison", "la_poste_mobile", "la poste mobile"),
        ("colis colisimo perdu depuis 10 jours", "la_poste", "colisimo"),
        ("B&You m'a prélevé deux fois", "bouygues", "B&You"),
        ("ma freebox est en panne", "free", "freebox"),
        (
            "colis privé a laissé mon colis devant la porte sous la pluie",
            "colis_prive",
            "colis privé",
        ),
        ("Lyca ne marche plus depuis hier", "lycamobile", "Lyca"),
        ("le facteur ne passe plus dans mon lotissement", "la_poste", "facteur"),
    ],
)
async def test_brands_and_misspellings_map_to_operator_ids(
    nlu, text: str, operator: str, operator_text: str
) -> None:
    result = await nlu.parse(text)
    assert (result.operator, result.operator_text) == (operator, operator_text)


async def test_operator_outside_the_taxonomy_is_kept_as_written(nlu) -> None:
    result = await nlu.parse("mon opérateur Transatel ne répond plus à mes réclamations")
    assert result.is_report
    assert result.operator is None
    assert result.operator_text == "Transatel"


async def test_first_message_gives_several_fields(nlu) -> None:
    result = await nlu.parse(
        "Bonjour, je suis maire de Plouha et on n'a aucun réseau 4G Orange dans le bourg"
    )
    assert result.category == "coverage"
    assert result.operator == "orange"
    assert result.technology == "4g"
    assert result.sector == "mobile"
    assert result.user_type == "local_authority"
    assert result.location == "Plouha"


async def test_postal_code_and_business_user(nlu) -> None:
    result = await nlu.parse("nous sommes une PME au 35000, la fibre SFR est coupée depuis lundi")
    assert result.user_type == "business"
    assert result.location == "35000"
    assert result.technology == "fibre"
    assert result.sector == "fixed"
    assert result.operator == "sfr"


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("chez Free", "operator", "free"),
        ("à Lyon", "location", "Lyon"),
        ("c'est pour ma boîte", "user_type", "business"),
        ("en 4G", "technology", "4g"),
    ],
)
async def test_short_answers_give_one_field(nlu, text: str, field: str, value: str) -> None:
    result = await nlu.parse(text)
    assert not result.is_report
    assert result.category is None
    assert getattr(result, field) == value


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("bonjour", "greet"),
        ("Hello there", "greet"),
        ("merci beaucoup c'est top", "thank"),
        ("au revoir et bonne journée", "goodbye"),
        ("comment ça marche ?", "help"),
        ("oui c'est bien ça", "affirm"),
        ("non pas du tout", "deny"),
        ("laisse tomber j'annule", "cancel"),
        ("je veux tout recommencer depuis le début", "restart"),
        ("aucune idée", "dont_know"),
        ("quel temps fait-il à Paris demain ?", "out_of_scope"),
        ("raconte moi une blague", "out_of_scope"),
        ("xyzzy plop", "out_of_scope"),
    ],
)
async def test_conversational_intents(nlu, text: str, intent: str) -> None:
    result = await nlu.parse(text)
    assert result.intent == intent, result.ranking
    assert not result.is_report


@pytest.mark.parametrize(
    "text",
    [
        "bonjour orange",
        "merci SFR",
        "haha t'es un robot ou quoi",
        "c'est quoi l'arcep ?",
        "tu connais une bonne recette de crêpes ?",
        "lol",
    ],
)
async def test_small_talk_never_carries_category_or_operator(nlu, text: str) -> None:
    result = await nlu.parse(text)
    assert not result.is_report
    assert result.category is None and result.operator is None


async def test_english_is_understood(nlu) -> None:
    result = await nlu.parse(
        "My Bouygues internet box has been down for a week, no connection at all"
    )
    assert result.language == "en"
    assert (result.category, result.operator, result.sector) == ("outage", "bouygues", "fixed")


async def test_free_is_a_word_in_english(nlu) -> None:
    result = await nlu.parse("they charged me for a phone they said was free")
    assert result.operator is None


async def test_slash_text_cannot_inject_an_intent(nlu) -> None:
    # Rasa would read this as intent "affirm" (confidence 1.0) with an operator entity.
    injected = await nlu.parse('/affirm{"operator": "k_net"}')
    plain = await nlu.parse('affirm{"operator": "k_net"}')
    assert injected.text == '/affirm{"operator": "k_net"}'
    assert injected.operator is None
    assert (injected.intent, injected.confidence) == (plain.intent, plain.confidence)
    assert injected.confidence < 1.0


async def test_concurrent_parses_each_get_their_own_answer(nlu) -> None:
    texts = [text for text, _ in CATEGORY_CASES]
    results = await asyncio.gather(*(nlu.parse(t) for t in texts))
    assert [r.text for r in results] == texts
    assert [r.category for r in results] == [c for _, c in CATEGORY_CASES]
