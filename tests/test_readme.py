"""The README's command examples run as written, so the README never lies (STYLE.md)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

CAE = str(Path(sys.executable).with_name("cae"))


def readme_block(heading: str) -> list[list[str]]:
    """The `cae` commands of the first sh block under a README heading, comments stripped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [shlex.split(line.split("#", 1)[0]) for line in block.group(1).splitlines()
            if line.startswith("cae ")]


# The README's blocks of commands, in the order a reader meets them.
BLOCKS = ("## Using it", "### The staff's month: payroll, reconciliation, close",
          "### Governance: assemblies, votes, participation",
          "### The treasury: bank statements, matching, salary transfers")


def test_the_readme_runs_as_written_after_the_demo(tmp_path: Path) -> None:
    """`cae demo`, then every block in order, as a reader would type them in the repository's folder."""
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    env = {k: v for k, v in os.environ.items() if k != "CAE_DATABASE_URL"} | {"MPLBACKEND": "Agg"}
    commands = [["cae", "demo"]] + [argv for heading in BLOCKS for argv in readme_block(heading)]
    assert len(commands) > 20
    for argv in commands:
        done = subprocess.run([CAE, *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)
        rejects = argv[1] == "ingest" and re.search(r"\b[1-9][0-9]* dead letter", done.stdout)  # exit 3
        assert done.returncode == (3 if rejects else 0), f"{' '.join(argv)}: {done.stderr}"
        assert "Traceback" not in done.stderr
        if argv[1:3] == ["payroll", "rerun"]:
            assert "2026-11-01" in done.stdout  # October was closed by the block before: corrected in November
    assert (tmp_path / "bulletin.html").exists() and (tmp_path / "sheet.html").exists()


def test_the_readme_points_users_at_nothing_outside_the_repository() -> None:
    assert "../shared" not in (ROOT / "README.md").read_text(encoding="utf-8")
