"""The grounded engine on mail as it really arrives: quoted history, header residue, courtesy and personal
remarks, fulfilled promises, introductions, meetings and churn threats; and what the renderer makes of it.

Every input here is invented for the test (no dev-set names or wording).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from summarizer.engines.grounded import GroundedEngine
from summarizer.extract import extract, sentences
from summarizer.merge import is_evidence
from summarizer.notes import Claim, ClaimKind, Notes, Side, SourceItem
from summarizer.render import ClientInfo, render
from summarizer.tree import TreeBuilder

START = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)  # a Monday
CLIENT = ClientInfo(id=1, name="Client", contacts=[])


def mail(
    interaction_id: int,
    text: str,
    *,
    at: datetime = START,
    direction: str = "inbound",
    author: str | None = "anna@northwind.example",
    **fields: object,
) -> SourceItem:
    return SourceItem(
        interaction_id=interaction_id,
        occurred_at=at,
        channel=fields.pop("channel", "email"),
        direction=direction,
        author=author,
        subject=fields.pop("subject", None),
        text=text,
        **fields,
    )


def of_kind(source: SourceItem, kind: ClaimKind) -> list[Claim]:
    return [claim for claim in extract(source) if claim.kind == kind and not is_evidence(claim)]


def root_of(items: list[SourceItem]) -> Notes:
    tree = TreeBuilder(GroundedEngine(), {}, client="test").build(items)
    assert tree.root is not None
    return tree.root.notes


# ------------------------------------------------------------------ quoted history and header residue


LOTUS_REPLY = """Thanks, the hall is fine for us.




Marta Quill <mquill@harbourline.example> on 05/28/2025 10:14:07 AM
To: "'Tomas Reyes'" <treyes@ourfirm.example>
cc:

Subject: Seminar hall


I will send the signed form by Friday. Please confirm the booking of the hall.
"""

OUTLOOK_REPLY = """Sounds good.

-----Original Message-----
From: Rui Okafor
Sent: Monday, June 2, 2025 8:00 AM
To: Team
Subject: numbers

I will prepare the budget review by Thursday.
"""


@pytest.mark.parametrize("text", [LOTUS_REPLY, OUTLOOK_REPLY])
def test_quoted_history_gives_no_actions_and_its_headers_give_no_claims(text):
    claims = [claim for claim in extract(mail(1, text)) if not is_evidence(claim)]
    assert not [claim for claim in claims if claim.kind == ClaimKind.ACTION]
    for claim in claims:
        assert "@" not in claim.text and not claim.text.lower().startswith(("to:", "cc:", "from:", "sent:"))


def test_an_inline_quote_is_left_out_but_the_reply_after_it_counts():
    text = (
        "At 10:02 AM 5/30/2025, Pia Lund wrote: > We will send the survey by Friday. > It has ten "
        "questions. I agree with this plan. We will send the final list by 20 June."
    )
    claims = [claim for claim in extract(mail(1, text)) if not is_evidence(claim)]
    actions = [claim.text for claim in claims if claim.kind == ClaimKind.ACTION]
    assert actions == ["We will send the final list by 20 June."]
    assert [claim.text for claim in claims if claim.kind == ClaimKind.AGREEMENT] == ["I agree with this plan."]
    assert not any("wrote" in claim.text or "survey" in claim.text for claim in claims)


def test_re_wrapped_lines_stay_one_sentence():
    text = (
        "We would like to extend the pilot to the second warehouse and the\n"
        "Depot in the north by the end of the summer."
    )
    assert sentences(text) == [" ".join(text.split())]
    assert sentences("Kind regards\nPia Lund\nHead of Sales") == ["Kind regards", "Pia Lund", "Head of Sales"]


def test_a_fax_line_or_a_header_line_is_never_a_contact_preference():
    for text in (
        "555.201.3300 (fax) office@harbourline.example",
        "Marta Quill <mquill@harbourline.example> on 05/28/2025 10:14:07 AM",
    ):
        assert not of_kind(mail(1, text), ClaimKind.PREFERENCE) and not of_kind(mail(1, text), ClaimKind.PERSON)
    [reach] = of_kind(mail(2, "You can reach me on my mobile, +44 20 7946 0555, all afternoon."), ClaimKind.PREFERENCE)
    assert "+44 20 7946 0555" in reach.text


# ------------------------------------------------------------------ what is an action


@pytest.mark.parametrize(
    "text",
    [
        "I will be at home in the afternoon.",
        "I will not be arriving until midnight.",
        "Let me know if you have any questions.",
        "Do not hesitate to call me should you need anything.",
        "I will understand if you choose the other date.",
        "Should you need a taxi, I will be happy to arrange one.",
        "I don't know if any of our editors will be on the call.",
        "Если будут вопросы, обращайтесь.",
        "W razie pytań proszę o kontakt.",
    ],
)
def test_personal_remarks_and_courtesy_are_not_actions(text):
    assert not of_kind(mail(1, text), ClaimKind.ACTION)


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("I will arrange a car for you on Tuesday.", Side.CLIENT),
        ("I'll be in touch next week to schedule the review.", Side.CLIENT),
        ("Пришлю акт сверки до пятницы.", Side.CLIENT),
        ("Wyślemy protokół w przyszłym tygodniu.", Side.CLIENT),
        ("Could you please include the dial-in number in the invitation?", Side.US),
    ],
)
def test_real_commitments_and_requests_stay_actions_owned_by_the_side_that_acts(text, side):
    [action] = of_kind(mail(1, text), ClaimKind.ACTION)
    assert action.owner_side == side and not action.done


def test_a_later_message_saying_it_was_booked_closes_the_promise():
    items = [
        mail(1, "I will book a hotel room for your team by Friday.", direction="outbound", author="Rep"),
        mail(
            2,
            "Your hotel room has been booked for two nights.",
            direction="outbound",
            author="Rep",
            at=START + timedelta(days=2),
        ),
    ]
    [action] = [claim for claim in root_of(items).claims if claim.kind == ClaimKind.ACTION]
    assert action.done and [source.interaction_id for source in action.sources] == [1, 2]


# ------------------------------------------------------------------ agreements, events, risks


def test_an_analytical_mail_with_figures_has_no_agreements():
    text = (
        "The pilot cost USD 12,400 so far. Usage grew 35% in May. The old vendor charged EUR 9,000 a year. "
        "We expect another 40 stores next year."
    )
    claims = extract(mail(1, text))
    assert not [claim for claim in claims if claim.kind == ClaimKind.AGREEMENT]
    assert len([claim for claim in claims if claim.kind == ClaimKind.EVENT]) == 4  # the figures stay as facts
    assert not of_kind(mail(2, "We expect the carrier to deal with it."), ClaimKind.AGREEMENT)
    for text in (
        "Agreed, the 5% discount applies from July.",
        "Договорились, скидка 5% с июля.",
        "Zgoda, rabat 5% od lipca.",
    ):
        assert [claim.text for claim in of_kind(mail(3, text), ClaimKind.AGREEMENT)] == [text]


@pytest.mark.parametrize(
    "text",
    [
        "The workshop is scheduled for 14 June at 10:00.",
        "The dinner on Thursday was cancelled.",
        "We will meet at 220 Harbour Road, Suite 12.",
        "Встреча перенесена на четверг.",
        "Spotkanie zostało przełożone na piątek.",
    ],
)
def test_meetings_and_what_happens_to_them_are_events(text):
    assert [claim.text for claim in of_kind(mail(1, text), ClaimKind.EVENT)] == [text]


@pytest.mark.parametrize(
    "text",
    [
        "After this I will never order from you again.",
        "Больше никогда не будем у вас заказывать.",
        "Nigdy więcej nie zamówimy u was.",
    ],
)
def test_a_churn_threat_is_a_risk(text):
    assert [claim.text for claim in of_kind(mail(1, text, channel="chat"), ClaimKind.RISK)] == [text]


@pytest.mark.parametrize(
    "text",
    [
        "To be clear, we are not looking for your money.",
        "Нас пока не интересуют новые тарифы.",
        "Nie jesteśmy zainteresowani abonamentem.",
    ],
)
def test_a_negated_interest_is_a_status_not_a_purchase(text):
    assert not of_kind(mail(1, text), ClaimKind.PURCHASE)
    assert [claim.text for claim in of_kind(mail(1, text), ClaimKind.STATUS)] == [text]
    assert of_kind(mail(2, "We are looking for a new courier partner."), ClaimKind.PURCHASE)


# ------------------------------------------------------------------ people and threads


def test_a_self_introduction_names_the_person_from_the_signature():
    source = mail(
        1,
        "I am the finance director at Harbourline and will sign off the budget.",
        signature="Best regards,\nMarta Quill",
    )
    [person] = [claim for claim in of_kind(source, ClaimKind.PERSON) if "director" in claim.text]
    assert person.owner == "Marta Quill"
    people = render("structured", root_of([source]), client=CLIENT, language="en", as_of=date(2025, 6, 3))
    [section] = [s for s in people.content["sections"] if s["key"] == "people"]
    assert any(
        item["text"].startswith("Marta Quill") and "finance director" in item["text"] for item in section["items"]
    )
    assert not of_kind(mail(2, "I'm shooting in the dark here, but it may be worth a talk."), ClaimKind.PERSON)


def test_a_thread_is_one_event_citing_every_message_and_authors_are_people():
    items = [
        mail(
            index,
            f"Message {index} about the schedule.",
            subject="Re: Spring roadshow" if index else "Spring roadshow",
            author="Pia Lund",
            at=START + timedelta(days=index),
        )
        for index in range(3)
    ]
    root = root_of(items)
    [thread] = [claim for claim in root.claims if (claim.topic or "").startswith("thread:")]
    assert thread.text == "Spring roadshow" and [s.interaction_id for s in thread.sources] == [0, 1, 2]
    assert [claim.owner for claim in root.claims if claim.kind == ClaimKind.PERSON] == ["Pia Lund"]


# ------------------------------------------------------------------ rendering


def test_without_a_status_claim_the_latest_facts_are_the_current_status_and_the_stamp_is_marked():
    items = [
        mail(1, "Spring roadshow kickoff", subject="Spring roadshow"),
        mail(2, "The workshop is scheduled for 14 June at 10:00.", at=START + timedelta(days=3)),
    ]
    result = render("structured", root_of(items), client=CLIENT, language="en", as_of=date(2025, 6, 6))
    [current] = [s for s in result.content["sections"] if s["key"] == "current_status"]
    assert [item["text"] for item in current["items"]] == ["The workshop is scheduled for 14 June at 10:00."]
    assert result.markdown.splitlines()[1].startswith("*as of 2025-06-06")
