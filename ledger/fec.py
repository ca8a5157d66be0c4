"""The FEC, fichier des écritures comptables (article A47 A-1 of the LPF), of one fiscal year.

What the DGFiP's structural checks ("Test Compta Demat") look at, and how we meet it:

- the file `<SIREN>FEC<YYYY>1231.txt` (the fiscal year is the calendar year), ISO 8859-15,
  a first line with the 18 field names, tab separated, every record ended by CRLF: both CR LF
  and LF are legal, and CRLF is what the DGFiP's Windows tool, auditors' spreadsheets and the
  French accounting packages they compare us with read without a second thought;
- text squeezed into ISO 8859-15 without ever failing: tabs, newlines and other control
  characters become spaces, typographic quotes and dashes their ASCII forms, accented letters
  outside the set lose their accent, anything else becomes "?" (`latin9`);
- amounts `1234,56` (comma, no thousands separator), one of Debit/Credit non-zero, the other
  `0,00`; dates `YYYYMMDD`;
- records in chronological order: by EcritureDate, then JournalCode, then EcritureNum, the lines
  of an entry together in the order they were posted;
- EcritureNum is the journal code and the number on 8 digits (`VT00000123`). Entries of closed
  months carry their definitive number (`entry_numbers`, given by `ledger.closing`); those of open
  months a provisional one continuing it, ranked by (entry_date, id) among the journal's
  unnumbered entries: exactly the number the close will give, unless an entry dated earlier in
  an open month arrives in between. Numbers never restart: a journal's numbering runs on across
  fiscal years, each year's file holding one continuous stretch of it;
- ValidDate is the day the entry was validated (`entry_numbers.validated_on`, the close) or,
  for an entry of a month still open, the day it was posted (UTC, as the close's date);
- CompAuxNum/CompAuxLib: the line's auxiliary account (client, supplier, the member on 421)
  or else the member the line belongs to (DOMAIN.md: each line carries its member), both or
  neither.

The rows are streamed from one ordered query straight into the file, so memory stays flat in
the number of lines; the file is written beside its final name and renamed only once complete
and checked (each entry balanced, each journal's numbers continuous), so a failed export never
leaves a half FEC behind. Give `write_fec` a consistent snapshot (`export_fec` does).
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, case, func, select

from engine.money import fmt, from_cents
from ledger import schema
from ledger.db import reading
from engine.wording import term

FIELDS = ("JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
          "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
          "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise")
ENCODING = "iso8859_15"
EOL = "\r\n"
SEPARATOR = "\t"
NUMBER_DIGITS = 8
_FETCH = 2000  # rows per round trip of the streamed query

_SIREN = re.compile(r"[0-9]{9}")


class FecError(ValueError):
    """The FEC cannot be written: a bad argument, or a ledger that breaks a FEC rule."""


@dataclass(frozen=True, slots=True)
class FecSummary:
    """What was written: the file, its counts and totals (the JSON of `cae fec --json`)."""

    path: Path
    entries: int
    lines: int
    total_debit: Decimal
    total_credit: Decimal

    def to_json(self) -> dict[str, object]:
        return {"path": str(self.path), "entries": self.entries, "lines": self.lines,
                "total_debit": fmt(self.total_debit), "total_credit": fmt(self.total_credit)}


def check_siren(siren: str) -> str:
    """The SIREN as 9 digits (spaces, as in "123 456 789", are dropped); FecError otherwise."""
    digits = siren.replace(" ", "")
    if not _SIREN.fullmatch(digits):
        raise FecError(f"SIREN {term(siren)} is not 9 digits")
    return digits


def fec_filename(siren: str, year: int) -> str:
    """`<SIREN>FEC<closing date>.txt`, the fiscal year closing on 31 December."""
    return f"{check_siren(siren)}FEC{year:04d}1231.txt"


def entry_number(journal: str, number: int) -> str:
    """EcritureNum: unique in the file, and the same in every export once definitive."""
    return f"{journal}{number:0{NUMBER_DIGITS}d}"


def amount_text(cents: int) -> str:
    """`1234,56`: comma decimal separator, no thousands separator, never negative here."""
    return f"{cents // 100},{cents % 100:02d}"


@lru_cache(maxsize=4096)  # a year has 366 days: two dates a line need not be formatted anew
def day_text(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


# Characters outside ISO 8859-15 with an obvious stand-in (typography French text is full of).
_STAND_INS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2026": "...", "\u2022": "-", "\u2044": "/", "\u00a4": "EUR",
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i",
}
# Control characters (C0, DEL, C1) and Unicode line/paragraph separators: a space each.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _fits(text: str) -> bool:
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _stand_in(char: str) -> str:
    """One character outside ISO 8859-15, as close as the set allows."""
    if char in _STAND_INS:
        return _STAND_INS[char]
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):  # marks, joiners, variation selectors
        return ""
    if unicodedata.category(char) == "Zs":
        return " "
    out = []
    for part in unicodedata.normalize("NFKD", char):
        if _fits(part):
            out.append(part)
        elif part in _STAND_INS:
            out.append(_STAND_INS[part])
        elif not unicodedata.combining(part):
            out.append("?")
    return "".join(out) or "?"


@lru_cache(maxsize=16384)
def latin9(text: str | None) -> str:
    """A field's text, fit for the file: ISO 8859-15, on one line, without tabs; never fails."""
    if not text:
        return ""
    text = _CONTROLS.sub(" ", text)
    if not _fits(text):
        text = "".join(c if _fits(c) else _stand_in(c) for c in text)
    return text.strip()


def _posted_day(moment: datetime) -> date:
    """The UTC day of a posting time (SQLite hands it back naive, in UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.date()


def _number_offsets(conn: Connection, start: date) -> dict[str, int]:
    """Per journal, the number before the first provisional one of the year.

    The last definitive number, plus the journal's unnumbered entries dated before the year
    (open months of a previous year): provisional numbers run on across years as the close's do.
    """
    e, n = schema.entries, schema.entry_numbers
    offsets: dict[str, int] = {journal: int(top) for journal, top in conn.execute(
        select(n.c.journal, func.max(n.c.number)).group_by(n.c.journal))}
    for journal, count in conn.execute(
            select(e.c.journal, func.count()).select_from(e.outerjoin(n, n.c.entry_id == e.c.id))
            .where(n.c.entry_id.is_(None), e.c.entry_date < start).group_by(e.c.journal)):
        offsets[journal] = offsets.get(journal, 0) + int(count)
    return offsets


@dataclass(frozen=True, slots=True)
class _Record:
    fields: tuple[str, ...]
    entry_id: int
    cents: int  # signed, debit positive


def fec_records(conn: Connection, year: int) -> Iterator[_Record]:
    """The year's lines as FEC records, in file order, checked as they stream by."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    e, ln, a, j, n, m = (schema.entries, schema.lines, schema.accounts, schema.journals,
                         schema.entry_numbers, schema.members)
    query = (select(e.c.id, e.c.journal, j.c.label, n.c.number, n.c.validated_on, e.c.entry_date,
                    e.c.posted_at, e.c.piece_ref, e.c.piece_date, e.c.label, ln.c.account, a.c.label,
                    ln.c.aux_id, ln.c.aux_label, ln.c.member_id, m.c.name, ln.c.amount)
             .select_from(ln.join(e, e.c.id == ln.c.entry_id)
                          .join(j, j.c.code == e.c.journal)
                          .join(a, a.c.number == ln.c.account)
                          .outerjoin(n, n.c.entry_id == e.c.id)
                          .outerjoin(m, m.c.member_id == ln.c.member_id))
             .where(e.c.entry_date >= start, e.c.entry_date <= end)
             # the à-nouveaux open the year; within one day and journal, entries are all
             # definitive or all provisional
             .order_by(e.c.entry_date, case((e.c.journal == "AN", 0), else_=1), e.c.journal, n.c.number,
                       e.c.id, ln.c.id)
             .execution_options(yield_per=_FETCH))
    last_number = _number_offsets(conn, start)
    seen: dict[str, int] = {}  # journal -> last number written in this file
    current: int | None = None
    head: tuple[str, ...] = ()
    tail: tuple[str, ...] = ()
    balance = count = 0
    for (entry_id, journal, journal_label, number, validated_on, entry_date, posted_at, piece_ref,
         piece_date, label, account, account_label, aux_id, aux_label, member_id, member_name,
         cents) in conn.execute(query):
        if entry_id != current:
            _check_entry(current, balance, count)
            if number is None:  # an open month: the provisional number
                number = last_number.get(journal, 0) + 1
                last_number[journal] = number
            if journal in seen and number != seen[journal] + 1:
                raise FecError(f"journal {journal}: entry number {number} follows {seen[journal]}; "
                               "the ledger's numbering is not continuous and chronological")
            seen[journal] = number
            current, balance, count = entry_id, 0, 0
            code = latin9(journal)
            num = entry_number(code, number)
            piece = latin9(piece_ref) or num
            valid = validated_on if validated_on is not None else _posted_day(posted_at)
            head = (code, latin9(journal_label) or code, num, day_text(entry_date))
            tail = (piece, day_text(piece_date), latin9(label) or piece)
        balance += cents
        count += 1
        aux_num, aux_lib = latin9(aux_id), latin9(aux_label)
        if not aux_num:
            aux_num, aux_lib = latin9(member_id), latin9(member_name)
        if aux_num and not aux_lib:
            aux_lib = aux_num
        elif not aux_num:
            aux_lib = ""
        compte = latin9(account)
        yield _Record(head + (compte, latin9(account_label) or compte, aux_num, aux_lib) + tail + (
            amount_text(cents) if cents > 0 else "0,00", amount_text(-cents) if cents < 0 else "0,00",
            "", "", day_text(valid), "", ""), entry_id, cents)
    _check_entry(current, balance, count)


def _check_entry(entry_id: int | None, balance: int, count: int) -> None:
    if entry_id is not None and (balance != 0 or count < 2):
        raise FecError(f"entry {entry_id} does not balance ({count} lines, off by {balance} cents)")


def write_fec(conn: Connection, year: int, siren: str, directory: Path) -> FecSummary:
    """Write the year's FEC into `directory` (created if need be); returns what was written."""
    if not 1 <= year <= 9999:
        raise FecError(f"{year} is not a fiscal year")
    name = fec_filename(siren, year)
    directory.mkdir(parents=True, exist_ok=True)
    path = (directory / name).resolve()
    partial = path.with_name(f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
    entries = lines = debit = credit = 0
    last_entry: int | None = None
    try:
        with partial.open("x", encoding=ENCODING, errors="replace", newline="",
                          buffering=1 << 16) as out:
            out.write(SEPARATOR.join(FIELDS) + EOL)
            for record in fec_records(conn, year):
                out.write(SEPARATOR.join(record.fields) + EOL)
                lines += 1
                if record.entry_id != last_entry:
                    entries, last_entry = entries + 1, record.entry_id
                if record.cents > 0:
                    debit += record.cents
                else:
                    credit -= record.cents
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return FecSummary(path, entries, lines, from_cents(debit), from_cents(credit))


def export_fec(engine: Engine, year: int, siren: str, directory: Path) -> FecSummary:
    """`write_fec` on one snapshot of the ledger.

    PostgreSQL: a read-only REPEATABLE READ transaction, so postings and closes committed during
    the export are not half seen. SQLite: a deferred transaction in WAL mode reads one snapshot
    and lets writers go on (`ledger.db.reading`).
    """
    check_siren(siren)  # before touching the database
    with reading(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            return write_fec(conn, year, siren, directory)
