"""One door for bank files: the format is read from the content, whatever the file is called."""

from __future__ import annotations

import pytest

from tests.bank_support import DATA
from treasury.csvmap import load_mapping
from treasury.formats import guess_format, read_statements
from treasury.reading import StatementFileError


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("ing_example_camt053_v02.xml", "camt053"),
        ("oca_bank_statement_import_test_camt053_v02.xml", "camt053"),  # no XML declaration
        ("kedder_iso20022_camt053_v08.xml", "camt053"),
        ("own_camt053_v08_fr.xml", "camt053"),  # a comment before the root
        ("ofxparse_multiple_accounts.ofx", "ofx"),
        ("ofxtools_stmtrs.ofx", "ofx"),
        ("own_ofx2_fr.ofx", "ofx"),
        ("oca_l10n_france_cfonb_classic.cfo", "cfonb120"),
        ("oca_l10n_france_cfonb_no_carriage_return.cfo", "cfonb120"),
        ("pennylane_cfonb_example.txt", "cfonb120"),
        ("own_cfonb_crlf_blank_lines.txt", "cfonb120"),
        ("own_csv_banque.csv", None),
    ],
)
def test_the_format_comes_from_the_content(name: str, format: str | None) -> None:
    assert guess_format((DATA / name).read_bytes()) == format


def test_every_format_reads_through_the_one_door() -> None:
    assert len(read_statements((DATA / "silarhi_cfonb120_complex.txt").read_bytes())) == 8
    assert len(read_statements((DATA / "ing_example_camt053_v02.xml").read_bytes())) == 1
    assert len(read_statements(b"\xef\xbb\xbf" + (DATA / "ofxparse_multiple_accounts.ofx").read_bytes())) == 2
    mapping = load_mapping((DATA / "own_csv_banque.toml").read_text())
    assert len(read_statements((DATA / "own_csv_banque.csv").read_bytes(), None, mapping)) == 1


def test_a_forced_format_is_used_and_an_unknown_file_is_refused_in_one_line() -> None:
    with pytest.raises(StatementFileError, match=r"^OFX file unreadable at its header"):
        read_statements((DATA / "pennylane_cfonb_example.txt").read_bytes(), "ofx")
    with pytest.raises(
        StatementFileError,
        match=r"^bank statement file unreadable at its beginning: neither CAMT\.053, OFX nor CFONB 120",
    ):
        read_statements(b"Date,Amount\n2026-01-01,1.00\n")
    with pytest.raises(StatementFileError, match="a CSV export needs a mapping file"):
        read_statements(b"Date,Amount\n", "csv")
    with pytest.raises(StatementFileError, match="the file is empty"):
        read_statements(b"  \n")
    with pytest.raises(ValueError, match="unknown format 'mt940'"):
        read_statements(b"x", "mt940")
