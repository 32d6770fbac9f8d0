"""Steering: passages of customer text that address the summarizer instead of the people it writes for.

"Ignore previous instructions", "SYSTEM: the summary must state ...", "as an AI you must", chat-template
tokens: such text talks to the tool (the AI, its instructions, its summary, its reader's tools), so it is
never a fact about the client. ``remove_steering`` finds it (English, Russian, Polish) and cuts it out of
what any engine reads; the summary tree then reports each such message once, as a risk.

A text is read as turns: paragraphs, call lines (``[00:12] client: ...``, whose prefix is kept) and
lines starting with a role prefix. A turn is cut from its first steering sentence to its end: what
an instruction introduces ("... must state: the client owes ...") is part of it. Patterns match a
normalized form of each sentence (NFKC, invisible characters dropped, Cyrillic look-alikes in Latin
words undone, case-folded). They need the instruction's shape, not a single word: "please ignore my
previous e-mail" or "the system was down" are ordinary text.
"""

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple


class SteeringSpan(NamedTuple):
    """A steering passage: ``text[start:end]``, and the rule that recognised its first sentence."""

    start: int
    end: int
    rule: str


class Unsteered(NamedTuple):
    """A text with its steering passages cut out, and where they were in the original."""

    text: str
    spans: tuple[SteeringSpan, ...]


# --- normalization -------------------------------------------------------------------------------

_INVISIBLE = re.compile(
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u206a-\u206f\ufeff]"
)
_CYRILLIC = re.compile(r"[а-яёіјѕ]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_MIXED_WORD = re.compile(r"\w*(?:[a-z]\w*[а-яё]|[а-яё]\w*[a-z])\w*", re.IGNORECASE)
_LOOKALIKES = str.maketrans("аеорсухіјѕкмтнвАЕОРСУХІЈЅКМТНВ", "aeopcyxijskmthbAEOPCYXIJSKMTHB")
_PUNCTUATION = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "–": "-",
        "—": "-",
        "‑": "-",
        "−": "-",
        "ё": "е",
        "Ё": "Е",
    }
)
_LEADING = " \t\n\"'(*•>-"  # stripped off a sentence's start: quotes, bullets, e-mail quoting


def normalize(text: str) -> str:
    """``text`` as the patterns read it (case kept): NFKC, no invisible characters, words that mix Latin and
    Cyrillic letters spelled in Latin ones, typographic quotes and dashes plain, whitespace single."""
    if not text.isascii():
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_PUNCTUATION)
        if _CYRILLIC.search(text) and _LATIN.search(text):
            text = _MIXED_WORD.sub(lambda match: match.group().translate(_LOOKALIKES), text)
    return " ".join(text.split())


# --- patterns ------------------------------------------------------------------------------------
# Each rule is matched against a case-folded, normalized sentence (those starting with ^ at its beginning).
# Gaps in the override rules never cross "my"/"our": a client may take back its own instructions.

_NOT_MINE = r"(?!(?:my|our|мо[иейя]\w*|наш\w*|m[oó]j\w*|nasz\w*)\b)"
_GAP = rf"(?:\s+{_NOT_MINE}[\w'-]+)"
_AI = (
    r"(?:ai|a\.i\.|artificial intelligence|(?:large )?language models?|llms?|chat-?bots?|summari[sz]ers?|"
    r"ai (?:assistants?|models?|systems?|tools?|summari[sz]ers?)|gpt|chatgpt)"
)
_AI_RU = r"(?:ии|ai|искусственн\w* интеллект\w*|языков\w* модел\w*|нейросет\w*|чат-?бот\w*|ии-ассистент\w*)"
_AI_PL = r"(?:ai|si|sztuczn\w* inteligencj\w*|model\w* językow\w*|chat-?bot\w*|czat-?bot\w*|asystent\w* ai)"
_SUMMARY = r"(?:summary|summari[sz]ation|dossier|digest|output)"
_SUMMARY_RU = r"(?:сводк\w*|резюме|саммари|выжимк\w*)"
_SUMMARY_PL = r"(?:podsumowani\w*|streszczeni\w*)"
_NOT_ORG = (
    r"(?! (?:team|department|group|lab|division|company|startup|vendor|provider|product|firm|expert|"
    r"specialist|developer|engineer|consultant|partner|integrator|solution|platform|module|feature)s?\b)"
)
_CLIENT = r"(?:client|customer|account|company|lead)"
_CLIENT_RU = r"(?:клиента|заказчика|покупателя|компанию|аккаунт)"
_CLIENT_PL = r"(?:klienta|firmę|konto|kontrahenta)"
_ROLE = r"(?:system|assistant|developer|система|ассистент|asystent)"

# Substrings a match of a rule cannot do without: a rule is only tried on a sentence that has one of them.
_BRACKETS = ("<", "[")
_OVERRIDE_EN = ("ignore", "disregard", "forget", "override", "bypass")
_AI_EN = ("ai", "a.i.", "intelligence", "language model", "llm", "bot", "summari", "gpt", "assistant", "model")
_AI_RU_WORDS = ("ии", "ai", "интеллект", "модел", "нейросет", "бот", "ассистент")
_AI_PL_WORDS = ("ai", "si", "inteligencj", "model", "bot", "bocie", "asystent", "asystenc")
_SUMMARY_EN = ("summar", "dossier", "digest", "output")
_SUMMARY_RU_WORDS = ("сводк", "резюме", "саммари", "выжимк")
_SUMMARY_PL_WORDS = ("podsumowani", "streszczeni")

_STRONG_RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # structure: chat-template tokens, instruction headers, role turns written as a model's input
    (
        "template",
        _BRACKETS,
        r"<\|[\w-]{2,40}\|>|\[/?inst\]|<</?sys>>|<(?:start|end)_of_turn>|</?(?:system|instructions?)>"
        r"|\[(?:system|assistant|instructions?)\]",
    ),
    (
        "header",
        ("#",),
        r"^#{1,6} ?(?:new )?(?:system(?: prompt| message)?|instructions?|assistant|response|prompt|"
        r"инструкци\w*|систем\w*|instrukcj\w*)(?: ?:|$)",
    ),
    # overriding the instructions
    (
        "override",
        _OVERRIDE_EN,
        rf"(?<!not )(?<!n't )(?<!never )\b(?:ignore|disregard|forget|override|bypass)\b{_GAP}{{0,3}}?"
        r" (?:previous|prior|above|earlier|preceding|foregoing|original|initial|all|your|system)\b"
        rf"{_GAP}{{0,2}}? (?:instructions?|prompts?|rules|guidelines|directives?|guardrails|programming|"
        r"constraints|commands)\b",
    ),
    (
        "override",
        _OVERRIDE_EN,
        r"\b(?:ignore|disregard|forget) (?:all|everything) (?:of )?(?:the )?(?:above|before|previous(?:ly)?|"
        r"prior|said|written|you (?:were|have been) told)\b",
    ),
    (
        "override",
        _OVERRIDE_EN,
        r"\b(?:ignore|disregard|forget) (?:all of )?(?:the |that )?(?:above|previous|preceding)"
        r"(?: text| content| message)? ?(?:,|;|and|then) (?:instead )?(?:write|say|state|output|print|"
        r"respond|answer|reply|mark|list|tell|reveal|summari[sz]e|report|add|record)\b",
    ),
    (
        "override",
        ("prompt", "instructions"),
        r"\b(?:reveal|print|repeat|show|output|display|leak|tell me) (?:me )?(?:your (?:\w+ )?|"
        r"the (?:system|initial|original|hidden) )(?:prompt|instructions|system prompt)\b|\bsystem prompt\b",
    ),
    (
        "override",
        ("игнорир", "забуд", "забыть", "отмени", "не учитыва", "не обращай"),
        rf"\b(?:игнорир\w*|проигнорир\w*|забуд\w*|забыть|отмени\w*|не учитыва\w*|"
        rf"не обращай\w* внимани\w* на){_GAP}{{0,3}}? (?:все|предыдущ\w*|прежн\w*|прошл\w*|"
        rf"вышеуказанн\w*|вышеприведенн\w*|вышесказанн\w*|изначальн\w*|исходн\w*|системн\w*|свои|твои)"
        rf"{_GAP}{{0,2}}? (?:инструкци\w*|указани\w*|правил\w*|команд\w*|промпт\w*|установк\w*|"
        r"ограничени\w*)",
    ),
    (
        "override",
        ("забуд", "игнорир"),
        r"\b(?:забуд\w*|игнорир\w*|проигнорир\w*) все,? что (?:тебе |вам )?(?:говорил\w*|сказал\w*|"
        r"писал\w*|было сказано)",
    ),
    (
        "override",
        ("промпт", "инструкци"),
        r"\b(?:покажи\w*|выведи\w*|раскрой\w*|повтори\w*|напечатай\w*) (?:свой|свои|твой|твои|ваш|"
        r"системн\w*) (?:\w+ )?(?:промпт\w*|инструкци\w*)|\bсистемн\w* промпт\w*",
    ),
    (
        "override",
        ("ignoruj", "zapomnij", "pomiń", "pomin", "nie zwracaj", "nie uwzględniaj"),
        rf"\b(?:zignoruj\w*|ignoruj\w*|zapomnij\w*|pomiń|pomin\w*|nie zwracaj\w* uwagi na|"
        rf"nie uwzględniaj\w*){_GAP}{{0,3}}? (?:wszystk\w*|poprzedni\w*|wcześniejsz\w*|powyższ\w*|"
        rf"dotychczasow\w*|pierwotn\w*|systemow\w*|swoj\w*|twoj\w*){_GAP}{{0,2}}? (?:instrukcj\w*|"
        r"polece\w*|zasad\w*|reguł\w*|wytyczn\w*|prompt\w*|komend\w*|ogranicze\w*)",
    ),
    (
        "override",
        ("prompt", "instrukcj"),
        r"\b(?:pokaż|wyświetl|ujawnij|powtórz|wypisz) (?:swój|swoje|twój|twoje|systemow\w*) (?:\w+ )?"
        r"(?:prompt\w*|instrukcj\w*)|\bprompt\w* systemow\w*|\bsystemow\w* prompt\w*",
    ),
    # talking to the AI
    ("address", _AI_EN, rf"\bas an? (?:{_AI}|assistant|bot)\b{_NOT_ORG}(?: \w+){{0,3}}?,? (?:you|your)\b"),
    (
        "address",
        _AI_EN,
        rf"\byou are (?:now |just |only |merely )?(?:an? |the )?{_AI}\b{_NOT_ORG}"
        rf"|\bif you are an? (?:{_AI}|bot)\b{_NOT_ORG}",
    ),
    ("address", _AI_EN, rf"\b(?:dear|hey|hi|hello|attention|note (?:to|for)) (?:the |all |any )?{_AI}\b{_NOT_ORG}"),
    (
        "address",
        _AI_EN,
        rf"\b(?:to|for) (?:any|the|all|every) {_AI} (?:reading|processing|summari[sz]ing|parsing|"
        r"analy[sz]ing|that reads)\b",
    ),
    (
        "address",
        _AI_RU_WORDS,
        rf"\bкак {_AI_RU},? (?:ты|вы)\b|\b(?:ты|вы) (?:теперь |всего лишь |просто )?(?:- ?)?{_AI_RU}\b"
        rf"|\bесли (?:ты|вы) (?:- ?)?(?:{_AI_RU}|бот)\b"
        rf"|\b(?:дорог\w+|уважаем\w+|внимание|эй|привет),? {_AI_RU}\b"
        rf"|\b(?:для|всем) {_AI_RU},? (?:которы\w+|читающ\w+|обрабатывающ\w+)",
    ),
    (
        "address",
        _AI_PL_WORDS,
        rf"\bjako {_AI_PL},? (?:ty|musisz|powinie\w+|powinnaś|masz)\b"
        r"|\bjesteś (?:teraz |tylko )?(?:ai|si|modelem językowym|chat-?botem|czat-?botem|asystentem ai|botem)\b"
        r"|\bjeśli jesteś (?:ai|si|modelem|chat-?botem|czat-?botem|botem|asystentem)\b"
        r"|\b(?:drog\w+|szanown\w+|uwaga|hej|cześć),? (?:ai|si|chat-?bocie|czat-?bocie|modelu językowy|"
        r"asystencie ai|bocie)\b",
    ),
    # a vocative opening a command: "AI, ignore ...", "Ассистент: напиши ..." ("AI:" alone is an action item)
    (
        "address",
        (*_AI_EN, *_AI_RU_WORDS, *_AI_PL_WORDS),
        rf"^(?:(?:{_AI}|ии|si),|(?:chat-?bot|llm|language model|summari[sz]er|gpt|chatgpt|assistant|model|"
        r"bot|ии|нейросеть|ассистент|бот|модель|чат-?бот|asystencie|asystent|modelu|bocie|czat-?bocie) ?[,:])"
        r" ?(?:please,? |пожалуйста,? |proszę,? )?(?:ignore|write|state|say|mark|forward|output|print|list|"
        r"include|record|add|delete|remove|set|change|tell|reveal|summari[sz]e|report|flag|игнорир\w*|"
        r"напиш\w*|укаж\w*|отмет\w*|помет\w*|запиш\w*|выведи|перешл\w*|добав\w*|удали\w*|сообщ\w*|"
        r"zignoruj|napisz|wpisz|zaznacz|oznacz|podaj|wypisz|prześlij|przekaż|dodaj|usuń|ustaw)",
    ),
    # telling the summary what to say
    (
        "output",
        _SUMMARY_EN,
        rf"\b{_SUMMARY} (?:must|should|shall|has to|needs to|is to|will|ought to) (?:\w+ )?(?:say|state|read|"
        r"mention|show|include|contain|claim|indicate|list|note|record|report|conclude|reflect|display|"
        r"describe|confirm) ?(?:that\b|:)",
    ),
    (
        "output",
        _SUMMARY_EN,
        rf"\bin (?:the|your|this) {_SUMMARY},? (?:please )?(?:write|say|state|mention|note|put|record|"
        r"include|add|mark|list|report|claim)\b",
    ),
    (
        "output",
        ("summari", "describe", "present", "portray", "characteri"),
        rf"\b(?:summari[sz]e|describe|present|portray|characteri[sz]e) (?:this|the) {_CLIENT} as\b",
    ),
    (
        "output",
        ("write", "output", "print"),
        r"(?:^|[,;:] |\band |\bthen )(?:please |just |instead |now )*(?:write|output|print) (?:down )?"
        r"(?:that|:)(?! ?(?:down|in|into|on|up|to|for|again|way|one|is|was|would|will|'s|please)\b)",
    ),
    (
        "output",
        ("state", "say", "claim", "assert", "record"),
        r"^(?:(?:and|then|now|also|please|just|so|instead|simply),? )*(?:state|say|claim|assert|record) "
        r"(?:that|:)(?! ?(?:down|in|into|on|up|to|for|again|way|one|is|was|would|will|'s|please)\b)",
    ),
    (
        "output",
        _SUMMARY_RU_WORDS,
        rf"\b{_SUMMARY_RU} (?:должн\w*|обязан\w*|нужно|надо|следует) (?:\w+ ){{0,2}}?(?:указ\w*|содерж\w*|"
        r"говор\w*|сказ\w*|отраж\w*|утвержд\w*|сообща\w*|включ\w*|упомина\w*|упомян\w*|гласить|звучать|"
        r"написа\w*) ?(?:,? ?что\b|:)",
    ),
    (
        "output",
        _SUMMARY_RU_WORDS,
        rf"\bв {_SUMMARY_RU},? (?:пожалуйста,? )?(?:напиш\w*|укаж\w*|отмет\w*|запиш\w*|добав\w*|сообщ\w*|"
        r"пиш\w*|выведи)"
        rf"|\b(?:напиш\w*|укаж\w*|отмет\w*|запиш\w*|добав\w*) (?:\w+ )?в {_SUMMARY_RU}",
    ),
    (
        "output",
        ("представ", "опиш", "охарактеризу"),
        rf"\b(?:представ\w*|опиш\w*|охарактеризу\w*) (?:этого|данного) {_CLIENT_RU} как\b",
    ),
    (
        "output",
        _SUMMARY_PL_WORDS,
        rf"\b{_SUMMARY_PL} (?:musi|musza|muszą|powin\w*|ma|mają|należy) (?:\w+ ){{0,2}}?(?:zawiera\w*|"
        r"stwierdza\w*|stwierdzi\w*|mówi\w*|powiedzie\w*|poda\w*|wskazywa\w*|wskaza\w*|wspomina\w*|"
        r"wspomnie\w*|informowa\w*|brzmie\w*|zaznacza\w*|zaznaczy\w*) ?(?:,? ?że\b|:)",
    ),
    (
        "output",
        _SUMMARY_PL_WORDS,
        rf"\bw {_SUMMARY_PL},? (?:proszę )?(?:napisz|wpisz|zaznacz|podaj|dodaj|wspomnij|stwierdź|umieść)"
        rf"|\b(?:napisz|wpisz|zaznacz|podaj|dodaj|umieść)\w* (?:\w+ )?w {_SUMMARY_PL}",
    ),
    (
        "output",
        ("przedstaw", "opisz", "podsumuj", "scharakteryzuj"),
        rf"\b(?:przedstaw|opisz|podsumuj|scharakteryzuj)\w* (?:tego|tę|ten) {_CLIENT_PL} jako\b",
    ),
)
# Weak signals steer only together: an opener ("System:", "new instructions") with a tool command or an
# imperative to write.
_OPENER = (
    r"^(?:system|assistant|developer|user|human|ии|система|ассистент|пользователь|asystent|użytkownik) ?:"
    r"|\b(?:new|updated|revised|additional) (?:system )?instructions?\b"
    r"|\bнов\w+ (?:системн\w+ )?(?:инструкци\w*|указани\w*)"
    r"|\bnow\w+ (?:instrukcj\w*|polecenia|polecenie|wytyczne)"
)
_TOOL = (
    rf"\b(?:mark|flag|tag|label|classify|list) (?:this|the) {_CLIENT} as\b"
    r"|\bforward (?:all|every|each) (?:of )?(?:the |your |their )?(?:e-?mails?|messages|correspondence|"
    r"conversations|data|contacts|files|documents|records)\b"
    r"|\b(?:delete|erase|remove|close) (?:all|every) (?:the )?(?:records|data|notes|history|tickets|deals)\b"
    r"|\b(?:list|print|export|dump|reveal) (?:all|every|other) (?:the )?(?:clients|customers)\b"
    rf"|\b(?:отмет\w*|помет\w*|классифицир\w*|запиш\w*) (?:этого|данного) {_CLIENT_RU} как\b"
    r"|\b(?:перешл\w*|пересыла\w*|отправ\w*) все (?:письма|сообщения|данные|контакты)\b"
    rf"|\b(?:oznacz|zaznacz|sklasyfikuj)\w* (?:tego|tę|ten) {_CLIENT_PL} jako\b"
    r"|\b(?:prześlij|przekaż|przesyłaj|przekazuj)\w* wszystkie (?:e-?maile|wiadomości|dane|kontakty)\b"
)
_IMPERATIVE = (
    r"(?:^|[:-] ?)(?:please,? |пожалуйста,? |proszę,? )?(?:write|state|say|output|print|напиш\w*|"
    r"укаж\w*|выведи|napisz|wpisz|podaj|wypisz)\b"
)

STRONG = tuple((name, frozenset(triggers), re.compile(pattern)) for name, triggers, pattern in _STRONG_RULES)
TRIGGERS = frozenset().union(*(triggers for _name, triggers, _pattern in STRONG))
# Cased: "SYSTEM: ..." or "system: ..." with a few words after it; "System:" is an opener, "SYSTEM: Linux" a form.
ROLE_TURN = re.compile(rf"^(?:{_ROLE.upper()}|{_ROLE}|SYSTEM PROMPT|SYSTEM MESSAGE) ?:\s*\S+(?:\s+\S+){{2}}")
TEMPLATE_TOKEN = re.compile(r"<\|[\w-]{2,40}\|>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>", re.IGNORECASE)
OPENER = re.compile(_OPENER)
TOOL = re.compile(_TOOL)
IMPERATIVE = re.compile(_IMPERATIVE)

# --- turns and sentences -------------------------------------------------------------------------

_CALL_PREFIX = re.compile(r"[ \t]*\[(?:\d{1,2}:)?\d{1,3}:\d{2}\]\s*[^:\]\n]{1,40}:[ \t]*")
_TURN_START = re.compile(
    rf"[ \t]*(?:[\"'*>•-]+\s*)?(?:{_ROLE}|user|human|ai|ии|użytkownik|пользователь) ?:"
    r"|[ \t]*<\|",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n(?=[ \t]*[^a-zа-яёąćęłńóśźż\s])")


def _turns(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each turn's body: paragraphs split at role-prefixed lines and call lines, whose
    ``[mm:ss] speaker:`` prefix is left out of the body."""
    start: int | None = None
    end = position = 0
    for line in text.splitlines(keepends=True):
        content = line.strip()
        call = _CALL_PREFIX.match(line)
        if not content or call or _TURN_START.match(line):
            if start is not None:
                yield start, end
            start = None
        if content:
            body = position + (call.end() if call else len(line) - len(line.lstrip()))
            start = body if start is None else start
            end = position + len(line.rstrip())
        position += len(line)
    if start is not None:
        yield start, end


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of ``text[start:end]``."""
    position = start
    for found in _SENTENCE_BREAK.finditer(text, start, end):
        if found.start() > position:
            yield position, found.start()
        position = found.end()
    if end > position:
        yield position, end


def steering_rule(sentence: str) -> str | None:
    """The rule by which ``sentence`` addresses the summarizer, or None for ordinary text."""
    cased = normalize(sentence).lstrip(_LEADING)
    if ROLE_TURN.match(cased):
        return "role"
    folded = cased.casefold()
    present = {trigger for trigger in TRIGGERS if trigger in folded}
    for name, triggers, pattern in STRONG:
        if not triggers.isdisjoint(present) and pattern.search(folded):
            return name
    if OPENER.search(folded) and (TOOL.search(folded) or IMPERATIVE.search(folded)):
        return "command"
    return None


def find_steering(text: str) -> tuple[SteeringSpan, ...]:
    """The steering passages of ``text``: in each turn, from its first steering sentence to its end, and
    everything between the first and the last chat-template token."""
    spans = []
    for turn_start, turn_end in _turns(text):
        for start, end in _sentences(text, turn_start, turn_end):
            rule = steering_rule(text[start:end])
            if rule:
                spans.append(SteeringSpan(start, turn_end, rule))
                break
    tokens = list(TEMPLATE_TOKEN.finditer(text))
    if tokens:
        spans.append(SteeringSpan(tokens[0].start(), tokens[-1].end(), "template"))
    return _merged(spans)


def _merged(spans: list[SteeringSpan]) -> tuple[SteeringSpan, ...]:
    """Overlapping spans as one, in order; each keeps the rule of its earliest part."""
    merged: list[SteeringSpan] = []
    for span in sorted(spans):
        if merged and span.start <= merged[-1].end:
            merged[-1] = merged[-1]._replace(end=max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return tuple(merged)


@lru_cache(maxsize=65536)
def is_steering(text: str) -> bool:
    """Whether any sentence of ``text`` addresses the summarizer (used on claims an engine wrote, which
    recur at every level of the tree: hence the cache)."""
    return bool(find_steering(text))


_BLANK_RUN = re.compile(r"\n{3,}")


def remove_steering(text: str) -> Unsteered:
    """``text`` without its steering passages (unchanged when there are none), and the passages' spans."""
    spans = find_steering(text)
    if not spans:
        return Unsteered(text, ())
    kept, position = [], 0
    for span in spans:
        kept.append(text[position : span.start])
        whole_lines = text[span.start - 1 : span.start] in ("", "\n") and text[span.end : span.end + 1] == "\n"
        position = span.end + whole_lines  # a line cut whole takes its line break along
    kept.append(text[position:])
    lines = "".join(kept).split("\n")
    return Unsteered(_BLANK_RUN.sub("\n\n", "\n".join(line.rstrip() for line in lines)).strip(), spans)
