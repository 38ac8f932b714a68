"""Business checks across the cells of one row, as a user would expect them.

A part cannot exceed its whole (« dont en QPV » above « Logements »), energy labels should add up
to the dwellings, a renovation should not increase consumption. Each finding names the cell to
fix; an impossible figure is an error (erreur), a doubtful one a warning (avertissement). The
checks run as masks over all the rows of a batch; messages are written for flagged rows only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, ERREUR
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs import rules
from acterr_cli.inputs.columns import FILE, ROW, ParseContext, Part
from acterr_cli.inputs.model import ReadOptions

# dataset -> (part, whole): the part is a subset of the whole
PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "patrimoine": (("logements_qpv", "logements"), ("logements_individuels", "logements"),
                   ("logements_pmr", "logements"), ("ges_fg", "logements"),
                   ("logements_vacants", "logements")),
    "attributions": (("attributions_dalo", "attributions"), ("sortants_hebergement", "attributions"),
                     ("mutations_internes", "attributions"), ("attributions_hors_qpv", "attributions"),
                     ("attributions_hors_qpv_q1", "attributions_hors_qpv")),
    "organismes": (("administratrices", "administrateurs"), ("admin_locataires", "administrateurs")),
}
DPE_FIELDS = tuple(f"dpe_{x}" for x in "abcdefg") + ("dpe_inconnu",)
_DPE_TOTAL, _DPE_TARGET = "_dpe_total", "_dpe_inconnu_fourni"


@dataclass
class _RowCheck:
    mask: pl.Expr
    report: Callable[[Part, pl.DataFrame, list[int]], None]


def check_rows(typed: pl.DataFrame, sheet: qs.Sheet, parts: dict[int, Part]) -> None:
    """Problems of `typed` (the rows of a batch, with `_f` and `_i`) told to the part of their file."""
    checks = [_part_of_whole(sheet, part, whole) for part, whole in PARTS.get(sheet.dataset, ())
              if part in typed.columns and whole in typed.columns]
    extra = []
    if sheet.dataset == "patrimoine" and "logements" in typed.columns and any(f in typed.columns for f in DPE_FIELDS):
        total = pl.sum_horizontal([pl.col(f).fill_null(0) for f in DPE_FIELDS if f in typed.columns])
        given = pl.col("dpe_inconnu").is_not_null().any().over(FILE) if "dpe_inconnu" in typed.columns else pl.lit(False)
        extra = [total.alias(_DPE_TOTAL), given.alias(_DPE_TARGET)]
        checks.append(_dpe_adds_up(sheet))
    if sheet.dataset == "energie" and "conso_avant_kwh" in typed.columns and "conso_apres_kwh" in typed.columns:
        checks.append(_consumption_decreases(sheet))
    if sheet.dataset == "achats":
        checks.append(_supplier_located(sheet, typed))
    if not checks:
        return
    masks = [c.mask.alias(f"_c{k}") for k, c in enumerate(checks)]
    flagged = typed.with_columns(extra).with_columns(masks).filter(pl.any_horizontal(pl.col(f"_c{k}") for k in range(len(checks))))
    for (f,), rows in flagged.partition_by(FILE, as_dict=True, maintain_order=True).items():
        for k, check in enumerate(checks):
            positions = rows.get_column(f"_c{k}").arg_true().to_list()
            if positions:
                check.report(parts[f], rows, positions)


def _part_of_whole(sheet: qs.Sheet, part: str, whole: str) -> _RowCheck:
    p, w = sheet.column(part), sheet.column(whole)

    def report(owner: Part, rows: pl.DataFrame, positions: list[int]) -> None:
        for pos in positions:
            value, total = rows[part][pos], rows[whole][pos]
            owner.ctx.add(owner.cell(part, rows[ROW][pos]), p, _fr(value), rules.PARTIE_TOTAL,
                          rules.PARTIE_TOTAL.text(partie=p.label, valeur=_fr(value), total=w.label, valeur_total=_fr(total)),
                          ERREUR, rows[ROW][pos])

    return _RowCheck((pl.col(part) > pl.col(whole)).fill_null(False), report)


def _dpe_adds_up(sheet: qs.Sheet) -> _RowCheck:
    """Labels given (A to G and unknown) should add up to the dwellings of the row; a row with no
    label at all is not checked (no label given for this commune)."""
    total, dwellings = pl.col(_DPE_TOTAL), pl.col("logements")

    def report(owner: Part, rows: pl.DataFrame, positions: list[int]) -> None:
        for pos in positions:
            given, count, line = rows[_DPE_TOTAL][pos], rows["logements"][pos], rows[ROW][pos]
            target = "dpe_inconnu" if rows[_DPE_TARGET][pos] else "logements"
            if given > count:
                owner.ctx.add(owner.cell(target, line), sheet.column(target), _fr(given), rules.DPE_TOTAL,
                              rules.DPE_TOTAL.text(etiquettes=_fr(given), logements=_fr(count)), ERREUR, line)
            else:
                owner.ctx.add(owner.cell(target, line), sheet.column(target), _fr(given), rules.DPE_TOTAL,
                              rules.DPE_TOTAL.text("moins", etiquettes=_fr(given), logements=_fr(count)), AVERTISSEMENT, line)

    return _RowCheck(dwellings.is_not_null() & (total != dwellings) & (total != 0), report)


def _consumption_decreases(sheet: qs.Sheet) -> _RowCheck:
    column = sheet.column("conso_apres_kwh")

    def report(owner: Part, rows: pl.DataFrame, positions: list[int]) -> None:
        for pos in positions:
            line = rows[ROW][pos]
            owner.ctx.add(owner.cell("conso_apres_kwh", line), column, _fr(rows["conso_apres_kwh"][pos]), rules.CONSOMMATION,
                          rules.CONSOMMATION.text(), AVERTISSEMENT, line)

    return _RowCheck((pl.col("conso_apres_kwh") > pl.col("conso_avant_kwh")).fill_null(False), report)


def _supplier_located(sheet: qs.Sheet, typed: pl.DataFrame) -> _RowCheck:
    """A purchase needs its supplier's commune, or a SIRET from which SIRENE can give it."""
    column = sheet.column("commune_fournisseur")

    def report(owner: Part, rows: pl.DataFrame, positions: list[int]) -> None:
        for pos in positions:
            line = rows[ROW][pos]
            owner.ctx.add(owner.cell("commune_fournisseur", line), column, None, rules.OBLIGATOIRE,
                          rules.OBLIGATOIRE.text("fournisseur"), ERREUR, line)

    def given(name: str) -> pl.Expr:
        return pl.col(name).is_null() if name in typed.columns else pl.lit(True)

    return _RowCheck(given("commune_fournisseur") & given("siret"), report)


def check_exercice(exercice: int | None, cell: str | None, column: qs.Column, ctx: ParseContext, options: ReadOptions) -> None:
    """The run is about one exercice (--exercice): a workbook of another year is an error."""
    if options.exercice is None or exercice is None or int(exercice) == options.exercice:
        return
    ctx.add(cell, column, str(exercice), rules.EXERCICE,
            rules.EXERCICE.text(exercice=exercice, demande=options.exercice, colonne=column.label))


def _fr(value) -> str:
    if value is None:
        return ""
    if float(value) == int(value):
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")
