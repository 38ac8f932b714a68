"""The README's command reference, written from the commands themselves (their `--help`):
`python -m acterr_cli.cli.reference README.md` (`make docs`) rewrites it between its markers, and
tests/test_docs.py fails when it is out of date."""

from __future__ import annotations

import sys

import typer.main
from typer._click.core import Command, Context  # Typer carries its own Click

from acterr_cli.common.docs import replace_between

MARKERS = "commandes"


def command_reference() -> str:
    """Markdown: each command with its usage, its help and its options, as `--help` gives them."""
    from acterr_cli.cli.app import app

    root = typer.main.get_command(app)
    with Context(root, info_name="acterr") as ctx:
        parts = [_section(root, ctx, "acterr", global_options=True)]
        parts += _commands(root, ctx, "acterr")
    return "\n".join(parts)


def _commands(group: Command, parent: Context, path: str) -> list[str]:
    out = []
    for name in group.list_commands(parent):
        command = group.get_command(parent, name)
        with Context(command, info_name=name, parent=parent) as ctx:
            out.append(_section(command, ctx, f"{path} {name}"))
            if hasattr(command, "list_commands"):
                out += _commands(command, ctx, f"{path} {name}")
    return out


def _section(command: Command, ctx: Context, path: str, global_options: bool = False) -> str:
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    title = "Options générales (avant la commande)" if global_options else "Options"
    lines = [f"### `{path}`", "", f"`{usage}`", "", _help(command.help or ""), ""]
    rows = [_row(p, ctx) for p in command.get_params(ctx) if p.param_type_name == "option" and not p.hidden
            and "--help" not in p.opts]
    arguments = [p for p in command.get_params(ctx) if p.param_type_name == "argument"]
    if arguments:
        lines += [f"- `{a.make_metavar(ctx)}` : {_one_line(getattr(a, 'help', '') or '')}" for a in arguments] + [""]
    if rows:
        lines += [f"| {title} | |", "|---|---|", *rows, ""]
    return "\n".join(lines)


def _row(option, ctx: Context) -> str:
    names = ", ".join(f"`{o}`" for o in [*option.opts, *option.secondary_opts])
    if not option.is_flag:
        names += f" *{option.type.name}*"
    help_text = _one_line(option.help or "")
    if option.envvar and option.envvar not in help_text:
        help_text += f" Variable d'environnement : `{option.envvar}`."
    return f"| {names} | {help_text} |"


def _help(text: str) -> str:
    return "\n\n".join(_one_line(p) for p in text.split("\n\n"))


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    replace_between(sys.argv[1], MARKERS, command_reference())
