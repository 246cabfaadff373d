"""Who is complained about: the role of each operator a message names.

Real messages name operators that are not at fault: the one left (« j'étais chez SFR »),
the one the person will join (« je pars chez Free le mois prochain »), the one compared
with or used by someone else (« pire que Orange », « mes voisins chez Bouygues captent »,
« j'ai gardé mon mobile chez Sosh »). The model tags these roles (Rasa entity roles on
`operator`, learnt from nlu/data/roles_operators.yml); the words just before or after a
name settle it when they say it outright, whatever the model thinks.

The operator of the alert is the first one with no role (`current`). A move between two
operators keeps the one left (`former`) beside it where the category is about the move
(number portability).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from reading.lexicon import Match
from domain.text import fold

CURRENT, FORMER, NEW, OTHER = "current", "former", "new", "other"
ROLES = (CURRENT, FORMER, NEW, OTHER)
# A model role below this confidence is not trusted.
ROLE_THRESHOLD = 0.6
# …and when the message names no other operator.
LONE_ROLE_THRESHOLD = 0.8
# How far before a name its cue may start (« j'étais pendant dix ans chez »).
_WINDOW = 60

# Cues written just before the name (folded text, matched at its end).
_BEFORE = {
    FORMER: (
        r"(?:j.?etais|j.?etait|on etait|nous etions|etais|ex[- ]?client[e]?s?"
        r"|ancien(?:ne)?s? (?:client|abonne)e?s?)"
        r"(?:\s+\S+){0,4}?\s+(?:chez|avec|de|d')",
        r"(?:ai|a|as|avons|avez|avait|avais|j.?etais|suis|sommes) (?:\w+ )?"
        r"(?:quitte|resilie|lache|laisse tomber|fui)(?: (?:chez|de chez))?",
        r"(?:parti|partie|partis|pars|part|partons|sorti|sortie|venu|venue|viens|venant|"
        r"arrive|arrivee|"
        r"passe|passee|passes|passer|passant|changer|change|migre|migrer|bascule)"
        r" (?:de chez|de|d')",
        r"(?:mon |ma |mes )?(?:ancien|ancienne|anciens|ex|precedent|precedente) "
        r"(?:operateur|fai|fournisseur|box|forfait|contrat|abonnement)(?: (?:chez|de|avec|:))?",
        r"\bex[- ]",
        r"avant (?:j.?etais |on etait |c.?etait |j.?avais |avec |chez )?(?:chez )?",
        r"(?:switched|moved|came|ported|migrated|changed) (?:over )?from",
        r"(?:used to be|was|were) (?:with|on|at)",
        r"(?:left|quit|cancelled|canceled) (?:my (?:\w+ )?(?:with|at) )?",
        r"(?:my )?(?:old|former|previous) (?:provider|carrier|operator|isp|contract)"
        r"(?: (?:with|at|was))?",
        # « Résilié SFR, passé chez Free », « quitté Orange en mars »
        r"(?:^|[.!?:]\s*)(?:resilie|resiliee|quitte|quittee)(?: chez)?",
        # « ancien client Bouygues », « apres 12 ans chez Orange », « passage de Bouygues a »
        r"(?:ancien(?:ne)?s?|ex)[- ]?(?:client|abonne)e?s?(?: (?:de|chez|d'))?",
        r"apres (?:\d+|\w+) (?:ans|annees|mois|semaines) (?:chez|avec)",
        r"(?:passage|migration|transfert|portabilite|depart|changement) (?:de (?:mon numero )?)?"
        r"(?:de chez|de|d')",
        r"(?:ditched|dropped|swapped|traded|after (?:\d+|\w+) years (?:with|at|on))",
    ),
    NEW: (
        r"(?:je|j|on|nous|jvais) ?(?:vais|va|allons|compte|comptons|pense|pensons|veux|voulons|"
        r"souhaite|prefere|devrais|dois|risque|vais bientot|vais surement)"
        r" (?:\w+ )?(?:partir|aller|passer|migrer|filer|basculer|revenir|retourner|resilier"
        r" pour (?:aller|passer))(?: \w+)? (?:chez|a|vers|sur)",
        r"(?:je|j|on|nous) ?(?:pars|part|partons|passe|passons|file|bascule|migre|rejoins|"
        r"retourne|reviens) (?:bientot |demain |lundi |donc |alors )?(?:chez|vers|sur)",
        r"(?:je|on) (?:partirai|passerai|irai|prendrai|partira|passera|ira)(?: \w+)? "
        r"(?:chez|vers|a)",
        r"(?:bientot|prochainement|direction|cap sur)(?: (?:chez|a))?",
        r"(?:hesite|hesites|hesitons|songe|pense|envisage|reflechis) (?:a|de) (?:partir|aller|passer|"
        r"prendre|migrer)(?: \w+)? (?:chez|a|vers)",
        r"(?:resilie|resilier|resiliation) (?:\w+ ){0,3}(?:pour (?:aller |passer )?)(?:chez|a)",
        r"(?:going|moving|switching|will switch|will move|gonna switch|gonna move|"
        r"about to switch|about to move|planning to (?:switch|move|go)) (?:over )?to",
    ),
    OTHER: (
        r"(?:pire|mieux|moins bien|plus cher|moins cher|plus lent|plus rapide|meilleur|"
        r"meilleure|plus nul|plus nulle|aussi nul|aussi nulle|aussi bien) "
        r"(?:qu.?|que |qu.?avec |que chez |que sur |qu.?a )",
        r"(?:comme|contrairement a|par rapport a|compare a|comparee? a|a l.inverse de|"
        r"alors que|tandis que|pendant que|meme) (?:chez|avec|sur|pour|les clients)?",
        r"(?:voisins?|voisine|voisines|femme|mari|epouse|fils|fille|enfants|mere|pere|maman|"
        r"papa|parents|copain|copine|collegues?|amis?|amie|potes?|frere|soeur|conjoint|"
        r"compagne|compagnon|beau-frere|belle-soeur|beau-pere|belle-mere|cousin|cousine|"
        r"gens|tout le monde|autres|ceux|celles|boulot|bureau|travail|taf)"
        # « ma voisine du dessus est chez SFR », « les voisins d'en face sont chez Free »
        r"(?: (?:du|d.en|d.a|de) (?:dessus|dessous|face|cote|palier|gauche|droite))?"
        r"(?: (?:qui|sont|est|ont|a|ayant|avec|en|sous|aussi|tous|toutes|on|eux|elle|lui|ils"
        r"|elles|c.?est|etait|etaient|moi|nous))*"
        r" (?:chez|avec|sur|sous|en|a)",
        r"(?:garde|gardee|gardes|conserve|conservee|gardons)"
        r" (?:\w+ ){0,3}(?:chez|avec|sur|a)",
        r"(?:deuxieme ligne|2e ligne|autre ligne|autre forfait|ligne pro|ligne perso)"
        r" (?:(?:est|sont|c.?est|reste|aussi) )*(?:chez|avec|sur|a)",
        r"(?:worse|better|slower|faster|cheaper|dearer|more expensive) than",
        r"(?:hesite|hesitais|hesitait|hesite) (?:\w+ )?(?:avec|entre)",
        r"(?:unlike|compared (?:to|with)|like with|same as|whereas|while)",
        r"(?:neighbou?rs?|wife|husband|son|daughter|mum|mom|dad|friends?|colleagues?|partner|"
        r"flatmates?|family)(?:,? (?:who (?:are|is|has|have)|who.?s|who.?re|are|is|has|have|"
        r"all))* "
        r"(?:with|on|at|using|has|have)",
        r"(?:kept|keep|still have) (?:my )?(?:\w+ )?(?:with|at|on)",
        r"(?:mobile|portable|box|fixe|internet|ligne|forfait|tel|telephone)\W+(?:lui|elle|eux)\W+"
        r"(?:\w+\W+){0,3}(?:chez|avec|a)",
    ),
}
# Cues written just after the name (folded text, matched at its start).
_AFTER = {
    FORMER: (
        r"c.?etait avant|avant(?:,|\.|$| c.?etait| j.?etais)|c.?est fini|,? mon ancien|"
        r"(?:,|\.|\)|!)? ?(?:que|qu.?)(?: \w+)? ?(?:j.?ai|on a|nous avons) (?:quitte|resilie)|"
        r"auparavant|was before|before(?:,|\.|$)",
    ),
    NEW: (
        r"(?:,|\.)? ?(?:le mois prochain|la semaine prochaine|bientot|des que possible|"
        r"des la fin|a la fin de mon engagement|next month|soon)",
    ),
    OTHER: (
        r"\W*(?:c.est|ce sont|is|it.?s) (?:celui|celle|ceux|celles|la ligne|le portable|le tel)"
        r" (?:de|d.) ?(?:mon|ma|mes|my|notre) ",
        r"\W*(?:c.est|is|it.?s) (?:mon|ma|my) (?:coloc|colocataire|mari|femme|fils|fille|voisine?|"
        r"pere|mere|copain|copine|frere|soeur|collegue|flatmate|husband|wife|son|daughter)\b",
        r"\W*c.est (?:mon|ma) (?:portable|mobile|tel|telephone|forfait)\W+(?!qui)",
        r"(?: (?:eux|elles?|lui|ils|il))? ?(?:ca |ils |il )?(?:capte|captent|passe|passent|"
        r"marche|marchent|fonctionne|fonctionnent|a du reseau|ont du reseau|ont la fibre|"
        r"a la fibre|n.?ont aucun souci|n.?a aucun souci|aucun souci|aucun probleme|"
        r"works|work fine|has signal|have signal)"
        r"(?!\s*(?:pas|plus|rien|jamais|mal|que dalle|nada|aucun|nul|une fois|tres mal|bof|"
        r"quand|moyen|a moitie|not|badly|poorly))",
    ),
}


def _compile(cues: Mapping[str, Sequence[str]], before: bool) -> dict[str, re.Pattern[str]]:
    joined = {role: "|".join(f"(?:{c})" for c in patterns) for role, patterns in cues.items()}
    if before:
        return {r: re.compile(rf"(?:^|\b|\W)(?:{p})\s*$") for r, p in joined.items()}
    return {r: re.compile(rf"^\s*(?:{p})") for r, p in joined.items()}


_BEFORE_RE = _compile(_BEFORE, before=True)
_AFTER_RE = _compile(_AFTER, before=False)
# A clause ends here: a cue before it does not reach a name after it.
_CLAUSE_END = re.compile(r"[.!?;\n]|\bmais\b|\bbut\b|\bpar contre\b|\bet (?:moi|la|maintenant)\b")
# « Je suis passé chez Free » (the move is done): the person is with Free now.
_MOVED_TO = re.compile(
    r"(?:suis|sommes|est|es|j.?ai|on a|avons) (?:\w+ )?(?:passe|passee|passes"
    r"|parti|partie|partis|alle|allee|migre|migree|bascule|change)\w* "
    r"(?:chez|vers|sur|a|pour)\s*$"
)
# « …alors que je suis chez Free depuis juin »: the one the person is with is not the
# one the sentence blames.
_CONTRAST = re.compile(
    r"(?:alors que|tandis que|pourtant|bien que|meme si|whereas|while|although"
    r"|even though)\s+(?:\w+\s+){0,4}(?:chez|avec|with|on)\s*$"
)
_CURRENT_BEFORE = re.compile(
    # (« j'ai résilié chez Orange » is the one left)
    r"(?:je suis|on est|nous sommes|j.?ai|i.?m|we.?re|i am)\s+"
    r"(?:(?!resili|quitt|lach|fui)\w+\s+){0,2}"
    r"(?:chez|avec|with|on)\s*$"
    r"|(?:souscrit|abonnee?|engagee?|signe|pris (?:un forfait |une box |la fibre |un abonnement )?)"
    r"\s+(?:\w+\s+)?chez\s*$"
    r"|(?:maintenant|desormais|aujourd.?hui|now)\s+(?:je suis |on est |c.?est )?(?:chez|avec)?\s*$"
)


# « c'est Bouygues le problème », « c'est SFR qui coupe », « la faute à Orange »: blamed
# in so many words, whatever else the message says of it.
_BLAME_BEFORE = re.compile(
    r"(?:c.?est|it.?s|la faute (?:a|de)|faute a|blame)\s+(?:bien\s+|donc\s+)?$"
)
_BLAME_AFTER = re.compile(
    r"^\s*(?:et\s+)?(?:c.est\s+(?:eux|lui|elle)\s+)?(?:le (?:probleme|souci|"
    r"responsable|fautif|coupable)|qui (?:coupe|bloque|refuse|preleve|"
    r"facture|ne|m.a|me)|qu.il (?:faut|convient d.?) ?(?:mettre|indiquer|noter"
    r"|inscrire)|the problem|to blame)"
)
# « SFR me réclame 180 € », « Orange, mon ancien opérateur, m'envoie une facture », « Free a
# annulé », « Bouygues est de loin le pire »: named as the one doing what the person
# complains of.
_DOES_WRONG = re.compile(
    r"^\s*(?:,[^,.]{0,40},\s*)?(?:(?:m.a|nous a|m.ont|nous ont)\s+(?:\w+\s+){0,2}?(?:facture|preleve|"
    r"reclame|debite|coupe|annule|raccroche|colle|attribue|resilie|bloque|refuse|envoye|perdu|"
    r"fait le coup|fait ce coup)|(?:me|nous)\s+(?:facture|preleve|reclame|debite|harcele|relance|"
    r"bloque|fait subir|envoie (?:une |des )?(?:\W?facture|relance)|reclament|prelevent|facturent)|m.envoie (?:une |des )?(?:\W?facture|relance)|"
    r"continue(?:nt)? (?:de|a) (?:me|nous)|refuse(?:nt)? (?:de|que)|(?:a|ont) (?:annule|coupe|perdu|"
    r"resilie|bloque)|(?:est|c.est) (?:de loin |vraiment |clairement )?(?:le|la) pire|"
    r"(?:charged|billed|keeps charging|refuses|cancelled|canceled|cut off|is the worst)"
    # « et DPD le déclare livré alors que j'étais là »
    r"|(?:le |la |l.|les |me |m.)?(?:a |ont )?(?:declare|declarent|indique|indiquent|marque|"
    r"marquent|affiche|mis|met|mettent)\w* (?:comme |en )?(?:livre|distribue|remis|delivered)"
    r"|(?:marked|shows|declared) (?:it |my parcel )?(?:as )?delivered)"
)
# A sentence that only praises (« tout s'est très bien passé côté RED », « Colissimo,
# Chronopost, même UPS trouvent la maison ») clears the operators it names…
_PRAISE = re.compile(
    r"\b(?:jamais (?:eu )?(?:de |un |le moindre )?(?:souci|probleme|pb)|aucun (?:souci|probleme|pb)"
    r"|(?:tout|ca|ils?|elles?) (?:s.?est |se sont )?(?:tres |super |parfaitement )?bien passee?s?"
    r"|(?:tout |ca )?(?:arrive|arrivent|marche|marchent|fonctionne|fonctionnent|capte|captent"
    r"|passe|passent) (?:tres |super |toujours |parfaitement )?bien|trouvent (?:la|ma|notre) "
    r"(?:maison|adresse)|nickel|impeccable|rien a dire|never had (?:a|any) (?:problem|issue)"
    r"|works? (?:fine|perfectly|great)|(?:a ete|est|etait|sont|ont ete) (?:tres |super |plutot |"
    r"vraiment )?(?:correct|corrects|nickel|top|parfait|impeccable|reglo)|ca va\b"
    r"|(?:est|sont|a ete|ont ete) bien (?:arrivee?s?|livree?s?|recue?s?)"
    r"|(?:marche|marchent|fonctionne|fonctionnent|capte|captent) (?:impeccablement|parfaitement"
    r"|nickel|sans souci|sans probleme|a merveille))\b"
)
# …unless it also complains.
_COMPLAINT = re.compile(
    r"\b(?:ne|n|pas|plus|rien|aucune?|zero|coupe\w*|panne|perd\w*|bloque\w*|"
    r"preleve\w*|factur\w*|rame\w*|lent\w*|nul\w*|galer\w*|catastroph\w*|"
    r"horrible|honte|not|no|never|nothing|lost|cut|slow|down)\b"
)
# Sentences, and the parts of one that turn to another subject (« …captent nickel, moi
# avec Bouygues rien »).
_TURN = (
    r"\b(?:moi|mais|par contre|alors que|tandis que|la mienne|le mien|les miens|but|"
    r"whereas|mine)\b"
)
_SENTENCE = re.compile(rf"(?:{_TURN})?(?:(?!{_TURN})[^.!?;\n])+(?:[.!?;\n]+|$|(?={_TURN}))")


# « Ce qui m'énerve vraiment, c'est Orange », « le vrai problème c'est SFR »: the complaint
# said outright, above whatever else is blamed along the way.
_MAIN_BEFORE = re.compile(
    r"(?:ce qui m.enerve|ce qui me gene|ce qui ne va pas|le (?:vrai |seul |gros |principal )?"
    r"(?:probleme|souci)|mon (?:vrai |seul )?(?:probleme|souci)|the (?:real |main )?problem)"
    r"(?:\s+\w+){0,2}\W+(?:c.?est|est|is|reste)\s+$"
)
_CALLED = re.compile(
    r"(?:appels?|appele|appelee|contacte|contactee|ecrit|mails?)\W+(?:\w+\W+){0,2}"
    r"(?:c.etait |c.est |etaient )?(?:a|au|chez)\s*$"
)
_LEFT_FOR = re.compile(
    r"(?:^|\W)(?:je |j.?ai |on |nous )?(?:quitte|quitter|quittant|lache|resilie|"
    r"swapped|switched|traded|left)\s*$"
)
_FOR = re.compile(r"^\s*(?:pour|for|contre)\b")
_LIST_GAP = re.compile(r"\s*(?:,|et|ou|ni|&|and|or|/)\s*(?:chez\s+)?")


@dataclass(frozen=True)
class NamedOperator:
    """An operator named in a message, with its relation to the complaint."""

    match: Match
    role: str
    by: str  # "blame", "praise", "cue", "model" or "default"

    @property
    def value(self) -> str:
        return self.match.value


def _cue(folded: str, m: Match, several: bool) -> str | None:
    before = folded[max(0, m.start - _WINDOW) : m.start]
    end = None
    for end in _CLAUSE_END.finditer(before):
        pass
    if end is not None:
        before = before[end.end() :]
    after = folded[m.end : m.end + _WINDOW]
    if _CONTRAST.search(before):
        return OTHER
    if _MOVED_TO.search(before) or _CURRENT_BEFORE.search(before):
        # « je suis passé chez Free », « maintenant je suis chez Free »: unless the words
        # after say otherwise (« j'étais chez Free avant »), this one is the current one.
        # « je signe chez Bouygues la semaine prochaine »: the one to come.
        for role in (FORMER, NEW):
            if _AFTER_RE[role].match(after):
                return role
        return CURRENT
    for role in (FORMER, NEW, OTHER):
        if _BEFORE_RE[role].search(before):
            return role
    # « les appels, c'était à Free » beside another operator: the one called, not the
    # one complained of.
    if several and _CALLED.search(before):
        return OTHER
    # « Orange capte » says something only beside another operator (« SFR rien, Orange
    # capte »); alone it is a sarcasm or the start of a complaint.
    for role in (FORMER, NEW, OTHER) if several else (FORMER, NEW):
        if _AFTER_RE[role].match(after):
            return role
    return None


def _model_role(
    m: Match, spans: Sequence[Mapping[str, Any]], threshold: float = ROLE_THRESHOLD
) -> str | None:
    for span in spans:
        if span.get("entity") != "operator" or not span.get("role"):
            continue
        if span["end"] <= m.start or span["start"] >= m.end:
            continue
        if float(span.get("confidence_role") or 0.0) >= threshold and span["role"] in ROLES:
            return str(span["role"])
    return None


def assign_roles(
    text: str, matches: Sequence[Match], spans: Sequence[Mapping[str, Any]]
) -> list[NamedOperator]:
    """Each operator named in `text` with its role: an explicit cue first, then the
    model's role, else current. A name said twice keeps its first role that is current
    (« SFR… j'ai quitté SFR » is still about SFR if one mention is the complaint)."""
    if len(matches) == 0:
        return []
    folded = fold(text)
    several = len({x.value for x in matches}) > 1
    praised = _praised_sentences(folded) if several else []
    named = []
    for m in matches:
        after = folded[m.end : m.end + 60]
        if _MAIN_BEFORE.search(folded[max(0, m.start - 50) : m.start]):
            named.append(NamedOperator(m, CURRENT, "main"))
            continue
        if (
            _BLAME_BEFORE.search(folded[max(0, m.start - 20) : m.start])
            and _BLAME_AFTER.match(after)
        ) or (several and _DOES_WRONG.match(after)):
            named.append(NamedOperator(m, CURRENT, "blame"))
            continue
        if _LEFT_FOR.search(folded[max(0, m.start - 30) : m.start]) and _FOR.match(after):
            named.append(NamedOperator(m, FORMER, "cue"))  # « je quitte Orange pour RED »
            continue
        if (
            named
            and named[-1].by in ("cue", "praise")
            and named[-1].role != CURRENT
            and _LIST_GAP.fullmatch(folded[named[-1].match.end : m.start])
        ):
            # « alors que SFR et Bouygues la proposent »: a list shares its role.
            named.append(NamedOperator(m, named[-1].role, "cue"))
            continue
        if any(start <= m.start < end for start, end in praised):
            named.append(NamedOperator(m, OTHER, "praise"))
            continue
        cue = _cue(folded, m, several)
        if cue is not None:
            named.append(NamedOperator(m, cue, "cue"))
            continue
        # The only operator named is the one complained of, unless the model is quite
        # sure (« le technicien Bouygues n'est jamais venu » is no other's technician).
        model = _model_role(m, spans, ROLE_THRESHOLD if several else LONE_ROLE_THRESHOLD)
        named.append(NamedOperator(m, model or CURRENT, "model" if model else "default"))
    return named


def _praised_sentences(folded: str) -> list[tuple[int, int]]:
    """Where the sentences that praise and do not complain are."""
    return [
        (m.start(), m.end())
        for m in _SENTENCE.finditer(folded)
        if _PRAISE.search(m.group(0)) and not _COMPLAINT.search(_PRAISE.sub(" ", m.group(0)))
    ]


# Complaints about the relation itself, which the operator left can be at fault for.
_RELATION = frozenset({"billing", "contract", "customer_service", "number_portability"})


def at_fault(named: Sequence[NamedOperator], category: str | None) -> NamedOperator | None:
    """The operator complained about: the first current one. With none, the one left is
    at fault when the complaint is about the relation itself (billed or held after
    leaving, a number not released); otherwise nobody (the dialogue asks)."""
    if not named:
        return None
    # The one left, blamed for a last bill, is not the one at fault for a fibre line the new
    # one never connects (« j'ai résilié chez Orange pour prendre la fibre chez Free…
    # Orange m'a envoyé une dernière facture, mais c'est un autre sujet »).
    relation = category in _RELATION
    left = {n.value for n in named if n.role == FORMER}
    blamed = [n for n in named if n.by == "main"] or [
        n for n in named if n.by == "blame" and (relation or n.value not in left)
    ]
    if blamed:
        return blamed[0]
    # An operator named twice, once as the complaint: the complaint wins, unless another
    # sentence praises it (« je suis partie chez RED… tout s'est bien passé côté RED »).
    praised = {n.value for n in named if n.by == "praise"}
    current = [n for n in named if n.role == CURRENT]
    if not relation:  # the one left comes last, even where it is also named as current
        current.sort(key=lambda n: n.value in left)
    for n in current:
        if n.value not in praised:
            return n
    if current:
        return current[0]
    if relation:
        former = [n for n in named if n.role == FORMER]
        if len({n.value for n in former}) == 1:
            return former[0]
    return None


def set_aside(text: str, named: Sequence[NamedOperator], at_fault: str | None = None) -> str:
    """`text` with the clauses about operators not at fault blanked (same length): « j'ai
    gardé mon mobile chez Sosh » says nothing about the sector of the complaint, nor « ma
    box internet est chez Free » when Bouygues is the one at fault."""
    folded = fold(text)
    chars = list(text)
    for n in named:
        if n.value == at_fault or (n.role == CURRENT and at_fault is None):
            continue  # what is said of the one at fault counts, whatever its role here
        start = max(0, n.match.start - _WINDOW)
        for clause in _CLAUSE_END.finditer(folded, start, n.match.start):
            start = clause.end()
        # …up to the end of its clause: « j'étais chez SFR avec l'ADSL, » is all aside.
        stop = _CLAUSE_OR_COMMA.search(folded, n.match.end)
        while stop and _RELATIVE.match(folded, stop.end()):
            # « chez Orange, où j'étais depuis 15 ans avec l'ADSL, »: the clause about it
            stop = _CLAUSE_OR_COMMA.search(folded, stop.end())
        end = stop.start() if stop else len(text)
        # …but not over the next operator named (« passé de SFR à Free Mobile »).
        end = min([end, *(o.match.start for o in named if o.match.start >= n.match.end)])
        for i in range(start, end):
            chars[i] = " "
    return "".join(chars)


_RELATIVE = re.compile(r"\s*(?:ou|qui|que|qu.|chez qui|avec qui|dont|where|who|which)\b")
_CLAUSE_OR_COMMA = re.compile(r"[,.!?;:\n()]|\bmais\b|\bbut\b|\bet (?:moi|la|depuis)\b")


def previous_operator(named: Sequence[NamedOperator], operator: str | None) -> str | None:
    """For a move between operators: the one left, when it is not the one at fault."""
    for n in named:
        if n.role == FORMER and n.value != operator:
            return n.value
    return None
