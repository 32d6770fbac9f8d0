"""CRM exports as CSV: client notes, and deal-stage history."""

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dateparser

from dossier.settings import get_settings
from ingest.records import ParsedClient, ParsedInteraction, ParseError, ParseResult, Party
from ingest.textfile import decode_head, in_source_timezone, quarantine_file, quarantine_item, read_text
from storage.models import Channel, ContactKind

NOTES_REQUIRED_COLUMNS = ("client", "author", "created_at", "text")
NOTES_OPTIONAL_COLUMNS = ("visibility", "privileged", "note_id")
DEALS_REQUIRED_COLUMNS = ("client", "deal_id", "stage", "changed_at")
DEALS_OPTIONAL_COLUMNS = ("deal_name", "amount", "currency", "author", "reason", "visibility")
CLIENTS_CONTACT_COLUMNS = {"domains": ContactKind.DOMAIN, "emails": ContactKind.EMAIL, "phones": ContactKind.PHONE,
                           "telegram": ContactKind.TELEGRAM, "whatsapp": ContactKind.WHATSAPP}
CLIENTS_OPTIONAL_COLUMNS = ("owner",)
_MULTI_VALUE_SPLIT = re.compile(r"\s*[;,|]\s*|\s{2,}|\t")
CSV_SUFFIXES = (".csv", ".tsv")
DELIMITERS = ",;\t"
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "tak", "да"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "nie", "нет", ""})
_NUMBER = re.compile(r"^[+-]?\d[\d.,]*$")
#: "21.03.2025": dotted numeric dates are written day-first wherever they are used.
_DOTTED_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b")

Row = dict[str, str]
RowConverter = Callable[[Row, Path, int], ParsedInteraction | ParsedClient]


def sniff_notes(path: Path, head: bytes) -> bool:
    """A ``.csv``/``.tsv`` file whose header has every notes column (and is not a deals file)."""
    columns = _head_columns(path, head)
    return set(NOTES_REQUIRED_COLUMNS) <= columns and not set(DEALS_REQUIRED_COLUMNS) <= columns


def sniff_deals(path: Path, head: bytes) -> bool:
    """A ``.csv``/``.tsv`` file whose header has every deal-history column."""
    return set(DEALS_REQUIRED_COLUMNS) <= _head_columns(path, head)


def sniff_clients(path: Path, head: bytes) -> bool:
    """A ``.csv``/``.tsv`` client directory: a ``client`` column and contact columns, nothing dated."""
    columns = _head_columns(path, head)
    return ("client" in columns and bool(columns & set(CLIENTS_CONTACT_COLUMNS))
            and not {"created_at", "changed_at"} & columns)


def parse_clients(path: Path) -> Iterator[ParseResult]:
    """A client directory (CRM accounts export), one client per row; read before any history.

    Columns: ``client`` (required, the client's name) and any of ``domains``, ``emails``,
    ``phones``, ``telegram``, ``whatsapp`` (several values separated by ``;``, ``,`` or ``|``),
    and ``owner`` (login or e-mail of the account manager). The directory is the authority: a
    contact listed here moves, with its history, to this client.
    """
    yield from _parse_rows(path, ("client",), _client_from_row)


def parse_notes(path: Path) -> Iterator[ParseResult]:
    """Client notes, one per row; a header row is required, column names are case-insensitive.

    Columns:

    - ``client`` (required): the client's name, e-mail address, domain or phone number.
    - ``author`` (required): who wrote the note.
    - ``created_at`` (required): when; ISO 8601, or a written date such as "21.03.2025 14:00",
      "March 3, 2025" or "3 марта 2025". Times without a zone are in ``DOSSIER_SOURCE_TIMEZONE``.
    - ``text`` (required): the note.
    - ``visibility`` (optional): the visibility scope's name; empty means public.
    - ``privileged`` (optional): true/false, yes/no, 1/0, tak/nie, да/нет; empty means false.
    - ``note_id`` (optional): the CRM's id of the note, to recognise it when imported again.
    """
    yield from _parse_rows(path, NOTES_REQUIRED_COLUMNS, _note_from_row)


def parse_deals(path: Path) -> Iterator[ParseResult]:
    """Deal-stage changes, one per row; a header row is required, column names are case-insensitive.

    Columns:

    - ``client`` (required): the client's name, e-mail address, domain or phone number.
    - ``deal_id`` (required): the CRM's id of the deal.
    - ``stage`` (required): the stage the deal moved to (e.g. "proposal", "won", "lost").
    - ``changed_at`` (required): when; same formats as the notes' ``created_at``.
    - ``deal_name`` (optional): the deal's title.
    - ``amount`` (optional): the deal's value; "12000.50", "12,000.50" and "12 000,50" all work.
    - ``currency`` (optional): e.g. "EUR".
    - ``author`` (optional): who changed the stage.
    - ``reason`` (optional): why the deal was won or lost.
    - ``visibility`` (optional): the visibility scope's name; empty means public.
    """
    yield from _parse_rows(path, DEALS_REQUIRED_COLUMNS, _deal_from_row)


def _head_columns(path: Path, head: bytes) -> set[str]:
    """The normalized column names in the header of a CSV file's head (empty if not a CSV file)."""
    if path.suffix.lower() not in CSV_SUFFIXES:
        return set()
    header_line = decode_head(head).partition("\n")[0]
    return set(_read_header(header_line))


def _read_header(header_line: str) -> list[str]:
    delimiter = _delimiter(header_line)
    cells = next(csv.reader([header_line], delimiter=delimiter), [])
    return [_column_name(cell) for cell in cells]


def _delimiter(header_line: str) -> str:
    """The delimiter the header row uses, by ``csv.Sniffer`` (comma when it cannot tell)."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _column_name(cell: str) -> str:
    """A header cell as a column name: trimmed, lower-case, spaces and dashes as underscores."""
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _parse_rows(path: Path, required: tuple[str, ...], convert: RowConverter) -> Iterator[ParseResult]:
    """Read a CSV file and convert each data row; bad rows are quarantined, the rest imported."""
    try:
        decoded = read_text(path)
    except ParseError as error:
        yield quarantine_file(path, str(error))
        return
    records = _records(decoded.text)
    _, _, header_cells = next(records)
    columns = [_column_name(cell) for cell in header_cells]
    missing = [column for column in required if column not in columns]
    if missing:
        yield quarantine_file(path, f"not the expected CSV: header lacks column(s) {', '.join(missing)}")
        return
    try:
        for line_number, text, cells in records:
            if any(cell.strip() for cell in cells):
                yield _convert_record(convert, columns, cells, path, line_number, decoded.encode(text))
    except csv.Error as error:
        yield quarantine_file(path, f"malformed CSV, reading stopped: {error}")


def _convert_record(
    convert: RowConverter, columns: list[str], cells: list[str], path: Path, line_number: int, raw: bytes
) -> ParseResult:
    """One record's interaction, or its quarantine record with the reason."""
    try:
        return convert(_row(columns, cells), path, line_number)
    except ParseError as error:
        return quarantine_item(path, f"line {line_number}", str(error), raw)


def _records(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(first line number, exact text, cells) of each CSV record, the header first."""
    delimiter = _delimiter(text.partition("\n")[0])
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    line_number = 1
    for cells in reader:
        yield line_number, "".join(consumed), cells
        line_number += len(consumed)
        consumed.clear()


def _row(columns: list[str], cells: list[str]) -> Row:
    """A record as {column: trimmed value}; raises ``ParseError`` if it has more cells than the header."""
    if len(cells) > len(columns):
        raise ParseError(f"row has {len(cells)} fields but the header has {len(columns)}")
    return {column: cell.strip() for column, cell in zip(columns, cells)}


def _required(row: Row, column: str) -> str:
    value = row.get(column, "")
    if not value:
        raise ParseError(f"missing value for required column {column}")
    return value


def _optional(row: Row, column: str) -> str | None:
    return row.get(column) or None


def _client_from_row(row: Row, path: Path, line_number: int) -> ParsedClient:
    contacts = [Party(kind=kind, value=value)
                for column, kind in CLIENTS_CONTACT_COLUMNS.items()
                for value in _MULTI_VALUE_SPLIT.split(row.get(column, "")) if value]
    if not contacts:
        raise ParseError("no domain, e-mail, phone or messenger handle for the client")
    return ParsedClient(name=_required(row, "client"), contacts=contacts, owner=_optional(row, "owner"),
                        source_ref=f"{path}#line {line_number}")


def _note_from_row(row: Row, path: Path, line_number: int) -> ParsedInteraction:
    return ParsedInteraction(
        channel=Channel.NOTE,
        source_kind="notes",
        occurred_at=parse_datetime(_required(row, "created_at")),
        body=_required(row, "text"),
        author=Party(name=_required(row, "author")),
        client_hint=_required(row, "client"),
        scope=_optional(row, "visibility"),
        privileged=parse_flag(row.get("privileged", "")),
        external_id=_optional(row, "note_id"),
        source_ref=f"{path}#line {line_number}",
        outbound=None,
    )


def _deal_from_row(row: Row, path: Path, line_number: int) -> ParsedInteraction:
    amount_text = _optional(row, "amount")
    meta = {
        "deal_id": _required(row, "deal_id"),
        "deal_name": _optional(row, "deal_name"),
        "stage": _required(row, "stage"),
        "amount": parse_amount(amount_text) if amount_text else None,
        "currency": _optional(row, "currency"),
        "reason": _optional(row, "reason"),
    }
    author = _optional(row, "author")
    return ParsedInteraction(
        channel=Channel.DEAL_EVENT,
        source_kind="deals",
        occurred_at=parse_datetime(_required(row, "changed_at")),
        body=describe_deal_event(meta),
        author=Party(name=author) if author else Party(),
        client_hint=_required(row, "client"),
        scope=_optional(row, "visibility"),
        external_id=meta["deal_id"],
        source_ref=f"{path}#line {line_number}",
        meta=meta,
    )


def describe_deal_event(meta: dict[str, Any]) -> str:
    """One readable line: "Deal Website redesign (D-17) moved to stage won: 12,000.00 EUR. Reason: best price." """
    deal = f"{meta['deal_name']} ({meta['deal_id']})" if meta["deal_name"] else meta["deal_id"]
    statement = f"Deal {deal} moved to stage {meta['stage']}"
    if meta["amount"] is not None:
        statement += f": {meta['amount']:,.2f}" + (f" {meta['currency']}" if meta["currency"] else "")
    if meta["reason"]:
        statement += f". Reason: {meta['reason'].rstrip('.')}"
    return statement + "."


def parse_datetime(text: str) -> datetime:
    """An aware time from ISO 8601 or a written date in any language; raises ``ParseError``."""
    try:
        return in_source_timezone(datetime.fromisoformat(text))
    except ValueError:
        pass
    settings: dict[str, Any] = {
        "TIMEZONE": get_settings().source_timezone,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PARSERS": ["custom-formats", "absolute-time"],
        "REQUIRE_PARTS": ["day", "month", "year"],
    }
    if _DOTTED_DATE.search(text):
        settings["DATE_ORDER"] = "DMY"
    parsed = dateparser.parse(text, settings=settings)
    if parsed is None:
        raise ParseError(f"unreadable date {text!r}")
    return parsed


def parse_amount(text: str) -> float:
    """A number written with either decimal mark and optional grouping ("12 000,50", "12,000.50")."""
    compact = re.sub(r"[\s']", "", text)
    if not _NUMBER.match(compact):
        raise ParseError(f"amount {text!r} is not a number")
    decimal_mark = _decimal_mark(compact)
    grouping_mark = "." if decimal_mark == "," else ","
    normalized = compact.replace(grouping_mark, "").replace(decimal_mark, ".")
    try:
        return float(normalized)
    except ValueError as error:
        raise ParseError(f"amount {text!r} is not a number") from error


def _decimal_mark(compact: str) -> str:
    """Which of "," and "." is the decimal mark of a number written without spaces.

    With both, the last one is; a single kind of mark used more than once, or once before exactly
    three digits ("12,000", "12.000"), groups thousands, so the other one is.
    """
    if "," in compact and "." in compact:
        return "," if compact.rfind(",") > compact.rfind(".") else "."
    mark = "," if "," in compact else "."
    integer_part, _, fraction = compact.rpartition(mark)
    groups_thousands = len(fraction) == 3 and integer_part.lstrip("+-") not in ("", "0")
    if compact.count(mark) > 1 or groups_thousands:
        return "," if mark == "." else "."
    return mark


def parse_flag(text: str) -> bool:
    """A yes/no cell in English, Polish or Russian (empty: no); raises ``ParseError`` otherwise."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ParseError(f"privileged value {text!r} is not yes/no")
