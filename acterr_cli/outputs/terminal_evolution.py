"""The year-on-year bridge of one figure on the terminal (`acterr compute --expliquer-evolution`)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from acterr_cli.common.formatting import decimals_for, fr_number, fr_value


def signed(value: float, unit: str) -> str:
    """A change in the figure's unit: points for a percentage (« +2,9 pts »)."""
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    if unit == "%":
        return f"{sign}{fr_number(abs(value), decimals_for(unit))} pts"
    return f"{sign}{fr_value(abs(value), unit)}"


def print_evolution(doc: dict, libelle: str, unit: str, console: Console) -> None:
    change = doc["valeur"] - doc["valeur_precedente"]
    console.print(f"[bold]{escape(doc['indicateur'] + ' ' + libelle)}[/] — territoire {escape(doc['code_territoire'])}, "
                  f"de {doc['exercice_precedent']} à {doc['exercice']}")
    console.print(f"  {doc['exercice_precedent']} : {fr_value(doc['valeur_precedente'], unit)}    "
                  f"{doc['exercice']} : {fr_value(doc['valeur'], unit)}    évolution : [bold]{signed(change, unit)}[/]")
    console.print("\n[bold]Composantes[/] (leur somme est l'évolution)")
    for c in doc["composantes"]:
        console.print(f"  {signed(c['montant'], unit):>18}   {c['libelle']}", markup=False)
