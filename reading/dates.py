"""When a problem started, as people say it: « depuis 3 semaines », « depuis lundi »,
« depuis le 12 novembre », « ça fait deux jours », "since yesterday", "for a week".

`started_on(text, today)` gives the day the problem started (a date in Paris), or None.
In any message a time needs its anchor (« depuis », « il y a », « ça fait », "since",
"for … now", "ago"): « j'ai appelé hier » says when the person called, not when the problem
started. Typed as the answer to « Depuis quand ? » (`answer=True`), the bare time is
enough: « hier », « lundi », « 3 semaines », « le 12/11 ».

A duration is a lower bound: « plus d'un mois » starts 30 days before today. Days of the
week and dates are the most recent past ones: « depuis lundi » typed on a Monday is a week.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from domain.text import fold

_NUMBERS = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "quinze": 15,
    "vingt": 20,
    "quelques": 3,
    "plusieurs": 3,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "several": 3,
    "a few": 3,
    "few": 3,
}
_UNITS = {
    "jour": 1,
    "jours": 1,
    "jrs": 1,
    "j": 1,
    "day": 1,
    "days": 1,
    "semaine": 7,
    "semaines": 7,
    "sem": 7,
    "week": 7,
    "weeks": 7,
    "mois": 30,
    "month": 30,
    "months": 30,
    "an": 365,
    "ans": 365,
    "annee": 365,
    "annees": 365,
    "year": 365,
    "years": 365,
}
_MONTHS = {
    "janvier": 1,
    "janv": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_WEEKDAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}

_NUMBER = r"(?:\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_UNIT = r"(?:" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")"
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:" + "|".join(_WEEKDAYS) + r")"
# « depuis », « ça fait », « il y a », "since", "for": what makes a time the start of the
# problem in a message that was not asked when.
_SINCE = (
    r"(?:depuis|depui|dpuis|dps|since|a partir d[eu']?|starting|(?:ca |cela |tout |le probleme |"
    r"la panne |la coupure )?a commence|(?:ca |it |the problem |the outage )?(?:started|began)(?: on)?)"
)
_FOR = (
    r"(?:(?:ca|sa|cela|ça) (?:fait|fais|fera)|voila|voici|il y a|ya|y a|"
    r"for|for the (?:last|past)|over the (?:last|past)|it.s been|its been|been)"
)
_MORE = r"(?:plus d.|plus de |pres d.|presque |environ |au moins |over |more than |about |almost |at least |nearly |bien |deja )?"

# A duration: « 3 semaines », « une quinzaine de jours », « un mois et demi ».
_DURATION = (
    rf"(?P<n>{_NUMBER}|une quinzaine|une dizaine|une huitaine|une vingtaine|"
    rf"(?:\d+|quelques|plusieurs) (?:bonnes |longues )?)\s*(?:de )?(?P<unit>{_UNIT})\b"
    r"(?P<half> et demi)?"
)
_VAGUE = {
    "des semaines": 14,
    "des mois": 60,
    "des jours": 3,
    "des annees": 730,
    "weeks": 14,
    "months": 60,
    "days": 3,
    "years": 730,
    # No day to place (an answer all the same: see SPEAKS_OF_TIME).
    "longtemps": None,
    "un bail": None,
    "(?:fait|depuis) (?:un (?:petit |bon |long |sacre |)moment|un certain temps|pas mal de temps)": None,
    "(?:for |in |)a (?:long |good |)while": None,
    "a long time": None,
    "toujours": None,
    "ages": None,
    "forever": None,
}
# Seasons and the school year: the day each begins (« depuis l'hiver », « depuis la
# rentrée », "since the summer"), the most recent one past.
_SEASONS = {
    "hiver": (12, 1),
    "winter": (12, 1),
    "printemps": (3, 1),
    "spring": (3, 1),
    "ete": (6, 1),
    "summer": (6, 1),
    "automne": (9, 1),
    "autumn": (9, 1),
    "fall": (9, 1),
    "rentree": (9, 1),
    "vacances": (7, 1),
}
_SEASON_RE = re.compile(
    r"(?P<pre>(?:le |l.|la |cet |cette |ce |the |this |last )?(?:debut |fin )?(?:de |d.)?)"
    r"(?P<s>" + "|".join(_SEASONS) + r")(?: (?:de |d.)?(?P<m>" + "|".join(_MONTHS) + r"))?"
    r"(?P<last> dernier| derniere| passe| passee)?(?: (?P<y>20\d\d))?\b"
)

_RELATIVE = (
    (
        r"aujourd.?hui|aujourdhui|ce matin|cet apres.?midi|ce soir|tout a l.heure|"
        r"une heure|deux heures|quelques heures|\d+ ?h(?:eures?)?\b|today|this morning|"
        r"this afternoon|this evening|tonight|an hour|a few hours|\d+ hours?",
        0,
    ),
    (r"avant.?hier|day before yesterday", 2),
    (r"hier|yesterday|last night", 1),
    (r"cette nuit", 0),
    (r"la semaine derniere|la semaine passee|last week", 7),
    (
        r"le (?:week.?end|we) dernier|ce (?:week.?end|we)|le (?:week.?end|we)|(?:last |the |this )?weekend",
        -1,
    ),
    (r"le mois dernier|le mois passe|last month", 30),
    (r"l.an dernier|l.annee derniere|last year", 365),
)
# Compiled once: every message is read several times a turn (stated, absorbed, mentioned).
_DURATION_RE = re.compile(rf"{_MORE}{_DURATION}")
# Between a vague time and the duration that makes it precise: « longtemps, au moins 2 ans »
# (not « depuis toujours, ça coupe 2 jours par semaine »).
_PRECISION = re.compile(
    r"[\s,;:(-]*(?:au moins|environ|genre|soit|bien|facile|plus de|about|at least)?\s*"
)
_VAGUE_RES = tuple((re.compile(rf"{_MORE}{vague}\b"), days) for vague, days in _VAGUE.items())
_RELATIVE_RES = tuple((re.compile(rf"{_MORE}(?:{pattern})\b"), days) for pattern, days in _RELATIVE)

_DAY_MONTH = re.compile(
    rf"\b(?:le |the )?(?:1er|(?P<d>\d{{1,2}})(?:er|st|nd|rd|th)?) (?:de )?(?P<m>{_MONTH})"
    rf"(?: (?P<y>20\d\d))?\b"
)
_MONTH_DAY = re.compile(
    rf"\b(?P<m>{_MONTH}) (?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,? (?P<y>20\d\d))?\b"
)
_NUMERIC = re.compile(
    r"\b(?:le |the )?(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>(?:20)?\d\d))?\b"
)
_FIRST_OF = re.compile(rf"\b(?:le )?(?P<first>1er) (?P<m>{_MONTH})")
_MONTH_ONLY = re.compile(
    rf"\b(?:(?P<part>(?:le )?debut|(?:la )?mi|(?:la )?fin|early|mid|late|the end of|end of)[ -])?(?:de |d.|of )?(?P<m>{_MONTH})\b"
    r"(?: (?P<y>20\d\d))?"
)
_DAY_ONLY = re.compile(
    r"\b(?:le |the )(?P<d>\d{1,2})(?:er|st|nd|rd|th)?(?!\s*(?:[/.-]|\d|h\b|heures?))\b"
)
_YEAR_ONLY = re.compile(r"\b(?:l.annee |the year )?(?P<y>20\d\d)\b")
_WEEKDAY_RE = re.compile(rf"\b(?:ce |last |this |on )?(?P<w>{_WEEKDAY})(?: dernier| passe)?\b")


def _number(word: str) -> float:
    word = word.strip()
    if word.isdigit():
        return float(word)
    for vague, value in (("quinzaine", 15), ("dizaine", 10), ("huitaine", 8), ("vingtaine", 20)):
        if vague in word:
            return value
    word = re.sub(r"\s+(?:bonnes|longues)$", "", word)
    return float(_NUMBERS.get(word, _NUMBERS.get(word.split()[0], 0)))


def _past(day: date, today: date) -> date | None:
    return day if day <= today else None


def _dated(match: re.Match[str], today: date) -> date | None:
    """The most recent past day a « 12 novembre » / « 12/11 » match names."""
    groups = match.groupdict()
    month_word = groups.get("m") or ""
    month = int(month_word) if month_word.isdigit() else _MONTHS.get(month_word.rstrip("."))
    part = groups.get("part") or ""
    # « mi-novembre », « fin novembre »: the middle and the last days of the month.
    day = (
        int(groups["d"])
        if groups.get("d")
        else 15
        if part.endswith("mi") or part == "mid"
        else 25
        if "fin" in part or "end" in part or part == "late"
        else 1
    )
    if not month or not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    year = groups.get("y")
    try:
        if year:
            year_number = int(year) + (2000 if len(year) == 2 else 0)
            return _past(date(year_number, month, day), today)
        found = date(today.year, month, day)
        return found if found <= today else date(today.year - 1, month, day)
    except ValueError:
        return None


def _from_time(phrase: str, today: date) -> date | None:
    """The start day a time phrase (after its anchor, or a whole answer) names."""
    phrase = phrase.strip(" ,.!?;:")
    match = _DURATION_RE.match(phrase)
    if match:
        days = _number(match.group("n")) * _UNITS[match.group("unit")]
        if match.group("half"):
            days *= 1.5
        return today - timedelta(days=round(days)) if days else None
    for vague, vague_days in _VAGUE_RES:
        found_vague = vague.match(phrase)
        if found_vague:
            # « longtemps, au moins 2 ans »: the duration that follows says more.
            precise = _DURATION_RE.search(phrase, found_vague.end())
            if precise and _PRECISION.fullmatch(phrase[found_vague.end() : precise.start()]):
                return _from_time(phrase[precise.start() :], today)
            return today - timedelta(days=vague_days) if vague_days else None
    match = _SEASON_RE.match(phrase)
    if match and (match.group("s") != "ete" or match.group("pre")):  # (« été coupé »)
        if match.group("m"):  # « la rentrée de janvier »
            return _dated(match, today)
        month, day = _SEASONS[match.group("s")]
        if match.group("y"):  # « depuis l'hiver 2024 »
            return _past(date(int(match.group("y")), month, day), today)
        found = date(today.year, month, day)
        if found > today:
            found = date(today.year - 1, month, day)
        if match.group("last") and (today - found).days < 92:
            found = date(found.year - 1, month, day)  # « l'hiver dernier », in winter
        return found
    for relative, days in _RELATIVE_RES:
        if relative.match(phrase):
            if days == -1:  # the last weekend: its Saturday
                return today - timedelta(days=(today.weekday() - 5) % 7 or 7)
            return today - timedelta(days=days)
    for regex in (_FIRST_OF, _DAY_MONTH, _MONTH_DAY, _NUMERIC):
        match = regex.match(phrase)
        if match:
            return _dated(match, today)
    match = _WEEKDAY_RE.match(phrase)
    if match:
        back = (today.weekday() - _WEEKDAYS[match.group("w")]) % 7 or 7
        return today - timedelta(days=back)
    match = _MONTH_ONLY.match(phrase)
    if match:
        return _dated(match, today)
    match = _DAY_ONLY.match(phrase)
    if match and 1 <= int(match.group("d")) <= 31:
        day = int(match.group("d"))
        month_start = today.replace(day=1)
        for start in (month_start, (month_start - timedelta(days=1)).replace(day=1)):
            try:
                found = start.replace(day=day)
            except ValueError:
                continue
            if found <= today:
                return found
        return None
    match = _YEAR_ONLY.match(phrase)
    if match and int(match.group("y")) <= today.year:
        return date(int(match.group("y")), 1, 1)
    return None


_ANCHORED = re.compile(rf"\b{_SINCE}\s+|\b{_FOR}\s+")
_AGO = re.compile(
    rf"\b(?P<phrase>{_MORE}{_DURATION}|{_NUMBER} {_UNIT}) (?:ago|que (?:ca|cela) dure|que (?:ca|c.est) (?:dure|comme ca))\b"
)
# « depuis que j'ai déménagé », « depuis chez moi »: an anchor that names no time.
_ANSWER_ONLY = re.compile(
    r"^\W*(?:(?:c.est |it.s |ca a commence |it started |started |"
    r"depuis |since |for |il y a |ca fait |about |environ )?)(?P<phrase>.+)$"
)


# « on a Free depuis mars », « client depuis 10 ans », « j'habite ici depuis 2 ans », « la
# fibre depuis l'été »: since when the person has something, not since when it fails,
# unless the same words say that something fails.
_HOLDING = re.compile(
    r"\b(?:client|cliente|clients|abonne|abonnee|abonnes|abonnement|chez|contrat|"
    r"forfait|fibre|adsl|box|ligne|operateur|on a|j.ai|nous avons|habite|"
    r"emmenage|demenage|installe|installee|raccorde|raccordee|customer|"
    r"subscriber|with|have had|i.ve had|we.ve had|lived|live here)\b"
)
_FAILING = re.compile(
    r"\b(?:panne|pannes|coupe|coupee|coupes|coupure|coupures|rien|plus d|plus de|"
    r"pas d|pas de|marche|fonctionne|lent|lente|capte|reseau|signal|bloque|"
    r"recu|arrive|attends|attend|probleme|problemes|bug|down|no|not|nothing|"
    r"outage|lost|perdu|retard|toujours|hs|instable|saute|sautent|impossible)\b"
)


def _held_since(folded: str, anchor_start: int) -> bool:
    """Whether the words just before an anchor say what is held (« on a Free depuis »,
    « client depuis »), and nothing earlier in the clause says that something fails
    (« plus d'internet sur ma box SFR depuis samedi » is a start)."""
    before = folded[:anchor_start]
    clause = re.split(r"[.!?;,:]", before)[-1]
    return bool(_HOLDING.search(" ".join(before.split()[-4:]))) and not _FAILING.search(clause)


def started_on(text: str, today: date, answer: bool = False) -> date | None:
    """The day the problem started, as the text says it, or None (see the module)."""
    folded = fold(text).replace("’", "'")
    folded = re.sub(r"\s+", " ", folded)
    for match in _ANCHORED.finditer(folded):
        if _held_since(folded, match.start()):
            continue
        found = _from_time(folded[match.end() : match.end() + 40], today)
        if found is not None:
            return found
    ago = _AGO.search(folded)
    if ago:
        return _from_time(ago.group("phrase"), today)
    whole = _ANSWER_ONLY.match(folded) if answer else None
    if whole and len(whole.group("phrase")) <= 40:
        found = _from_time(whole.group("phrase"), today)
        if found is not None:
            return found
    if answer and len(folded) <= 80:
        # A short answer to « Depuis quand ? » with words around its time: « reçu mardi »,
        # « ben la semaine dernière je crois ».
        for word in re.finditer(r"\b\w", folded):
            phrase = folded[word.start() : word.start() + 40]
            if _NOT_A_TIME_ALONE.match(phrase):
                continue
            found = _from_time(phrase, today)
            if found is not None:
                return found
    return None


# Words around which a scanned answer reads no time (« mise à jour » is no day, « tous
# les soirs vers 20h » no start, « un jour sur deux » no duration, "I may" no month).
# A season read in passing needs its article (« été coupé », « rentrée de vacances »), and
# « 2 jours par semaine » is how often, not since when.
_NOT_A_TIME_ALONE = re.compile(
    r"(?:a|an|un|une|de|du|des|d|\d+ ?h(?:eures?)?|\d+h\d+|vacances|may|ete|rentree|hiver|printemps|"
    r"automne|summer|winter|spring|fall|autumn)\b|\S+ \S+ (?:par|per|a|by)\b"
)


# An answer about time that names no day we can place (« depuis que le voisin a
# déménagé », « ça dépend des jours »): answered all the same, not asked again.
SPEAKS_OF_TIME = re.compile(
    rf"\b(?:{_SINCE}|longtemps|bail|toujours(?! pas)|des (?:jours|semaines|mois|annees)|"
    r"fait un (?:petit |bon |long |sacre |)moment|un certain temps|pas mal de temps|"
    r"forever|ages|always|for (?:ages|years|months|weeks)|a (?:long |good |)while)\b"
)
