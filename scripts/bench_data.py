"""Synthetic questionnaires at national scale for `make bench` (deterministic).

One workbook per organisation: its dwellings in 3 to 30 real communes of one département,
every sheet filled with plausible magnitudes, and N purchase lines with suppliers of the same
département (mostly) or elsewhere in France.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl

from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.cells import luhn_valid
from acterr_cli.outputs.questionnaire_template import write_questionnaire
from acterr_cli.territory.reference import TerritorialReference


def _communes() -> dict[str, list[str]]:
    """Communes of each département with at least 2 000 inhabitants (where social housing is)."""
    communes = TerritorialReference.load().communes.filter(pl.col("population") >= 2000)
    return {d: g["code"].to_list() for (d,), g in communes.group_by("departement")}


def _siren(rng: random.Random) -> str:
    while True:
        code = "98" + "".join(rng.choice("0123456789") for _ in range(7))
        if luhn_valid(code):
            return code


def departement(index: int, by_dep: dict[str, list[str]]) -> str:
    """The département of organisation `index`: the first draw of `organisation` (which must keep it first)."""
    return random.Random(index).choice(sorted(by_dep))


def organisation(index: int, purchases: int, by_dep: dict[str, list[str]], exercice: int = 2025) -> tuple[dict, dict]:
    """The same organisation (SIREN, communes) whatever the exercice; its figures differ a little
    from one exercice to the next."""
    rng = random.Random(index)
    dep = rng.choice(sorted(by_dep))  # first draw: see departement()
    local = by_dep[dep]
    communes = rng.sample(local, min(len(local), rng.randint(3, 30)))
    everywhere = [c for codes in by_dep.values() for c in codes[:5]]
    patrimoine, production, fiscalite, salaries = [], [], [], []
    for code in communes:
        n = rng.randint(50, 3000)
        dpe = [int(n * w) for w in (0.03, 0.1, 0.2, 0.3, 0.22, 0.08, 0.03)]
        patrimoine.append({"commune": code, "logements": n + sum(dpe) - sum(dpe), "logements_qpv": int(n * rng.random() * 0.5),
                           "logements_individuels": int(n * 0.1), "surface_m2": n * 65, "loyers_annuels_eur": round(n * 65 * 6.5 * 12),
                           "logements_pmr": int(n * 0.04), **{f"dpe_{x}": v for x, v in zip("abcdefg", dpe, strict=True)},
                           "dpe_inconnu": n - sum(dpe), "ges_fg": int(n * 0.07)})
        production.append({"commune": code, "mises_en_service": n // 50, "mises_en_chantier": n // 45, "rehabilitations": n // 30,
                           "invest_neuf_eur": n * 2000, "invest_rehab_eur": n * 1000, "gros_entretien_eur": n * 400})
        fiscalite.append({"commune": code, "tfpb_eur": n * 450, "abattement_tfpb_eur": 0})
        salaries.append({"commune": code, "etp": round(n * 0.0165, 1), "masse_salariale_eur": round(n * 0.0165 * 46000)})
    total = sum(p["logements"] for p in patrimoine)
    natures = qs.CHOICES["nature"]
    achats = [{"commune_fournisseur": rng.choice(local if rng.random() < 0.7 else everywhere), "fournisseur": f"Entreprise {i}",
               "nature": rng.choice(natures), "montant_ht_eur": round(rng.uniform(500, 80000), 2),
               "commune_operation": rng.choice(communes), "ess": "oui" if rng.random() < 0.05 else "non"} for i in range(purchases)]
    siren = _siren(rng)
    if exercice != 2025:  # another year: the amounts in euros a few per cent off (counts kept, so they stay consistent)
        change = random.Random(f"{index}-{exercice}").uniform(0.9, 1.1)
        for table in (patrimoine, production, fiscalite, salaries):
            for row in table:
                row.update({k: round(v * change) for k, v in row.items() if k.endswith("_eur") and v})
    organisme = {"siren": siren, "raison_sociale": f"Organisme de test {index}", "famille": rng.choice(["OPH", "ESH", "COOP", "SEM"]),
                 "exercice": exercice, "logements_debut": round(total * 0.98), "logements_fin": total,
                 "etp_total": round(sum(s["etp"] for s in salaries), 1), "masse_salariale_totale": sum(s["masse_salariale_eur"] for s in salaries),
                 "administrateurs": 20, "administratrices": 9, "admin_locataires": 4, "taux_satisfaction_pct": 80}
    tables = {"Patrimoine": patrimoine, "Production": production, "Fiscalite": fiscalite, "Salaries": salaries, "Achats": achats}
    return organisme, tables


def _write(args: tuple[Path, int, int, int]) -> None:
    folder, index, purchases, exercice = args
    organisme, tables = organisation(index, purchases, _communes(), exercice)
    write_questionnaire(folder / f"organisme_{index:03d}.xlsx", organisme, tables)


def write_questionnaires(folder: Path, n: int, purchases: int, exercice: int = 2025) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max(1, min(2, n))) as pool:
        list(pool.map(_write, [(folder, i, purchases, exercice) for i in range(n)], chunksize=4))
