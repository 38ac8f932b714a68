"""Why a figure moved from one exercice to the next: the year-on-year bridge (issue 14).

The change of a territory's figure from N-1 to N is taken apart in steps, each changing one thing
and recomputing the figure, so that the components add up to the change whatever the formula
(a ratio as well as an amount):

  V0  N-1's data, all the organisations present in N-1, N-1's référentiel   (the N-1 figure)
  V1  N-1's data of the organisations present both years, N-1's référentiel → « sortie »   V1 − V0
  V2  N's data of the same organisations, N-1's référentiel                 → « donnees »  V2 − V1
  V3  N's data of all the organisations present in N, N-1's référentiel     → « entree »   V3 − V2
  V4  the same with N's référentiel                                         → « referentiel » V4 − V3
                                                                              (the N figure)

A step whose figure cannot be computed (no organisation complete for it) cannot be told apart
from the next one: their joint change goes to « reste », with the sums' rounding.

The référentiel of an exercice is the one of its last computation while it was the latest
exercice of the workspace: it is kept in the workspace (`resultats/referentiels/EXERCICE.json`, the text of
its files) by every computation, and frozen once a newer exercice is imported — so that last
year's figure is recomputed as it was published, and the change of method is shown apart.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import polars as pl

from acterr_cli.common.atomic import atomic_write_bytes
from acterr_cli.engine.compute import Evaluator
from acterr_cli.engine.measures import organisation_rows
from acterr_cli.engine.run import normalize_level
from acterr_cli.errors import InputMissingError, UsageError
from acterr_cli.referentiel.model import Referentiel, load_referentiel
from acterr_cli.results import NON_REPARTI_CODE
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import RESULTS, Workspace

SNAPSHOTS = "referentiels"
CAUSES = ("sortie", "donnees", "entree", "referentiel", "reste")


# ─── the référentiel each exercice was computed with ───

def record_referentiel(ws: Workspace, referentiel: Referentiel, exercices: list[int] | None) -> None:
    """Keep the référentiel of a computation for its exercices: always for the latest exercice of
    the workspace (its figures follow the method until a newer one is imported), for an older one
    only if none was kept (its published figures stay those of its own method)."""
    years = sorted({u["exercice"] for u in ws.units().values() if str(u.get("siren", "")).isdigit()})
    if not years or not referentiel.files or not ws.writable():  # read-only: the results are not kept either
        return
    latest = years[-1]
    for year in sorted(set(exercices or years) & set(years)):
        path = _snapshot_path(ws, year)
        if year == latest or not path.exists():
            document = _snapshot(referentiel)
            if not path.exists() or json.loads(path.read_text(encoding="utf-8")) != document:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(path, json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"))


def referentiel_of(ws: Workspace, exercice: int) -> Referentiel | None:
    """The référentiel kept for an exercice, loaded (and checked) again; None if none was kept."""
    document = _stored(ws, exercice)
    if document is None:
        return None
    with tempfile.TemporaryDirectory(prefix="acterr-referentiel-") as folder:
        written = []
        for i, f in enumerate(document["fichiers"]):
            # The kept names are only shown; the files are written under names of our own.
            target = Path(folder) / f"{i:02d}_{Path(str(f['nom'])).name or 'fichier.toml'}"
            target.write_text(str(f["texte"]), encoding="utf-8")
            written.append(target)
        return load_referentiel(written[0], written[1], written[2:])


def _stored(ws: Workspace, exercice: int) -> dict | None:
    path = _snapshot_path(ws, exercice)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _snapshot_path(ws: Workspace, exercice: int) -> Path:
    return ws.root / RESULTS / SNAPSHOTS / f"{int(exercice)}.json"


def _snapshot(referentiel: Referentiel) -> dict:
    return {"version": referentiel.version,
            "fichiers": [{"nom": Path(p).name, "texte": Path(p).read_text(encoding="utf-8")} for p in referentiel.files]}


# ─── the bridge ───

def explain_evolution(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, indicator: str, level: str,
                      code: str, exercice: int | None = None) -> dict:
    """The change of one figure from N-1 to N, in components (see the module's docstring)."""
    ind = referentiel.by_code.get(indicator.strip().upper()) or referentiel.by_code.get(indicator.strip())
    if ind is None:
        raise UsageError(f"indicateur inconnu « {indicator} » (voir acterr referentiel).")
    return bridges(ws, reference, referentiel, [ind.code], level, code, exercice, strict=True)[ind.code]


def bridges(ws: Workspace, reference: TerritorialReference, referentiel: Referentiel, indicators: list[str], level: str,
            code: str, exercice: int | None = None, strict: bool = False, siren: str | None = None) -> dict[str, dict]:
    """The bridge of several indicators of one territory, the figures of each step computed once.
    `strict`: a figure missing in N or N-1 is an error (else that indicator is left out);
    `siren`: one organisation's own figure (its board's report), nobody entering or leaving."""
    level = normalize_level(level)
    territory = code.strip().upper()
    if territory == NON_REPARTI_CODE:
        raise UsageError("le non réparti n'est pas un territoire : son évolution se lit dans celle du niveau FRANCE.")
    year, previous = _years(ws, exercice)
    kept = _stored(ws, previous)
    # None: no référentiel kept for N-1 (both years computed with today's)
    same_method = None if kept is None else kept["fichiers"] == _snapshot(referentiel)["fichiers"]
    old = referentiel if kept is None or same_method else referentiel_of(ws, previous)
    # Both years' facts reduced in one pass (then split): the reduction is most of the time.
    both = _rows(ws, reference, level, [previous, year], old, territory, siren)
    rows_previous, rows_now_old = (both.filter(pl.col("exercice") == y) for y in (previous, year))
    same_parameters = old.parameters == referentiel.parameters
    rows_now = rows_now_old if same_parameters else _rows(ws, reference, level, [year], referentiel, territory, siren)
    if rows_previous.is_empty() and rows_now.is_empty():
        raise InputMissingError(f"aucune donnée pour le territoire « {code} » au niveau {level} en {previous} ni en {year} "
                                "(voir « acterr territoire »).")
    before, after = _sirens(rows_previous), _sirens(rows_now)
    common = before & after
    steps = [
        _figures(old, rows_previous),
        _figures(old, _only(rows_previous, common)),
        _figures(old, _only(rows_now_old, common)),
        _figures(old, rows_now_old),
        _figures(referentiel, rows_now),
    ]
    names = {s["siren"]: s["raison_sociale"] for s in (*_names(rows_previous), *_names(rows_now))}
    labels = _labels(before - after, after - before, names, previous, year, old, referentiel, same_method)
    out = {}
    for ind_code in indicators:
        values = [s.get(ind_code) for s in steps]
        if values[0] is None or values[-1] is None:
            if strict and ind_code not in old.by_code:
                raise InputMissingError(f"{ind_code} n'existait pas dans le référentiel de {previous} (version {old.version}) : "
                                        "pas d'évolution à expliquer.")
            if strict:
                missing = previous if values[0] is None else year
                raise InputMissingError(f"{ind_code} n'est pas calculé pour « {code} » ({level}) en {missing} : "
                                        "pas d'évolution à expliquer (voir acterr compute --expliquer).")
            continue
        out[ind_code] = {
            "indicateur": ind_code, "code_territoire": territory, "exercice": year, "exercice_precedent": previous,
            "valeur": values[-1], "valeur_precedente": values[0],
            "composantes": _components(values, labels),
        }
    return out


def _years(ws: Workspace, exercice: int | None) -> tuple[int, int]:
    years = sorted({u["exercice"] for u in ws.units().values() if str(u.get("siren", "")).isdigit()})
    year = exercice if exercice is not None else (years[-1] if years else None)
    if year is None or year not in years:
        raise InputMissingError(f"aucune donnée d'organisme pour l'exercice {year} (exercices importés : "
                                f"{', '.join(map(str, years)) or 'aucun'}).")
    if year - 1 not in years:
        raise InputMissingError(f"aucune donnée de l'exercice {year - 1} : importez les questionnaires ou la liasse de "
                                f"{year - 1} pour expliquer l'évolution de {year}.")
    return year, year - 1


def _rows(ws: Workspace, reference: TerritorialReference, level: str, years: list[int], referentiel: Referentiel,
          territory: str, siren: str | None) -> pl.DataFrame:
    rows = organisation_rows(ws, reference, level, years, referentiel.parameters)
    rows = rows.filter(pl.col("code_territoire").str.to_uppercase() == territory)
    return rows if siren is None else rows.filter(pl.col("siren") == siren)


def _sirens(rows: pl.DataFrame) -> set[str]:
    return set(rows["siren"].drop_nulls().to_list())


def _only(rows: pl.DataFrame, sirens: set[str]) -> pl.DataFrame:
    """The rows of these organisations, and the territory's own row (public data) if any."""
    return rows.filter(pl.col("siren").is_null() | pl.col("siren").is_in(sorted(sirens)))


def _names(rows: pl.DataFrame) -> list[dict]:
    if "raison_sociale" not in rows.columns:
        return [{"siren": s, "raison_sociale": None} for s in _sirens(rows)]
    return rows.filter(pl.col("siren").is_not_null()).select("siren", pl.col("raison_sociale").cast(pl.Utf8)).to_dicts()


def _figures(referentiel: Referentiel, rows: pl.DataFrame) -> dict[str, float | None]:
    """Every indicator's consolidated value for the rows (one territory, one exercice)."""
    if rows.is_empty() or rows["siren"].null_count() == rows.height:
        return {}
    evaluator = Evaluator.for_referentiel(referentiel)
    consolidated = evaluator.consolidate(evaluator.derive(rows))
    codes = [i.code for i in referentiel.indicators]
    return {codes[o]: v for o, v in consolidated.select("_o", "valeur").iter_rows()}


def _labels(leaving: set[str], entering: set[str], names: dict, previous: int, year: int, old: Referentiel,
            new: Referentiel, same_method: bool | None) -> dict[str, str]:
    def who(sirens: set[str]) -> str:
        if not sirens:
            return "aucun"
        listed = [f"{names.get(s) or 'organisme'} ({s})" for s in sorted(sirens)]
        return ", ".join(listed[:5]) + (f" et {len(listed) - 5} autres" if len(listed) > 5 else "")

    if same_method is None:
        method = (f"Changement de paramètres ou de référentiel : aucun référentiel enregistré pour {previous}, "
                  f"les deux exercices sont calculés avec celui d'aujourd'hui (version {new.version})")
    elif same_method:
        method = f"Changement de paramètres ou de référentiel : aucun (version {new.version} les deux années)"
    else:
        method = (f"Changement de paramètres ou de référentiel : {year} recalculé avec le référentiel de {previous} "
                  f"(version {old.version}), puis avec celui de {year} (version {new.version})")
    return {
        "sortie": f"Organismes sortis (présents en {previous}, absents en {year}) : {who(leaving)}",
        "donnees": (f"Évolution des données des organismes présents les deux années ({previous} → {year}), "
                    "données publiques du territoire comprises"),
        "entree": f"Organismes entrés (absents en {previous}, présents en {year}) : {who(entering)}",
        "referentiel": method,
        "reste": "Reste : étapes non séparables (chiffre non calculable à une étape intermédiaire) et arrondis",
    }


def _components(values: list[float | None], labels: dict[str, str]) -> list[dict]:
    """V0 … V4 → one amount per cause; a step whose figure is unknown gives its change to « reste »."""
    amounts = dict.fromkeys(CAUSES, 0.0)
    last, skipped = values[0], False
    for cause, value in zip(CAUSES[:4], values[1:], strict=True):
        if value is None:  # this step and the next cannot be told apart
            skipped = True
            continue
        if not skipped:
            amounts[cause] = value - last
        last, skipped = value, False
    # What the steps could not tell apart, and the sums' last bits: the components add up to the change.
    amounts["reste"] = (values[-1] - values[0]) - sum(amounts[c] for c in CAUSES[:4])
    return [{"cause": c, "libelle": labels[c], "montant": amounts[c]} for c in CAUSES]
