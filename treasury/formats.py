"""One door for every bank file: the format is guessed from the content, never from the file's name.

`cae bank import FILE [--format …] [--mapping FILE.toml]` (CONTRACT.md §5)
reads through `read_statements`; a file whose content is none of the formats
is refused with one line that says so. A name lies as easily as it helps
(`releve.txt` is CFONB, `export.xml` may be a camt.054 notification); the
first bytes do not.
"""

from __future__ import annotations

import re

from engine.bank import Statement
from engine.messages import Message
from treasury import camt053, cfonb120, csvmap, ofx
from treasury.csvmap import CsvMapping
from treasury.reading import StatementFileError

FORMATS = ("camt053", "ofx", "cfonb120", "csv")
_BOM = b"\xef\xbb\xbf"
# A CFONB 120 opening record: code 01, bank code, …, decimals digit at 20,
# account, …, then the amount at 91–104 ending in its sign character.
_CFONB_OPENING = re.compile(rb"01[0-9]{5}.{12}[0-9].{70}[0-9]{13}[{}A-R]", re.DOTALL)


def guess_format(data: bytes) -> str | None:
    """`camt053`, `ofx` or `cfonb120` from the first bytes; None for anything else (a CSV among them)."""
    start = data.removeprefix(_BOM).lstrip()
    head = start[:65536].upper()
    if head.startswith(b"OFXHEADER") or head.startswith(b"<OFX") or b"<?OFX" in head[:512]:
        return "ofx"
    if head.startswith(b"<"):
        if b"BKTOCSTMRSTMT" in head or b"CAMT." in head[:4096]:
            return "camt053"
        if b"<OFX>" in head[:4096]:
            return "ofx"
        return None
    if _CFONB_OPENING.match(start[:120]):
        return "cfonb120"
    return None


def read_statements(
    data: bytes, format: str | None = None, mapping: CsvMapping | None = None
) -> list[Statement]:
    """The statements of a bank file, in the file's order; `format` forces a reader, `mapping` reads a CSV.

    Raises `StatementFileError` (one line: format, where, why) for a file
    that cannot be read. The statements are not yet checked against rule 10:
    `engine.bank.check_statements` does that with the accounts' last balances.
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}: one of {', '.join(FORMATS)}")
    if not data.strip():
        name = format or "bank statement"
        raise StatementFileError(name, "its beginning", "the file is empty", Message.of("bank.file_empty", format=name))
    chosen = format or guess_format(data) or ("csv" if mapping is not None else None)
    if chosen is None:
        raise StatementFileError("bank statement", "its beginning", "", Message.of("bank.file_unknown"))
    if chosen == "camt053":
        return camt053.read(data)
    if chosen == "ofx":
        return ofx.read(data)
    if chosen == "cfonb120":
        return cfonb120.read(data)
    if mapping is None:
        raise StatementFileError(csvmap.FORMAT, "its mapping", "", Message.of("bank.file_mapping"))
    return csvmap.read(data, mapping)
