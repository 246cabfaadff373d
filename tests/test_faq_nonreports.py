"""Questions that describe no problem get the catalogue's answer; the same words asking
about a problem do not (they start a report), issue 19, item 3."""

from __future__ import annotations

import pytest

from dialogues.faq import Faq

FAQ = Faq.load()


@pytest.mark.parametrize(
    "text, answer",
    [
        ("A quelle heure ferme le bureau de poste de Vichy ?", "post_office"),
        ("le bureau de poste est ouvert le samedi ?", "post_office"),
        ("c'est combien un timbre ?", "post_office"),
        ("Bonjour, est-ce que mon forfait marche en Espagne cet été ?", "roaming_abroad"),
        ("does my plan work in Spain?", "roaming_abroad"),
        ("Pourquoi la 5G est dangereuse ?", "waves_health"),
        ("est-ce que les antennes relais sont dangereuses pour la santé ?", "waves_health"),
        ("ma banque peut me prendre des frais deux fois ?", "other_sectors"),
        ("comment contester une facture d'électricité trop élevée ?", "other_sectors"),
        ("à qui se plaindre d'une émission de télé ?", "other_sectors"),
    ],
)
def test_a_question_without_a_problem_is_answered(text: str, answer: str) -> None:
    found = FAQ.answer(text)
    assert found is not None and found.id == answer


@pytest.mark.parametrize(
    "text",
    [
        "c'est normal que j'ai plus de réseau depuis 3 jours ?",
        "mon forfait marche pas en italie ?",
        "pourquoi internet ne marche pas au portugal ?",
        "my plan doesn't work in Spain?",
        "on m'a facturé 30 euros en Espagne, c'est normal ?",
        "pourquoi le bureau de poste est fermé depuis 3 semaines ?",
        "ma banque a prélevé deux fois mon forfait SFR, c'est normal ?",
        "pas de réseau mobile pendant la coupure d'électricité, c'est normal ?",
    ],
)
def test_a_question_that_describes_a_problem_is_no_faq(text: str) -> None:
    assert FAQ.answer(text) is None


# -- posts that only look like reports (issue 19, item 3; found on the real-style
# calibration sets), read with a model that is sure they are reports ---------------------
def _report_raw(category: str = "billing") -> dict:
    return {
        "intent": {"name": f"report_{category}", "confidence": 0.95},
        "intent_ranking": [
            {"name": f"report_{category}", "confidence": 0.95},
            {"name": "out_of_scope", "confidence": 0.05},
        ],
        "entities": [],
    }


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "Vends iPhone 13 débloqué tous opérateurs, acheté chez Bouygues, facture fournie",
            "out_of_scope",
        ),
        (
            "Bonjour à tous, je vends une Freebox Revolution en bon état, 20€, à récupérer à Issoire",
            "out_of_scope",
        ),
        (
            "Recrute technicien raccordement fibre H/F, secteur Vendée, CDI, interventions pour "
            "Orange",
            "out_of_scope",
        ),
        (
            "Un grand bravo au technicien Orange venu ce matin à Quimperlé : ponctuel, poli",
            "out_of_scope",
        ),
        (
            "Merci à toute l'équipe de la boutique Orange de Pau pour leur patience avec mon père",
            "out_of_scope",
        ),
        (
            "qq1 sait si le forfait Free Mobile à 19,99 inclut l'itinérance au Maroc ? je pars en "
            "août",
            "out_of_scope",
        ),
        (
            "Free augmente la Freebox Révolution de 5 € d'après Univers Freebox, moi j'ai la Delta",
            "out_of_scope",
        ),
        (
            "Pourquoi le facteur ne joue jamais à cache-cache ? Parce qu'il passe toujours après "
            "tout le monde 😂",
            "chitchat",
        ),
        # Questions before buying or going (non-report set h, a dev set).
        ("vaut mieux bouygues ou sfr pour la fibre sur toulouse ??", "out_of_scope"),
        ("Bouygues ils ont une offre pour les moins de 26 ans ?", "out_of_scope"),
        ("le bureau de poste de Riom est ouvert le 15 aout ?", "out_of_scope"),
        ("lyca c bien pour appeler au senegal ou pas", "out_of_scope"),
    ],
)
def test_ads_praise_howto_news_and_jokes_are_no_reports(interpreter, text, intent) -> None:
    result = interpreter.interpret(text, _report_raw())
    assert (result.is_report, result.intent, result.category, result.operator) == (
        False,
        intent,
        None,
        None,
    )
    # …nor when the model reads it as an answer naming an operator.
    result = interpreter.interpret(
        text,
        {
            **_report_raw(),
            "intent": {"name": "inform", "confidence": 0.6},
            "intent_ranking": [
                {"name": "inform", "confidence": 0.6},
                {"name": "report_billing", "confidence": 0.4},
            ],
        },
    )
    assert (result.is_report, result.intent, result.category, result.operator) == (
        False,
        intent,
        None,
        None,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Bravo SFR, 3 jours sans internet et personne au téléphone",
        "Merci à l'équipe Orange pour rien, toujours pas de ligne après 2 semaines",
        "Comment on fait quand la box ne marche plus depuis lundi ?",
        "Vends ma Livebox, de toute façon elle est en panne depuis 1 mois et Orange s'en fiche",
        "mdr le rétablissement prévu à 18h c'était il y a deux jours, Sosh box toujours morte",
        "c'est normal que la box SFR soit coupée tous les soirs, vaut mieux que je change ?",
        "le bureau de poste est fermé le samedi et mon colis n'est toujours pas arrivé ?",
    ],
)
def test_the_same_posts_that_complain_stay_reports(interpreter, text) -> None:
    assert interpreter.interpret(text, _report_raw("outage")).is_report
