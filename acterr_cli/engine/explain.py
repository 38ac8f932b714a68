"""How one figure was obtained: formula, measures (per organisation and summed), parameters with
their sources, contributing organisations and their files — enough to recompute it on paper."""

from __future__ import annotations

import polars as pl

from acterr_cli.engine import sensitivity
from acterr_cli.engine.compute import Evaluator
from acterr_cli.engine.measures import RPLS_STOCK_MEASURES, TERRITORY_MEASURES, organisation_rows, raw_measures
from acterr_cli.engine.run import compute, normalize_level
from acterr_cli.errors import InputMissingError, UsageError
from acterr_cli.referentiel.model import SCENARIOS, Referentiel
from acterr_cli.results import NON_REPARTI_CODE
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import Workspace


def explain(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, indicator_code: str, level: str,
            territory_code: str, exercice: int | None = None) -> dict:
    level = normalize_level(level)
    ind = referentiel.by_code.get(indicator_code.strip().upper()) or referentiel.by_code.get(indicator_code.strip())
    if ind is None:
        raise UsageError(f"indicateur inconnu « {indicator_code} » (voir acterr referentiel).")
    run: dict = {}  # the facts read once for the level, its FRANCE figures and the rows below
    results = compute(ws, reference, referentiel, level, exercice, run).results
    code = territory_code.strip().upper()
    mine = results.filter((pl.col("indicateur") == ind.code) & (pl.col("code_territoire").cast(pl.Utf8).str.to_uppercase() == code))
    if mine.is_empty():
        raise InputMissingError(f"aucun résultat pour {ind.code} sur le territoire « {territory_code} » au niveau {level}.")
    year = mine["exercice"].max()
    mine = mine.filter(pl.col("exercice") == year)
    if code == NON_REPARTI_CODE:
        return _not_placed(ws, reference, referentiel, ind, level, year, results, mine, run)
    rows = Evaluator(referentiel).derive(organisation_rows(ws, reference, level, year, referentiel.parameters, run))
    rows = rows.filter(pl.col("code_territoire").str.to_uppercase() == code)
    measures = sorted(referentiel.measure_roots(ind))
    return _document(referentiel, ind, level, year, mine, mesures=_measures(rows, measures),
                     organismes=_organisations(rows, measures, mine), fichiers=_files(ws, rows, year, measures))


def _document(referentiel: Referentiel, ind, level: str, year: int, mine: pl.DataFrame, **parts) -> dict:
    """The explanation's document: the figure and its method, then `parts` (mesures, organismes…)."""
    return {
        "version": 1,
        "indicateur": _indicator(ind, referentiel),
        "niveau": level,
        "territoire": {"code": mine["code_territoire"][0], "nom": mine["nom_territoire"][0]},
        "exercice": year,
        "resultat": mine.filter(pl.col("siren").is_null()).to_dicts()[0],
        "parametres": [_parameter(referentiel, name) for name in sorted(referentiel.parameters_used(ind))],
        "sensibilite": _drivers(referentiel, mine.filter(pl.col("siren").is_null()).to_dicts()[0]),
        **parts,
    }


def _not_placed(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, ind, level: str, year: int,
                results: pl.DataFrame, mine: pl.DataFrame, run: dict) -> dict:
    """The Non réparti figure, taken apart: the FRANCE figure, the level's territories, and for each
    organisation what of its own FRANCE figure no territory of the level holds."""
    france = compute(ws, reference, referentiel, "FRANCE", year, run).results.filter(
        (pl.col("indicateur") == ind.code) & (pl.col("exercice") == year))
    level_rows = results.filter((pl.col("indicateur") == ind.code) & (pl.col("exercice") == year)
                                & (pl.col("code_territoire").cast(pl.Utf8) != NON_REPARTI_CODE))
    whole = france.filter(pl.col("siren").is_null())["valeur"].first()
    placed = level_rows.filter(pl.col("siren").is_null())["valeur"].sum()
    per_org = level_rows.filter(pl.col("siren").is_not_null()).group_by(pl.col("siren").cast(pl.Utf8)).agg(pl.col("valeur").sum())
    placed_by_org = dict(per_org.iter_rows())
    organisations = []
    for r in france.filter(pl.col("siren").is_not_null()).with_columns(pl.col(pl.Categorical).cast(pl.Utf8)).sort("siren").iter_rows(named=True):
        inside = placed_by_org.get(r["siren"]) or 0.0
        rest = None if r["valeur"] is None else r["valeur"] - inside
        organisations.append({
            "siren": r["siren"], "raison_sociale": r["raison_sociale"], "compte": r["valeur"] is not None,
            "donnees_organisme_comptees": True,
            "mesures": {"valeur France": r["valeur"], f"dans les territoires ({level})": inside, "non réparti": rest},
            "valeur": rest, "statut": r["statut"], "motif": r["motif"],
        })
    sirens = {o["siren"] for o in organisations}
    return _document(referentiel, ind, level, year, mine, repartition={
        "france": whole, "territoires": placed, "non_reparti": mine.filter(pl.col("siren").is_null())["valeur"][0]}, mesures=[
        {"nom": "valeur_france", "libelle": "Chiffre de l'ensemble des organismes (niveau FRANCE)", "origine": "calcul acterr",
         "valeur": whole},
        {"nom": "somme_territoires", "libelle": f"Somme des territoires du niveau {level}", "origine": "calcul acterr", "valeur": placed},
    ], organismes=organisations, fichiers=[
        {"siren": u["siren"], "type": u["type"], "exercice": u["exercice"], "fichier": u.get("fichier"), "sha256": u.get("sha256"),
         "importe_le": u.get("importe_le")}
        for u in sorted(ws.units().values(), key=lambda u: (u["siren"], u["type"], u["exercice"])) if u["siren"] in sirens and u["exercice"] == year])


def _drivers(referentiel: Referentiel, result: dict) -> list[dict]:
    """The parameters that move the figure most, one at a time: the figure's change, in its unit,
    when each takes its low then its high value, the others central (engine/sensitivity.py)."""
    return [{"parametre": result[f"moteur_{r}"], "libelle": sensitivity.label(referentiel, result[f"moteur_{r}"]),
             "ecart_basse": result[f"moteur_{r}_basse"], "ecart_haute": result[f"moteur_{r}_haute"]}
            for r in range(1, sensitivity.TOP + 1) if result.get(f"moteur_{r}")]


def _indicator(ind, referentiel: Referentiel) -> dict:
    used = {name: referentiel.by_ident[name].code for name in referentiel.dependencies(ind) if name in referentiel.by_ident}
    return {
        "code": ind.code, "libelle": ind.libelle, "unite": ind.unite, "description": ind.description,
        "formules": {s: ind.formula(s) for s in SCENARIOS} | ({"repli": ind.formule_repli} if ind.formule_repli else {}),
        "indicateurs_utilises": {code: referentiel.by_code[code].formule for code in used.values()},
        # what a flat-rate figure is made of and what would replace it (shown beside its part_forfaitaire)
        "formule_forfait": ind.formule_forfait, "forfait_remplace_par": ind.forfait_remplace_par or None,
        "mesures_derivees": [{"nom": m.nom, "formule": m.formule, "description": m.description} for m in referentiel.measures],
    }


def _complete(measures: list[str]) -> pl.Expr:
    org = [m for m in measures if m not in TERRITORY_MEASURES]
    return pl.all_horizontal([pl.col(m).is_not_null() for m in org]) if org else pl.lit(True)


def _measures(rows: pl.DataFrame, measures: list[str]) -> list[dict]:
    """Each measure: label, origin, and its value summed over the organisations counted."""
    raw = raw_measures()
    complete = rows.filter(_complete(measures))
    out = []
    for m in measures:
        value = complete[m].first() if m in TERRITORY_MEASURES else (complete[m].sum() if complete.height else None)
        info = raw.get(m)
        out.append({"nom": m, "libelle": info.libelle if info else m, "origine": info.origine if info else "mesure dérivée",
                    "valeur": value})
    return out


def _organisations(rows: pl.DataFrame, measures: list[str], results: pl.DataFrame) -> list[dict]:
    by_siren = {r["siren"]: r for r in results.filter(pl.col("siren").is_not_null()).iter_rows(named=True)}
    flags = rows.with_columns(_complete(measures).alias("_complet"))
    out = []
    for r in flags.sort("siren").iter_rows(named=True):
        result = by_siren.get(r["siren"], {})
        out.append({
            "siren": r["siren"], "raison_sociale": r.get("raison_sociale"), "compte": bool(r["_complet"]),
            "donnees_organisme_comptees": bool(r.get("inclus")),
            "mesures": {m: r.get(m) for m in measures if m not in TERRITORY_MEASURES},  # the territory's own: once, above
            "valeur": result.get("valeur"), "statut": result.get("statut"), "motif": result.get("motif"),
        })
    return out


def _parameter(referentiel: Referentiel, name: str) -> dict:
    p = referentiel.parameters[name]
    return {"nom": p.nom, "libelle": p.libelle, "basse": p.basse, "centrale": p.centrale, "haute": p.haute,
            "unite": p.unite, "annee": p.annee, "source": p.source, "statut": p.statut}


def _files(ws: Workspace, rows: pl.DataFrame, year: int, measures: list[str]) -> list[dict]:
    """The organisations' files of the exercice, and the public data the measures come from (the
    territories' RPLS, the market rents: every millésime imported, `exercice` being the millésime)."""
    sirens = set(rows["siren"].to_list())
    public = ({"rpls"} if any(m in RPLS_STOCK_MEASURES for m in measures) else set()) | (
        {"loyers"} if any(m.startswith("gain_marche") for m in measures) else set())
    return [
        {"siren": u["siren"], "type": u["type"], "exercice": u["exercice"], "fichier": u.get("fichier"), "sha256": u.get("sha256"),
         "importe_le": u.get("importe_le")}
        for u in sorted(ws.units().values(), key=lambda u: (u["siren"], u["type"], u["exercice"]))
        if (u["siren"] in sirens and u["exercice"] == year) or (u["type"] in public and not u["siren"].isdigit())
    ]
