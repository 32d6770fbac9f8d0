"""The grounded engine on real-history failure classes: copies of one message, bare-address reply headers,
messages no rule takes, offers, actions settled by later messages, grounded due dates, unknown sides, and a
brief built from sentence frames. Every input is invented for the test (no dev-set names or wording).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from summarizer.dates import due_wording
from summarizer.engines.grounded import GroundedEngine
from summarizer.extract import extract
from summarizer.merge import is_evidence
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Side, SourceItem
from summarizer.render import ClientInfo, key_phrase, load_labels, render
from summarizer.sources import drop_copies
from summarizer.tree import TreeBuilder

START = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)  # a Monday
CLIENT = ClientInfo(id=1, name="Client", contacts=[])
LONG_BODY = (
    "The crane for the east wing arrives on Thursday and the crew from Lindqvist Steel starts "
    "the frame the same afternoon."
)


def mail(
    interaction_id: int,
    text: str,
    *,
    at: datetime = START,
    author: str | None = "ines@fjordline.example",
    subject: str | None = "Site plan",
    channel: str = "email",
    direction: str = "inbound",
) -> SourceItem:
    return SourceItem(
        interaction_id=interaction_id,
        occurred_at=at,
        channel=channel,
        direction=direction,
        author=author,
        subject=subject,
        text=text,
    )


def root_of(items: list[SourceItem]) -> Notes:
    tree = TreeBuilder(GroundedEngine(), {}, client="test").build(items)
    assert tree.root is not None
    return tree.root.notes


def visible(notes: Notes, kind: ClaimKind) -> list[Claim]:
    return [claim for claim in notes.claims if claim.kind == kind and not is_evidence(claim)]


# ------------------------------------------------------------------ copies of one message


def test_a_second_copy_of_one_message_hours_later_from_another_address_counts_once() -> None:
    sent = mail(1, LONG_BODY, author="ines@fjordline.example")
    copy = mail(2, LONG_BODY, at=START + timedelta(hours=10), author="ines.berg@mailhub.example")
    reply = mail(3, "Thanks, noted.", at=START + timedelta(hours=11))
    kept = drop_copies([sent, copy, reply])
    assert [item.interaction_id for item in kept] == [1, 3]
    assert root_of(kept).interactions == 2


def test_short_equal_messages_of_different_people_and_late_repeats_are_not_copies() -> None:
    first = mail(1, "Thank you so much!", channel="chat", subject=None, author="@1001")
    other = mail(2, "Thank you so much!", channel="chat", subject=None, author="@2002", at=START + timedelta(hours=1))
    same_author = mail(
        3, "Thank you so much!", channel="chat", subject=None, author="@1001", at=START + timedelta(hours=2)
    )
    weeks_later = mail(4, LONG_BODY, at=START + timedelta(days=20))
    kept = drop_copies([mail(0, LONG_BODY), first, other, same_author, weeks_later])
    assert [item.interaction_id for item in kept] == [0, 1, 2, 4]


# ------------------------------------------------------------------ reply headers and messages no rule takes


def test_a_bare_address_reply_header_starts_the_quoted_history_and_is_never_a_claim() -> None:
    text = (
        "Thanks,\nOla\n\n\nkarl.vos@pinecrest.example on 06/01/2025 04:12:09 PM\nTo: ola@ourfirm.example\n"
        "cc:\n\nSubject: Re: Site plan\n\nI will send the revised drawings by Tuesday.\n"
    )
    claims = extract(mail(1, text))
    assert not any("on 06/01/2025" in claim.text for claim in claims)
    assert not any(claim.kind == ClaimKind.ACTION for claim in claims)  # the promise is quoted history


@pytest.mark.parametrize(
    "text, gist",
    [
        (
            "Hi all. The Harrowgate archive moved its catalogue to the Version 4 format in 2019.",
            "The Harrowgate archive moved its catalogue to the Version 4 format in 2019.",
        ),
        (
            "Привет. Библиотека Заречья перевела каталог на формат Версия Четыре.",
            "Библиотека Заречья перевела каталог на формат Версия Четыре.",
        ),
        (
            "Cześć. Biblioteka w Zalesiu przeniosła katalog na format Wersja Cztery.",
            "Biblioteka w Zalesiu przeniosła katalog na format Wersja Cztery.",
        ),
    ],
)
def test_a_message_no_rule_takes_is_represented_by_its_most_specific_sentence(text: str, gist: str) -> None:
    claims = [claim for claim in extract(mail(1, text, subject=None)) if not is_evidence(claim)]
    assert [claim.text for claim in claims if claim.kind == ClaimKind.EVENT] == [gist]


def test_courtesy_alone_gives_no_gist() -> None:
    claims = extract(mail(1, "Thanks a lot, talk soon.", subject=None))
    assert not [claim for claim in claims if claim.kind == ClaimKind.EVENT]


@pytest.mark.parametrize(
    "text",
    [
        "Once you land, message us here and we'd be happy to review the whole refund.",
        "Мы будем рады рассмотреть вашу заявку, как только получим номер.",
    ],
)
def test_an_offer_to_act_is_a_promise(text: str) -> None:
    actions = [claim for claim in extract(mail(1, text, direction="outbound")) if claim.kind == ClaimKind.ACTION]
    assert actions and actions[0].owner_side == Side.US and not actions[0].done


# ------------------------------------------------------------------ actions settled by later messages


@pytest.mark.parametrize(
    "promise, later",
    [
        (
            "I will arrange the warehouse visit for your auditors next week.",
            "The warehouse visit for the auditors is confirmed for Wednesday at 10.",
        ),
        ("Я организую визит аудиторов на склад на следующей неделе.", "Визит аудиторов на склад перенесли на среду."),
        (
            "Zorganizuję wizytę audytorów w magazynie w przyszłym tygodniu.",
            "Wizytę audytorów w magazynie przełożono na środę.",
        ),
    ],
)
def test_a_later_message_on_the_same_subject_settles_an_open_action(promise: str, later: str) -> None:
    root = root_of([mail(1, promise, direction="outbound"), mail(2, later, at=START + timedelta(days=2))])
    actions = visible(root, ClaimKind.ACTION)
    settled = next(claim for claim in actions if claim.text == promise)
    assert settled.done and {c.interaction_id for c in settled.sources} == {1, 2}
    table = render("actions", root, client=CLIENT, language="en", as_of=date(2025, 6, 10)).markdown
    assert "| open |" not in table and "| overdue |" not in table


def test_an_unrelated_later_confirmation_leaves_the_action_open() -> None:
    root = root_of(
        [
            mail(1, "I will arrange the warehouse visit for your auditors.", direction="outbound"),
            mail(2, "The invoice payment is confirmed.", at=START + timedelta(days=2)),
        ]
    )
    action = next(claim for claim in visible(root, ClaimKind.ACTION) if "warehouse" in claim.text)
    assert not action.done


def test_an_answered_question_becomes_history() -> None:
    question = "When will the winter timetable for the ferry routes be published?"
    root = root_of(
        [
            mail(1, question),
            mail(
                2,
                "The winter timetable for the ferry routes was published and is confirmed.",
                at=START + timedelta(days=1),
            ),
        ]
    )
    assert question not in {claim.text for claim in visible(root, ClaimKind.ACTION)}
    assert question in {claim.text for claim in visible(root, ClaimKind.EVENT)}


# ------------------------------------------------------------------ due dates and sides as rendered


@pytest.mark.parametrize(
    "text, wording",
    [
        ("Please send the signed contract by Friday.", "Friday"),
        ("I will call you on 24 April about the order.", "24 April"),
        ("Пришлю договор до 15 марта.", "15 марта"),
        ("Wyślę umowę do 15 marca.", "15 marca"),
        ("Prepare the invoice.", None),
    ],
)
def test_due_wording_is_the_sources_own(text: str, wording: str | None) -> None:
    assert due_wording(text) == wording


def action_notes(**fields: object) -> Notes:
    action = Claim(
        kind=ClaimKind.ACTION,
        text="Please send the signed contract by Friday.",
        date=date(2025, 6, 2),
        sources=[Citation(interaction_id=7)],
        **fields,
    )
    return Notes(claims=[action], interactions=1, first_at=START, last_at=START, channels={"email": 1})


def test_a_resolved_due_date_prints_in_the_sources_words() -> None:
    notes = action_notes(due=date(2025, 6, 6), owner_side=Side.US)
    for format in ("actions", "brief", "structured"):
        markdown = render(format, notes, client=CLIENT, language="en", as_of=date(2025, 6, 3)).markdown
        assert "2025-06-06" not in markdown
        wording = "Friday (written 2025-06-02)"  # relative: with the day it was written, a date the source holds
        assert (f"| {wording} |" if format == "actions" else f"due {wording}") in markdown
    content = render("actions", notes, client=CLIENT, language="en", as_of=date(2025, 6, 3)).content
    assert content["actions"][0]["due"] == "2025-06-06"  # the JSON keeps the resolved date


def test_a_named_owner_gets_no_guessed_side_label() -> None:
    notes = action_notes(owner="ines@fjordline.example", owner_side=Side.CLIENT)
    markdown = render("actions", notes, client=CLIENT, language="en", as_of=date(2025, 6, 3)).markdown
    assert "ines@fjordline.example" in markdown and "(client)" not in markdown
    unnamed = render(
        "actions", action_notes(owner_side=Side.US), client=CLIENT, language="en", as_of=date(2025, 6, 3)
    ).markdown
    assert "| us |" in unnamed


# ------------------------------------------------------------------ the brief


def claim(kind: ClaimKind, text: str, cites: int, day: date, **fields: object) -> Claim:
    return Claim(kind=kind, text=text, date=day, sources=[Citation(interaction_id=cites)], **fields)


BRIEF_NOTES = Notes(
    interactions=9,
    first_at=START,
    last_at=START + timedelta(days=20),
    channels={"email": 9},
    claims=[
        claim(ClaimKind.EVENT, "Dock survey", 1, date(2025, 6, 2), topic="thread:dock survey", weight=0.45),
        claim(ClaimKind.EVENT, "The dock survey moved to 14 June at Pier 7.", 2, date(2025, 6, 5), weight=0.6),
        claim(ClaimKind.EVENT, "Tugboat hire costs 4 200 EUR a day.", 3, date(2025, 6, 5), weight=0.5),
        claim(ClaimKind.EVENT, "The harbour master approved the night berth.", 4, date(2025, 6, 9), weight=0.5),
        claim(ClaimKind.AGREEMENT, "Both sides agreed on a 3% late fee.", 5, date(2025, 6, 10), weight=0.6),
        claim(ClaimKind.ACTION, "Can you confirm the crew list?", 6, date(2025, 6, 12), owner_side=Side.US),
        claim(
            ClaimKind.ACTION,
            "I will send the berth plan by Friday.",
            7,
            date(2025, 6, 16),
            owner="Ines Berg",
            due=date(2025, 6, 20),
            weight=0.6,
        ),
        claim(ClaimKind.RISK, "The insurer may cancel the cover.", 8, date(2025, 6, 18), weight=0.8),
        claim(ClaimKind.PERSON, "Ines Berg, Port Operations Lead", 9, date(2025, 6, 22), owner="Ines Berg"),
    ],
)


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
def test_the_brief_is_five_framed_sentences_in_the_readers_language_citing_its_claims(language: str) -> None:
    result = render("brief", BRIEF_NOTES, client=CLIENT, language=language, as_of=date(2025, 6, 23))
    sentences = result.content["sentences"]
    frames = load_labels(language)["brief"]
    assert len(sentences) == 5
    status, settled, open_items = (sentence["text"] for sentence in sentences[1:4])
    assert status.startswith(frames["status"].split("{items}")[0])
    assert "Dock survey" in sentences[0]["text"]  # what the history is about
    # one news item a day, newest first, the weightiest of its day, with the message date; then the risk
    assert status.index("2025-06-09") < status.index("2025-06-05")
    assert "The dock survey moved to 14 June at Pier 7" in status and "4 200 EUR" in status
    insurer = "The insurer may cancel the cover"  # an English claim: quoted in a brief of another script
    what = frames["quote"].format(what=insurer) if frames["script"] != "LATIN" else insurer
    assert frames["risk"].format(what=f"2025-06-18: {what}") in status
    assert "3% late fee" in settled
    berth = "I will send the berth plan by Friday"
    assert f"{frames['quote'].format(what=berth) if frames['script'] != 'LATIN' else berth} — Ines Berg" in open_items
    assert "crew list" not in open_items
    for sentence in sentences:
        assert sentence["citations"]


def test_every_day_of_a_busy_history_gets_its_weightiest_news_before_a_second_item_of_any_day() -> None:
    busy_day = [
        claim(ClaimKind.EVENT, f"Berth {index} was assigned to the Nordkap barge.", index, date(2025, 6, 5), weight=0.9)
        for index in range(1, 12)
    ]
    quiet = claim(ClaimKind.EVENT, "The pilot boat schedule changed.", 20, date(2025, 6, 1), weight=0.3)
    notes = BRIEF_NOTES.model_copy(update={"claims": [*busy_day, quiet]})
    status = render("brief", notes, client=CLIENT, language="en", as_of=date(2025, 6, 23)).content["sentences"][1]
    assert "The pilot boat schedule changed" in status["text"]
    assert "Berth 1 was assigned" in status["text"] and "Berth 11" not in status["text"]


def test_a_key_phrase_keeps_the_specifics_and_drops_handles() -> None:
    assert key_phrase("@4411 @Shop Your order 88123 ships on Monday.") == "Your order 88123 ships on Monday"
    long_text = (
        "The survey team from Pier 7 confirmed the date, the crane operator confirmed the hours, "
        "and the harbour office still has to sign the permit for the night works before the tide."
    )
    phrase = key_phrase(long_text, max_words=20)
    assert phrase.endswith("…") and phrase.startswith("The survey team from Pier 7")
    assert len(phrase.split()) <= 20


def test_a_first_contact_that_repeats_a_thread_subject_is_shown_once() -> None:
    notes = Notes(
        interactions=2,
        first_at=START,
        last_at=START + timedelta(days=1),
        channels={"email": 2},
        claims=[
            claim(ClaimKind.EVENT, "Quay lease renewal", 1, date(2025, 6, 2), topic="first:contact"),
            Claim(
                kind=ClaimKind.EVENT,
                text="Quay lease renewal",
                date=date(2025, 6, 2),
                topic="thread:quay lease renewal",
                sources=[Citation(interaction_id=1), Citation(interaction_id=2)],
            ),
        ],
    )
    for format in ("timeline", "structured"):
        markdown = render(format, notes, client=CLIENT, language="en", as_of=date(2025, 6, 3)).markdown
        assert markdown.count("Quay lease renewal") == 1 and "[#1] [#2]" in markdown


def test_a_message_whose_only_claim_is_a_question_still_gets_its_gist() -> None:
    text = (
        "Is the new gate schedule final? The Tallinn ferry now leaves from the Northern Terminal each Sunday "
        "since the Harbour Authority changed the berths."
    )
    events = [claim.text for claim in extract(mail(1, text, subject=None)) if claim.kind == ClaimKind.EVENT]
    assert any("Northern Terminal" in event for event in events)


def test_a_forward_separator_is_header_residue_even_inside_quoted_history() -> None:
    text = (
        "Forwarding this as promised.\n\n> ----- Forwarded by Lena Ortiz/HQ on 03/02/25 09:10 AM ----- "
        "The new loading dock opens on 3 March at the north gate."
    )
    claims = extract(mail(1, text))
    assert not any("Forwarded by" in claim.text for claim in claims)


@pytest.mark.parametrize(
    "text",
    [
        "I'm back at the office and have everything set for Thursday morning.",
        "We are all set for the harbour walk on Monday.",
    ],
)
def test_being_set_for_a_day_is_a_scheduled_event(text: str) -> None:
    assert text in {claim.text for claim in extract(mail(1, text, subject=None)) if claim.kind == ClaimKind.EVENT}


@pytest.mark.parametrize(
    ("language", "text", "shown"),
    [
        ("en", "I will send the contract tomorrow.", "tomorrow (written 2026-03-02)"),
        ("ru", "Инженер приедет завтра и откатит прошивку.", "завтра (написано 2026-03-02)"),
        ("pl", "Wyślę umowę jutro.", "jutro (napisano 2026-03-02)"),
        ("en", "We will pay the invoice by 15 March.", "15 March"),
    ],
)
def test_a_relative_due_date_is_shown_with_the_day_it_was_written(language: str, text: str, shown: str) -> None:
    from summarizer.render import due_text, load_labels

    claim = Claim(
        kind=ClaimKind.ACTION,
        text=text,
        date=date(2026, 3, 2),
        due=date(2026, 3, 3),
        sources=[Citation(interaction_id=1)],
    )
    assert due_text(claim, load_labels(language)) == shown
