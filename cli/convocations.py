"""`cae assembly A --send-convocations [--letters FILE.csv]`: convene the electorate (DOMAIN.md G1).

The sending is `streams.convocations`' (the board's button sends the same way); here each
convocation is recorded through the pipeline, and the associates to convene by letter are
written to `--letters`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cli.common import UserError, rules_from, today
from governance.config import load_governance
from streams.convocations import Convening, Sent, send, write_letters
from streams.pipeline import Raw, process

__all__ = ["Sent", "send_convocations"]


def send_convocations(engine: Engine, assembly_id: str, config_path: str | None, letters: Path | None,
                      base_url: str) -> Sent:
    pipeline_rules = rules_from(config_path)

    def record(events: list[dict[str, Any]]) -> None:
        done = process(engine, [Raw(json.dumps(e).encode(), f"convocations:{assembly_id}:{e['member_id']}")
                                for e in events], pipeline_rules)
        if done.dead_letters:
            raise UserError(f"convocation not recorded: {done.dead_letters[0].reason}")

    def write(found: Convening) -> None:
        assert letters is not None
        with letters.open("w", encoding="utf-8", newline="") as out:
            write_letters(out, found.recorded.assembly, found.who.by_letter)

    return send(engine, assembly_id, load_governance(config_path), today(config_path), base_url, record,
                write if letters is not None else None)
