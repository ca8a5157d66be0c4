"""Commands imported when used, so that `cae --help` or `cae statement` start at once.

Every command module pulls in what it works with (SQLAlchemy, the Kafka client, alembic,
WeasyPrint…); importing them all made each `cae` invocation pay about a second for
modules it never used. A `LazyGroup` knows its commands by name, where they live and the
one line `--help` shows for them, and imports a command's module only when it runs
(tests/test_cli_start.py checks that every line here is the command's own).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import click

from engine.suggest import closest


@dataclass(frozen=True, slots=True)
class Lazy:
    """Where a command lives (`module:attribute`) and its line in the group's `--help`."""

    target: str
    help: str

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


class LazyGroup(click.Group):
    """A click group whose commands (`lazy`, by name) are imported when first asked for."""

    def __init__(self, *args: Any, lazy: dict[str, Lazy] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """A command name that is none of ours is a usage error naming the closest ones."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            near = closest(name, self.list_commands(ctx))
            hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their lines, from `lazy` for those not imported: listing them imports nothing."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:
                if self.commands[name].hidden:
                    continue
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                rows.append((name, click.utils.make_default_short_help(self.lazy[name].help, limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
