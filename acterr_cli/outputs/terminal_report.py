"""The compact terminal report of `acterr export`: the headline figures of the Synthèse sheet —
the two ledgers side by side in two panels (never added), environment and context on one line
each — then, for an overview, the table of territories of outputs/terminal.py."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from acterr_cli.outputs import terminal
from acterr_cli.outputs.nature import MARK, is_flat
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.synthese import context_line, panels, unplaced_line
from acterr_cli.outputs.reports.xlsx import MILLION, is_money, range_text, short_text
from acterr_cli.outputs.wording import GRADE_SHORT, grade
from acterr_cli.referentiel.model import LEDGER_LABELS
from acterr_cli.results import CALCULE

STYLES = {"valeur_locale": "blue", "plus_value_sociale": "magenta"}
ROWS = 5
SIDE_BY_SIDE = 110  # terminal columns from which the two ledgers' panels stand side by side


def print_report(data: ReportData, console: Console) -> None:
    year = f" — exercice {data.year}" if data.year is not None else ""
    # names and labels are the users' text (organisations, référentiel overrides), never markup
    console.print(f"[bold]{escape(data.subject)}[/]{year}", highlight=False)
    console.print(f"[dim]{escape(context_line(data))} ; chiffres : {escape(data.headline_source)}.[/]", highlight=False)
    grid = Table.grid(expand=True, padding=(0, 1))
    shown_panels = panels(data.referentiel, "terminal")  # the catalogue's terminal headlines, by ledger
    boxes = [p if p is not None else "" for p in (_panel(data, ledger, codes) for ledger, _, codes in shown_panels[:2])]
    # side by side where there is room for a label and a figure with its range, else one above the other
    beside = console.width >= SIDE_BY_SIDE
    for _ in boxes if beside else boxes[:1]:
        grid.add_column(ratio=1)
    for row in [boxes] if beside else [[p] for p in boxes]:
        grid.add_row(*row)
    console.print(grid)
    for ledger, _, codes in shown_panels[2:]:
        items = [f"{escape(_short(data, r))} [bold]{_value(r)}[/]" for r in _rows(data, codes)]
        if items:
            console.print(f"{LEDGER_LABELS[ledger]} : " + " · ".join(items), highlight=False)
    shown = [r for _, _, codes in shown_panels for r in _rows(data, codes)]
    console.print("[dim]Valeur locale et plus-value sociale sont deux registres distincts : ils ne s'additionnent pas. "
                  "* couverture partielle ; n.c. : non calculable ; entre parenthèses : fourchette basse – haute ; "
                  + escape(GRADE_SHORT.removesuffix("."))
                  + (f" ; {MARK} estimation forfaitaire" if any(is_flat(r) for r in shown) else "") + ".[/]")
    terminal.print_flat_legend(shown, data.referentiel, console)
    if data.kind in (ENSEMBLE, ORGANISME) and data.unplaced:
        console.print(f"[dim]{escape(unplaced_line(data, 'du rapport'))}[/]", highlight=False)
    if data.kind == ENSEMBLE and len(data.territories) > 1:
        terminal.print_summary(data.inputs.computation.results, data.level, console, data.referentiel, legend=False)


# Whose inhabitants and households: the territory's own, an organisation's territories (where its
# dwellings are), the territories of all organisations.
SHORT_BY_KIND = {TERRITOIRE: {"TER-01": "Parc par habitant", "TER-02": "Parc par ménage"},
                 ORGANISME: {"TER-01": "Parc par habitant de ses territoires", "TER-02": "Parc par ménage de ses territoires"}}


def _short(data: ReportData, r: dict) -> str:
    code = r["indicateur"]
    return SHORT_BY_KIND.get(data.kind, {}).get(code) or data.referentiel.short_label(code, r["libelle"])


def _rows(data: ReportData, codes: tuple[str, ...]) -> list[dict]:
    rows = [data.headline[c] for c in codes if c in data.headline]
    return ([r for r in rows if r["statut"] == CALCULE] + [r for r in rows if r["statut"] != CALCULE])[:ROWS]


def _value(r: dict, with_grade: bool = True) -> str:
    if r["statut"] != CALCULE or r["valeur"] is None:
        return "[dim]n.c.[/]"
    partial = r["couverture"] is None or r["couverture"] < 100 - 1e-9
    text = short_text(r["valeur"], r["unite"]) + ("*" if partial else "")
    text = f"[italic]{MARK} {text}[/]" if is_flat(r) else text
    return text + (f" [dim]{grade(r)}[/]" if with_grade and grade(r) else "")  # the evidence grade beside the figure


def _spread(r: dict) -> str:
    """The range beside a figure, without its unit when it reads in the figure's: « (42,6 – 49,0) »
    after « 49,0 M€ », but « (0,5 – 2,0 M€) » after « 754 600 € »."""
    values = [v for v in (r["valeur"], r["valeur_basse"], r["valeur_haute"]) if v is not None]
    millions = {abs(v) >= MILLION for v in values} if is_money(r["unite"]) else {False}
    return range_text(r["valeur_basse"], r["valeur_haute"], r["unite"], with_unit=len(millions) > 1)


def _panel(data: ReportData, ledger: str, codes: tuple[str, ...]) -> Panel | None:
    rows = _rows(data, codes)
    if not rows:
        return None
    table = Table(box=None, show_header=False, pad_edge=False, expand=True)
    table.add_column("Indicateur", ratio=1, overflow="ellipsis", no_wrap=True)
    table.add_column("Valeur", justify="right", no_wrap=True)
    for r in rows:
        spread = _spread(r) if r["statut"] == CALCULE else ""
        table.add_row(escape(_short(data, r)), f"[bold]{_value(r, False)}[/]" + (f" [dim]({spread})[/]" if spread else "")
                      + (f" [dim]{grade(r)}[/]" if grade(r) else ""))  # the grade after the figure and its range
    return Panel(table, title=f"[bold]{LEDGER_LABELS[ledger]}[/]", title_align="left", border_style=STYLES[ledger], box=box.ROUNDED)
