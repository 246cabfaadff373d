"""Everything the bot says, in French (first) and English. Short: read on a phone."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "fr": "Bonjour ! Je recueille vos alertes sur les problèmes de téléphone, d'internet, "
        "de courrier ou de colis, pour l'Arcep, le régulateur.\n"
        "Décrivez votre problème en quelques mots, par exemple : « Pas de réseau "
        "Orange dans mon village » ou « Free me facture après ma résiliation ».",
        "en": "Hello! I collect your reports of problems with phone, internet, mail or "
        "parcel operators for Arcep, the French regulator.\n"
        'Describe your problem in a few words, for example: "No Orange network in '
        'my village" or "Free still bills me after I cancelled".',
    },
    "describe": {
        "fr": "Décrivez votre problème en quelques mots.",
        "en": "Describe your problem in a few words.",
    },
    "help": {
        "fr": "Je vous aide à signaler un problème avec un opérateur de téléphonie, "
        "d'internet ou de courrier/colis. Je vous pose quelques questions, vous "
        "vérifiez le résumé, et l'alerte est enregistrée (sans nom, ni e-mail, ni "
        "numéro de téléphone).\n"
        "À tout moment : « annuler » pour abandonner, « recommencer » pour repartir "
        "de zéro. Vous pouvez joindre jusqu'à 3 photos (JPEG, PNG ou WEBP).\n"
        "Vos données : /confidentialite ; tout effacer : /oublier.",
        "en": "I help you report a problem with a phone, internet, mail or parcel "
        "operator. I ask a few questions, you check the summary, and the alert is "
        "saved (no name, email or phone number).\n"
        'At any time: "cancel" to give up, "start over" to begin again. You can '
        "attach up to 3 photos (JPEG, PNG or WEBP).\n"
        "Your data: /privacy; erase everything: /forget.",
    },
    "privacy": {
        "fr": "Vos données : aucun nom, e-mail ni numéro n'est demandé, et ceux que vous "
        "écrivez sont masqués. Les photos perdent leurs métadonnées (GPS compris). "
        "Vos messages et photos sont conservés {transcript_days} jours, puis effacés ; "
        "vos alertes restent comptées sans nom, leur description est effacée après "
        "{free_text_days} jours. « Annuler » efface le signalement en cours, "
        "/oublier efface tout ce que vous avez écrit ici.",
        "en": "Your data: no name, email or number is asked for, and those you type are "
        "masked. Photos lose their metadata (GPS included). Your messages and photos "
        "are kept {transcript_days} days, then erased; your alerts still count, "
        "anonymously, and their description is erased after {free_text_days} days. "
        '"Cancel" erases the report in progress, /forget erases everything you '
        "wrote here.",
    },
    "not_understood": {
        "fr": "Je n'ai pas bien compris.",
        "en": "Sorry, I didn't quite understand.",
    },
    "nlu_unavailable": {
        "fr": "Le service est momentanément indisponible : je n'ai pas pu lire votre "
        "message. Renvoyez-le dans un instant ; ce que vous m'avez déjà dit est gardé.",
        "en": "The service is briefly unavailable: I could not read your message. Please "
        "send it again in a moment; what you already told me is kept.",
    },
    "question_unknown": {
        "fr": "Je ne sais pas répondre à cette question ici : je recueille les alertes sur "
        "les opérateurs, et la fiche conseil qui suit l'alerte donne les recours.",
        "en": "I can't answer that question here: I collect alerts about operators, and the "
        "advice sheet after the alert lists what you can do.",
    },
    "noted": {
        "fr": "C'est noté.",
        "en": "Noted.",
    },
    "hint_category": {
        "fr": "Je n'ai pas reconnu le type de problème : touchez celui qui correspond le mieux.",
        "en": "I couldn't tell the kind of problem: tap the one that fits best.",
    },
    "hint_sector": {
        "fr": "Dites-moi s'il s'agit du mobile, d'internet ou du fixe à la maison, ou du "
        "courrier et des colis.",
        "en": "Tell me whether it is about your mobile, home internet or landline, or mail "
        "and parcels.",
    },
    "hint_operator": {
        "fr": "J'attends le nom de l'opérateur (par exemple « Free » ou « SFR »), ou "
        "« je ne sais pas ».",
        "en": 'I need the operator\'s name (for example "Free" or "SFR"), or "I don\'t know".',
    },
    "hint_technology": {
        "fr": "Choisissez la technologie ci-dessous, ou « je ne sais pas ».",
        "en": 'Pick the technology below, or "I don\'t know".',
    },
    "hint_location": {
        "fr": "J'attends une commune ou un code postal, par exemple « Rodez » ou "
        "« 12000 ». Vous pouvez aussi passer.",
        "en": 'I need a town or a postcode, for example "Rodez" or "12000". You can also skip.',
    },
    "hint_contacted_customer_service": {
        "fr": "Répondez simplement par oui ou par non, ou touchez un bouton.",
        "en": "Just answer yes or no, or tap a button.",
    },
    "hint_started_on": {
        "fr": "Répondez par une date (« le 12 novembre », « lundi ») ou une durée "
        "(« depuis 3 semaines »), ou touchez un bouton.",
        "en": 'Answer with a date ("November 12", "Monday") or how long '
        '("for 3 weeks"), or tap a button.',
    },
    "hint_user_type": {
        "fr": "Dites-moi si vous écrivez pour vous, pour une entreprise ou pour une collectivité.",
        "en": "Tell me whether you are writing for yourself, a business or a local authority.",
    },
    "hint_description": {
        "fr": "Décrivez le problème en une ou deux phrases, avec vos mots.",
        "en": "Describe the problem in a sentence or two, in your own words.",
    },
    "hint_photo": {
        "fr": "Envoyez une photo (JPEG, PNG ou WEBP) ou touchez « Passer ».",
        "en": 'Send a photo (JPEG, PNG or WEBP) or tap "Skip".',
    },
    "hint_cancel": {
        "fr": "Touchez « Oui, abandonner » ou « Non, continuer ».",
        "en": 'Tap "Yes, drop it" or "No, go on".',
    },
    "moving_on": {
        "fr": "Je passe à la suite : vous pourrez corriger dans le résumé.",
        "en": "Let's move on: you can change it in the summary.",
    },
    "empty": {
        "fr": "Je n'ai rien reçu : pouvez-vous écrire votre message ?",
        "en": "I received nothing: could you type your message?",
    },
    "too_long": {
        "fr": "Votre message est très long : j'en garde le début ({limit} caractères).",
        "en": "Your message is very long: I keep the beginning ({limit} characters).",
    },
    "thanks": {
        "fr": "Avec plaisir ! Je reste disponible si vous avez un problème à signaler.",
        "en": "You're welcome! I'm here if you have a problem to report.",
    },
    "goodbye": {
        "fr": "Au revoir, et merci d'avoir pris le temps de signaler.",
        "en": "Goodbye, and thank you for taking the time to report.",
    },
    "chitchat": {
        "fr": "Je suis un assistant automatique : je sais surtout recueillir vos alertes "
        "sur les opérateurs télécoms et postaux.",
        "en": "I'm an automated assistant: what I do best is collect your reports about "
        "telecom and postal operators.",
    },
    "out_of_scope": {
        "fr": "Je ne peux pas vous aider sur ce sujet : je recueille les alertes sur les "
        "opérateurs télécoms et postaux. L'Arcep est l'autorité qui régule ces "
        "secteurs ; elle ne traite pas les litiges individuels.",
        "en": "I can't help with that: I collect reports about telecom and postal "
        "operators. Arcep regulates these sectors; it does not handle individual "
        "disputes.",
    },
    "consumer_dispute": {
        "fr": "Pour un litige avec un commerçant ou une entreprise hors télécoms et "
        "courrier, signalez-le sur SignalConso : https://signal.conso.gouv.fr",
        "en": "For a dispute with a shop or a company outside telecoms and mail, report "
        "it on SignalConso: https://signal.conso.gouv.fr",
    },
    "spam_pointer": {
        "fr": "Bon à savoir : transférez un SMS indésirable au 33700 ; pour un appel, "
        "envoyez « spam vocal » et le numéro au 33700 (https://www.33700.fr). Depuis "
        "le 11 août 2026, le démarchage téléphonique exige votre accord préalable, "
        "sauf s'il vient d'une entreprise avec qui vous avez un contrat en cours et "
        "porte sur ce contrat. Victime d'une "
        "arnaque ? Le 17Cyber vous aide et vous oriente vers la plainte : "
        "https://17cyber.gouv.fr",
        "en": "Good to know: forward an unwanted text to 33700; for a call, text « spam "
        "vocal » and the number to 33700 (https://www.33700.fr). Since 11 August 2026, "
        "telephone canvassing needs your prior consent, except from a company you have "
        "a current contract with, about that contract. Scammed? 17Cyber helps victims and guides them to "
        "file a complaint: https://17cyber.gouv.fr",
    },
    "ask_category": {
        "fr": "Quel est le problème ?",
        "en": "What is the problem?",
    },
    "ask_category_guess": {
        "fr": "J'ai compris qu'il s'agit peut-être de : {guess}. Est-ce bien ça ?",
        "en": "I understood this may be about: {guess}. Is that right?",
    },
    "ask_sector": {
        "fr": "Cela concerne :",
        "en": "This is about:",
    },
    "ask_operator": {
        "fr": "Quel est l'opérateur concerné ?",
        "en": "Which operator is it?",
    },
    "ask_operator_postal": {
        "fr": "Quel est le transporteur ou l'opérateur postal concerné ?",
        "en": "Which carrier or postal operator is it?",
    },
    "ask_operator_name": {
        "fr": "Écrivez le nom de l'opérateur.",
        "en": "Type the operator's name.",
    },
    "ask_operator_guess": {
        "fr": "Vous parlez de l'opérateur « {name} » ?",
        "en": 'Do you mean the operator "{name}"?',
    },
    "ask_operators": {
        "fr": "Lesquels ? Écrivez-les (par exemple « Orange et SFR »), ou choisissez :",
        "en": 'Which ones? Type them (for example "Orange and SFR"), or choose:',
    },
    "operators_mismatch": {
        "fr": "Plusieurs opérateurs ne sont possibles que pour un problème de réseau mobile "
        "(couverture, panne). Indiquez un seul opérateur.",
        "en": "Several operators are possible only for a mobile network problem "
        "(coverage, outage). Give one operator.",
    },
    "operator_mismatch": {
        "fr": "{operator} ne propose pas ce type de service ({sector}).",
        "en": "{operator} does not provide this kind of service ({sector}).",
    },
    "category_mismatch": {
        "fr": "Ce problème ne correspond pas au domaine « {sector} ».",
        "en": 'This problem doesn\'t match the area "{sector}".',
    },
    "ask_user_type": {
        "fr": "Vous signalez en tant que :",
        "en": "You are reporting as:",
    },
    "ask_technology": {
        "fr": "Quelle technologie est concernée ?",
        "en": "Which technology is affected?",
    },
    "ask_location": {
        "fr": "Où cela se passe-t-il ? Indiquez la commune ou le code postal (ou « passer »).",
        "en": 'Where does this happen? Give the town or postal code (or "skip").',
    },
    "ask_started_on": {
        "fr": "Depuis quand avez-vous ce problème ?",
        "en": "When did the problem start?",
    },
    "ask_started_on_again": {
        "fr": "Depuis quand ? Une date (« le 12 novembre », « lundi ») ou une durée "
        "(« depuis 3 semaines ») me suffit, ou touchez un bouton.",
        "en": 'Since when? A date ("November 12", "Monday") or how long ("for 3 '
        'weeks") is enough, or tap a button.',
    },
    "today": {"fr": "aujourd'hui", "en": "today"},
    "yesterday": {"fr": "hier", "en": "yesterday"},
    "days_span": {"fr": "{n} jours", "en": "{n} days"},
    "week_span": {"fr": "1 semaine", "en": "1 week"},
    "weeks_span": {"fr": "{n} semaines", "en": "{n} weeks"},
    "month_span": {"fr": "1 mois", "en": "1 month"},
    "months_span": {"fr": "{n} mois", "en": "{n} months"},
    "ask_description": {
        "fr": "Décrivez le problème en une ou deux phrases.",
        "en": "Describe the problem in one or two sentences.",
    },
    "ask_contacted": {
        "fr": "Avez-vous déjà contacté le service client de l'opérateur ?",
        "en": "Have you already contacted the operator's customer service?",
    },
    "ask_photo": {
        "fr": "Envoyez votre photo (JPEG, PNG ou WEBP, 10 Mo maximum), ou « passer ».",
        "en": 'Send your photo (JPEG, PNG or WEBP, 10 MB max), or "skip".',
    },
    "photo_added": {
        "fr": "Photo ajoutée ({count}/{max}).",
        "en": "Photo added ({count}/{max}).",
    },
    "photo_limit": {
        "fr": "Vous avez déjà joint {max} photos : je n'en ajoute pas d'autre.",
        "en": "You have already attached {max} photos: I won't add more.",
    },
    "photo_too_large": {
        "fr": "Ce fichier dépasse 10 Mo. J'accepte les photos JPEG, PNG ou WEBP de 10 Mo maximum.",
        "en": "This file is over 10 MB. I accept JPEG, PNG or WEBP photos up to 10 MB.",
    },
    "photo_not_image": {
        "fr": "Ce fichier n'est pas une photo que je peux lire. J'accepte les images JPEG, "
        "PNG ou WEBP (10 Mo maximum).",
        "en": "This file is not a picture I can read. I accept JPEG, PNG or WEBP images "
        "(10 MB max).",
    },
    "photo_corrupt": {
        "fr": "Cette image semble abîmée ou incomplète. Pouvez-vous la renvoyer ? "
        "(JPEG, PNG ou WEBP, 10 Mo maximum)",
        "en": "This image looks damaged or incomplete. Could you send it again? "
        "(JPEG, PNG or WEBP, 10 MB max)",
    },
    "photo_too_many_pixels": {
        "fr": "Cette image est trop grande (plus de 49 mégapixels). Envoyez une photo "
        "JPEG, PNG ou WEBP plus petite.",
        "en": "This image is too large (over 49 megapixels). Please send a smaller JPEG, "
        "PNG or WEBP photo.",
    },
    "photo_first": {
        "fr": "Merci pour la photo, je la garde.",
        "en": "Thanks for the photo, I'm keeping it.",
    },
    "location_saved": {
        "fr": "Position reçue : {place}. Seule la commune est gardée.",
        "en": "Location received: {place}. Only the town is kept.",
    },
    "location_rounded": {
        "fr": "Position enregistrée (arrondie à environ 1 km).",
        "en": "Location saved (rounded to about 1 km).",
    },
    "summary_intro": {
        "fr": "Voici votre signalement :",
        "en": "Here is your report:",
    },
    "summary_question": {
        "fr": "Tout est correct ?",
        "en": "Is everything correct?",
    },
    "ask_fix": {
        "fr": "Que voulez-vous corriger ?",
        "en": "What would you like to change?",
    },
    "updated": {
        "fr": "C'est corrigé :",
        "en": "Updated:",
    },
    "which_value": {
        "fr": "Que dois-je noter à la place ?",
        "en": "What should I note instead?",
    },
    "which_value_again": {
        "fr": "Touchez ce qu'il faut noter à la place, ou « Envoyer tel quel » si le "
        "résumé est juste.",
        "en": "Tap what I should note instead, or “Send as it is” if the summary is right.",
    },
    "nothing_changed": {
        "fr": "C'était déjà noté ainsi.",
        "en": "That was already noted.",
    },
    "confirm_cancel": {
        "fr": "Voulez-vous vraiment abandonner ce signalement ? Rien ne sera enregistré.",
        "en": "Do you really want to drop this report? Nothing will be saved.",
    },
    "cancelled": {
        "fr": "Signalement abandonné. Je reste là si vous voulez signaler autre chose.",
        "en": "Report dropped. I'm here if you want to report something else.",
    },
    "confirm_forget": {
        "fr": "Voulez-vous effacer tout ce que vous avez écrit ici et vos photos ? Vos "
        "signalements envoyés restent comptés, sans leur description ni leurs photos. "
        "C'est définitif.",
        "en": "Do you want to erase everything you wrote here and your photos? Reports "
        "you sent still count, without their description or photos. This cannot be "
        "undone.",
    },
    "forgotten": {
        "fr": "C'est fait : vos messages, vos photos et le texte de vos signalements sont "
        "effacés. Vous pouvez recommencer quand vous voulez.",
        "en": "Done: your messages, your photos and the text of your reports are erased. "
        "You can start again whenever you like.",
    },
    "not_forgotten": {
        "fr": "D'accord, rien n'est effacé.",
        "en": "OK, nothing is erased.",
    },
    "not_cancelled": {
        "fr": "D'accord, on continue.",
        "en": "OK, let's go on.",
    },
    "nothing_to_cancel": {
        "fr": "Il n'y a pas de signalement en cours.",
        "en": "There is no report in progress.",
    },
    "restarted": {
        "fr": "On recommence depuis le début.",
        "en": "Let's start over.",
    },
    "in_progress": {
        "fr": "Vous avez un signalement en cours.",
        "en": "You have a report in progress.",
    },
    "saved": {
        "fr": "✅ Votre alerte est enregistrée. Référence : {ref}",
        "en": "✅ Your alert is saved. Reference: {ref}",
    },
    "no_follow_up": {
        "fr": "Les alertes ne font pas l'objet d'un suivi individuel : elles permettent à "
        "l'Arcep de mesurer les dysfonctionnements de chaque opérateur et d'orienter "
        "son action.",
        "en": "Alerts get no individual follow-up: they let Arcep measure each "
        "operator's failings and decide where to act.",
    },
    "share_intro": {
        "fr": "Faites connaître la plateforme (le message ne contient aucune donnée personnelle) :",
        "en": "Spread the word (the message contains no personal data):",
    },
    "share_text": {
        "fr": "J'ai signalé un problème ({category}{operator}) à l'Arcep. Vous aussi, "
        "signalez vos problèmes de téléphone, d'internet ou de courrier :",
        "en": "I reported a problem ({category}{operator}) to Arcep, the French telecom "
        "regulator. Report yours too:",
    },
    "ask_rating": {
        "fr": "Ces conseils vous ont-ils été utiles ?",
        "en": "Was this advice useful?",
    },
    "rated": {
        "fr": "Merci pour votre avis !",
        "en": "Thank you for your feedback!",
    },
    "offer_new": {
        "fr": "Vous pouvez signaler un autre problème quand vous voulez.",
        "en": "You can report another problem whenever you like.",
    },
    "already_saved": {
        "fr": "Cette alerte est déjà enregistrée (référence {ref}).",
        "en": "This alert is already saved (reference {ref}).",
    },
    "stale_choice": {
        "fr": "Ce bouton n'est plus valable.",
        "en": "This button is no longer valid.",
    },
    "technical_error": {
        "fr": "Désolé, un problème technique m'empêche de répondre. Ce que vous avez déjà "
        "donné est conservé : réessayez dans un instant.",
        "en": "Sorry, a technical problem stops me from answering. What you already gave "
        "is kept: please try again in a moment.",
    },
    "personal_data_removed": {
        "fr": "J'ai retiré de votre message des coordonnées personnelles : les alertes "
        "restent anonymes, inutile de les donner.",
        "en": "I removed personal details from your message: alerts stay anonymous, no "
        "need to give them.",
    },
    "unsupported": {
        "fr": "Je ne peux lire que du texte, des photos et une position partagée.",
        "en": "I can only read text, photos and a shared location.",
    },
}

BUTTONS: dict[str, dict[str, str]] = {
    "send": {"fr": "✅ Envoyer l'alerte", "en": "✅ Send the alert"},
    "keep": {"fr": "✅ Envoyer tel quel", "en": "✅ Send as it is"},
    "add_photo": {"fr": "📷 Ajouter une photo", "en": "📷 Add a photo"},
    "fix": {"fr": "✏️ Corriger", "en": "✏️ Change something"},
    "cancel": {"fr": "❌ Abandonner", "en": "❌ Drop it"},
    "skip": {"fr": "Passer", "en": "Skip"},
    "other_operator": {"fr": "Autre opérateur", "en": "Another operator"},
    "several_operators": {"fr": "Plusieurs opérateurs", "en": "Several operators"},
    "all_operators": {"fr": "Aucun ne capte (les 4)", "en": "None works (all 4)"},
    "dont_know": {"fr": "Je ne sais pas", "en": "I don't know"},
    "started_today": {"fr": "Aujourd'hui", "en": "Today"},
    "started_yesterday": {"fr": "Hier", "en": "Yesterday"},
    "started_week": {"fr": "Plus d'une semaine", "en": "Over a week"},
    "started_month": {"fr": "Plus d'un mois", "en": "Over a month"},
    "yes": {"fr": "Oui", "en": "Yes"},
    "no_specify": {"fr": "Non, je précise", "en": "No, I'll type it"},
    "yes_cancel": {"fr": "Oui, abandonner", "en": "Yes, drop it"},
    "no_continue": {"fr": "Non, continuer", "en": "No, go on"},
    "yes_forget": {"fr": "Oui, tout effacer", "en": "Yes, erase everything"},
    "no_keep": {"fr": "Non, garder", "en": "No, keep it"},
    "useful": {"fr": "👍 Oui", "en": "👍 Yes"},
    "not_useful": {"fr": "👎 Non", "en": "👎 No"},
    "new_alert": {"fr": "Signaler un autre problème", "en": "Report another problem"},
    "other_category": {"fr": "Autre chose", "en": "Something else"},
}


def text(key: str, language: str, **values: Any) -> str:
    """The message `key` in `language` (French if missing), with `values` filled in."""
    entry = TEXTS[key]
    return (entry.get(language) or entry["fr"]).format(**values)


def button(key: str, language: str) -> str:
    entry = BUTTONS[key]
    return entry.get(language) or entry["fr"]


@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, dict[str, str]]]:
    labels: dict[str, dict[str, dict[str, str]]] = yaml.safe_load(
        Path(__file__).with_name("labels.yml").read_text(encoding="utf-8")
    )
    return labels


def day_text(day: date, language: str, year: bool = True) -> str:
    """« 1er novembre 2026 », "November 1, 2026" (without the year: « 1er novembre »)."""
    month = label("months", str(day.month), language)
    if language == "fr":
        return f"{'1er' if day.day == 1 else day.day} {month}" + (f" {day.year}" if year else "")
    return f"{month} {day.day}" + (f", {day.year}" if year else "")


def has_labels(kind: str) -> bool:
    """Whether the values of `kind` (a field's name) have labels."""
    return kind in _labels()["fr"]


def label(kind: str, value: object, language: str) -> str:
    """A short label for a taxonomy id (`kind`: a slot name — sector, category, user_type… — or "fields")."""
    table = _labels().get(language) or _labels()["fr"]
    return table[kind].get(str(value), str(value))
