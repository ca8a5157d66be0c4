"""The README's command examples run as written, so the README never lies (STYLE.md)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED

CAE = str(Path(sys.executable).with_name("cae"))


def readme_block(heading: str) -> list[list[str]]:
    """The `cae` commands of the first sh block under a README heading, comments stripped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [shlex.split(line.split("#", 1)[0]) for line in block.group(1).splitlines()
            if line.startswith("cae ")]


@pytest.mark.parametrize("heading", ["## Using it", "### Governance: assemblies, votes, participation"])
def test_readme_commands_run(heading: str, tmp_path: Path) -> None:
    shutil.copy(SHARED / "scenarios/october/events.jsonl", tmp_path / "october.jsonl")
    env = {**os.environ, "CAE_DATABASE_URL": f"sqlite:///{tmp_path / 'cae.db'}", "MPLBACKEND": "Agg"}
    if "Governance" in heading:
        subprocess.run([CAE, "ingest", str(SHARED / "scenarios/assembly/events.jsonl"), "--json"],
                       cwd=tmp_path, env=env, check=True, capture_output=True)
    commands = readme_block(heading)
    assert commands
    for argv in commands:
        done = subprocess.run([CAE, *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        rejects = argv[1] == "ingest" and "dead letter" in done.stdout  # exit 3: some lines were refused
        assert done.returncode == (3 if rejects else 0), f"{' '.join(argv)}: {done.stderr}"
        assert "Traceback" not in done.stderr
