"""Rendering the four formats: cited sentences and items, sections, order, action statuses, languages."""

import re
from datetime import UTC, date, datetime

import pytest

from summarizer.notes import Citation, Claim, ClaimKind, Notes, Side
from summarizer.render import (
    FORMATS,
    SECTIONS,
    ClientInfo,
    action_status,
    available_languages,
    citation_marker,
    load_labels,
    render,
)

AS_OF = date(2024, 3, 20)
CLIENT = ClientInfo(id=1, name="Alpha Group", contacts=["anna.nowak@alpha.pl", "+48 600 123 456"])
MARKER = re.compile(r"\[#(\d+)(?: @(\d+):(\d{2}))?\]")


def claim(
    kind: ClaimKind, text: str, cites: int, day: date | None = None, *, at: float | None = None, **fields: object
) -> Claim:
    return Claim(kind=kind, text=text, date=day, sources=[Citation(interaction_id=cites, at_seconds=at)], **fields)


CONTRACT = claim(
    ClaimKind.ACTION,
    "Send the signed contract.",
    12,
    date(2024, 3, 13),
    owner="Anna Nowak",
    owner_side=Side.CLIENT,
    due=date(2024, 3, 15),
)
INVOICE = claim(
    ClaimKind.ACTION,
    "Prepare the invoice.",
    12,
    date(2024, 3, 13),
    owner="Jan Kowalski",
    owner_side=Side.US,
    due=date(2024, 3, 25),
)
QUOTE = claim(
    ClaimKind.ACTION,
    "Send the quote.",
    8,
    date(2024, 1, 20),
    owner="Jan Kowalski",
    owner_side=Side.US,
    due=date(2024, 1, 25),
    done=True,
)
NOTES = Notes(
    interactions=42,
    first_at=datetime(2023, 1, 10, tzinfo=UTC),
    last_at=datetime(2024, 3, 13, tzinfo=UTC),
    channels={"email": 30, "call": 8, "chat": 4},
    claims=[
        claim(ClaimKind.PURCHASE, "Bought 200 licences for 15 000 PLN.", 5, date(2023, 3, 2), weight=2),
        claim(ClaimKind.STATUS, "Quote approved.", 12, date(2024, 3, 13)),
        claim(ClaimKind.EVENT, "First contact: an inquiry about licences.", 1, date(2023, 1, 10)),
        claim(ClaimKind.STATUS, "Waiting for the quote decision.", 9, date(2024, 2, 1)),
        claim(ClaimKind.AGREEMENT, "10% discount on the renewal.", 10, date(2024, 2, 20)),
        claim(ClaimKind.RISK, "Mentioned a competitor, Beta Soft.", 11, date(2024, 3, 1), at=252.0),
        INVOICE,
        QUOTE,
        CONTRACT,
        claim(ClaimKind.PERSON, "Anna Nowak is the CFO.", 12, date(2024, 3, 13)),
        claim(ClaimKind.PREFERENCE, "Prefers phone calls in the morning.", 7, date(2023, 11, 5)),
    ],
)


def rendered(format: str, notes: Notes = NOTES, language: str = "en"):
    return render(format, notes, client=CLIENT, language=language, as_of=AS_OF)


def markers(markdown: str) -> list[tuple[int, int | None]]:
    """(interaction id, second in the recording) for each citation marker in ``markdown``."""
    return [(int(i), int(m) * 60 + int(s) if m else None) for i, m, s in MARKER.findall(markdown)]


def cited(citations: list[dict]) -> list[tuple[int, int | None]]:
    return [(c["interaction_id"], None if c["at_seconds"] is None else int(c["at_seconds"])) for c in citations]


def json_items(content: dict) -> list[dict]:
    """Every sentence or item of a format's JSON, in order."""
    if "sections" in content:
        return [item for section in content["sections"] for item in section["items"]]
    return next(content[key] for key in ("sentences", "events", "actions") if key in content)


def test_citation_markers() -> None:
    assert citation_marker(Citation(interaction_id=123)) == "[#123]"
    assert citation_marker(Citation(interaction_id=123, at_seconds=252.4)) == "[#123 @04:12]"
    assert citation_marker(Citation(interaction_id=9, at_seconds=3725)) == "[#9 @1:02:05]"


def test_brief_has_three_to_five_sentences_each_cited() -> None:
    result = rendered("brief")
    sentences = result.content["sentences"]
    assert 3 <= len(sentences) <= 5
    for sentence in sentences:
        assert sentence["citations"], sentence["text"]
        assert sentence["text"].endswith(".")
    text = " ".join(sentence["text"] for sentence in sentences)
    assert "Alpha Group" in text and "2023-01-10" in text and "42" in text  # who, since when, how active
    assert "Bought 200 licences for 15 000 PLN" in text  # what they buy
    assert "Quote approved" in text and "Waiting for the quote decision" not in text  # current status only
    assert "Send the signed contract" in text and "overdue, due 2024-03-15" in text  # when to expect what
    open_sentence = next(sentence["text"] for sentence in sentences if "Send the signed contract" in sentence["text"])
    assert "Send the quote" not in open_sentence and "Send the quote" in text  # done: history, not open
    assert "Anna Nowak is the CFO" in text and "Prefers phone calls" in text  # whom and how


def test_brief_says_what_is_unknown_instead_of_inventing() -> None:
    notes = Notes(
        interactions=2,
        first_at=datetime(2024, 3, 1, tzinfo=UTC),
        last_at=datetime(2024, 3, 2, tzinfo=UTC),
        channels={"email": 2},
        claims=[claim(ClaimKind.STATUS, "Asked for a demo.", 3, date(2024, 3, 2))],
    )
    sentences = [sentence["text"] for sentence in rendered("brief", notes).content["sentences"]]
    labels = load_labels("en")["brief"]
    assert 3 <= len(sentences) <= 5
    assert labels["buys_unknown"] in sentences and labels["next_unknown"] in sentences
    assert labels["contact_unknown"] in sentences
    assert any("Asked for a demo" in sentence for sentence in sentences)


def test_structured_has_every_section_in_order() -> None:
    result = rendered("structured")
    labels = load_labels("en")["sections"]
    assert [section["key"] for section in result.content["sections"]] == list(SECTIONS)
    positions = [result.markdown.index(f"### {labels[key]}") for key in SECTIONS]
    assert positions == sorted(positions)
    sections = {section["key"]: [item["text"] for item in section["items"]] for section in result.content["sections"]}
    assert sections["current_status"] == ["Quote approved.", "Waiting for the quote decision."]  # latest first
    assert sections["key_agreements"] == ["10% discount on the renewal."]
    assert sections["risks"] == ["Mentioned a competitor, Beta Soft."]
    assert sections["next_steps"] == ["Send the signed contract.", "Prepare the invoice."]  # open only, nearest first
    assert sections["people"] == ["Anna Nowak is the CFO.", "Prefers phone calls in the morning."]
    assert "First contact: an inquiry about licences." in sections["relationship_history"]


def test_timeline_is_oldest_first() -> None:
    events = rendered("timeline").content["events"]
    days = [event["date"] for event in events]
    assert days == sorted(days)
    assert events[0]["text"] == "First contact: an inquiry about licences."
    assert {event["kind"] for event in events} <= {"event", "purchase", "agreement", "risk", "action"}
    assert [event["text"] for event in events if event["kind"] == "action"] == ["Send the quote."]  # done only
    assert events[-1]["citations"] == [{"interaction_id": 11, "at_seconds": 252.0}]


def test_action_statuses_against_as_of() -> None:
    assert action_status(CONTRACT, AS_OF) == "overdue"
    assert action_status(INVOICE, AS_OF) == "open"
    assert action_status(QUOTE, AS_OF) == "done"
    assert action_status(CONTRACT, date(2024, 3, 15)) == "open"  # due today is not overdue yet
    actions = rendered("actions").content["actions"]
    assert [(a["text"], a["status"]) for a in actions] == [
        ("Send the signed contract.", "overdue"),
        ("Prepare the invoice.", "open"),
        ("Send the quote.", "done"),
    ]
    assert actions[0] | {"citations": None} == {
        "text": "Send the signed contract.",
        "owner": "Anna Nowak",
        "side": "client",
        "due": "2024-03-15",
        "status": "overdue",
        "citations": None,
    }


@pytest.mark.parametrize("format", FORMATS)
def test_markdown_and_json_cite_the_same_sources(format: str) -> None:
    result = rendered(format)
    items = json_items(result.content)
    assert items and all(item["citations"] for item in items)
    if format == "brief":  # one paragraph: each clause is followed by its own markers
        assert set(markers(result.markdown)) == {pair for item in items for pair in cited(item["citations"])}
        assert (11, 252) in markers(result.markdown)
    else:  # one line per item, carrying exactly that item's citations
        lines = [line for line in result.markdown.splitlines() if MARKER.search(line)]
        assert [markers(line) for line in lines] == [cited(item["citations"]) for item in items]


def test_every_language_has_every_label() -> None:
    def keys(table: dict, prefix: str = "") -> set[str]:
        return {f"{prefix}{key}" for key, value in table.items() if not isinstance(value, dict)} | {
            name for key, value in table.items() if isinstance(value, dict) for name in keys(value, f"{key}.")
        }

    languages = available_languages()
    assert {"en", "ru", "pl"} <= set(languages)
    reference = keys(load_labels("en"))  # a count's label is one Plural: its forms differ by language
    for language in languages:
        assert keys(load_labels(language)) == reference, language


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
@pytest.mark.parametrize("format", FORMATS)
def test_each_language_renders_with_its_own_labels(language: str, format: str) -> None:
    labels = load_labels(language)
    result = rendered(format, language=language)
    assert result.markdown.startswith(f"## {labels['titles'][format]}: Alpha Group")
    assert result.content["language"] == language
    if format == "structured":
        assert all(f"### {title}" in result.markdown for title in labels["sections"].values())
    if format == "actions":
        assert labels["statuses"]["overdue"] in result.markdown and labels["actions"]["who"] in result.markdown
    # a claim in the reader's script is quoted as written, in another script worded (the brief) or worded and quoted
    purchase = "покупка: 15 000 PLN, 200 шт" if language == "ru" else "Bought 200 licences"
    assert purchase in result.markdown or format == "actions"
    quoted = format != "actions" and (language != "ru" or format != "brief")
    assert ("Bought 200 licences" in result.markdown) == quoted


def test_labels_differ_between_languages() -> None:
    assert len({load_labels(language)["sections"]["risks"] for language in ("en", "ru", "pl")}) == 3


def test_unknown_language_and_format_are_errors() -> None:
    with pytest.raises(ValueError, match="available"):
        rendered("brief", language="xx")
    with pytest.raises(ValueError, match="format"):
        rendered("summary")


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
@pytest.mark.parametrize("format", FORMATS)
def test_empty_history_says_so(language: str, format: str) -> None:
    result = rendered(format, Notes(), language)
    message = load_labels(language)["text"]["empty_history"]
    assert result.content["empty"] is True
    assert result.content["message"] == message
    assert message in result.markdown
    assert json_items(result.content) == []
    assert not MARKER.search(result.markdown)


def test_a_claim_in_another_script_is_worded_from_what_it_names_with_the_original_one_click_away() -> None:
    """A Russian message in an English brief: worded from its facets in the reader's language (the subject, the
    code and the figures as written), the source's own words left to the citation; the detailed formats follow
    the worded claim with the original as a quote. A Russian brief words an English claim its own way."""
    russian = claim(ClaimKind.STATUS, "Бюджет на 40 лицензий KX-20 пока не утвердили", 13, date(2024, 3, 14))
    notes = NOTES.model_copy(update={"claims": [*NOTES.claims, russian]})
    english = rendered("brief", notes).markdown
    assert "update: budget, KX-20, 40 units (pending) [#13]" in english
    assert "Бюджет" not in english
    structured = rendered("structured", notes).markdown
    assert "update: budget, KX-20, 40 units (pending) — “Бюджет на 40 лицензий KX-20 пока не утвердили” [#13]" in (
        structured
    )
    in_russian = rendered("brief", notes, language="ru").markdown
    assert "Бюджет на 40 лицензий KX-20 пока не утвердили" in in_russian  # its own language: as written
    # the English action worded in Russian: its subject, not the words of its sentence ("signed") as its status
    assert "Что открыто: договор — Anna Nowak, просрочено" in in_russian
    assert "Anna Nowak, финансовый директор [#12]" in in_russian  # "Anna Nowak is the CFO."


def test_a_claim_in_another_script_that_names_too_little_stays_a_quote() -> None:
    """A sentence whose facets say nothing of what it is about (no subject, state, role or channel: a bare
    figure) is not reduced to a figure: it stays in its words, inside the reader's quotation marks."""
    russian = claim(ClaimKind.STATUS, "Иван, 10% не получится", 13, date(2024, 3, 14))
    notes = NOTES.model_copy(update={"claims": [*NOTES.claims, russian]})
    assert "“Иван, 10% не получится” [#13]" in rendered("brief", notes).markdown


def test_a_name_in_another_script_is_not_quoted() -> None:
    """A person named in their own script next to a role worded in the reader's language is not a quote."""
    person = claim(ClaimKind.PERSON, "Решения по закупкам теперь принимает Ольга Смирнова", 13, date(2024, 3, 14))
    notes = NOTES.model_copy(update={"claims": [person]})
    brief = rendered("brief", notes).markdown
    assert "Ольга Смирнова, decision-maker [#13]" in brief and "“Ольга" not in brief


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Deal Pump service (D-7) moved to stage “won”: 4,000.00 EUR. Reason: best price."),
        ("ru", "Сделка Pump service (D-7) переведена на стадию «выиграна»: 4,000.00 EUR. Причина: best price."),
        ("pl", "Transakcja Pump service (D-7) przeszła do etapu „wygrana”: 4,000.00 EUR. Powód: best price."),
    ],
)
def test_a_deal_change_is_worded_in_the_readers_language(language: str, expected: str) -> None:
    """The CRM importer records a deal change in English; every format words it in the reader's language, the
    amount as the CRM wrote it and the reason in the CRM's words."""
    change = claim(
        ClaimKind.EVENT,
        "Deal Pump service (D-7) moved to stage won: 4,000.00 EUR. Reason: best price.",
        14,
        date(2024, 3, 14),
        weight=0.9,
    )
    notes = NOTES.model_copy(update={"claims": [*NOTES.claims, change]})
    timeline = rendered("timeline", notes, language=language).markdown
    assert expected in timeline
    assert language == "en" or "moved to stage" not in timeline


def test_a_due_date_in_the_sources_words_is_quoted_when_their_script_is_not_the_readers() -> None:
    """ "завтра" written on 15 January stays the source's word, marked as a quote in an English summary."""
    visit = claim(
        ClaimKind.ACTION,
        "Инженер приедет завтра и откатит прошивку.",
        21,
        date(2024, 3, 15),
        owner="Elena Sokolova",
        owner_side=Side.US,
        due=date(2024, 3, 16),
    )
    notes = NOTES.model_copy(update={"claims": [*NOTES.claims, visit]})
    assert "“завтра” (written 2024-03-15)" in rendered("actions", notes).markdown
    assert "завтра (написано 2024-03-15)" in rendered("actions", notes, language="ru").markdown


def test_a_self_introduction_names_the_person_with_their_role() -> None:
    """ "I am the head of purchasing at ..." by a known person reads as the person with their role."""
    intro = claim(ClaimKind.PERSON, "I am the head of purchasing at Alpha Group.", 13, owner="Maria Lis")
    brief = rendered("brief", NOTES.model_copy(update={"claims": [intro]})).markdown
    assert "Maria Lis, head of purchasing at Alpha Group [#13]" in brief and "I am" not in brief


def test_the_brief_says_each_sentence_once() -> None:
    """A sentence that several claims hold (an event, a risk and a person of one remark) is shown once, where it
    says most: the risk before the news, the news slot left to another fact."""
    remark = "Our buyer Piotr moved to the Gdansk office last week."
    claims = [
        claim(ClaimKind.EVENT, remark, 21, date(2024, 3, 4), weight=0.9),
        claim(ClaimKind.RISK, remark, 21, date(2024, 3, 4), weight=0.9),
        claim(ClaimKind.PERSON, remark, 21, date(2024, 3, 4)),
        claim(ClaimKind.EVENT, "Demo of the reporting module held on site.", 22, date(2024, 3, 6)),
    ]
    brief = rendered("brief", NOTES.model_copy(update={"claims": claims})).markdown
    assert brief.count("Piotr moved to the Gdansk office") == 1 and "risk — 2024-03-04: Our buyer Piotr" in brief
    assert "Demo of the reporting module held on site [#22]" in brief


def test_a_carried_out_request_among_what_was_done_is_marked_done() -> None:
    """A request that was met reads as done, not as a request still asked."""
    brief = rendered("brief").markdown
    assert "2024-01-20: Send the quote — done [#8]" in brief


def test_whom_to_talk_to_names_the_clients_people_not_ours() -> None:
    ours = claim(ClaimKind.PERSON, "Jan Kowalski, Account Manager", 14, owner="Jan Kowalski", owner_side=Side.US)
    theirs = claim(ClaimKind.PERSON, "Anna Nowak, Head of IT", 15, owner="Anna Nowak", owner_side=Side.CLIENT)
    brief = rendered("brief", NOTES.model_copy(update={"claims": [ours, theirs]})).markdown
    assert "Anna Nowak, Head of IT [#15]" in brief and "Account Manager" not in brief
