"""What the LLM engines share: extract, then write, with validated answers, retries and recorded fallbacks.

- **Map** shows the model a chunk's sources and, below them, the facts the grounded extractor already found in
  them, and asks for every other fact as compact typed facts (``Answer``) citing only the sources given: the
  model spends its tokens on what the rules missed. The facts become claims merged (``summarizer.merge.merge``)
  with the grounded engine's claims of the same chunk, so duplicates collapse and nothing found is lost.
- **Reduce** is the deterministic ``merge`` for every engine: no model call, no lossy summary of summaries.
- **Write** shows the model the root's most salient claims, numbered, and asks for a brief of 3-5 sentences
  (``Brief``), each listing the claims it used; a sentence cites the union of those claims' sources.

An answer that stays invalid after the retries falls back: a chunk to the grounded engine's notes, a brief to
none (the renderer frames one from the claims), counted in ``usage.fallbacks`` (and a chunk's in its notes'
``fallbacks``). An endpoint that keeps failing or timing out raises ``EngineError``: nothing degraded is stored
silently.
"""

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import PydanticOutputParser
from pydantic import BaseModel, Field, ValidationError
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from summarizer.engines.base import Engine, EngineError, Usage
from summarizer.engines.grounded import DEFAULT_PHONE_REGION, GroundedEngine
from summarizer.engines.options import LLMOptions
from summarizer.extract import WEIGHTS
from summarizer.merge import is_evidence, merge, normalize, salience, union_sources
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Sentence, Side, SourceItem, is_steering_risk
from summarizer.prompts import PROMPT_VERSION, load_prompt
from summarizer.sources import format_source
from summarizer.tokens import estimate_tokens

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Russian",
    "pl": "Polish",
    "uk": "Ukrainian",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "cs": "Czech",
}
DATA_OPEN, DATA_CLOSE = "<<<DATA", "DATA>>>"
TEMPLATE_SLACK_TOKENS = 32  # chat-template markers around the messages
SOURCES_SHARE = 0.95  # of the room left for data: separators and tokens merging across sources cost a little
BRIEF_SENTENCES = (3, 5)  # fewest and most sentences of a written brief
#: Most characters of one written sentence, enforced by the schema: small models otherwise run every claim into
#: one "sentence" until the token limit cuts the answer (seen with a 1.5B model on three tries in a row).
SENTENCE_CHARS = 240
SENTENCE_END = re.compile(r"[.!?…](?=[\s\"'»”)]|$)")
MAX_CLAIMS_PER_SENTENCE = 6
MAP_ANSWER_START = re.compile(r'\s*\{\s*"facts"')  # of an answer without its code fence (``_json_object``)
FACT_TEXT = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)"')  # a fact's text, once its closing quote is written
#: Share of a map prompt's data room kept for the facts the grounded extractor already found in the chunk.
KNOWN_SHARE = 0.3
#: The weight of a model's fact, by kind: what the grounded extractor gives a claim of that kind.
FACT_WEIGHTS = {
    ClaimKind.STATUS: WEIGHTS["status"],
    ClaimKind.AGREEMENT: WEIGHTS["agreement"],
    ClaimKind.ACTION: WEIGHTS["promise"],
    ClaimKind.RISK: WEIGHTS["complaint"],
    ClaimKind.EVENT: WEIGHTS["event"],
    ClaimKind.PERSON: WEIGHTS["role"],
    ClaimKind.PREFERENCE: WEIGHTS["preference"],
    ClaimKind.PURCHASE: WEIGHTS["purchase"],
}
Parsed = TypeVar("Parsed")


class Fact(BaseModel):
    """One fact of a map answer, compact so that a small model spends its tokens on the text; becomes a
    :class:`Claim` (``as_claim``)."""

    kind: ClaimKind
    text: str = Field(description="one sentence")
    source: int = Field(description="the id of the interaction it comes from: 12 for the one headed [#12]")
    date: dt.date | None = Field(default=None, description="when it happened or was said")
    owner: str | None = Field(default=None, description="actions: who must act")
    owner_side: Side | None = None
    due: dt.date | None = Field(default=None, description="actions: due date")
    done: bool = False
    at_seconds: float | None = Field(default=None, description="calls: the second of the recording it is said at")

    def as_claim(self) -> Claim:
        """The claim this fact states, weighted by its kind as the grounded extractor weighs a claim of it."""
        return Claim(
            kind=self.kind,
            text=self.text,
            date=self.date,
            owner=self.owner,
            owner_side=self.owner_side,
            due=self.due,
            done=self.done,
            weight=FACT_WEIGHTS[self.kind],
            sources=[Citation(interaction_id=self.source, at_seconds=self.at_seconds)],
        )


class Answer(BaseModel):
    """What a model must answer when it maps: the facts the known ones leave out, each citing its source."""

    facts: list[Fact]


class WrittenSentence(BaseModel):
    """One sentence of a written brief and the numbers of the claims it used."""

    text: str
    claims: list[int]


class Brief(BaseModel):
    """What a model must answer when it writes: the brief's sentences."""

    sentences: list[WrittenSentence]


#: The prompts that call a model, and the answer each asks for.
STEP_ANSWERS: dict[str, type[BaseModel]] = {"map": Answer, "write": Brief}


class NumberedClaims(NamedTuple):
    """The claims a write prompt shows, numbered from 1, and the variables that show them."""

    claims: list[Claim]
    text: str


class InvalidAnswer(ValueError):
    """A model answer that does not parse or cites sources it was not given."""


@dataclass(frozen=True, slots=True)
class Model:
    """A chat model and the name it is priced and versioned by."""

    chat: BaseChatModel
    name: str


def answer_schema(allowed: set[int], *, timestamps: bool, max_claims: int) -> dict[str, Any]:
    """The JSON schema of a map answer with at most ``max_claims`` facts citing only ``allowed`` ids, with call
    timestamps only if ``timestamps`` (none when the known facts already hold everything).

    String lengths are left unbounded: bounded strings make llama.cpp's grammar sampling several times
    slower, and ``LLMOptions.max_tokens`` bounds the answer anyway.
    """
    schema = Answer.model_json_schema()
    schema["properties"]["facts"].update(maxItems=max_claims)
    fact = schema["$defs"]["Fact"]["properties"]
    fact["source"]["enum"] = sorted(allowed)
    if not timestamps:
        del fact["at_seconds"]
    return schema


def brief_schema(numbers: int) -> dict[str, Any]:
    """The JSON schema of a brief of 3-5 sentences, each citing 1 to 6 of the claims numbered 1 to ``numbers``."""
    schema = Brief.model_json_schema()
    fewest, most = BRIEF_SENTENCES
    schema["properties"]["sentences"].update(minItems=fewest, maxItems=most)
    schema["$defs"]["WrittenSentence"]["properties"]["text"]["maxLength"] = SENTENCE_CHARS
    cited = schema["$defs"]["WrittenSentence"]["properties"]["claims"]
    cited.update(minItems=1, maxItems=MAX_CLAIMS_PER_SENTENCE)
    cited["items"]["enum"] = list(range(1, numbers + 1))  # llama.cpp's grammar enforces enums, not ranges
    return schema


def schema_text(model: type[BaseModel] = Answer) -> str:
    """An answer schema as the system prompt shows it: compact, without pydantic's titles."""
    return json.dumps(_untitled(model.model_json_schema()), ensure_ascii=False, separators=(",", ":"))


def _untitled(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _untitled(value) for key, value in node.items() if not (key == "title" and isinstance(value, str))}
    return [_untitled(value) for value in node] if isinstance(node, list) else node


def parse_answer(text: str, allowed: set[int]) -> list[Claim]:
    """The claims a map answer states; ``InvalidAnswer`` if it is not complete JSON matching the schema (a cut
    answer is :func:`salvage_answer`'s) or cites an id not allowed."""
    try:  # complete JSON only (a cut answer must not pass as whole); raw line breaks in strings are read
        answer = Answer.model_validate(json.loads(_json_object(text), strict=False))
    except (json.JSONDecodeError, ValidationError) as error:
        raise InvalidAnswer(f"answer does not match the schema: {error}") from error
    foreign = {fact.source for fact in answer.facts} - allowed
    if foreign:
        raise InvalidAnswer(f"answer cites sources it was not given: {sorted(foreign)}")
    return [fact.as_claim() for fact in answer.facts if fact.text.strip()]


def _json_object(text: str) -> str:
    """The JSON object of an answer, without a Markdown code fence around it (some models add one)."""
    return re.sub(r"\s*```\s*$", "", re.sub(r"^\s*```(?:json)?", "", text))


def salvage_answer(text: str, allowed: set[int]) -> list[Claim]:
    """The claims of the complete facts of a map answer that stopped early (cut at the token limit, or stopped
    looping); ``InvalidAnswer`` if not one fact is complete or one cites an id not allowed."""
    answer = _json_object(text)
    end = _complete_facts_end(answer)
    if end is None:
        raise InvalidAnswer("answer stopped before its first fact was complete")
    return parse_answer(answer[:end] + "]}", allowed)


def repeats_a_fact(answer: str) -> bool:
    """Whether a map answer being generated has started cycling through its facts: a fact's text (case,
    punctuation and spacing ignored) given again after another fact, or a third time in a row. A small model at
    temperature 0 that does so goes on until the token limit; one text given twice in a row, with another kind or
    source, is only wordy (the merge keeps it once). Other answers (a brief) are never taken for repeating."""
    if not MAP_ANSWER_START.match(_json_object(answer)):
        return False
    texts = [normalize(text) for text in FACT_TEXT.findall(answer)]
    runs = [text for position, text in enumerate(texts) if position == 0 or text != texts[position - 1]]
    return len(runs) != len(set(runs)) or any(texts[i] == texts[i + 1] == texts[i + 2] for i in range(len(texts) - 2))


def _complete_facts_end(text: str) -> int | None:
    """Where the last complete fact of a JSON answer ``{"facts": [{...}, {...`` ends (None if none does)."""
    depth, in_string, escaped, end = 0, False, False, None
    for position, char in enumerate(text):
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 2 and char == "}":  # a fact closed inside the answer's list
                end = position + 1
    return end


def parse_brief(text: str, claims: list[Claim]) -> list[Sentence]:
    """The sentences of a written brief, each citing the sources of the ``claims`` (numbered from 1) it lists;
    ``InvalidAnswer`` if it does not parse, has too few or too many sentences, an empty one, or an unknown number.
    A sentence the length limit cut is trimmed to its last complete sentence (left out if none is complete), and
    a sentence that opens like an earlier one is left out."""
    try:
        brief: Brief = PydanticOutputParser(pydantic_object=Brief).parse(text)
    except OutputParserException as error:
        raise InvalidAnswer(f"answer does not match the schema: {error}") from error
    fewest, most = BRIEF_SENTENCES
    if not fewest <= len(brief.sentences) <= most:
        raise InvalidAnswer(f"a brief has {fewest}-{most} sentences, not {len(brief.sentences)}")
    unknown = sorted({n for s in brief.sentences for n in s.claims if not 1 <= n <= len(claims)})
    if unknown:
        raise InvalidAnswer(f"answer cites claims it was not given: {unknown}")
    if any(not sentence.text.strip() or not sentence.claims for sentence in brief.sentences):
        raise InvalidAnswer("every sentence has text and cites at least one claim")
    written: list[Sentence] = []
    for sentence in brief.sentences:
        text = complete_sentences(sentence.text)
        if text and not any(_same_start(text, other.text) for other in written):
            written.append(Sentence(text=text, sources=claim_sources([claims[n - 1] for n in sentence.claims])))
    return written


def complete_sentences(text: str) -> str:
    """``text`` up to its last complete sentence: the schema's length limit may cut the last one ("" if none ends)."""
    text = " ".join(text.split())
    if SENTENCE_END.search(text[-1:] or " "):
        return text
    ends = list(SENTENCE_END.finditer(text))
    return text[: ends[-1].end()] if ends else ""


def _same_start(a: str, b: str) -> bool:
    """Whether two written sentences open alike (a small model repeats itself): the same first words, up to 8 and at
    least 5, case-folded."""
    first, second = re.findall(r"\w+", a.casefold()), re.findall(r"\w+", b.casefold())
    words = min(8, len(first), len(second))
    return words >= 5 and first[:words] == second[:words]


def claim_sources(claims: list[Claim]) -> list[Citation]:
    """The union of ``claims``' citations, in order."""
    sources: list[Citation] = []
    for claim in claims:
        sources = union_sources(sources, claim.sources)
    return sources


def claim_line(number: int, claim: Claim) -> str:
    """One claim as the write prompt shows it: number, kind, text, then date, owner and side, due, done."""
    details = [f"date {claim.date.isoformat()}" if claim.date else ""]
    if claim.owner or claim.owner_side:
        details.append("owner " + ", ".join(part for part in (claim.owner, claim.owner_side) if part))
    details += [f"due {claim.due.isoformat()}" if claim.due else "", "done" if claim.done else ""]
    shown = "; ".join(detail for detail in details if detail)
    return f"{number}. [{claim.kind}] {claim.text}" + (f" ({shown})" if shown else "")


def known_facts(claims: list[Claim], budget_tokens: int, count_tokens: Callable[[str], int]) -> str:
    """The grounded claims a map prompt shows as already known: the most salient that fit ``budget_tokens``
    (no evidence or steering risks), in the chunk's order, each as ``[#id] [kind] text``."""
    candidates = [claim for claim in claims if not is_evidence(claim) and not is_steering_risk(claim)]
    lines = {index: _known_line(claim) for index, claim in enumerate(candidates)}
    chosen: set[int] = set()
    used = 0
    for index in sorted(lines, key=lambda i: -candidates[i].weight):
        cost = count_tokens(lines[index]) + 1
        if used + cost <= budget_tokens:
            chosen.add(index)
            used += cost
    return as_data("\n".join(line for index, line in lines.items() if index in chosen))


def _known_line(claim: Claim) -> str:
    cited = " ".join(f"[#{source.interaction_id}]" for source in claim.sources)
    return f"{cited} [{claim.kind}] {' '.join(claim.text.split())}"


def writable_claims(
    notes: Notes, budget_tokens: int, count_tokens: Callable[[str], int], *, most: int | None = None
) -> NumberedClaims:
    """The root's claims a write prompt shows: no evidence or steering risks, the ``most`` most salient that
    fit ``budget_tokens``, in the notes' order, numbered from 1."""
    latest = notes.last_at.date() if notes.last_at else None
    candidates = [claim for claim in notes.claims if not is_evidence(claim) and not is_steering_risk(claim)]
    chosen: set[int] = set()
    used = 0
    for index in sorted(range(len(candidates)), key=lambda i: -salience(candidates[i], latest)):
        cost = count_tokens(claim_line(len(candidates), candidates[index])) + 1
        if used + cost <= budget_tokens and (most is None or len(chosen) < most):
            chosen.add(index)
            used += cost
    claims = [claim for index, claim in enumerate(candidates) if index in chosen]
    return NumberedClaims(claims, as_data("\n".join(claim_line(n, claim) for n, claim in enumerate(claims, 1))))


def as_data(text: str) -> str:
    """Customer text made safe to put between the data delimiters: forged delimiters are broken up."""
    return text.replace(DATA_OPEN, "<<< DATA").replace(DATA_CLOSE, "DATA >>>")


def sources_text(items: list[SourceItem]) -> str:
    """A chunk's sources as the map prompt shows them, each headed by its ``[#id]``."""
    return as_data("\n\n".join(format_source(item) for item in items))


def answer_message(content: str, *, prompt_tokens: int, completion_tokens: int, metadata: dict[str, Any]) -> AIMessage:
    """A backend's answer as LangChain carries it: the text, its token usage and ``metadata`` (model name, finish
    reason)."""
    return AIMessage(
        content=content,
        usage_metadata={
            "input_tokens": prompt_tokens,
            "output_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        response_metadata=metadata,
    )


def message_usage(message: AIMessage) -> tuple[int, int]:
    """Prompt and completion tokens a response reports (0, 0 when it reports none)."""
    usage = message.usage_metadata
    return (usage["input_tokens"], usage["output_tokens"]) if usage else (0, 0)


class LLMEngine(Engine):
    """Extract with ``map_model`` (every fact of a chunk as claims), merge deterministically, write the brief
    with ``write_model``.

    The tree's reduce is the deterministic ``merge`` here as for every engine: no model reads notes.
    Subclasses supply the models, the context window, ``count_tokens`` and the structured-output
    request their backend understands (``structured_output``). ``unusable_errors`` are what a client
    raises for an answer it got but cannot use (cut at the token limit): they count as invalid answers.
    ``transient_errors`` are retried like invalid answers but raise ``EngineError`` when tries run out.
    ``options`` shape every call; ``phone_region`` is the grounded engine's, whose claims every map keeps.
    """

    name = "llm"
    writes = True
    transient_errors: tuple[type[BaseException], ...] = (TimeoutError,)
    #: extra sampling arguments of a write call the backend understands (a repeat penalty against loops)
    write_sampling: Mapping[str, float] = MappingProxyType({})
    unusable_errors: tuple[type[BaseException], ...] = ()

    def __init__(
        self,
        map_model: Model,
        write_model: Model,
        *,
        context_window: int,
        language: str = "en",
        options: LLMOptions | None = None,
        phone_region: str = DEFAULT_PHONE_REGION,
    ):
        super().__init__(language=language)
        self.map_model = map_model
        self.write_model = write_model
        self.context_window = context_window
        self.options = options or LLMOptions()
        self.grounded = GroundedEngine(language=language, phone_region=phone_region)

    @cached_property
    def version(self) -> str:
        """Models, prompts, answer schemas, output-shaping options and language."""
        knobs = [
            PROMPT_VERSION,
            schema_text(),
            schema_text(Brief),
            self.options.max_claims,
            self.options.max_tokens,
            self.options.write_max_tokens,
            self.options.write_claims,
            self.options.temperature,
        ]
        digest = hashlib.sha256(json.dumps(knobs).encode()).hexdigest()[:12]
        return f"{self.name}:{self._mapper}+{self.write_model.name}:{digest}:{self.language}"

    @property
    def _mapper(self) -> str:
        """What writes the chunks' claims, as the version names it."""
        return f"{self.map_model.name}+{self.grounded.version}"

    @property
    def context_tokens(self) -> int:
        """Tokens of sources one map call may send: ``data_tokens`` less the room of the known facts."""
        return int(self.data_tokens * (1 - KNOWN_SHARE))

    @cached_property
    def data_tokens(self) -> int:
        """The context window less the answer's tokens and the prompt's own, with a little headroom: the room
        for the data of one map or write prompt."""
        available = int((self.context_window - self.options.max_tokens - self._prompt_overhead()) * SOURCES_SHARE)
        if available < 128:
            raise EngineError(
                f"{self.name} engine: a {self.context_window}-token context leaves {available} tokens "
                f"for sources after the prompt and {self.options.max_tokens} answer tokens"
            )
        return available

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def structured_output(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Call arguments that make the model answer JSON matching ``schema``."""
        return {"response_format": {"type": "json_object", "schema": schema}}

    def map(self, items: list[SourceItem]) -> Notes:
        """The model's claims (the facts it added to the grounded engine's, shown to it as known) merged with the
        grounded engine's (counts, spans and tone are the grounded engine's); the grounded claims alone, counted
        as a fallback, when the answer stays invalid."""
        base = self.grounded.map(items)
        if not items:
            return base
        allowed = {item.interaction_id for item in items}
        schema = answer_schema(
            allowed, timestamps=any(item.segment_starts for item in items), max_claims=self.options.max_claims
        )
        sources = sources_text(items)
        known = known_facts(base.claims, self.data_tokens - self.count_tokens(sources), self.count_tokens)
        variables = {"sources": sources, "known": known, **self._common_variables(Answer)}
        try:
            claims = self._ask(
                "map",
                self.map_model,
                variables,
                schema,
                lambda text: parse_answer(text, allowed),
                salvage=lambda text: salvage_answer(text, allowed),
            )
        except InvalidAnswer as error:
            log.warning("%s engine: map answer stayed invalid, using the grounded notes: %s", self.name, error)
            self.usage.fallbacks += 1
            fitted = merge([base], self._notes_budget)
            return fitted.model_copy(update={"fallbacks": fitted.fallbacks + 1})
        known_texts = {normalize(claim.text) for claim in base.claims}
        new = [claim for claim in claims if normalize(claim.text) not in known_texts]  # a known fact repeated
        return merge([base.model_copy(update={"claims": [*base.claims, *new]})], self._notes_budget)

    def reduce(self, children: list[Notes], *, level: str) -> Notes:
        """The deterministic ``merge`` of the children, fitted to the notes budget: no model call."""
        return merge(children, self._notes_budget)

    def write(self, notes: Notes, *, client: str) -> list[Sentence]:
        """The brief about ``client`` the write model wrote from the root's most salient claims, each sentence
        citing the sources of the claims it used; [] when there is nothing to write from, and [] counted as a
        fallback when the answer stays invalid."""
        numbered = writable_claims(notes, self._write_budget(client), self.count_tokens, most=self.options.write_claims)
        if not numbered.claims:
            return []
        variables = {"client": as_data(client), "claims": numbered.text, **self._common_variables(Brief)}
        schema = brief_schema(len(numbered.claims))
        try:
            return self._ask(
                "write",
                self.write_model,
                variables,
                schema,
                lambda text: parse_brief(text, numbered.claims),
                max_tokens=self.options.write_max_tokens,
                sampling=self.write_sampling,
            )
        except InvalidAnswer as error:
            log.warning("%s engine: write answer stayed invalid, no written brief: %s", self.name, error)
            self.usage.fallbacks += 1
            return []

    @property
    def reduce_tokens(self) -> int:
        """The grounded engine's: the reduce is its deterministic merge, so no model's context bounds the notes."""
        return self.grounded.reduce_tokens

    @property
    def _notes_budget(self) -> int:
        """Tokens one notes may take, so that the tree can merge at least two in one reduce (the grounded budget)."""
        return self.reduce_tokens // 3

    def _write_budget(self, client: str) -> int:
        """Tokens the root's claims may take in a write prompt about ``client``."""
        return self.data_tokens - self.count_tokens(client)

    def _ask(
        self,
        step: str,
        model: Model,
        variables: dict[str, str],
        schema: dict[str, Any],
        parse: Callable[[str], Parsed],
        *,
        max_tokens: int | None = None,
        sampling: Mapping[str, float] | None = None,
        salvage: Callable[[str], Parsed] | None = None,
    ) -> Parsed:
        """The model's answer to ``step`` as ``parse`` reads it (at most ``max_tokens``, default the options', with
        the backend's extra ``sampling`` arguments), retried with exponential backoff on invalid answers and
        transient errors; an answer cut at the limit, or one ``parse`` rejects, is read by ``salvage`` when
        given (what it holds complete), else it is invalid."""
        limit = max_tokens or self.options.max_tokens
        output = {**self.structured_output(schema), **(sampling or {}), "max_tokens": limit}
        retrying = Retrying(
            stop=stop_after_attempt(self.options.attempts),
            reraise=True,
            wait=wait_exponential(multiplier=self.options.backoff_seconds, max=60),
            retry=retry_if_exception_type((InvalidAnswer, *self.transient_errors)),
        )
        try:
            for attempt in retrying:
                with attempt:
                    first = attempt.retry_state.attempt_number == 1
                    temperature = self.options.temperature if first else self.options.retry_temperature
                    chain = load_prompt(step) | model.chat.bind(temperature=temperature, **output)
                    try:
                        message = chain.invoke(variables)
                    except self.unusable_errors as error:
                        self._record(model, self.error_usage(error))
                        raise InvalidAnswer(f"unusable answer: {error}") from error
                    self._record(model, message_usage(message))
                    text = str(message.content)
                    if message.response_metadata.get("finish_reason") != "length":
                        try:
                            return parse(text)
                        except InvalidAnswer:
                            if salvage is None:
                                raise
                    elif salvage is None:
                        raise InvalidAnswer(f"answer cut at {limit} tokens")
                    log.info("%s engine: %s answer stopped early, keeping what it holds complete", self.name, step)
                    return salvage(text)
        except self.transient_errors as error:
            raise EngineError(
                f"{self.name} engine: {step} call to {model.name} failed {self.options.attempts} times: {error}"
            ) from error
        raise AssertionError("unreachable: tenacity returns or raises")

    def error_usage(self, error: BaseException) -> tuple[int, int]:
        """Prompt and completion tokens an ``unusable_errors`` error reports (0, 0 when it reports none)."""
        return 0, 0

    def _record(self, model: Model, tokens: tuple[int, int]) -> None:
        prompt, completion = tokens
        price_prompt, price_completion = self.options.prices.get(model.name, (0.0, 0.0))
        cost = (prompt * price_prompt + completion * price_completion) / 1000
        self.usage.add(Usage(prompt_tokens=prompt, completion_tokens=completion, calls=1, cost=cost))

    def _common_variables(self, answer: type[BaseModel]) -> dict[str, str]:
        return {
            "schema": schema_text(answer),
            "language": LANGUAGE_NAMES.get(self.language, self.language),
            "max_claims": str(self.options.max_claims),
        }

    def _prompt_overhead(self) -> int:
        """Tokens of the largest prompt with no data in it, plus the chat template's markers."""
        empty = {"sources": "", "known": "", "claims": "", "client": ""}
        return TEMPLATE_SLACK_TOKENS + max(
            sum(
                self.count_tokens(str(message.content))
                for message in load_prompt(step).format_messages(**empty, **self._common_variables(answer))
            )
            for step, answer in STEP_ANSWERS.items()
        )


class HybridEngine(LLMEngine):
    """The cheap combination: the grounded engine's map and reduce (no model call, its chunk size), the write
    model writing only the root's brief; ``map_model`` is never called."""

    name = "hybrid"

    @property
    def _mapper(self) -> str:
        return self.grounded.version

    @property
    def context_tokens(self) -> int:
        """The grounded engine's chunk size: no model reads the chunks."""
        return self.grounded.context_tokens

    def map(self, items: list[SourceItem]) -> Notes:
        """The grounded engine's notes of ``items``."""
        return self.grounded.map(items)

    def reduce(self, children: list[Notes], *, level: str) -> Notes:
        """The grounded engine's merge of ``children``."""
        return self.grounded.reduce(children, level=level)
