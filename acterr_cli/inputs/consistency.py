"""Business checks across the cells of one row, as a user would expect them.

A part cannot exceed its whole (« dont en QPV » above « Logements »), energy labels should add up
to the dwellings, a renovation should not increase consumption. Each finding names the cell to
fix; an impossible figure is an error (erreur), a doubtful one a warning (avertissement).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, ERREUR
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.columns import ParseContext
from acterr_cli.inputs.model import ReadOptions

# dataset -> (part, whole): the part is a subset of the whole
PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "patrimoine": (("logements_qpv", "logements"), ("logements_individuels", "logements"),
                   ("logements_pmr", "logements"), ("ges_fg", "logements")),
    "attributions": (("attributions_dalo", "attributions"), ("sortants_hebergement", "attributions"),
                     ("mutations_internes", "attributions"), ("attributions_hors_qpv", "attributions"),
                     ("attributions_hors_qpv_q1", "attributions_hors_qpv")),
    "organismes": (("administratrices", "administrateurs"), ("admin_locataires", "administrateurs")),
}
DPE_FIELDS = tuple(f"dpe_{x}" for x in "abcdefg") + ("dpe_inconnu",)

CellNamer = Callable[[str, int], str]


def check_rows(typed: pl.DataFrame, sheet: qs.Sheet, cell_of: CellNamer, ctx: ParseContext) -> None:
    for part, whole in PARTS.get(sheet.dataset, ()):
        _part_of_whole(typed, sheet, part, whole, cell_of, ctx)
    if sheet.dataset == "patrimoine":
        _dpe_adds_up(typed, sheet, cell_of, ctx)
    if sheet.dataset == "energie":
        _consumption_decreases(typed, sheet, cell_of, ctx)
    if sheet.dataset == "achats":
        _supplier_located(typed, sheet, cell_of, ctx)


def _supplier_located(typed: pl.DataFrame, sheet, cell_of: CellNamer, ctx: ParseContext) -> None:
    """A purchase needs its supplier's commune, or a SIRET from which SIRENE can give it."""
    commune = typed["commune_fournisseur"] if "commune_fournisseur" in typed.columns else pl.Series([None] * typed.height)
    siret = typed["siret"] if "siret" in typed.columns else pl.Series([None] * typed.height)
    column = sheet.column("commune_fournisseur")
    for pos in (commune.is_null() & siret.is_null()).arg_true().to_list():
        ctx.add(cell_of("commune_fournisseur", pos), column, None, "obligatoire",
                "commune du fournisseur manquante : indiquez son code commune, ou son SIRET (la commune sera "
                "retrouvée dans SIRENE, voir acterr import --type sirene).", ERREUR, pos)


def _values(typed: pl.DataFrame, name: str) -> list:
    return typed[name].to_list() if name in typed.columns else []


def _part_of_whole(typed, sheet, part: str, whole: str, cell_of: CellNamer, ctx: ParseContext) -> None:
    if part not in typed.columns or whole not in typed.columns:
        return
    bad = typed.select((pl.col(part) > pl.col(whole)).fill_null(False).alias("b"))["b"].arg_true().to_list()
    p, w = sheet.column(part), sheet.column(whole)
    for pos in bad:
        ctx.add(cell_of(part, pos), p, _fr(typed[part][pos]), "partie_total",
                f"« {p.label} » ({_fr(typed[part][pos])}) dépasse « {w.label} » ({_fr(typed[whole][pos])}) "
                "sur la même ligne : une partie ne peut pas dépasser son total.", ERREUR, pos)


def _dpe_adds_up(typed: pl.DataFrame, sheet, cell_of: CellNamer, ctx: ParseContext) -> None:
    present = [f for f in DPE_FIELDS if f in typed.columns and typed[f].is_not_null().any()]
    if not present or "logements" not in typed.columns:
        return
    totals = typed.select(pl.sum_horizontal([pl.col(f).fill_null(0) for f in present]).alias("t"))["t"]
    logements = typed["logements"]
    target = "dpe_inconnu" if "dpe_inconnu" in present else "logements"
    for pos, (total, dwellings) in enumerate(zip(totals, logements, strict=True)):
        if dwellings is None or total == dwellings or total == 0:  # 0: no label given for this commune
            continue
        what = (f"les étiquettes DPE (A à G et inconnu) totalisent {_fr(total)} logements pour {_fr(dwellings)} "
                "logements sur la ligne")
        if total > dwellings:
            ctx.add(cell_of(target, pos), sheet.column(target), _fr(total), "dpe_total",
                    f"{what} : il y a plus d'étiquettes que de logements.", ERREUR, pos)
        else:
            ctx.add(cell_of(target, pos), sheet.column(target), _fr(total), "dpe_total",
                    f"{what} : complétez « DPE inconnu » pour les logements sans étiquette connue.", AVERTISSEMENT, pos)


def _consumption_decreases(typed: pl.DataFrame, sheet, cell_of: CellNamer, ctx: ParseContext) -> None:
    if "conso_avant_kwh" not in typed.columns or "conso_apres_kwh" not in typed.columns:
        return
    worse = typed.select((pl.col("conso_apres_kwh") > pl.col("conso_avant_kwh")).fill_null(False).alias("b"))["b"]
    for pos in worse.arg_true().to_list():
        ctx.add(cell_of("conso_apres_kwh", pos), sheet.column("conso_apres_kwh"), _fr(typed["conso_apres_kwh"][pos]),
                "consommation", "la consommation après travaux dépasse la consommation avant travaux : vérifiez les deux colonnes.",
                AVERTISSEMENT, pos)


def check_exercice(exercice: int | None, cell: str | None, column: qs.Column, ctx: ParseContext, options: ReadOptions) -> None:
    """The run is about one exercice (--exercice): a workbook of another year is an error."""
    if options.exercice is None or exercice is None or int(exercice) == options.exercice:
        return
    ctx.add(cell, column, str(exercice), "exercice",
            f"ce classeur porte sur l'exercice {exercice}, alors que l'import demande l'exercice {options.exercice} "
            f"(--exercice {options.exercice}) : vérifiez la cellule « {column.label} » ou le fichier envoyé.")


def _fr(value) -> str:
    if value is None:
        return ""
    if float(value) == int(value):
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")
