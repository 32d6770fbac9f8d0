"""CRM exports as CSV: client notes, and deal-stage history."""

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import dateparser

from ingest.records import (
    ParsedClient,
    ParsedInteraction,
    ParseError,
    ParseResult,
    Party,
)
from ingest.textfile import (
    DEFAULT_ZONE,
    decode_head,
    in_source_timezone,
    quarantine_file,
    quarantine_item,
    read_text,
)
from storage.models import Channel, ContactKind

NOTES_REQUIRED_COLUMNS = ("client", "author", "created_at", "text")
NOTES_OPTIONAL_COLUMNS = ("visibility", "privileged", "note_id")
DEALS_REQUIRED_COLUMNS = ("client", "deal_id", "stage", "changed_at")
DEALS_OPTIONAL_COLUMNS = ("deal_name", "amount", "currency", "author", "reason", "visibility")
CLIENTS_CONTACT_COLUMNS = {
    "domains": ContactKind.DOMAIN,
    "emails": ContactKind.EMAIL,
    "phones": ContactKind.PHONE,
    "telegram": ContactKind.TELEGRAM,
    "whatsapp": ContactKind.WHATSAPP,
}
CLIENTS_OPTIONAL_COLUMNS = ("owner",)
_MULTI_VALUE_SPLIT = re.compile(r"\s*[;,|]\s*|\s{2,}|\t")
CSV_SUFFIXES = (".csv", ".tsv")
DELIMITERS = ",;\t"
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "tak", "да"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "nie", "нет", ""})
_NUMBER = re.compile(r"^[+-]?\d[\d.,]*$")
#: "21.03.2025": dotted numeric dates are written day-first wherever they are used.
_DOTTED_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b")
#: Any line ending: Windows, Unix, and the bare CR of old Mac exports.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: The required date columns: a line that fills them with a date starts a row (see ``_check_quotes``).
DATE_COLUMNS = ("created_at", "changed_at")
#: The largest field read (the csv module's default, 128 KiB, is smaller than some real notes).
FIELD_SIZE_LIMIT = 2**31 - 1

csv.field_size_limit(FIELD_SIZE_LIMIT)

Row = dict[str, str]
RowConverter = Callable[[Row, Path, int], ParsedInteraction | ParsedClient]


class _Layout(NamedTuple):
    """How a CSV file is laid out: its delimiter, its columns, the positions rows must fill, its line ending."""

    delimiter: str
    columns: list[str]
    required: list[int]  # positions of the required columns
    date: int | None  # position of the required date column, if the kind has one
    line_break: str  # the header's line ending: the one the rows end with


class _Record(NamedTuple):
    """One CSV record: its first line number, its physical lines (with their line endings), its cells."""

    line_number: int
    lines: list[str]
    cells: list[str]


class _Broken(NamedTuple):
    """Physical lines that are not a sound record (unclosed quote, malformed CSV), and why."""

    line_number: int
    lines: list[str]
    reason: str

    @property
    def ref(self) -> str:
        """Where the lines are, for the quarantine: "line 4" or "lines 4-6"."""
        last = self.line_number + len(self.lines) - 1
        return f"line {self.line_number}" if last == self.line_number else f"lines {self.line_number}-{last}"


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
    return (
        "client" in columns
        and bool(columns & set(CLIENTS_CONTACT_COLUMNS))
        and not {"created_at", "changed_at"} & columns
    )


def parse_clients(path: Path, zone: ZoneInfo = DEFAULT_ZONE) -> Iterator[ParseResult]:
    """A client directory (CRM accounts export), one client per row; read before any history.

    Columns: ``client`` (required, the client's name) and any of ``domains``, ``emails``,
    ``phones``, ``telegram``, ``whatsapp`` (several values separated by ``;``, ``,`` or ``|``),
    and ``owner`` (login or e-mail of the account manager). The directory is the authority: a
    contact listed here moves, with its history, to this client. It holds no times: ``zone`` is not used.
    """
    yield from _parse_rows(path, ("client",), _client_from_row)


def parse_notes(path: Path, zone: ZoneInfo = DEFAULT_ZONE) -> Iterator[ParseResult]:
    """Client notes, one per row; a header row is required, column names are case-insensitive.

    Columns:

    - ``client`` (required): the client's name, e-mail address, domain or phone number.
    - ``author`` (required): who wrote the note.
    - ``created_at`` (required): when; ISO 8601, or a written date such as "21.03.2025 14:00",
      "March 3, 2025" or "3 марта 2025". Times without a zone are in ``zone``.
    - ``text`` (required): the note.
    - ``visibility`` (optional): the visibility scope's name; empty means public.
    - ``privileged`` (optional): true/false, yes/no, 1/0, tak/nie, да/нет; empty means false.
    - ``note_id`` (optional): the CRM's id of the note, to recognise it when imported again.
    """
    yield from _parse_rows(path, NOTES_REQUIRED_COLUMNS, partial(_note_from_row, zone=zone))


def parse_deals(path: Path, zone: ZoneInfo = DEFAULT_ZONE) -> Iterator[ParseResult]:
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
    yield from _parse_rows(path, DEALS_REQUIRED_COLUMNS, partial(_deal_from_row, zone=zone))


def _head_columns(path: Path, head: bytes) -> set[str]:
    """The normalized column names in the header of a CSV file's head (empty if not a CSV file)."""
    if path.suffix.lower() not in CSV_SUFFIXES:
        return set()
    header_line = _first_line(decode_head(head))
    return {_column_name(cell) for cell in _cells(header_line, _delimiter(header_line))}


def _first_line(text: str) -> str:
    """The text up to its first line ending of any kind."""
    return _LINE_BREAK.split(text, maxsplit=1)[0]


def _cells(line: str, delimiter: str) -> list[str]:
    """The cells of one line read alone as CSV (none when it is not valid CSV on its own)."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


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
    lines = list(io.StringIO(decoded.text, newline=""))  # keeps each line's own ending, CR-only too
    delimiter = _delimiter(_first_line(lines[0]))
    header = next(_read_records(lines, 0, delimiter))
    if isinstance(header, _Broken):
        yield quarantine_file(path, f"unreadable CSV header: {header.reason}")
        return
    columns = [_column_name(cell) for cell in header.cells]
    missing = [column for column in required if column not in columns]
    if missing:
        yield quarantine_file(path, f"not the expected CSV: header lacks column(s) {', '.join(missing)}")
        return
    layout = _layout(delimiter, columns, required, _line_break(header.lines[-1]))
    found_rows = False
    for record in _checked_records(lines, len(header.lines), layout):
        raw = decoded.encode("".join(record.lines))
        if isinstance(record, _Broken):
            found_rows = True
            yield quarantine_item(path, record.ref, record.reason, raw)
        elif any(cell.strip() for cell in record.cells):
            found_rows = True
            yield _convert_record(convert, columns, record.cells, path, record.line_number, raw)
    if not found_rows:
        yield quarantine_file(path, "header only: the CSV has no data rows")


def _layout(delimiter: str, columns: list[str], required: tuple[str, ...], line_break: str) -> _Layout:
    """The layout of a file whose header has every ``required`` column."""
    date_column = next((column for column in required if column in DATE_COLUMNS), None)
    return _Layout(
        delimiter,
        columns,
        [columns.index(column) for column in required],
        columns.index(date_column) if date_column else None,
        line_break,
    )


def _line_break(line: str) -> str:
    """The line ending a physical line ends with ("" for the last line of a file without one)."""
    return line[len(line.rstrip("\r\n")) :]


def _convert_record(
    convert: RowConverter, columns: list[str], cells: list[str], path: Path, line_number: int, raw: bytes
) -> ParseResult:
    """One record's interaction, or its quarantine record with the reason."""
    try:
        return convert(_row(columns, cells), path, line_number)
    except ParseError as error:
        return quarantine_item(path, f"line {line_number}", str(error), raw)


def _read_records(lines: list[str], start: int, delimiter: str) -> Iterator[_Record | _Broken]:
    """The records from line index ``start`` on; a CSV error ends them with the lines it was read from."""
    consumed: list[str] = []

    def feed() -> Iterator[str]:
        for index in range(start, len(lines)):
            consumed.append(lines[index])
            yield lines[index]

    line_number = start + 1
    try:
        for cells in csv.reader(feed(), delimiter=delimiter):
            yield _Record(line_number, consumed.copy(), cells)
            line_number += len(consumed)
            consumed.clear()
    except csv.Error as error:
        yield _Broken(line_number, consumed or lines[start : start + 1], f"malformed CSV: {error}")


def _checked_records(lines: list[str], start: int, layout: _Layout) -> Iterator[_Record | _Broken]:
    """The records from line index ``start`` on; after broken lines, reading resumes at the next line."""
    while start < len(lines):
        for record in _joined_records(_read_records(lines, start, layout.delimiter), layout):
            if isinstance(record, _Record):
                record = _check_quotes(record, len(lines), layout)
            yield record
            if isinstance(record, _Broken):
                start = record.line_number - 1 + len(record.lines)
                break
        else:
            return


def _joined_records(records: Iterator[_Record | _Broken], layout: _Layout) -> Iterator[_Record | _Broken]:
    """The records, each joined with the lines after it that continue its last field (see ``_continues``)."""
    pending: _Record | None = None
    for record in records:
        if pending is not None and isinstance(record, _Record) and _continues(pending, record, layout):
            pending = _join(pending, record)
            continue
        if pending is not None:
            yield pending
        pending = record if isinstance(record, _Record) else None
        if isinstance(record, _Broken):
            yield record
    if pending is not None:
        yield pending


def _continues(record: _Record, following: _Record, layout: _Layout) -> bool:
    """Whether ``following`` is the rest of ``record``'s last field, cut at a line break left unquoted.

    CSV writers quote only fields holding their own line ending, so a note written with CR line
    endings may hold an unquoted LF. That break continues the field when the line after it cannot
    be a row of its own, the record is short of cells or ends with another line ending than the
    rows do, and joined they do not exceed the header's width.
    """
    if not record.cells or not following.cells:
        return False
    width = len(layout.columns)
    other_break = _line_break(record.lines[-1]) not in (layout.line_break, "")
    if not (len(record.cells) < width or other_break) or len(record.cells) + len(following.cells) - 1 > width:
        return False
    return not _fills_row([cell.strip() for cell in following.cells], layout)


def _join(record: _Record, following: _Record) -> _Record:
    """One record of ``record`` and the continuation of its last field."""
    last = record.cells[-1] + _line_break(record.lines[-1]) + following.cells[0]
    return _Record(record.line_number, record.lines + following.lines, [*record.cells[:-1], last, *following.cells[1:]])


def _check_quotes(record: _Record, line_count: int, layout: _Layout) -> _Record | _Broken:
    """The record, or its lines up to where an unclosed quote swallowed the rows that follow."""
    if len(record.lines) > 1 and (layout.date is not None or len(record.cells) < len(layout.columns)):
        for offset, line in enumerate(record.lines[1:], start=1):
            if _starts_row(line, layout):
                reason = (
                    f"unclosed quote: the quoted field opened on line {record.line_number} runs on into "
                    f"line {record.line_number + offset}, which reads as a row of its own"
                )
                return _Broken(record.line_number, record.lines[:offset], reason)
    reaches_end = record.line_number - 1 + len(record.lines) == line_count
    if reaches_end and _ends_inside_quotes("".join(record.lines), layout.delimiter):
        return _Broken(record.line_number, record.lines, "unclosed quote: the file ends inside a quoted field")
    return record


def _starts_row(line: str, layout: _Layout) -> bool:
    """Whether a line read alone fills every required column (with a readable date, if the kind has one)."""
    return _fills_row([cell.strip() for cell in _cells(line, layout.delimiter)], layout)


def _fills_row(cells: list[str], layout: _Layout) -> bool:
    """Whether trimmed cells fill every required column (with a readable date, if the kind has one)."""
    if len(cells) <= max(layout.required) or not all(cells[index] for index in layout.required):
        return False
    if layout.date is None:
        return True
    try:
        parse_datetime(cells[layout.date], DEFAULT_ZONE)  # whether it reads: the zone changes no answer
    except ParseError:
        return False
    return True


def _ends_inside_quotes(text: str, delimiter: str) -> bool:
    """Whether ``text`` ends inside a quoted field (which ``csv.reader`` closes silently at the end).

    A quote appended on a new line then closes the open field, keeping one record, instead of
    starting a record of its own.
    """
    return len(list(csv.reader(io.StringIO(text + '\n"', newline=""), delimiter=delimiter))) == 1


def _row(columns: list[str], cells: list[str]) -> Row:
    """A record as {column: trimmed value}; raises ``ParseError`` if it has more cells than the header."""
    if len(cells) > len(columns):
        raise ParseError(f"row has {len(cells)} fields but the header has {len(columns)}")
    return {column: cell.strip() for column, cell in zip(columns, cells, strict=False)}


def _required(row: Row, column: str) -> str:
    value = row.get(column, "")
    if not value:
        raise ParseError(f"missing value for required column {column}")
    return value


def _optional(row: Row, column: str) -> str | None:
    return row.get(column) or None


def _client_from_row(row: Row, path: Path, line_number: int) -> ParsedClient:
    contacts = [
        Party(kind=kind, value=value)
        for column, kind in CLIENTS_CONTACT_COLUMNS.items()
        for value in _MULTI_VALUE_SPLIT.split(row.get(column, ""))
        if value
    ]
    if not contacts:
        raise ParseError("no domain, e-mail, phone or messenger handle for the client")
    return ParsedClient(
        name=_required(row, "client"),
        contacts=contacts,
        owner=_optional(row, "owner"),
        source_ref=f"{path}#line {line_number}",
    )


def _note_from_row(row: Row, path: Path, line_number: int, *, zone: ZoneInfo) -> ParsedInteraction:
    return ParsedInteraction(
        channel=Channel.NOTE,
        source_kind="notes",
        occurred_at=parse_datetime(_required(row, "created_at"), zone),
        body=_required(row, "text"),
        author=Party(name=_required(row, "author")),
        client_hint=_required(row, "client"),
        scope=_optional(row, "visibility"),
        privileged=parse_flag(row.get("privileged", "")),
        external_id=_optional(row, "note_id"),
        source_ref=f"{path}#line {line_number}",
        outbound=None,
    )


def _deal_from_row(row: Row, path: Path, line_number: int, *, zone: ZoneInfo) -> ParsedInteraction:
    amount_text = _optional(row, "amount")
    deal_id = _required(row, "deal_id")
    meta = {
        "deal_id": deal_id,
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
        occurred_at=parse_datetime(_required(row, "changed_at"), zone),
        body=describe_deal_event(meta),
        author=Party(name=author) if author else Party(),
        client_hint=_required(row, "client"),
        scope=_optional(row, "visibility"),
        external_id=deal_id,
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


def parse_datetime(text: str, zone: ZoneInfo) -> datetime:
    """An aware time from ISO 8601 or a written date in any language (in ``zone`` unless it names one); raises
    ``ParseError``."""
    try:
        return in_source_timezone(datetime.fromisoformat(text), zone)
    except ValueError:
        pass
    settings: dict[str, Any] = {
        "TIMEZONE": zone.key,
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
