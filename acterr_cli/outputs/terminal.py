"""Terminal output (rich) and JSON documents of the commands."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

import polars as pl
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from acterr_cli.common.formatting import fr_number, fr_range, fr_value
from acterr_cli.errors import ERREUR
from acterr_cli.outputs.nature import LEGEND, MARK, NON_REPARTI_CODE, NON_REPARTI_NOM, UNPLACED_SHORT, flat_notes, flat_text, is_flat
from acterr_cli.outputs.rounding import rounded
from acterr_cli.outputs.wording import GRADE_LEGEND, GRADE_SHORT, count, grade
from acterr_cli.referentiel.model import LEDGER_LABELS, Referentiel

if TYPE_CHECKING:  # not loaded by a command that does not import (the readers behind it take ~30 ms)
    from acterr_cli.importing import ImportReport
    from acterr_cli.results import Computation

JSON_VERSION = 1
MAX_PROBLEMS_SHOWN = 30
LEVEL_NAMES = {"COMMUNE": "commune", "EPCI": "EPCI", "DEPARTEMENT": "département", "REGION": "région", "QPV": "QPV"}
EPCI_KINDS = {"METRO": "métropole", "MET69": "métropole de Lyon", "CU": "communauté urbaine", "CA": "communauté d'agglomération",
              "CC": "communauté de communes"}
MAX_TERRITORIES_SHOWN = 40


# ─── import reports ───

def print_file_report(report: ImportReport, console: Console, verb: str) -> None:
    """One line per file (and per organisation it holds), then its problems, errors first and in
    the order of the workbook, each with its cell; a closing line sums up the run."""
    import re

    from acterr_cli.importing import IMPORTE, REFUSE

    for f in report.fichiers:
        # sheets in the order the readers met them (the workbook's), not alphabetical
        sheet_rank = {s: i for i, s in enumerate(dict.fromkeys(p.feuille or "" for p in f.problemes))}

        def order(p, sheet_rank=sheet_rank):
            match = re.fullmatch(r"([A-Z]{1,3})(\d+)", p.cellule or "")
            return (p.gravite != ERREUR, sheet_rank[p.feuille or ""], int(match.group(2)) if match else 0, p.cellule or "")

        errors = sum(p.gravite == ERREUR for p in f.problemes)
        counts = f"{count(errors, 'erreur')}, {count(len(f.problemes) - errors, 'avertissement')}"
        if f.statut == REFUSE:
            console.print(f"[bold red]✗ {escape(f.fichier)}[/] : refusé — {counts}")
        else:
            label = "importé" if f.statut == IMPORTE else verb
            dropped = f" ; [yellow]{_dropped_lines(f.lignes_ignorees)}[/]" if f.lignes_ignorees else ""
            for org in f.organismes:
                sheets = ", ".join(f"{k} ({v})" for k, v in org["feuilles"].items())
                console.print(f"[green]✓ {escape(f.fichier)}[/] : {label} — {escape(str(org['raison_sociale'] or org['siren']))} "
                              f"({org['siren']}, exercice {org['exercice']}) : {sheets}{dropped}")
        for p in sorted(f.problemes, key=order)[:MAX_PROBLEMS_SHOWN]:
            tag = "[red]erreur[/]" if p.gravite == ERREUR else "[yellow]avertissement[/]"
            message = p.message.removeprefix(f"{p.fichier} : ")  # a reader's message may already name the file
            console.print(f"    {tag} {escape(p.location())} : {escape(message)}"
                          + (f" (valeur : « {escape(p.valeur)} »)" if p.valeur else ""), highlight=False)
        if len(f.problemes) > MAX_PROBLEMS_SHOWN:
            console.print(f"    … et {len(f.problemes) - MAX_PROBLEMS_SHOWN} autres problèmes "
                          "(--rapport-erreurs FICHIER.xlsx ou --json pour la liste complète).")
    s = report.to_dict()["resume"]
    done = count(s["importes"], "importé") if verb == "importé" else count(s["verifies"], "valide")
    console.print(f"{count(s['fichiers'], 'fichier')} : {done}, {count(s['refuses'], 'refusé')}, "
                  f"{count(s['erreurs'], 'erreur')}, {count(s['avertissements'], 'avertissement')}."
                  + (f" {_dropped_lines(s['lignes_ignorees'])} (--ignorer-erreurs)." if s["lignes_ignorees"] else ""))


def _dropped_lines(n: int) -> str:
    return count(n, "ligne en erreur non importée", "lignes en erreur non importées")


# ─── results ───

def filter_code(results: pl.DataFrame, code: str | None) -> pl.DataFrame:
    if not code:
        return results
    return results.filter(pl.col("code_territoire").cast(pl.Utf8).str.to_uppercase() == code.strip().upper())


def for_exercice(results: pl.DataFrame, exercice: int | None) -> pl.DataFrame:
    if results.is_empty():
        return results
    year = exercice if exercice is not None else results["exercice"].max()
    return results.filter(pl.col("exercice") == year)


def write_results_json(out: TextIO, documents: Iterator[tuple[Computation, pl.DataFrame]], several: bool,
                       slice_rows: int = 100_000) -> None:
    """The JSON of `results_document` (or, for `several` levels, {"version", "calculs": […]}), written
    to `out` as the levels come and their results by slices: a COMMUNE level for the whole country is
    millions of results, whose document built whole in memory took 14 GB. Same content and order;
    each result on one line (Polars writes the slice's JSON lines), figures rounded by unit (rounding.py).
    The slices go to the binary stream under `out` when there is one, as Polars wrote them (UTF-8):
    a national document is over a gigabyte, which decoding, splitting and encoding again as text
    took longer than computing it."""
    write = _bytes_writer(out)
    if several:
        write(f'{{\n  "version": {JSON_VERSION},\n  "calculs": [')
    pad = "    " if several else ""
    between = ("\n" + pad + "    ").encode()
    for i, (computation, results) in enumerate(documents):
        head = {"version": JSON_VERSION, "niveau": computation.level, "provenance": computation.meta}
        text = json.dumps(head, ensure_ascii=False, indent=2, default=str)[:-2]  # without the closing brace
        write(("," if i else "") + ("\n" + pad if several else "") + text.replace("\n", "\n" + pad) + f',\n{pad}  "resultats": [')
        for start in range(0, results.height, slice_rows):
            lines = io.BytesIO()
            rounded(results.slice(start, slice_rows)).write_ndjson(lines)
            write(b"," if start else b"")
            write(between)
            write(lines.getvalue().rstrip(b"\n").replace(b"\n", b"," + between))
        write(("\n" + pad + "  " if results.height else "") + "]\n" + pad + "}")
        out.flush()
    write("\n  ]\n}\n" if several else "\n")
    out.flush()


def _bytes_writer(out: TextIO):
    """Write text or UTF-8 bytes to `out`: bytes straight to its binary buffer (after what its text
    layer holds), or decoded for a text-only stream (a test's StringIO)."""
    binary = getattr(out, "buffer", None)
    if binary is not None:
        out.flush()
        return lambda part: binary.write(part if isinstance(part, bytes) else part.encode("utf-8"))
    return lambda part: out.write(part.decode("utf-8") if isinstance(part, bytes) else part)


def results_document(computation: Computation, results: pl.DataFrame) -> dict:
    return {
        "version": JSON_VERSION,
        "niveau": computation.level,
        "provenance": computation.meta,
        "resultats": rounded(results).to_dicts(),
    }


def print_summary(results: pl.DataFrame, level: str, console: Console, referentiel: Referentiel | None = None,
                  legend: bool = True) -> None:
    """Consolidated headline figures: one row per territory, or every indicator for one territory.
    The level's NON_REPARTI row is no territory: it is shown last, below the territories.
    `referentiel`: where to find what would replace a flat rate (the shipped one by default);
    `legend`: explain « ≈ » below the table (unless the caller already did)."""
    cons = for_exercice(results.filter(pl.col("siren").is_null()), None)
    if cons.is_empty():
        console.print("Aucun résultat.")
        return
    referentiel = referentiel or _shipped_referentiel()
    placed = pl.col("code_territoire").cast(pl.Utf8).ne_missing(NON_REPARTI_CODE)
    territories = cons.filter(placed).select("code_territoire", "nom_territoire").unique().sort("code_territoire")
    if territories.height == 0:  # --code NON_REPARTI
        _print_one_territory(cons, console, referentiel if legend else None)
    elif territories.height == 1:
        _print_one_territory(cons.filter(placed), console, referentiel if legend else None)
        _print_unplaced_line(cons.filter(~placed), console)
    else:
        _print_territories_table(cons.filter(placed), territories, level, console, referentiel, for_exercice(results, None),
                                 cons.filter(~placed), legend)
    console.print("[dim]Valeur locale et plus-value sociale sont deux registres distincts : ils ne s'additionnent pas.[/]")


def _print_unplaced_line(unplaced: pl.DataFrame, console: Console) -> None:
    items = [f"{r['indicateur']} {fr_value(r['valeur'], r['unite'])}" for r in unplaced.iter_rows(named=True)
             if r["statut"] == "calcule" and r["valeur"]]
    if items:
        console.print(f"[dim]{escape(NON_REPARTI_NOM)} : " + escape(" · ".join(items)) + "[/]", highlight=False)


def _shipped_referentiel() -> Referentiel:
    from acterr_cli.referentiel.model import load_referentiel

    return load_referentiel()


def print_flat_legend(rows: list[dict], referentiel: Referentiel | None, console: Console) -> None:
    """The legend of « ≈ » and, per indicator, the import that would replace the flat rate
    (nothing without a référentiel: the caller already told them)."""
    if referentiel is None:
        return
    notes = flat_notes(rows, referentiel)
    if notes:
        console.print(f"[dim]{escape(LEGEND)}[/]", highlight=False)
        for line in notes:
            console.print(f"[dim]  {escape(line)}[/]", highlight=False)


def print_checks(checks: list[dict], console: Console) -> None:
    for c in checks:
        console.print(f"[yellow]avertissement[/] {escape(c['raison_sociale'] or c['siren'])} ({c['siren']}, exercice {c['exercice']}) : "
                      f"{escape(c['message'])}")


@dataclass(frozen=True)
class _View:
    """What the territories' table shows: the catalogue place of its columns (`en_tete`: the first
    ranks the territories), its title, what « Org. » counts (None: no such column), what the
    territories left out lack and what the first ones have most."""
    place: str
    title: str
    organisations: str | None
    left_out: str
    most: str = "le plus de logements"


ORGANISATIONS_VIEW = _View("terminal_territoires", "Synthèse par territoire", "organismes qui y ont des logements",
                           "sans logement des organismes (salariés, achats) : voir --json ou le rapport")
STOCK_VIEW = _View("terminal_parc", "Parc social des territoires (RPLS, tous bailleurs)", None, "sans logement social au RPLS")
# In a QPV only the facts that carry its code are placed (Actions_sociales): the organisations'
# dwellings are not, so the quartiers are ranked by the households they support.
QPV_VIEW = _View("terminal_qpv", "Actions sociales par quartier", "organismes qui y mènent des actions",
                 "sans ménage accompagné : voir --json ou le rapport", "le plus de ménages accompagnés")


def _print_territories_table(cons: pl.DataFrame, territories: pl.DataFrame, level: str, console: Console,
                             referentiel: Referentiel, all_rows: pl.DataFrame | None = None,
                             unplaced: pl.DataFrame | None = None, legend: bool = True) -> None:
    """Territories with the organisations' dwellings, largest first (at most MAX_TERRITORIES_SHOWN:
    a summary, not the report); those where organisations only have employees or suppliers are
    counted in a footnote. Without organisations' dwellings (only the RPLS of all landlords was
    imported), the territories' social housing stock instead; for QPV, the social actions."""
    view = QPV_VIEW if level == "QPV" else ORGANISATIONS_VIEW
    ranking = {v.place: referentiel.headlines(v.place)[0].code for v in (view, STOCK_VIEW)}
    if view is ORGANISATIONS_VIEW and not _has_positive(cons, ranking[view.place]) and _has_positive(cons, ranking[STOCK_VIEW.place]):
        view = STOCK_VIEW
    if view is not ORGANISATIONS_VIEW:
        all_rows = None  # organisations counted from the consolidated figures
    columns = table_columns(referentiel, view.place, cons)
    ranked = (territories.join(cons.filter((pl.col("indicateur") == ranking[view.place]) & (pl.col("valeur") > 0))
                               .select("code_territoire", "valeur"), on="code_territoire")
              .sort("valeur", "code_territoire", descending=[True, False]))
    others = territories.height - ranked.height
    caption = ("* couverture partielle ; n.c. : non calculable ; A, B, C : fiabilité"
               + (f" ; Org. : {view.organisations}" if view.organisations else ""))
    if ranked.height > MAX_TERRITORIES_SHOWN:
        caption += (f" ; les {MAX_TERRITORIES_SHOWN} territoires qui ont {view.most} sur {ranked.height} "
                    "(tous : --json, --code ou le rapport)")
        ranked = ranked.head(MAX_TERRITORIES_SHOWN)
    if others:
        caption += f" ; {count(others, 'autre territoire', 'autres territoires')} {view.left_out}"
    table = Table(title=f"{view.title} — niveau {level}, exercice {cons['exercice'].max()}", title_justify="left",
                  caption=caption, caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Territoire", max_width=30, overflow="ellipsis", no_wrap=True)
    if view.organisations:
        table.add_column("Org.", justify="right")
    for header, _, _ in columns.values():
        table.add_column(header, justify="right", no_wrap=True)
    shown = cons.filter(pl.col("indicateur").is_in(list(columns)) & pl.col("code_territoire").is_in(ranked["code_territoire"].to_list()))
    values = {(r["code_territoire"], r["indicateur"]): r for r in shown.iter_rows(named=True)}
    organisations = _organisations_housed(cons, all_rows) if view.organisations else {}
    for i, t in enumerate(ranked.iter_rows(named=True)):
        code = t["code_territoire"]
        cells = [escape(t["nom_territoire"] or code)] + ([str(organisations.get(code, ""))] if view.organisations else [])
        cells += [_cell(values.get((code, indicator)), divisor, decimals) for indicator, (_, divisor, decimals) in columns.items()]
        table.add_row(*cells, end_section=i == ranked.height - 1)
    outside = {} if unplaced is None else {r["indicateur"]: r for r in unplaced.iter_rows(named=True)}
    if any(r["statut"] == "calcule" and r["valeur"] for c, r in outside.items() if c in columns):
        cells = [f"[italic]{escape(UNPLACED_SHORT)}[/]"] + ([""] if view.organisations else [])
        cells += [_cell(outside.get(indicator), divisor, decimals) for indicator, (_, divisor, decimals) in columns.items()]
        table.add_row(*cells)
        table.caption += (" ; non réparti : ce qu'aucun territoire ne reçoit (données de niveau organisme, faits hors des "
                          "territoires du niveau, territoires où le chiffre n'est pas calculable) ; les territoires plus cette "
                          "ligne donnent l'ensemble")
    shown_rows = list(values.values()) + list(outside.values())
    if any(is_flat(r) for r in shown_rows if r["indicateur"] in columns):
        table.caption += f" ; {MARK} estimation forfaitaire"
    for part in _stacked_to_width(table, console.width):
        console.print(part)
    console.print(f"[dim]{escape(column_legend(referentiel, table, columns))} {escape(GRADE_SHORT)}[/]", highlight=False)
    print_flat_legend([r for r in shown_rows if r["indicateur"] in columns], referentiel if legend else None, console)


def column_legend(referentiel: Referentiel, table: Table, columns: dict) -> str:
    """What each figure column's header stands for (the abbreviations), those shown only."""
    headers = {str(c.header) for c in table.columns}
    items = [f"{referentiel.abbreviation(code)} : {referentiel.by_code[code].libelle}" for code, (header, _, _) in columns.items()
             if header in headers and code in referentiel.by_code]
    return "Colonnes — " + " ; ".join(items) + "."


# Units counted in whole numbers, shown without a unit line under the column header.
COUNTS = {"logements", "ménages", "ETP", "ETP-année", "h"}


def table_columns(referentiel: Referentiel, place: str, cons: pl.DataFrame) -> dict[str, tuple[str, float, int]]:
    """The columns of a place (`en_tete` in the catalogue), in order: code → (header, divisor,
    decimals). Amounts in M€ or k€ as the largest figure of the column asks."""
    out = {}
    for ind in referentiel.headlines(place):
        values = cons.filter((pl.col("indicateur") == ind.code) & (pl.col("statut") == "calcule"))["valeur"].abs()
        divisor, unit, decimals = column_scale(ind.unite, values.max() if values.len() else None)
        out[ind.code] = (referentiel.abbreviation(ind.code) + (f"\n{unit}" if unit else ""), divisor, decimals)
    return out


def column_scale(unit: str, biggest: float | None) -> tuple[float, str, int]:
    """(divisor, unit shown, decimals) of a column of figures whose largest is `biggest`."""
    if unit in ("€", "€/an"):
        per = unit[1:]
        if (biggest or 0) >= 1e6:
            return 1e6, f"M€{per}", 2 if biggest < 1e7 else 1
        return (1e3, f"k€{per}", 0) if (biggest or 0) >= 1e3 else (1, unit, 0)
    if unit in COUNTS:
        return 1, "", 0
    return 1, unit, 1


NAMES_MIN = 22  # characters of a territory's name kept when the table is split to fit


def _stacked_to_width(table: Table, width: int) -> list[Table]:
    """On a narrow terminal the table is split into tables stacked one above the other, each with
    the territory names and as many figure columns as fit: never a figure cut (« 7… »), a column
    dropped or a name cut short. Each figure column keeps the width of its widest cell and header
    line; the « Org. » column stays with the names."""
    from rich.text import Text

    for column in table.columns[1:]:
        header = [len(line) for line in str(column.header).splitlines()]  # headers do not wrap either
        cells = [Text.from_markup(c).cell_len if isinstance(c, str) else 0 for c in column.cells]
        column.min_width = max([*header, *cells, 1])
    names = [Text.from_markup(c).cell_len for c in table.columns[0].cells if isinstance(c, str)]
    name_width = min(table.columns[0].max_width or 30, max(names + [len("Territoire")]))
    fixed = 1 + (str(table.columns[1].header) == "Org.")  # names, and the organisations' count beside them
    room = width - max(NAMES_MIN, min(name_width, width // 3)) - sum(c.min_width + 3 for c in table.columns[1:fixed]) - 2
    groups: list[list] = [[]]
    for column in table.columns[fixed:]:  # with each column's padding, and a character of slack for rich's rounding
        if groups[-1] and sum(c.min_width + 3 for c in groups[-1]) + column.min_width + 3 > room:
            groups.append([])
        groups[-1].append(column)
    if len(groups) == 1:
        table.columns[0].max_width = max(12, min(name_width, width - sum(c.min_width + 3 for c in table.columns[1:]) - 2))
        return [table]
    parts = []
    for k, group in enumerate(groups):
        part = Table(title=table.title if k == 0 else None, title_justify="left", box=table.box, pad_edge=False,
                     caption=table.caption if k == len(groups) - 1 else None, caption_justify="left")
        for column in [*table.columns[:fixed], *group]:
            part.add_column(column.header, justify=column.justify, no_wrap=True, min_width=column.min_width,
                            max_width=column.max_width, overflow=column.overflow)
        part.columns[0].max_width = max(12, min(name_width, width - sum(c.min_width + 3 for c in part.columns[1:]) - 2))
        for i, row in enumerate(zip(*[column._cells for column in [*table.columns[:fixed], *group]], strict=True)):
            part.add_row(*row, end_section=table.rows[i].end_section)
        parts.append(part)
    return parts


def _has_positive(cons: pl.DataFrame, indicator: str) -> bool:
    return cons.filter((pl.col("indicateur") == indicator) & (pl.col("valeur") > 0)).height > 0


def _organisations_housed(cons: pl.DataFrame, all_rows: pl.DataFrame | None) -> dict:
    """Organisations per territory: those with dwellings there, not those that only buy or employ."""
    if all_rows is None:
        return dict(cons.group_by("code_territoire").agg(pl.col("nb_organismes").max()).iter_rows())
    housed = all_rows.filter((pl.col("indicateur") == "TER-00") & pl.col("siren").is_not_null() & (pl.col("valeur") > 0))
    return dict(housed.group_by("code_territoire").agg(pl.len()).iter_rows())


def _print_one_territory(cons: pl.DataFrame, console: Console, referentiel: Referentiel | None = None) -> None:
    first = cons.row(0, named=True)
    table = Table(title=f"{first['nom_territoire']} ({first['code_territoire']}) — exercice {first['exercice']}, "
                        f"{count(first['nb_organismes'] or 0, 'organisme')}", title_justify="left", caption=GRADE_LEGEND,
                  caption_justify="left")
    for col, justify in (("Indicateur", "left"), ("Valeur", "right"), ("Fiab.", "center"), ("Fourchette", "right"),
                         ("Couverture", "right"), ("Remarque", "left")):
        table.add_column(col, justify=justify)
    for r in cons.iter_rows(named=True):
        flat = is_flat(r)
        table.add_row(
            escape(f"{r['indicateur']} {r['libelle']}"),
            (f"[italic]{MARK} {fr_value(r['valeur'], r['unite'])}[/]" if flat else fr_value(r["valeur"], r["unite"]))
            if r["statut"] == "calcule" else "[dim]non calculable[/]",
            grade(r),
            fr_range(r["valeur_basse"], r["valeur_haute"], r["unite"]),
            f"{fr_number(r['couverture'])} %" if r["statut"] == "calcule" and r["couverture"] is not None else "",  # nothing covered
            escape(" — ".join(p for p in (flat_text(r), r["motif"], r["note"]) if p)),
        )
    console.print(table)
    print_flat_legend(list(cons.iter_rows(named=True)), referentiel, console)


def _cell(r: dict | None, divisor: float, decimals: int) -> str:
    if r is None:
        return ""
    if r["statut"] != "calcule" or r["valeur"] is None:
        return "[dim]n.c.[/]"
    text = fr_number(r["valeur"] / divisor, decimals) + ("*" if r["couverture"] is not None and r["couverture"] < 100 - 1e-9 else "")
    text = f"[italic]{MARK} {text}[/]" if is_flat(r) else text
    return text + (f" [dim]{grade(r)}[/]" if grade(r) else "")  # the evidence grade beside the figure


# ─── référentiel, territories ───

def referentiel_document(ref: Referentiel) -> dict:
    return {
        "version": JSON_VERSION,
        "referentiel": ref.meta,
        "indicateurs": [
            {"code": i.code, "libelle": i.libelle, "axe": i.axe, "registre": i.registre, "niveau": i.niveau, "etape": i.etape,
             "unite": i.unite, "formule": i.formule, "formule_basse": i.formule_basse, "formule_haute": i.formule_haute,
             "description": i.description, "parties_prenantes": list(i.parties_prenantes),
             # the nature of its figure: the flat-rate part and what would replace it; whether it adds up over territories
             "formule_forfait": i.formule_forfait, "forfait_remplace_par": i.forfait_remplace_par or None, "additif": i.additif,
             "limites": i.limites or None,
             # display choices: short label, where it is a headline or charted (place: rank), favourable direction
             "libelle_court": i.libelle_court or None, "abreviation": i.abreviation or None, "legende": i.legende or None,
             "en_tete": dict(i.en_tete), "graphique": dict(i.graphique), "sens": i.sens or None}
            for i in ref.indicators
        ],
        "mesures_derivees": [{"nom": m.nom, "formule": m.formule, "description": m.description} for m in ref.measures],
        "parametres": [p.__dict__ for p in ref.parameters.values()],
    }


def print_referentiel(ref: Referentiel, console: Console) -> None:
    table = Table(title=f"{ref.meta.get('nom', 'Référentiel')} — version {ref.version}", title_justify="left")
    for col in ("Code", "Indicateur", "Registre", "Unité", "Formule"):
        table.add_column(col, overflow="fold")
    for i in ref.indicators:
        table.add_row(*map(escape, (i.code, i.libelle, LEDGER_LABELS[i.registre], i.unite, i.formule)))
    console.print(table)
    params = Table(title="Paramètres", title_justify="left")
    for col in ("Nom", "Basse", "Centrale", "Haute", "Unité", "Statut", "Source"):
        params.add_column(col, overflow="fold")
    for p in ref.parameters.values():
        params.add_row(*map(escape, (p.nom, fr_number(p.basse, 2), fr_number(p.centrale, 2), fr_number(p.haute, 2), p.unite, p.statut,
                                     p.source)))
    console.print(params)


def print_territories(query: str, hits: list[dict], console: Console) -> None:
    if not hits:
        console.print(f"Aucun territoire ne correspond à « {escape(query)} ».")
        return
    for h in hits:
        near = " [dim](nom proche)[/]" if h.get("nom_proche") else ""
        lines = [f"[bold]{escape(h['nom'])}[/] — {LEVEL_NAMES.get(h['niveau'], h['niveau'].lower())} {h['code']}{near}"]
        if h.get("correspondance"):
            c = h["correspondance"]
            lines.append(f"  code saisi {c['code_saisi']} : {c['motif'].replace('_', ' ')}, rattaché à {h['code']}")
        for key, label in (("epci", "EPCI"), ("departement", "Département"), ("region", "Région")):
            if isinstance(h.get(key), dict) and h[key].get("code"):
                lines.append(f"  {label} : {h[key]['nom']} ({h[key]['code']})")
        if h.get("population") is not None:
            lines.append(f"  Population : {fr_number(h['population'])} habitants" +
                         (f", {fr_number(h['menages'])} ménages" if h.get("menages") is not None else ""))
        if h.get("nombre_communes"):
            kind = EPCI_KINDS.get(h.get("type") or "", h.get("type") or "")
            lines.append(f"  {h['nombre_communes']} communes" + (f" ; {kind}" if kind else ""))
        console.print("\n".join(lines))


# ─── explanation of one figure ───

def print_explanation(doc: dict, console: Console) -> None:
    ind, res = doc["indicateur"], doc["resultat"]
    unit = ind["unite"]
    console.print(f"[bold]{escape(ind['code'] + ' ' + ind['libelle'])}[/] — {escape(doc['territoire']['nom'])} ({doc['territoire']['code']}), "
                  f"niveau {doc['niveau']}, exercice {doc['exercice']}")
    value = fr_value(res["valeur"], unit) if res["statut"] == "calcule" else "non calculable"
    flat = flat_text(res)
    console.print(f"Résultat : [bold]{MARK + ' ' if flat else ''}{value}[/]  {fr_range(res['valeur_basse'], res['valeur_haute'], unit)}  "
                  f"(couverture {fr_number(res['couverture'])} %, {count(res['nb_organismes_calcules'] or 0, 'organisme')} sur "
                  f"{res['nb_organismes']}" + (f", fiabilité {res['fiabilite']}" if res.get("fiabilite") else "") + ")")
    if flat:
        share = res["part_forfaitaire"]
        console.print(f"  {MARK} {flat} : {fr_number(share, 0)} % de la valeur centrale vient d'une moyenne nationale qui "
                      "remplace une donnée locale absente — ce n'est pas une mesure sur le territoire.", markup=False)
        if ind.get("formule_forfait"):
            console.print(f"    part forfaitaire = {ind['formule_forfait']}", markup=False)
        if ind.get("forfait_remplace_par"):
            console.print(f"    pour la remplacer : {ind['forfait_remplace_par']}", markup=False)
    if res.get("motif") or res.get("note"):
        console.print(f"  {res.get('motif') or res.get('note')}", markup=False)
    console.print("\n[bold]Formule[/]")
    for scenario, formula in ind["formules"].items():
        console.print(f"  {scenario:9} {formula}", markup=False)
    for code, formula in ind["indicateurs_utilises"].items():
        console.print(f"  où {code} = {formula}", markup=False)
    console.print("\n[bold]Mesures[/] (somme sur les organismes comptés ; celles du territoire telles quelles)")
    for m in doc["mesures"]:
        console.print(f"  {m['nom']:28} {fr_number(m['valeur'], 2) if m['valeur'] is not None else '—':>18}   {m['libelle']} ({m['origine']})",
                      markup=False)
    if doc["parametres"]:
        console.print("\n[bold]Paramètres[/] (basse / centrale / haute)")
        for p in doc["parametres"]:
            console.print(f"  {p['nom']:28} {fr_number(p['basse'], 3)} / {fr_number(p['centrale'], 3)} / {fr_number(p['haute'], 3)} "
                          f"{p['unite']} — {p['source']} [{p['statut']}]", markup=False)
    if doc.get("sensibilite"):  # the figure's main drivers, one at a time (engine/sensitivity.py)
        console.print("\n[bold]Sensibilité[/] (chaque paramètre seul à sa valeur basse puis haute, les autres centraux)")
        for d in doc["sensibilite"]:
            console.print(f"  {d['parametre']:28} {fr_signed(d['ecart_basse'], unit)} / {fr_signed(d['ecart_haute'], unit)}   {d['libelle']}",
                          markup=False)
    console.print("\n[bold]Organismes[/]")
    for o in doc["organismes"]:
        state = "compté" if o["compte"] else "non compté"
        values = ", ".join(f"{k} = {fr_number(v, 2) if v is not None else '—'}" for k, v in o["mesures"].items())
        console.print(f"  {o['raison_sociale'] or o['siren']} ({o['siren']}) : {state} ; {values}", markup=False)
        if o["motif"]:
            console.print(f"    {o['motif']}", markup=False)
    console.print("\n[bold]Fichiers[/]")
    for f in {(f["fichier"], f["sha256"]): f for f in doc["fichiers"]}.values():  # a liasse holds several organisations
        year = f" (millésime {f['exercice']})" if not str(f["siren"]).isdigit() else ""
        console.print(f"  {f['type']:13} {f['fichier']}{year}  sha256 {f['sha256'][:16]}…  importé le {_when(f['importe_le'])}",
                      markup=False)


def fr_signed(value: float | None, unit: str) -> str:
    """« +1 234 € » / « −56 € »: a change, signed."""
    if value is None:
        return "—"
    return ("+" if value >= 0 else "−") + fr_value(abs(value), unit)


def _when(iso: str | None) -> str:
    """« 2026-12-05T17:26:31+00:00 » → « 05/12/2026 à 17:26 » (local time, as written by the import)."""
    if not iso:
        return "?"
    from datetime import datetime

    moment = datetime.fromisoformat(iso)
    return f"{moment:%d/%m/%Y} à {moment:%H:%M}"
