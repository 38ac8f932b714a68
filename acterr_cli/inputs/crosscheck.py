"""Liasse vs questionnaire at import time: the same organisation-level figure from two sources.

The computation reports these differences too (engine/checks.py, same comparisons and the same
1 % tolerance); telling it at import, next to the cell, lets the association ask the organisation
the same night. The liasse wins in the computation, so this is a warning, never a refusal.
"""

from __future__ import annotations

import polars as pl

from acterr_cli.engine.checks import COMPARISONS, TOLERANCE
from acterr_cli.errors import AVERTISSEMENT, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.model import LIASSE, QUESTIONNAIRE, ImportUnit

_SHEET_OF = {s.dataset: s for s in qs.ALL_SHEETS}


def compare_units(liasse: ImportUnit, questionnaire: ImportUnit, reported: ImportUnit, fichier: str, other: str) -> list[Problem]:
    """Warnings, attached to `reported` (one of the two units, from `fichier`); `other` names the
    file the other figure comes from."""
    problems = []
    for field, label, dataset, q_field in COMPARISONS:
        lv = _liasse_value(liasse, field)
        qv = _questionnaire_sum(questionnaire, dataset, q_field)
        if lv is None or qv is None or not _differ(lv, qv):
            continue
        pct = "" if lv == 0 else f" ({abs(qv - lv) / abs(lv) * 100:.1f} %)".replace(".", ",")
        source = "la liasse" if reported.kind == QUESTIONNAIRE else "le questionnaire"
        message = (f"{label} : la liasse donne {_fr(lv)}, le questionnaire {_fr(qv)}{pct}, écart de plus de 1 % "
                   f"avec {source} ({other}) ; la liasse sera retenue dans les calculs.")
        sheet, cell = _where(reported, field, dataset, q_field)
        problems.append(Problem(fichier=fichier, feuille=sheet, cellule=cell, colonne=label,
                                valeur=_fr(qv if reported.kind == QUESTIONNAIRE else lv),
                                regle="liasse_questionnaire", message=message, gravite=AVERTISSEMENT))
    return problems


def _liasse_value(unit: ImportUnit, field: str) -> float | None:
    frame = unit.tables.get("liasse")
    if frame is None or field not in frame.columns or frame.is_empty():
        return None
    value = frame[field][0]
    return None if value is None else float(value)


def _questionnaire_sum(unit: ImportUnit, dataset: str, field: str) -> float | None:
    frame = unit.tables.get(dataset)
    if frame is None or field not in frame.columns or not frame[field].is_not_null().any():
        return None
    return float(frame.select(pl.col(field).cast(pl.Float64).sum()).item())


def _differ(lv: float, qv: float) -> bool:
    if lv == 0:
        return qv != 0
    return abs(qv - lv) / abs(lv) > TOLERANCE


def _where(unit: ImportUnit, field: str, dataset: str, q_field: str) -> tuple[str | None, str | None]:
    if unit.kind == LIASSE:
        return unit.cells.get(field, (None, None))
    if q_field in unit.cells:
        return unit.cells[q_field]
    sheet = _SHEET_OF.get(dataset)
    return (sheet.name if sheet else dataset), None


def _fr(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.1f}".replace(",", " ").replace(".", ",")
