"""The `acterr` command: a thin Typer shell over the library.

Every command resolves its inputs, calls one library function and prints; known errors become a
one-line French message and their exit code (see README, « Codes de sortie »); anything else is a
bug: exit 1, with the traceback only under `--debug`.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from acterr_cli import __version__, interrupts
from acterr_cli.cli import commands, french
from acterr_cli.cli.context import State, console_err
from acterr_cli.errors import ActerrError, ExitCode, system_reason

app = typer.Typer(
    cls=french.FrenchGroup,
    subcommand_metavar=french.SUBCOMMAND,
    name="acterr",
    help="acterr — mesurer et montrer la valeur créée par les organismes Hlm sur leur territoire.\n\n"
         "Chaîne habituelle : acterr import FICHIERS…, puis acterr compute --territoire EPCI, puis acterr export.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"acterr {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    espace: Path = typer.Option(
        Path("acterr-espace"), "--espace", envvar="ACTERR_ESPACE",
        help="Dossier de l'espace de travail (sinon variable ACTERR_ESPACE, sinon ./acterr-espace).",
    ),
    referentiel: Optional[List[Path]] = typer.Option(
        None, "--referentiel", envvar="ACTERR_REFERENTIEL",
        help="Fichier TOML qui modifie des paramètres ou ajoute des indicateurs (répétable ; voir README).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Affiche la trace complète en cas d'erreur interne."),
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True, help="Affiche la version et quitte."),
) -> None:
    ctx.obj = State(espace=espace, debug=debug, referentiel=list(referentiel or []))


commands.register(app)


def main() -> None:
    """Entry point: runs the app and turns errors into messages and exit codes."""
    interrupts.install()  # already done by acterr_cli.cli when run as the `acterr` command
    interrupts.arm()
    try:
        _main()
    except interrupts.Interrupted as exc:  # Ctrl-C, SIGTERM, SIGHUP: see interrupts.py
        _interrupted(exc.signum)
    except KeyboardInterrupt:
        _interrupted(signal.SIGINT)
    finally:
        interrupts.exiting()


def _interrupted(signum: int) -> None:
    interrupts.exiting()
    interrupts.tell()
    sys.exit(128 + int(signum))


def _main() -> None:
    debug = "--debug" in sys.argv
    try:
        # Without standalone mode, click returns the code of a typer.Exit instead of exiting.
        code = app(standalone_mode=False, prog_name="acterr")
        sys.exit(code if isinstance(code, int) else 0)
    except ActerrError as exc:
        console_err.print(f"[bold red]Erreur[/] : {escape(exc.message)}", highlight=False)
        sys.exit(int(exc.exit_code))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort as exc:  # Click's form of a KeyboardInterrupt
        if isinstance(exc.__context__, interrupts.Interrupted):
            raise exc.__context__ from None
        _interrupted(interrupts.received() or signal.SIGINT)
    except OSError as exc:  # the system's doing (disk full, rights), not a bug: said as such
        where = f" : {exc.filename}" if exc.filename else ""
        console_err.print(f"[bold red]Erreur[/] : lecture ou écriture impossible{escape(where)} ({escape(system_reason(exc))}). "
                          "Vérifiez la place sur le disque et les droits du dossier (aucun fichier n'est laissé à moitié écrit).",
                          highlight=False)
        _trace(debug)
        sys.exit(int(ExitCode.INTERNAL))
    except Exception as exc:  # click usage errors and bugs
        usage = _usage_error(exc)
        if usage is not None:
            console_err.print(usage, highlight=False)
            sys.exit(int(ExitCode.USAGE))
        console_err.print(f"[bold red]Erreur interne[/] : {type(exc).__name__}: {exc}", highlight=False)
        if not _trace(debug):
            console_err.print("Relancez avec --debug pour la trace complète, et signalez le problème.")
        sys.exit(int(ExitCode.INTERNAL))


def _trace(debug: bool) -> bool:
    """The traceback of the error being handled, under --debug or ACTERR_DEBUG; whether it was shown."""
    if debug or os.environ.get("ACTERR_DEBUG"):
        console_err.print(traceback.format_exc(), highlight=False, markup=False)
        return True
    return False


def _usage_error(exc: Exception) -> str | None:
    """Click's usage errors (unknown option, missing argument…), told in French."""
    if getattr(exc, "exit_code", None) == 2 and hasattr(exc, "format_message"):
        ctx = getattr(exc, "ctx", None)
        hint = f"\n{ctx.get_usage()}\nAide : {ctx.command_path} --help" if ctx else ""
        return f"Erreur d'utilisation : {french.usage_error(exc.format_message())}{hint}"
    return None
