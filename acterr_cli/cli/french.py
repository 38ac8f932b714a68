"""Typer's and Click's own words in French: the help option, the usage line, the labels of the
help pages and the usage errors (unknown command or option, missing argument, bad value…).

The commands' texts are French; these come from the libraries, in English, and a French user
reads them on every `--help` and every typo. Typer offers no translation: the help option and the
usage line are changed in our command classes (its `cls` extension point), the labels are the
module constants its help pages read when they are drawn, and the errors are matched whole when
they are shown — a message not listed stays as Click wrote it.
"""

from __future__ import annotations

import re

from typer.core import TyperCommand, TyperGroup

HELP_OPTION = "Affiche cette aide et quitte."
USAGE = "Utilisation : "
SUBCOMMAND = "COMMANDE [ARGUMENTS]..."
_LABELS = {
    "DEFAULT_STRING": "[par défaut : {}]",
    "ENVVAR_STRING": "[variable : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEPRECATED_STRING": "(obsolète) ",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Interrompu.",
}


class _French:
    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    def format_help(self, ctx, formatter) -> None:
        use_french_labels()  # only when help is drawn: Typer's help module takes 30 ms to load
        super().format_help(ctx, formatter)

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix=USAGE)

    def collect_usage_pieces(self, ctx) -> list[str]:
        # Typer writes a required argument in braces (« {FICHIERS} »): here as usual, « FICHIERS... ».
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece for piece in super().collect_usage_pieces(ctx)]


class FrenchGroup(_French, TyperGroup):
    pass


class FrenchCommand(_French, TyperCommand):
    pass


def use_french_labels() -> None:
    import typer.rich_utils as rich_utils

    for name, text in _LABELS.items():
        if hasattr(rich_utils, name):  # a later Typer may rename them: then they stay English
            setattr(rich_utils, name, text)


_TYPES = {"int": "un nombre entier", "integer": "un nombre entier", "float": "un nombre", "boolean": "oui ou non (true/false)"}
_ERRORS: list[tuple[re.Pattern, object]] = [
    (re.compile(r"No such command '(.*)'\."), lambda m: f"commande inconnue « {m[1]} » (voir acterr --help)."),
    (re.compile(r"No such option: (\S+) \(Possible options: (.*)\)"), lambda m: f"option inconnue : {m[1]} (options proches : {m[2]})."),
    (re.compile(r"No such option: (\S+)"), lambda m: f"option inconnue : {m[1]}."),
    (re.compile(r"Missing argument '(.*?)(?:\.\.\.)?'\."), lambda m: f"argument manquant : {m[1].upper()}."),
    (re.compile(r"Missing option '(.*)'\."), lambda m: f"option obligatoire manquante : {m[1]}."),
    (re.compile(r"Missing command\."), lambda m: "commande manquante (voir acterr --help)."),
    (re.compile(r"Option '(.*)' requires an argument\."), lambda m: f"l'option {m[1]} attend une valeur."),
    (re.compile(r"Option '(.*)' requires (\d+) arguments\."), lambda m: f"l'option {m[1]} attend {m[2]} valeurs."),
    (re.compile(r"Got unexpected extra argument\(s\) \((.*)\)"), lambda m: f"argument(s) en trop : {m[1]}."),
    (re.compile(r"Invalid value for '(.*)': '(.*)' is not a valid (\w+)\."),
     lambda m: f"valeur invalide pour {m[1]} : « {m[2]} » n'est pas {_TYPES.get(m[3], m[3])}."),
    (re.compile(r"Invalid value for '(.*)': (.*)"), lambda m: f"valeur invalide pour {m[1]} : {m[2]}"),
]


def usage_error(message: str) -> str:
    """A Click usage error in French (as Click wrote it when it is not one of the known ones)."""
    for pattern, french in _ERRORS:
        match = pattern.fullmatch(message.strip())
        if match:
            return french(match)
    return message
