"""Benchmark among peers: each organisation's value against the quartiles of its peers.

Peers are the other imported organisations of the same famille (OPH, ESH, COOP, SEM), the same
size band (dwellings, SIZE_BANDS) and the same home région (where most of its dwellings are); when
fewer than MIN_PEERS of them exist, the group widens — same famille and région, then same région,
then every imported organisation — and the group used, with the narrower ones that were too small,
is written beside the figures. Only intensities are compared (%, € per dwelling, €/m²…): an
absolute amount says more about size than about practice. Values are each organisation's own
totals (FRANCE level, where its organisation-level data count). With fewer than MIN_PEERS values,
no quartile is shown: with few peers a quartile would reveal a figure. Each indicator says which
way is better (the catalogue's `sens`), or that neither is.
"""

from __future__ import annotations

from typing import Protocol

import polars as pl

from acterr_cli.common.formatting import fr_count
from acterr_cli.referentiel.model import DIRECTIONS
from acterr_cli.results import CALCULE, Computation

MIN_PEERS = 5
# Size bands by dwellings (the organisation's TER-00 at FRANCE level): lower bound, label.
SIZE_BANDS = ((0, "moins de 3 000 logements"), (3_000, "3 000 à 9 999 logements"), (10_000, "10 000 logements ou plus"))
# Which way is better: the catalogue's `sens` (« hausse », « baisse »), or neither.
DIRECTION_TEXT = {**DIRECTIONS, None: "ni mieux ni moins bien en soi"}
CODES = ("ECO-14", "ECO-13", "ECO-04", "ECO-05", "SOC-04", "SOC-05", "SOC-13", "SOC-07", "SOC-08", "SOC-11b",
         "SOC-12", "PV-01", "PV-02", "ENV-01", "ENV-01b", "ENV-02", "GOV-01", "GOV-02", "GOV-03")
POSITIONS = ("sous le 1er quartile", "entre le 1er quartile et la médiane", "entre la médiane et le 3e quartile",
             "au-dessus du 3e quartile")


class _Inputs(Protocol):
    national: Computation | None
    regional: Computation | None
    families: dict[str, str]


class PeerData(Protocol):
    """What the benchmark reads of a report (model.ReportData has it): declared here so that
    this module does not import the model that calls it."""
    inputs: _Inputs
    year: int | None
    organisations: list[tuple[str, str]]
    labels: dict[str, dict]


def benchmark(data: PeerData) -> list[dict]:
    """One row per organisation of the scope × compared indicator (see the module docstring)."""
    national = data.inputs.national
    if national is None or data.year is None:
        return []
    own = national.results.filter((pl.col("exercice") == data.year) & pl.col("siren").is_not_null()
                                  & pl.col("indicateur").is_in([*CODES, DWELLINGS]) & (pl.col("statut") == CALCULE))
    if own.is_empty():
        return []
    values = {(r["siren"], r["indicateur"]): r["valeur"] for r in own.iter_rows(named=True)}
    everyone = sorted({s for s, c in values if c in CODES})
    families = data.inputs.families
    regions = home_regions(data)
    bands = {s: size_band(values.get((s, DWELLINGS))) for s in everyone}
    out = []
    for siren, name in data.organisations:
        group, label = peer_group(siren, everyone, families, regions, bands)
        for code in CODES:
            mine = values.get((siren, code))
            if mine is None:
                continue
            others = [values[(s, code)] for s in group if (s, code) in values]
            out.append(_row(siren, name, code, data.labels.get(code, {}), mine, others, label))
    return out


DWELLINGS = "TER-00"


def size_band(dwellings: float | None) -> str | None:
    if dwellings is None:
        return None
    return [label for low, label in SIZE_BANDS if dwellings >= low][-1]


def direction(info: dict) -> str | None:
    """« hausse », « baisse » or None: the catalogue's `sens` of the indicator."""
    given = info.get("sens")
    return given if given in DIRECTIONS else None


def _row(siren: str, name: str, code: str, info: dict, mine: float, others: list[float], label: str) -> dict:
    sens = direction(info)
    row = {"siren": siren, "raison_sociale": name, "indicateur": code, "libelle": info.get("libelle", code),
           "unite": info.get("unite", ""), "valeur": mine, "pairs": len(others), "groupe": label, "sens": sens,
           "mieux": DIRECTION_TEXT[sens],
           "q1": None, "mediane": None, "q3": None, "position": f"moins de {MIN_PEERS} pairs : pas de comparaison"}
    if len(others) >= MIN_PEERS:
        s = pl.Series(others, dtype=pl.Float64)
        q1, med, q3 = (s.quantile(q, interpolation="linear") for q in (0.25, 0.5, 0.75))
        rank = sum(mine > q for q in (q1, med, q3))
        row.update(q1=q1, mediane=med, q3=q3, position=POSITIONS[rank])
    return row


def peer_group(siren: str, everyone: list[str], families: dict[str, str], regions: dict[str, tuple[str, str]],
               bands: dict[str, str | None] | None = None) -> tuple[list[str], str]:
    """The narrowest group with at least MIN_PEERS other organisations, and how to name it (with
    the narrower groups that were too small: « OPH, 3 000 à 9 999 logements, Occitanie : 2 pairs,
    trop peu → même région (Occitanie), toutes familles »)."""
    others = [s for s in everyone if s != siren]
    bands = bands or {}
    family, region, band = families.get(siren), regions.get(siren), bands.get(siren)
    candidates = []
    if family and region and band:
        candidates.append(([s for s in others if families.get(s) == family and regions.get(s) == region and bands.get(s) == band],
                           f"{family}, {band}, {region[1]}"))
    if family and region:
        candidates.append(([s for s in others if families.get(s) == family and regions.get(s) == region],
                           f"{family}, toutes tailles, {region[1]}"))
    if region:
        candidates.append(([s for s in others if regions.get(s) == region], f"même région ({region[1]}), toutes familles"))
    candidates.append((others, "tous les organismes importés"))
    too_small = []
    for group, label in candidates:
        if len(group) >= MIN_PEERS:
            return group, (" ; ".join(too_small) + " → " if too_small else "") + label
        too_small.append(f"{label} : {fr_count(len(group), 'pair')}, trop peu")
    return candidates[-1][0], " ; ".join(too_small)


def home_regions(data: PeerData) -> dict[str, tuple[str, str]]:
    """siren → (code, nom) of the région holding most of its dwellings (REGION-level results)."""
    regional = data.inputs.regional
    if regional is None:
        return {}
    rows = regional.results.filter((pl.col("exercice") == data.year) & pl.col("siren").is_not_null()
                                   & (pl.col("indicateur") == "TER-00") & (pl.col("statut") == CALCULE))
    best = rows.sort("valeur", descending=True).unique("siren", keep="first")
    return {r["siren"]: (r["code_territoire"], r["nom_territoire"]) for r in best.iter_rows(named=True)}
