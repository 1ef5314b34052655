"""What a person said about themselves, as short facts: the offline memory extractor.

A pure function from one message to facts (kind, topic, text, importance), so the embedded
default remembers without a language model. It prefers missing a fact to inventing one: each
pattern needs a first-person statement ("my name is", "I live in", "I'm allergic to"), a
question is never a fact, and "I'm X" is a name only for a capitalised word that is not a
state, feeling or nationality ("I'm tired" is no name). The ``topic`` is what makes a later
fact replace an earlier one: "I love tea" and "I don't like tea anymore" share ``likes:tea``.
tests/memory/test_extractor.py measures precision and recall on everyday sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExtractedFact:
    kind: str  # name, like, dislike, allergy, family, work, place, date, plan, age
    topic: str  # normalised subject; the same topic updates the same memory
    text: str  # third person, about the speaker: "Ada is allergic to peanuts"
    importance: float


MAX_TEXT = 500
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]?")
_NAME = r"([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?: [A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)?)"
_I_AM = r"(?:i'm|i’m|i am|im)"
# Capitalised words after "I'm" that are not names.
_NOT_NAMES = frozenset(
    """ok okay fine good great well sorry sure glad happy sad tired sick busy back here home
    ready done hungry thirsty bored excited scared afraid worried nervous angry upset lonely
    alone new old so not just really very also still always never only actually feeling going
    trying looking thinking working living from in at on a an the too sleepy exhausted stressed
    english american british french german spanish italian portuguese brazilian dutch irish
    scottish welsh canadian australian indian chinese japanese korean mexican polish russian
    swedish norwegian danish finnish greek turkish vegan vegetarian christian muslim jewish
    catholic single married divorced pregnant retired unemployed late early hi hello hey yes no
    god lucky sorry confused curious afraid""".split()
)
_FAMILY = (
    "sister|brother|mother|mom|mum|father|dad|wife|husband|son|daughter|partner|girlfriend|"
    "boyfriend|fiance|fiancee|grandma|grandmother|grandpa|grandfather|aunt|uncle|cousin|niece|"
    "nephew|best friend|friend|dog|cat|puppy|kitten|parrot|rabbit|hamster|horse|baby|kid|child"
)
_PETS = frozenset({"dog", "cat", "puppy", "kitten", "parrot", "rabbit", "hamster", "horse"})
_JOBS = frozenset(
    """nurse doctor teacher student engineer developer programmer designer lawyer chef cook
    waiter waitress driver pilot artist writer musician singer actor actress accountant
    architect baker barista carpenter cashier cleaner dentist electrician farmer firefighter
    journalist librarian mechanic painter pharmacist photographer physician plumber
    police officer professor psychologist researcher scientist secretary soldier surgeon
    translator veterinarian vet manager consultant analyst economist entrepreneur freelancer
    therapist paramedic midwife caregiver tutor coach dancer editor banker salesman
    saleswoman receptionist gardener butcher tailor""".split()
)
_PRONOUN_OBJECTS = frozenset(
    "it that this them you him her those these everything anything something one".split()
)
_LIKE_FILLER_END = re.compile(
    r"\s*\b(?:anymore|any more|very much|so much|a lot|too|at all|lately|now|either|"
    r"though|really|honestly|a bit|much|these days|nowadays|for \w+ (?:years|months|weeks))\s*$"
)
_ARTICLES = re.compile(r"^(?:the|a|an|some|my|your)\s+")
_TIME_HINT = re.compile(
    r"\b(?:tomorrow|tonight|next|this (?:weekend|week|month|year|summer|winter|spring|fall|"
    r"autumn|evening|afternoon|morning|friday|saturday|sunday|monday|tuesday|wednesday|"
    r"thursday)|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|in (?:january|"
    r"february|march|april|may|june|july|august|september|october|november|december|a few days|"
    r"two weeks|a week|a month)|soon|later this|over the weekend|at the weekend)\b"
)
_PLAN_NOT = re.compile(
    r"^(?:tell|say|ask|be|try|need|have to|sleep|bed|go to bed|think|check|do that|do it|"
    r"explain|answer|leave now|stop|pretend|show)\b"
)
_FIRST_TO_THIRD = (
    (re.compile(r"\bmy\b", re.I), "their"),
    (re.compile(r"\bmine\b", re.I), "theirs"),
    (re.compile(r"\bmyself\b", re.I), "themselves"),
    (re.compile(r"\bme\b", re.I), "them"),
    (re.compile(r"\b(?:i'm|i am)\b", re.I), "they're"),
    (re.compile(r"\bi\b", re.I), "they"),
)


def extract(message: str, speaker: str = "The person") -> list[ExtractedFact]:
    """Facts ``speaker`` told about themselves in ``message``, one per topic, in order."""
    found: dict[str, ExtractedFact] = {}
    for sentence in _SENTENCE.findall(message):
        clause = sentence.strip()
        if not clause or clause.endswith("?"):
            continue
        for rule in _RULES:
            for fact in rule(clause, speaker):
                found[fact.topic] = fact
    return list(found.values())


def _fact(kind: str, topic: str, text: str, importance: float) -> ExtractedFact:
    return ExtractedFact(kind, topic[:160], _sentence_case(text)[:MAX_TEXT], importance)


def _sentence_case(text: str) -> str:
    text = " ".join(text.split()).rstrip(" ,")
    return text[:1].upper() + text[1:] if text else text


def _third_person(phrase: str) -> str:
    for pattern, replacement in _FIRST_TO_THIRD:
        phrase = pattern.sub(replacement, phrase)
    return phrase


def _clean_object(phrase: str) -> str:
    # "peanuts and I live in Lisbon": a new clause starts at "and I", "but", a comma...
    phrase = re.split(
        r"\s*(?:,|\bbut\b|\bbecause\b|\bthough\b|\bsince\b|\bwhen\b|\bso\b|"
        r"\band (?=(?:i|i'm|im|my|we|it|that|you)\b))\s*",
        phrase,
        flags=re.I,
    )[0]
    phrase = phrase.strip(" .!;:'\"")
    previous = None
    while previous != phrase:
        previous = phrase
        phrase = _LIKE_FILLER_END.sub("", phrase).strip()
    return phrase


def _key(phrase: str) -> str:
    words = re.findall(r"[^\W_]+", _ARTICLES.sub("", phrase.lower()))
    return " ".join(words[:4])


def _names(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    m = re.search(r"\b(?:my name is|my name's|call me|you can call me)\s+(\w[\w'-]*)", clause, re.I)
    if m and m.group(1).lower() not in _NOT_NAMES:
        name = m.group(1)[:1].upper() + m.group(1)[1:]
        yield _fact("name", "name", f"{speaker}'s name is {name}", 0.9)
        return
    m = re.search(
        rf"(?:^|\b(?:hi|hello|hey|actually|well|oh|ok|okay)[, ]+){_I_AM}\s+{_NAME}"
        r"(?=\s*(?:[,.!]|$|and\b))",
        clause,
        re.I,
    )
    if m and m.group(1)[0].isupper() and m.group(1).split()[0].lower() not in _NOT_NAMES:
        yield _fact("name", "name", f"{speaker}'s name is {m.group(1)}", 0.9)


def _likes(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    negative = re.search(
        r"\bi (?:really |just |absolutely )?(?:don't|do not|dont|no longer|can't|cannot|can not)"
        r" (?:really |particularly )?(?:like|love|enjoy|stand|bear)\s+(.+)",
        clause,
        re.I,
    ) or re.search(
        r"\bi (?:really |absolutely |just )?(?:hate|dislike|detest|loathe)s?\s+(.+)", clause, re.I
    )
    positive = re.search(
        r"\bi (?:really |absolutely |just |also |still |do )?(?:love|like|adore|enjoy)\s+(.+)",
        clause,
        re.I,
    )
    positive = positive or re.search(
        rf"\b{_I_AM} (?:really |so |totally )?(?:into|a (?:big |huge )?fan of|obsessed with|"
        r"crazy about|passionate about)\s+(.+)",
        clause,
        re.I,
    )
    favourite = re.search(r"\bmy favou?rite (\w+(?: \w+)?) is\s+(.+)", clause, re.I)
    if favourite:
        what, value = favourite.group(1).lower(), _clean_object(favourite.group(2))
        if value and value.lower() not in _PRONOUN_OBJECTS:
            yield _fact(
                "like",
                f"favourite:{_key(what)}",
                f"{speaker}'s favourite {what} is {_third_person(value)}",
                0.6,
            )
        return
    match, kind = (negative, "dislike") if negative else (positive, "like")
    if match is None:
        return
    thing = _clean_object(match.group(1))
    first = thing.split(" ", 1)[0].lower() if thing else ""
    if not thing or first in _PRONOUN_OBJECTS or first in {"how", "what", "when", "the way"}:
        return
    if first == "to" and re.match(r"to (?:think|say|know|believe|hear|see|talk)\b", thing, re.I):
        return
    key = _key(re.sub(r"^to\s+", "", thing))
    if not key:
        return
    verb = "doesn't like" if kind == "dislike" else "likes"
    yield _fact(kind, f"likes:{key}", f"{speaker} {verb} {_third_person(thing)}", 0.5)


def _allergies(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    diet = re.search(
        rf"\b{_I_AM} (?:a |now )?(vegetarian|vegan|pescatarian|coeliac|celiac)\b", clause, re.I
    )
    if diet and not re.search(rf"\b{_I_AM} not\b", clause, re.I):
        yield _fact("diet", "diet", f"{speaker} is {diet.group(1).lower()}", 0.8)
    intolerant = re.search(rf"\b{_I_AM} (\w+) intolerant\b", clause, re.I) or re.search(
        r"\bi have (?:an? )?(\w+) intolerance\b", clause, re.I
    )
    if intolerant and intolerant.group(1).lower() not in {"not", "so", "very", "a"}:
        what = intolerant.group(1).lower()
        yield _fact("allergy", f"allergy:{what}", f"{speaker} is {what} intolerant", 0.9)
    m = re.search(rf"\b{_I_AM} (?:\w+ )?allergic to\s+(.+)", clause, re.I) or re.search(
        r"\bi have an? ([\w -]+?) allergy\b", clause, re.I
    )
    if m:
        thing = _clean_object(m.group(1))
        if thing and not re.search(rf"\b{_I_AM} not\b", clause, re.I):
            yield _fact(
                "allergy",
                f"allergy:{_key(thing)}",
                f"{speaker} is allergic to {_third_person(thing)}",
                0.9,
            )


def _family(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    pattern = (
        rf"\bmy ((?:little |big |older |younger |baby )?(?:{_FAMILY}))"
        rf"(?:'s name is|,| is called| is named| named| called)?\s+{_NAME}\b"
    )
    for m in re.finditer(pattern, clause, re.I):
        relation, name = m.group(1).lower(), m.group(2)
        first = name.split()[0]
        if not first[0].isupper() or first.lower() in _NOT_NAMES | {"is", "and", "has", "was"}:
            continue
        name = first  # "my sister Ana Lives..." keeps the first name only
        kind = "pet" if relation.split()[-1] in _PETS else "family"
        yield _fact(
            kind,
            f"family:{relation.split()[-1]}:{name.lower()}",
            f"{speaker}'s {relation} is called {name}",
            0.7,
        )


def _work(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    m = re.search(r"\bi work (?:as (?:an? )?|at |for |in )(.+)", clause, re.I)
    if m:
        what = _clean_object(m.group(1))
        prep = re.search(r"\bi work (as|at|for|in)\b", clause, re.I)
        if what and prep:
            preposition = prep.group(1).lower()
            article = "" if preposition != "as" else ("an " if what[0].lower() in "aeiou" else "a ")
            yield _fact(
                "work",
                f"work:{preposition}",
                f"{speaker} works {preposition} {article}{_third_person(what)}",
                0.7,
            )
        return
    m = re.search(rf"\b{_I_AM} an? ((?:\w+ )?(\w+))\b", clause, re.I)
    if m and m.group(2).lower() in _JOBS and not re.search(r"\b(?:like|as if)\b", clause, re.I):
        job = m.group(1)
        article = "an" if job[0].lower() in "aeiou" else "a"
        yield _fact("work", "work:as", f"{speaker} is {article} {job}", 0.7)
    m = re.search(r"\bi teach (.+)", clause, re.I)
    if m and (what := _clean_object(m.group(1))):
        yield _fact("work", "work:as", f"{speaker} teaches {_third_person(what)}", 0.7)
    m = re.search(r"\bi (?:study|am studying|'m studying) (.+)", clause, re.I)
    if m and (what := _clean_object(m.group(1))):
        yield _fact("work", "work:study", f"{speaker} studies {_third_person(what)}", 0.6)


def _places(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    m = re.search(
        r"\bi(?:'ve| have)? (?:live|lived|been living|grew up|moved|just moved|have moved)"
        r"( in| to)\s+(.+)",
        clause,
        re.I,
    )
    if m:
        place = _clean_object(m.group(2))
        if place and place.split()[0].lower() not in _PRONOUN_OBJECTS | {"fear", "hope"}:
            grew = "grew up" in m.group(0).lower()
            topic, verb = ("place:origin", "grew up in") if grew else ("place:home", "lives in")
            yield _fact("place", topic, f"{speaker} {verb} {_third_person(place)}", 0.6)
        return
    m = re.search(rf"\b(?:{_I_AM}|i come) (?:originally )?from\s+(.+)", clause, re.I)
    if m:
        place = _clean_object(m.group(1))
        if place and place[0].isupper():
            yield _fact("place", "place:origin", f"{speaker} is from {place}", 0.6)


def _dates(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    m = re.search(r"\bmy (birthday|anniversary|name day)(?: is|'s)\s+(?:on\s+)?(.+)", clause, re.I)
    if m and (when := _clean_object(m.group(2))):
        what = m.group(1).lower()
        yield _fact("date", f"date:{what}", f"{speaker}'s {what} is {_third_person(when)}", 0.7)
    m = re.search(r"\bi was born (?:on|in)\s+(.+)", clause, re.I)
    if m and (when := _clean_object(m.group(1))):
        yield _fact(
            "date",
            "date:born",
            f"{speaker} was born in {when}"
            if not re.match(r"\d{1,2}\b|\w+ \d", when)
            else f"{speaker} was born on {when}",
            0.7,
        )
    m = re.search(
        rf"\b{_I_AM} (\d{{1,3}})(?: years old| year old|\b(?!\s*(?:%|minutes|km)))", clause, re.I
    )
    m = m or re.search(r"\bi (?:just )?turned (\d{1,3})\b", clause, re.I)
    if m and 3 <= int(m.group(1)) <= 120:
        yield _fact("age", "age", f"{speaker} is {m.group(1)} years old", 0.6)


def _plans(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    m = re.search(
        rf"\b(?:{_I_AM} (?:going to|gonna|planning to|flying to|travelling to|traveling to|"
        r"moving to|starting|visiting|getting married)|i plan to|i will|i'll|i have (?:an?|my) )"
        r"\s*(.*)",
        clause,
        re.I,
    )
    if m is None:
        m = re.search(
            r"\bi (?:start|begin|fly|leave|move|travel|visit|meet|see|get married|graduate)\b"
            r"\s*(.*)",
            clause,
            re.I,
        )
    if m is None:
        yield from _family_plans(clause, speaker)
        return
    rest = _clean_object(m.group(1)) if m.group(1) else ""
    lead = m.group(0)[: m.start(1) - m.start(0)].strip()
    if rest and _PLAN_NOT.match(rest.lower()):
        return
    timed = _TIME_HINT.search(clause.lower())
    to_place = re.match(
        r"(?:going to|flying to|travelling to|traveling to|moving to) [A-Z]",
        re.sub(rf"^{_I_AM}\s+", "", lead + " " + rest, flags=re.I),
    )
    if not (timed or to_place):
        return
    whole = _third_person(clause.strip(" .!;"))
    whole = re.sub(r"^they're\b", f"{speaker} is", whole, flags=re.I)
    whole = re.sub(r"^they\b", speaker, whole, flags=re.I)
    key = _key(rest)[:60] or _key(whole)
    yield _fact("plan", f"plan:{key}", whole, 0.5)


def _family_plans(clause: str, speaker: str) -> Iterator[ExtractedFact]:
    """ "My sister Ana is visiting this weekend": someone close doing something, with a time."""
    m = re.match(
        rf"my ((?:little |big |older |younger )?(?:{_FAMILY}))(?: [A-Z][a-z]+)? (?:is|are|'s) "
        r"(\w+ing\b.*)",
        clause.strip(),
        re.I,
    )
    if m is None or not _TIME_HINT.search(clause.lower()):
        return
    whole = re.sub(r"^my\b", f"{speaker}'s", clause.strip(" .!;"), flags=re.I)
    yield _fact("plan", f"plan:{_key(m.group(1) + ' ' + m.group(2))[:60]}", whole, 0.5)


_RULES: tuple[Callable[[str, str], Iterator[ExtractedFact]], ...] = (
    _names,
    _likes,
    _allergies,
    _family,
    _work,
    _places,
    _dates,
    _plans,
)
