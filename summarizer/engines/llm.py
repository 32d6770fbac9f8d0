"""What the LLM engines share: prompt | model | validated claims, retried, with a recorded fallback.

A map call shows the model a chunk's sources; a reduce call shows it the children's claims. Either
answer must be JSON matching ``Answer`` and cite only the sources it was given. An answer that stays
invalid after the retries falls back to the deterministic result (the grounded engine's notes for a
chunk, ``merge`` for a reduce), counted in ``usage.fallbacks`` and in the notes' ``fallbacks``. An
endpoint that keeps failing or timing out raises ``EngineError``: nothing degraded is stored silently.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import PydanticOutputParser
from pydantic import BaseModel
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from summarizer.engines.base import Engine, EngineError, Usage
from summarizer.engines.grounded import DEFAULT_PHONE_REGION, GroundedEngine
from summarizer.engines.options import LLMOptions
from summarizer.merge import merge
from summarizer.notes import Claim, Notes, SourceItem
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


class Answer(BaseModel):
    """What a model must answer: the claims, each citing the sources it comes from."""

    claims: list[Claim]


class InvalidAnswer(ValueError):
    """A model answer that does not parse or cites sources it was not given."""


@dataclass(frozen=True, slots=True)
class Model:
    """A chat model and the name it is priced and versioned by."""

    chat: BaseChatModel
    name: str


def answer_schema(allowed: set[int], *, timestamps: bool, max_claims: int) -> dict[str, Any]:
    """The JSON schema of an answer with 1 to ``max_claims`` claims citing only ``allowed`` ids, with call
    timestamps only if ``timestamps``.

    String lengths are left unbounded: bounded strings make llama.cpp's grammar sampling several times
    slower, and ``LLMOptions.max_tokens`` bounds the answer anyway.
    """
    schema = Answer.model_json_schema()
    schema["properties"]["claims"].update(minItems=1, maxItems=max_claims)
    citation = schema["$defs"]["Citation"]["properties"]
    citation["interaction_id"]["enum"] = sorted(allowed)
    if not timestamps:
        del citation["at_seconds"]
    return schema


def schema_text() -> str:
    """The answer schema as the system prompt shows it: compact, without pydantic's titles."""
    return json.dumps(_untitled(Answer.model_json_schema()), ensure_ascii=False, separators=(",", ":"))


def _untitled(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _untitled(value) for key, value in node.items() if not (key == "title" and isinstance(value, str))}
    return [_untitled(value) for value in node] if isinstance(node, list) else node


def parse_answer(text: str, allowed: set[int]) -> list[Claim]:
    """The claims of a model answer; ``InvalidAnswer`` if it does not parse or cites an id not allowed."""
    try:
        answer: Answer = PydanticOutputParser(pydantic_object=Answer).parse(text)
    except OutputParserException as error:
        raise InvalidAnswer(f"answer does not match the schema: {error}") from error
    foreign = {source.interaction_id for claim in answer.claims for source in claim.sources} - allowed
    if foreign:
        raise InvalidAnswer(f"answer cites sources it was not given: {sorted(foreign)}")
    return answer.claims


def as_data(text: str) -> str:
    """Customer text made safe to put between the data delimiters: forged delimiters are broken up."""
    return text.replace(DATA_OPEN, "<<< DATA").replace(DATA_CLOSE, "DATA >>>")


def sources_text(items: list[SourceItem]) -> str:
    """A chunk's sources as the map prompt shows them, each headed by its ``[#id]``."""
    return as_data("\n\n".join(format_source(item) for item in items))


def claims_text(children: list[Notes]) -> str:
    """Children's claims as the reduce prompt shows them: oldest first, one JSON claim per line."""
    lines = []
    for number, child in enumerate(children, 1):
        lines.append(f"# part {number} of {len(children)}")
        lines.extend(claim.model_dump_json(exclude_defaults=True) for claim in child.claims)
    return as_data("\n".join(lines))


def cited_ids(children: list[Notes]) -> set[int]:
    """Every interaction id the children's claims cite."""
    return {source.interaction_id for child in children for claim in child.claims for source in claim.sources}


def message_usage(message: AIMessage) -> tuple[int, int]:
    """Prompt and completion tokens a response reports (0, 0 when it reports none)."""
    usage = message.usage_metadata
    return (usage["input_tokens"], usage["output_tokens"]) if usage else (0, 0)


class LLMEngine(Engine):
    """Map and reduce with chat models: ``map_model`` for chunks, ``reduce_model`` for merging notes.

    Subclasses supply the models, the context window, ``count_tokens`` and the structured-output
    request their backend understands (``structured_output``). ``unusable_errors`` are what a client
    raises for an answer it got but cannot use (cut at the token limit): they count as invalid answers.
    ``transient_errors`` are retried like invalid answers but raise ``EngineError`` when tries run out.
    ``options`` shape every call; ``phone_region`` is the fallback grounded engine's.
    """

    name = "llm"
    transient_errors: tuple[type[BaseException], ...] = (TimeoutError,)
    unusable_errors: tuple[type[BaseException], ...] = ()

    def __init__(
        self,
        map_model: Model,
        reduce_model: Model,
        *,
        context_window: int,
        language: str = "en",
        options: LLMOptions | None = None,
        phone_region: str = DEFAULT_PHONE_REGION,
    ):
        super().__init__(language=language)
        self.map_model = map_model
        self.reduce_model = reduce_model
        self.context_window = context_window
        self.options = options or LLMOptions()
        self.grounded = GroundedEngine(language=language, phone_region=phone_region)

    @cached_property
    def version(self) -> str:
        """Models, prompts, answer schema, output-shaping options and language."""
        knobs = [
            PROMPT_VERSION,
            schema_text(),
            self.options.max_claims,
            self.options.max_tokens,
            self.options.temperature,
        ]
        digest = hashlib.sha256(json.dumps(knobs).encode()).hexdigest()[:12]
        return f"{self.name}:{self.map_model.name}+{self.reduce_model.name}:{digest}:{self.language}"

    @cached_property
    def context_tokens(self) -> int:
        """The context window less the answer's tokens and the prompt's own, with a little headroom."""
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
        """The model's claims on the grounded engine's counts, spans and tone; its claims on a fallback."""
        base = self.grounded.map(items)
        if not items:
            return base
        allowed = {item.interaction_id for item in items}
        schema = self._schema(allowed, timestamps=any(item.segment_starts for item in items))
        return self._answer("map", self.map_model, {"sources": sources_text(items)}, allowed, schema, base)

    def reduce(self, children: list[Notes], *, level: str) -> Notes:
        """The model's merge of the children's claims on ``merge``'s counts and spans; ``merge`` on a fallback."""
        base = merge(children, self._notes_budget)
        allowed = cited_ids(children)
        if not allowed:
            return base
        timestamps = any(
            source.at_seconds is not None for child in children for claim in child.claims for source in claim.sources
        )
        return self._answer(
            "reduce",
            self.reduce_model,
            {"notes": claims_text(children), "level": level},
            allowed,
            self._schema(allowed, timestamps=timestamps),
            base,
        )

    @property
    def _notes_budget(self) -> int:
        """Tokens one notes may take, so that a reduce can read at least two (as the grounded engine does)."""
        return self.context_tokens // 3

    def _schema(self, allowed: set[int], *, timestamps: bool) -> dict[str, Any]:
        return answer_schema(allowed, timestamps=timestamps, max_claims=self.options.max_claims)

    def _answer(
        self, step: str, model: Model, variables: dict[str, str], allowed: set[int], schema: dict[str, Any], base: Notes
    ) -> Notes:
        """``base`` with the model's claims; if they stay invalid, ``base``'s own claims fitted to the notes
        budget, counted as a fallback."""
        try:
            claims = self._ask(step, model, {**variables, **self._common_variables()}, allowed, schema)
        except InvalidAnswer as error:
            log.warning(
                "%s engine: %s answer stayed invalid, using the deterministic notes: %s", self.name, step, error
            )
            self.usage.fallbacks += 1
            fitted = merge([base], self._notes_budget)
            return fitted.model_copy(update={"fallbacks": fitted.fallbacks + 1})
        return base.model_copy(update={"claims": claims})

    def _ask(
        self, step: str, model: Model, variables: dict[str, str], allowed: set[int], schema: dict[str, Any]
    ) -> list[Claim]:
        """The model's valid claims, retried with exponential backoff on invalid answers and transient errors."""
        output = self.structured_output(schema)
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
                    if message.response_metadata.get("finish_reason") == "length":
                        raise InvalidAnswer(f"answer cut at {self.options.max_tokens} tokens")
                    return parse_answer(str(message.content), allowed)
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

    def _common_variables(self) -> dict[str, str]:
        return {
            "schema": schema_text(),
            "language": LANGUAGE_NAMES.get(self.language, self.language),
            "max_claims": str(self.options.max_claims),
        }

    def _prompt_overhead(self) -> int:
        """Tokens of the largest prompt with no data in it, plus the chat template's markers."""
        empty = {"sources": "", "notes": "", "level": "month", **self._common_variables()}
        return TEMPLATE_SLACK_TOKENS + max(
            sum(self.count_tokens(str(message.content)) for message in load_prompt(step).format_messages(**empty))
            for step in ("map", "reduce")
        )
