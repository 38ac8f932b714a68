"""Liasse vs questionnaire at import time: the same organisation-level figure from two sources.

The computation reports these differences too (engine/checks.py, with the comparisons and the
1 % tolerance declared here); telling it at import, next to the cell, lets the association ask the
organisation the same night. The liasse wins in the computation, so this is a warning, never a refusal.
"""

from __future__ import annotations

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs import rules
from acterr_cli.inputs.model import LIASSE, QUESTIONNAIRE, ImportUnit

# Declared here, where the import compares, and read by the engine's check (engine/checks.py).
TOLERANCE = 0.01

# liasse field, French label, questionnaire dataset, questionnaire field (summed over communes)
COMPARISONS = (
    ("logements", "Logements au 31 décembre", "organismes", "logements_fin"),
    ("etp_total", "Effectif total (ETP)", "organismes", "etp_total"),
    ("masse_salariale_totale", "Masse salariale brute", "organismes", "masse_salariale_totale"),
    ("loyers_quittances_eur", "Loyers quittancés", "patrimoine", "loyers_annuels_eur"),
    ("tfpb_eur", "TFPB acquittée", "fiscalite", "tfpb_eur"),
    ("invest_neuf_eur", "Investissement construction neuve", "production", "invest_neuf_eur"),
    ("invest_rehab_eur", "Investissement réhabilitation", "production", "invest_rehab_eur"),
    ("gros_entretien_eur", "Gros entretien", "production", "gros_entretien_eur"),
    ("mises_en_service", "Logements mis en service", "production", "mises_en_service"),
    ("rehabilitations", "Logements réhabilités", "production", "rehabilitations"),
)
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
        message = rules.LIASSE_QUESTIONNAIRE.text(libelle=label, liasse=_fr(lv), questionnaire=_fr(qv), ecart=pct, source=source,
                                                  autre=other)
        sheet, cell = _where(reported, field, dataset, q_field)
        problems.append(Problem(fichier=fichier, feuille=sheet, cellule=cell, colonne=label,
                                valeur=_fr(qv if reported.kind == QUESTIONNAIRE else lv),
                                regle=rules.LIASSE_QUESTIONNAIRE.code, message=message, gravite=AVERTISSEMENT))
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
