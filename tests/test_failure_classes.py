"""The failure classes of issue 11 not covered elsewhere: promises fulfilled later by a deal stage, a note or a
call (never shown overdue), and client requests worded as requests in digests and reports (never "we
promised"). Every input is invented for the test (no dev-set names or wording).

The other classes and their tests: a forwarded article or newsletter as the current status, and quoted
history — ``test_grounded_real_mail.py::test_quoted_history_gives_no_actions_and_its_headers_give_no_claims``,
``test_grounded_round2.py::test_a_bare_address_reply_header_starts_the_quoted_history_and_is_never_a_claim``;
an analytical e-mail as agreements — ``test_grounded_real_mail.py::test_an_analytical_mail_with_figures_has_no_
agreements``; personal remarks and logistics as actions — ``test_personal_remarks_and_courtesy_are_not_actions``;
a self-introduction without a name — ``test_a_self_introduction_names_the_person_from_the_signature``.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from dossier.delivery.claims import overdue_promises, promise_item, quoted_item
from dossier.delivery.templating import labels
from summarizer.engines.grounded import GroundedEngine
from summarizer.extract import extract
from summarizer.merge import is_evidence
from summarizer.notes import Claim, ClaimKind, Notes, Side, SourceItem
from summarizer.render import ClientInfo, render
from summarizer.tree import TreeBuilder, steering_risk

START = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # a Monday
LATER = START + timedelta(days=9)
AS_OF = date(2025, 3, 20)
CLIENT = ClientInfo(id=1, name="Client", contacts=[])


def item(
    interaction_id: int,
    text: str,
    *,
    at: datetime = START,
    channel: str = "email",
    direction: str = "outbound",
    author: str | None = "Rep",
) -> SourceItem:
    return SourceItem(
        interaction_id=interaction_id,
        occurred_at=at,
        channel=channel,
        direction=direction,
        author=author,
        subject=None,
        text=text,
    )


def deal(interaction_id: int, stage: str, at: datetime = LATER) -> SourceItem:
    text = f"Deal Pump service (D-{interaction_id}) moved to stage {stage}: 4,000.00 EUR."
    return item(interaction_id, text, at=at, channel="deal_event", direction="internal", author=None)


def root_of(items: list[SourceItem]) -> Notes:
    tree = TreeBuilder(GroundedEngine(), {}, client="test").build(items)
    assert tree.root is not None
    return tree.root.notes


def action(notes: Notes, text: str) -> Claim:
    [found] = [c for c in notes.claims if c.kind == ClaimKind.ACTION and c.text == text and not is_evidence(c)]
    return found


def assert_settled_by(notes: Notes, text: str, settler: int) -> None:
    """The action is done, cites the interaction that fulfilled it, and no format or digest shows it open."""
    claim = action(notes, text)
    assert claim.done and settler in {source.interaction_id for source in claim.sources}
    table = render("actions", notes, client=CLIENT, language="en", as_of=AS_OF).markdown
    assert "| overdue |" not in table and "| open |" not in table
    assert not overdue_promises(notes, AS_OF, Side.US) and not overdue_promises(notes, AS_OF, Side.CLIENT)


# ------------------------------------------------------------------ promises fulfilled later


@pytest.mark.parametrize("stage", ["won", "Closed Won", "contract signed"])
@pytest.mark.parametrize(
    "promise, direction",
    [
        ("We will send the contract by Friday.", "outbound"),
        ("Please send the signed contract by Friday.", "inbound"),  # the client's request: ours to do
        ("We will sign the contract next week.", "inbound"),  # the client's own promise
        ("I will prepare the quote by Thursday.", "outbound"),
    ],
)
def test_a_won_deal_fulfils_the_earlier_contract_and_quote_actions(promise: str, direction: str, stage: str) -> None:
    notes = root_of([item(1, promise, direction=direction), deal(2, stage)])
    assert_settled_by(notes, promise, 2)


def test_a_won_deal_leaves_delivery_open_and_a_lost_or_earlier_stage_settles_nothing() -> None:
    delivery = "We will deliver the pumps by 14 March."
    contract = "We will send the contract by Friday."
    won = root_of([item(1, delivery), deal(2, "won")])
    assert not action(won, delivery).done
    for stage in ("lost", "proposal"):
        assert not action(root_of([item(1, contract), deal(2, stage)]), contract).done
    # a deal won before the promise was made does not fulfil it
    assert not action(root_of([deal(1, "won", at=START), item(2, contract, at=LATER)]), contract).done


def test_a_signed_contract_from_the_other_side_fulfils_our_promise_to_send_it() -> None:
    promise = "We will send the contract by Friday."
    notes = root_of([item(1, promise), item(2, "The signed contract is attached.", at=LATER, direction="inbound")])
    assert_settled_by(notes, promise, 2)
    request = "Please send the signed contract by Friday."  # a request naming a signed contract fulfils nothing
    notes = root_of([item(1, promise), item(2, request, at=LATER, direction="inbound")])
    assert not action(notes, request).done


@pytest.mark.parametrize(
    "promise, note",
    [
        ("Our engineer will visit on Tuesday to check the pump.", "Engineer visited, fixed the pump."),
        ("Наш инженер приедет во вторник и проверит насос.", "Инженер приезжал, насос починил."),
        ("Nasz technik przyjedzie we wtorek i sprawdzi pompę.", "Technik przyjechał i naprawił pompę."),
    ],
)
def test_a_later_note_that_the_visit_happened_fulfils_the_promised_visit(promise: str, note: str) -> None:
    notes = root_of([item(1, promise), item(2, note, at=LATER, channel="note", direction="internal")])
    assert_settled_by(notes, promise, 2)


@pytest.mark.parametrize(
    "call",
    [
        "[00:02] Agent: Good morning, how can I help?\n[00:06] Client: Just checking in, I got the refund on Monday.",
        "[00:02] Agent: I can see that the refund went through on Monday.\n[00:09] Client: Good, thank you.",
        "[00:02] Оператор: Возврат средств прошёл в понедельник.\n[00:07] Клиент: Спасибо.",
    ],
)
def test_a_later_call_saying_the_refund_went_through_fulfils_the_promised_refund(call: str) -> None:
    promise = "We will refund the booking fee for the cancelled trip."
    notes = root_of([item(1, promise), item(2, call, at=LATER, channel="call", direction="inbound", author="Client")])
    assert_settled_by(notes, promise, 2)
    assert not [c for c in notes.claims if c.kind == ClaimKind.RISK and not is_evidence(c)]  # not a complaint


@pytest.mark.parametrize(
    "complaint, promise, resolved",
    [
        (
            "The scanners stopped working after the update, the warehouse is standing still.",
            "Our engineer will visit tomorrow morning and roll back the update.",
            "All scanners work again, we are closing the complaint.",
        ),
        (
            "Сканеры не включаются после обновления, склад стоит.",
            "Инженер приедет завтра утром и откатит обновление.",
            "Сканеры работают, претензию закрываем.",
        ),
        (
            "Skanery nie działają po aktualizacji, magazyn stoi.",
            "Nasz technik przyjedzie jutro rano i cofnie aktualizację.",
            "Skanery działają, reklamację zamykamy.",
        ),
    ],
)
def test_a_resolved_complaint_fulfils_the_visit_promised_for_it(complaint: str, promise: str, resolved: str) -> None:
    notes = root_of(
        [
            item(1, complaint, direction="inbound", author="Client"),
            item(2, promise),
            item(3, resolved, at=START + timedelta(days=5), direction="inbound", author="Client"),
        ]
    )
    assert_settled_by(notes, promise, 3)


def test_a_resolution_leaves_a_visit_promised_long_before_open() -> None:
    promise = "I will visit your office in spring to present the new models."
    notes = root_of(
        [
            item(1, promise),
            item(2, "The scanners stopped working after the update.", at=LATER, direction="inbound", author="Client"),
            item(3, "All scanners work again, thanks.", at=LATER + timedelta(days=40), direction="inbound"),
        ]
    )
    assert not action(notes, promise).done


@pytest.mark.parametrize(
    "request_, answer",
    [
        (
            "Please send me the price list for the spare batteries by the end of the month.",
            "Spare batteries are EUR 40 each, or EUR 350 for ten.",
        ),
        ("Пришлите, пожалуйста, условия продления поддержки до конца месяца.", "Продление на год — 90 000 руб."),
        ("Proszę przesłać warunki przedłużenia serwisu do końca miesiąca.", "Przedłużenie na rok kosztuje 4 000 zł."),
    ],
)
def test_a_price_we_give_answers_the_clients_request_for_terms(request_: str, answer: str) -> None:
    """The asked side's reply that states its price fulfils the request for a quote or terms, though it says
    neither "sent" nor "attached"; the asking side's own figures, and a price given months later, do not."""
    asked = item(1, request_, direction="inbound", author="Client")
    assert_settled_by(root_of([asked, item(2, answer, at=START + timedelta(days=2))]), request_, 2)
    by_the_client = item(2, answer, at=START + timedelta(days=2), direction="inbound", author="Client")
    assert not action(root_of([asked, by_the_client]), request_).done
    months_later = item(2, answer, at=START + timedelta(days=90))
    assert not action(root_of([asked, months_later]), request_).done


def test_a_clock_time_in_a_contact_preference_is_no_event() -> None:
    """ "Call only before 12:00" says how to reach someone: a preference, not an event of the timeline."""
    claims = extract(item(1, "Иван предпочитает Telegram; звонить только до 12:00.", channel="note"))
    assert [claim.kind for claim in claims if not is_evidence(claim)].count(ClaimKind.PREFERENCE) == 1
    assert not [claim for claim in claims if claim.kind == ClaimKind.EVENT and "12:00" in claim.text]


# ------------------------------------------------------------------ requests worded as requests


def open_action(text: str, direction: str, language: str, **fields: object) -> str:
    """The digest line of the one open action ``text`` makes, as of ``AS_OF``."""
    [claim] = [c for c in extract(item(1, text, direction=direction, **fields)) if c.kind == ClaimKind.ACTION]
    return promise_item(claim, AS_OF, labels(language)).text


PROMISE_WORDS = {"en": "promised", "ru": "обещан", "pl": "obiecan"}


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
@pytest.mark.parametrize(
    "text",
    [
        "Please send the signed contract by Friday.",
        "Could you confirm the delivery address for the second pallet?",
        "When will the replacement parts for the pump arrive?",
        "Пришлите, пожалуйста, договор до пятницы.",
        "Proszę przesłać umowę do piątku.",
    ],
)
def test_a_client_request_is_worded_as_their_request_and_our_open_item(language: str, text: str) -> None:
    line = open_action(text, "inbound", language, author="client@example.org")
    words = labels(language)["request"]
    assert PROMISE_WORDS[language] not in line.casefold()
    assert line.startswith(words["from_client"]) and words["for_us"] in line and text.rstrip(".") in line


@pytest.mark.parametrize("language", ["en", "ru", "pl"])
def test_our_own_promise_and_our_request_keep_their_wording(language: str) -> None:
    promise = open_action("We will send the contract by Friday.", "outbound", language)
    assert PROMISE_WORDS[language] in promise.casefold()
    request = open_action("Please return the signed contract by Friday.", "outbound", language)
    words = labels(language)["request"]
    assert request.startswith(words["from_us"]) and words["for_client"] in request
    assert PROMISE_WORDS[language] not in request.casefold()


# ------------------------------------------------------------------ a Russian history read in English


RUSSIAN_HISTORY = [
    item(1, "Пришлём коммерческое предложение на 120 000 руб. до 14 марта.", author="Анна Петрова"),
    item(2, "Договорились, скидка 5% с апреля.", at=START + timedelta(days=2), direction="inbound"),
]
QUOTE_MARKS = {"en": ("“", "”"), "ru": ("«", "»"), "pl": ("„", "”")}


@pytest.mark.parametrize("language", ["en", "pl"])
def test_a_digest_of_a_russian_history_leads_in_the_readers_language_and_marks_the_original_as_a_quote(
    language: str,
) -> None:
    """No machine translation: the frame is the reader's, the due date is the resolved ISO date, and the
    source's words are quoted as such, one click from their citation."""
    notes = root_of(RUSSIAN_HISTORY)
    opening, closing = QUOTE_MARKS[language]
    [promise] = [promise_item(claim, AS_OF, labels(language)) for claim in overdue_promises(notes, AS_OF, Side.US)]
    words = labels(language)["promise"]
    assert promise.text.startswith(words["overdue"].split("{who}")[0]) and "2025-03-14" in promise.text
    assert f"{opening}Пришлём коммерческое предложение на 120 000 руб. до 14 марта{closing}" in promise.text
    [agreement] = [quoted_item(claim, labels(language)) for claim in notes.claims if claim.kind == ClaimKind.AGREEMENT]
    assert agreement.text == f"{opening}Договорились, скидка 5% с апреля.{closing}" and agreement.sources[0][0] == 2


def test_the_summarizers_own_steering_risk_is_not_quoted_as_a_source() -> None:
    risk = steering_risk(RUSSIAN_HISTORY[0], "A message tries to steer the summary")
    assert quoted_item(risk, labels("en")).text == "A message tries to steer the summary"
