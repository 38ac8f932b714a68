"""What a report shows, whatever its format: the scope (all territories of a level, one territory,
one organisation), the results of one exercice split as each sheet needs them, the headline
figures of the scope, territories in reading order, peers, and the data-quality notes.

Three scopes, three audiences:
- « ensemble » — a regional association's overview: every territory of the level, ranked;
  headline figures are those of all imported organisations (FRANCE level, which also counts the
  organisation-level data that no territory can hold, rule 7);
- « territoire » — one territory (an EPCI president's report) with every organisation present;
- « organisme » — one organisation's report for its board: its totals (FRANCE level, its own
  rows), its territories, and its position among its peers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from acterr_cli.common.formatting import fr_count
from acterr_cli.errors import InputMissingError, UsageError
from acterr_cli.outputs.nature import NON_REPARTI_CODE, NON_REPARTI_NOM
from acterr_cli.outputs.reports.xlsx import is_additive
from acterr_cli.referentiel.model import Referentiel, load_referentiel
from acterr_cli.results import CALCULE, NON_CALCULABLE, Computation

ENSEMBLE, TERRITOIRE, ORGANISME = "ensemble", "territoire", "organisme"
LEVEL_TITLES = {"COMMUNE": "par commune", "EPCI": "par EPCI", "DEPARTEMENT": "par département",
                "REGION": "par région", "FRANCE": "France entière"}
LEVEL_NOUNS = {"COMMUNE": "commune", "EPCI": "EPCI", "DEPARTEMENT": "département", "REGION": "région", "FRANCE": "France"}
# Levels whose territories partition what they contain: each dwelling lies in exactly one of them.
PARTITIONING_LEVELS = frozenset({"COMMUNE", "EPCI", "DEPARTEMENT", "REGION", "FRANCE"})
DWELLINGS = "TER-00"
# A territory's report places it in its région (a commune in its département): its share of the
# sum of the région's territories of the same level, and its rank among them, for these figures.
PARENT_LEVELS = {"COMMUNE": "DEPARTEMENT", "EPCI": "REGION", "DEPARTEMENT": "REGION"}
STANDING_CODES = ("TER-00", "ECO-01", "ECO-06", "ECO-10", "ECO-11", "SOC-01", "SOC-06", "PV-01", "ENV-01b")


@dataclass(frozen=True)
class Standing:
    """One headline figure of a territory among the territories of its région (or département)."""

    code: str
    value: float
    unit: str
    rank: int  # 1: the largest
    ranked: int  # territories of the parent with this figure computed
    total: float | None  # their sum (additive figures only)

    @property
    def share(self) -> float | None:
        return 100 * self.value / self.total if self.total else None


@dataclass(frozen=True)
class Scope:
    kind: str = ENSEMBLE
    code: str | None = None  # territory code (kind territoire)
    siren: str | None = None  # organisation (kind organisme)

    @classmethod
    def territory(cls, code: str) -> Scope:
        return cls(TERRITOIRE, code=code.strip())

    @classmethod
    def organisation(cls, siren: str) -> Scope:
        return cls(ORGANISME, siren=siren.strip())


@dataclass
class ReportInputs:
    """The computations a report is made of. Only `computation` (the level shown) is required;
    `national` (FRANCE level) gives true totals and organisation-level figures, `regional`
    (REGION level) each organisation's home region for its peers."""

    computation: Computation
    national: Computation | None = None
    regional: Computation | None = None
    referentiel: Referentiel | None = None
    warnings: list[dict] = field(default_factory=list)  # import warnings (Problem dicts + siren)
    families: dict[str, str] = field(default_factory=dict)  # siren → famille (OPH, ESH…)
    # (indicators, level, code, exercice, siren) → the N-1 → N bridge of those figures (api.evolution_of)
    bridge: Callable[[list[str], str, str, int, str | None], dict[str, dict]] | None = None


@dataclass(frozen=True)
class Territory:
    code: str
    nom: str
    logements: float | None  # the organisations' dwellings there (TER-00); None or 0: none
    organismes: int

    @property
    def housed(self) -> bool:
        return (self.logements or 0) > 0


@dataclass
class ReportData:
    scope: Scope
    inputs: ReportInputs
    year: int | None
    rows: list[dict]  # results by territory of the level, in the scope (consolidated, or the organisation's)
    org_frame: pl.DataFrame  # per-organisation results by territory (ensemble, territoire): may be large
    headline: dict[str, dict]  # indicator → the scope's figure
    referentiel: Referentiel
    subject: str = ""  # territory or organisation name
    headline_source: str = ""  # where the headline figures come from, for the notes
    # The level's NON_REPARTI results (overview: the engine's; an organisation's report: its own,
    # see organisation_unplaced): what organisation-level data could not place in a territory,
    # per additive indicator. Never among `rows`: not a territory (see nature.py).
    unplaced: list[dict] = field(default_factory=list)
    # The N-1 → N bridge of the headline amounts (engine/bridge.py), when N-1 is imported: « Évolution » sheet.
    evolution: dict[str, dict] = field(default_factory=dict)

    # ─── building ───

    @classmethod
    def build(cls, inputs: ReportInputs, scope: Scope | None = None, exercice: int | None = None) -> ReportData:
        scope = scope or Scope()
        results = inputs.computation.results
        year = _year(results, exercice)
        this_year = results.filter(pl.col("exercice") == year) if year is not None else results.clear()
        cons = this_year.filter(pl.col("siren").is_null())
        placed = pl.col("code_territoire").ne_missing(NON_REPARTI_CODE)
        unplaced = cons.filter(~placed).to_dicts()
        cons = cons.filter(placed)
        orgs = this_year.filter(pl.col("siren").is_not_null())
        national = _national_rows(inputs.national, year)
        referentiel = inputs.referentiel or load_referentiel()
        level = inputs.computation.level
        if scope.kind == TERRITOIRE:
            code = _match(cons, scope.code, level)
            rows = cons.filter(pl.col("code_territoire") == code).to_dicts()
            data = cls(Scope(TERRITOIRE, code=code), inputs, year, rows,
                       orgs.filter(pl.col("code_territoire") == code), _by_code(rows), referentiel,
                       subject=rows[0]["nom_territoire"] or code, headline_source="le territoire")
        elif scope.kind == ORGANISME:
            siren = _match_siren(orgs, scope.siren)
            rows = orgs.filter(pl.col("siren") == siren).to_dicts()
            own = national.filter(pl.col("siren") == siren).to_dicts() if national is not None else []
            headline, source = (_by_code(own), "tout le patrimoine de l'organisme (niveau France)") if own else (
                summed(rows), "somme des territoires de l'organisme")
            data = cls(Scope(ORGANISME, siren=siren), inputs, year, rows, orgs.clear(), headline, referentiel,
                       subject=rows[0]["raison_sociale"] or siren, headline_source=source,
                       unplaced=organisation_unplaced(rows, headline, referentiel) if own else [])
        else:
            rows = cons.to_dicts()
            total = national.filter(pl.col("siren").is_null()).to_dicts() if national is not None else []
            headline, source = (_by_code(total), "ensemble des organismes importés (niveau France)") if total else (
                summed(rows + unplaced), "somme des territoires" + (" et du non réparti" if unplaced else ""))
            data = cls(scope, inputs, year, rows, orgs, headline, referentiel,
                       subject="Ensemble des organismes importés", headline_source=source, unplaced=unplaced)
        return data

    # ─── what the sheets ask ───

    @property
    def kind(self) -> str:
        return self.scope.kind

    @property
    def level(self) -> str:
        return self.inputs.computation.level

    @property
    def meta(self) -> dict:
        return self.inputs.computation.meta or {}

    @property
    def level_noun(self) -> str:
        return LEVEL_NOUNS.get(self.level, self.level)

    @property
    def title(self) -> str:
        year = f", exercice {self.year}" if self.year is not None else ""
        if self.kind == TERRITOIRE:
            return f"{self.subject} — valeur créée par les organismes Hlm{year}"
        if self.kind == ORGANISME:
            return f"{self.subject} — valeur créée sur ses territoires{year}"
        return f"Valeur créée par les organismes Hlm — {LEVEL_TITLES.get(self.level, self.level)}{year}"

    @cached_property
    def org_rows(self) -> list[dict]:
        """The per-organisation results as dicts (built on demand: the frame can hold hundreds of
        thousands of rows, which the workbook reads as a frame)."""
        return self.org_frame.to_dicts()

    @cached_property
    def labels(self) -> dict[str, dict]:
        """indicator → {libelle, unite, registre, parties_prenantes}, from the référentiel used."""
        out = {i.code: {"libelle": i.libelle, "unite": i.unite, "registre": i.registre, "parties": i.parties_prenantes,
                        "sens": i.sens or None}  # which way is better (the catalogue's sens)
               for i in self.referentiel.indicators}
        described = self.org_frame.select("indicateur", "libelle", "unite", "registre").unique("indicateur", maintain_order=True)
        for r in self.rows + described.to_dicts() + list(self.headline.values()):
            out.setdefault(r["indicateur"], {"libelle": r["libelle"], "unite": r["unite"], "registre": r["registre"], "parties": ()})
        return out

    @cached_property
    def territories(self) -> list[Territory]:
        """Territories where the organisations have dwellings, largest first; then the others
        (where they only have employees or suppliers), by name."""
        dwellings = {r["code_territoire"]: r["valeur"] for r in self.rows if r["indicateur"] == DWELLINGS and r["statut"] == CALCULE}
        seen: dict[str, Territory] = {}
        for r in self.rows:
            code = r["code_territoire"] or ""
            count = max(seen[code].organismes if code in seen else 0, r["nb_organismes"] or 0)
            seen[code] = Territory(code, r["nom_territoire"] or code, dwellings.get(code), count)
        return sorted(seen.values(), key=lambda t: (not t.housed, -(t.logements or 0), t.nom.casefold(), t.code))

    @property
    def housed(self) -> list[Territory]:
        return [t for t in self.territories if t.housed]

    @property
    def others(self) -> list[Territory]:
        return [t for t in self.territories if not t.housed]

    @cached_property
    def organisations(self) -> list[tuple[str, str]]:
        """(siren, raison sociale) of the organisations in the scope, by name."""
        pairs = ([(r["siren"], r["raison_sociale"]) for r in self.rows] if self.kind == ORGANISME
                 else self.org_frame.select("siren", "raison_sociale").unique(maintain_order=True).rows())
        seen: dict[str, str] = {}
        for siren, name in pairs:
            if name or siren not in seen:
                seen[siren] = name or siren
        return sorted(seen.items(), key=lambda t: (t[1].casefold(), t[0]))

    def by_territory(self, code: str) -> dict[str, dict]:
        """territory code → result of one indicator."""
        return {r["code_territoire"]: r for r in self.rows if r["indicateur"] == code}

    def by_organisation(self, code: str) -> dict[str, dict]:
        """siren → result of one indicator on the scope's territory (kind territoire)."""
        return {r["siren"]: r for r in self.org_rows if r["indicateur"] == code}

    def figure(self, code: str) -> dict | None:
        return self.headline.get(code)

    @cached_property
    def unplaced_by_code(self) -> dict[str, dict]:
        """indicator → the NON_REPARTI result of the level (overview only)."""
        return _by_code(self.unplaced)

    @cached_property
    def has_previous(self) -> bool:
        return any(r.get("valeur_precedente") is not None for r in self.rows + list(self.headline.values()))

    def totals_allowed(self) -> bool:
        return self.level in PARTITIONING_LEVELS and len(self.territories) > 1

    @property
    def sirens(self) -> set[str]:
        return {s for s, _ in self.organisations}

    @cached_property
    def warnings(self) -> list[dict]:
        """Import warnings of the organisations in the scope, for the exercice reported."""
        keep = self.sirens
        return [w for w in self.inputs.warnings if (self.kind == ENSEMBLE or w.get("siren") in keep)
                and (self.year is None or w.get("exercice") in (None, self.year))]

    @cached_property
    def controles(self) -> list[dict]:
        keep = self.sirens
        checks = self.meta.get("controles") or []
        return [c for c in checks if (self.year is None or c.get("exercice") == self.year)
                and (self.kind == ENSEMBLE or c.get("siren") in keep)]

    @cached_property
    def parent(self) -> tuple[str, str, str, list[str]] | None:
        """For a territory's report: (level, code, name) of its région (a commune's département), and
        the territories of the report's level mostly in it (the territory's own included)."""
        parent_level = PARENT_LEVELS.get(self.level)
        if self.kind != TERRITOIRE or parent_level is None:
            return None
        from acterr_cli.territory.reference import TerritorialReference

        reference = TerritorialReference.load()
        code_col, _ = reference.level_columns(self.level)
        parent_col, parent_name = reference.level_columns(parent_level)
        main = (reference.territory_map().drop_nulls([code_col, parent_col])
                .group_by(code_col, parent_col, parent_name).len()
                .sort("len", descending=True).unique(code_col, keep="first", maintain_order=True))
        mine = main.filter(pl.col(code_col) == self.scope.code)
        if mine.is_empty():
            return None
        parent_code, name = mine[parent_col][0], mine[parent_name][0]
        siblings = main.filter(pl.col(parent_col) == parent_code)[code_col].to_list()
        return parent_level, parent_code, name, siblings

    @cached_property
    def standing(self) -> list[Standing]:
        """The territory's headline figures among the territories of its parent: rank (1 is the
        largest), and for an additive figure its share of their sum (the imported organisations'
        figures on the level's territories)."""
        if self.parent is None or self.year is None:
            return []
        siblings = self.parent[3]
        results = self.inputs.computation.results.filter(
            (pl.col("exercice") == self.year) & pl.col("siren").is_null() & pl.col("code_territoire").is_in(siblings)
            & pl.col("indicateur").is_in(STANDING_CODES) & (pl.col("statut") == CALCULE) & pl.col("valeur").is_not_null())
        values: dict[str, list[float]] = {}
        for code, value in results.select("indicateur", "valeur").iter_rows():
            values.setdefault(code, []).append(value)
        out = []
        for code in STANDING_CODES:
            r = self.headline.get(code)
            if r is None or r["statut"] != CALCULE or r["valeur"] is None or code not in values:
                continue
            others = values[code]
            out.append(Standing(code, r["valeur"], r["unite"], 1 + sum(v > r["valeur"] for v in others), len(others),
                                sum(others) if is_additive(r["unite"]) else None))
        return out

    @cached_property
    def peers(self) -> list[dict]:
        """Benchmark rows (see peers.py); empty when no organisation has enough peers to compare."""
        from acterr_cli.outputs.reports.peers import benchmark

        rows = benchmark(self)
        return rows if any(r["q1"] is not None for r in rows) else []


def _year(results: pl.DataFrame, exercice: int | None) -> int | None:
    years = sorted(y for y in results["exercice"].unique().to_list() if y is not None) if results.height else []
    if exercice is not None and exercice not in years:
        available = ", ".join(map(str, years)) or "aucun"
        raise InputMissingError(f"aucun résultat pour l'exercice {exercice} (exercices disponibles : {available}).")
    return exercice if exercice is not None else (years[-1] if years else None)


def _national_rows(national: Computation | None, year: int | None) -> pl.DataFrame | None:
    if national is None or year is None:
        return None
    return national.results.filter(pl.col("exercice") == year)


def _by_code(rows: list[dict]) -> dict[str, dict]:
    return {r["indicateur"]: r for r in rows}


def _match(cons: pl.DataFrame, code: str | None, level: str) -> str:
    wanted = (code or "").strip().upper()
    if wanted == NON_REPARTI_CODE:
        raise UsageError(f"{NON_REPARTI_CODE} n'est pas un territoire : c'est la ligne « {NON_REPARTI_NOM} » de la vue "
                         f"d'ensemble (acterr export --territoire {level}), qui tient ce qu'aucun territoire ne peut recevoir.")
    codes = {c.upper(): c for c in cons["code_territoire"].drop_nulls().unique().to_list()}
    if wanted not in codes:
        raise UsageError(f"aucun organisme importé n'a de données sur le territoire « {code} » au niveau {level} "
                         f"({fr_count(len(codes), 'territoire')} de ce niveau {'a' if len(codes) < 2 else 'ont'} des résultats ; voir « acterr compute --territoire {level} »).")
    return codes[wanted]


def _match_siren(orgs: pl.DataFrame, siren: str | None) -> str:
    wanted = (siren or "").replace(" ", "")
    known = orgs.select("siren", "raison_sociale").unique().sort("siren").rows()
    if wanted not in {s for s, _ in known}:
        listed = ", ".join(f"{name} ({s})" for s, name in known[:10]) or "aucun"
        raise UsageError(f"aucun résultat pour l'organisme de SIREN « {siren} » (organismes : {listed}).")
    return wanted


def summed(rows: list[dict]) -> dict[str, dict]:
    """Headline figures when no higher-level computation is given: additive indicators summed over
    the territories (a partial sum says so); ratios are not summed, never averaged."""
    by_code: dict[str, list[dict]] = {}
    for r in rows:
        by_code.setdefault(r["indicateur"], []).append(r)
    out = {}
    for code, items in by_code.items():
        first = items[0]
        base = {**first, "code_territoire": None, "nom_territoire": None, "valeur_precedente": None, "variation": None,
                "variation_pct": None}
        ok = [r for r in items if r["statut"] == CALCULE and r["valeur"] is not None]
        if not is_additive(first["unite"]) or not ok:
            motif = "ratio : recalculé sur chaque territoire, jamais totalisé" if ok else (first["motif"] or "non calculable")
            out[code] = {**base, "valeur": None, "valeur_basse": None, "valeur_haute": None, "statut": NON_CALCULABLE,
                         "motif": motif, "couverture": 0.0, "part_forfaitaire": None}
            continue
        complete = len(ok) == len(items) and all((r["couverture"] or 0) >= 100 - 1e-9 for r in ok)
        total = sum(r["valeur"] for r in ok)
        out[code] = {**base, "statut": CALCULE, "motif": None,
                     "valeur": total, "part_forfaitaire": _flat_part(ok, total),
                     "valeur_basse": sum(r["valeur_basse"] if r["valeur_basse"] is not None else r["valeur"] for r in ok),
                     "valeur_haute": sum(r["valeur_haute"] if r["valeur_haute"] is not None else r["valeur"] for r in ok),
                     "couverture": 100.0 if complete else None,
                     "note": None if complete else f"somme partielle : {fr_count(len(ok), 'territoire calculé', 'territoires calculés')} sur {len(items)}"}
    return out


def organisation_unplaced(rows: list[dict], headline: dict[str, dict], referentiel: Referentiel) -> list[dict]:
    """An organisation's own NON_REPARTI figures: for each additive indicator, its whole figure
    (FRANCE level) less the sum of its territories — its organisation-level data that no territory
    holds (a liasse total, an organisation-wide payroll). The engine gives NON_REPARTI for the
    consolidated figures only; an organisation's territories are each computed or not (coverage
    100 or 0), so the difference is what its territories leave out."""
    out = []
    for code, total in headline.items():
        ind = referentiel.by_code.get(code)
        if ind is None or not ind.additif or total["statut"] != CALCULE or total["valeur"] is None:
            continue
        placed = [r for r in rows if r["indicateur"] == code and r["statut"] == CALCULE and r["valeur"] is not None]

        def rest(key: str, total=total, placed=placed) -> float:
            value = (total[key] if total[key] is not None else total["valeur"]) - sum(
                r[key] if r[key] is not None else r["valeur"] for r in placed)
            return 0.0 if abs(value) < 0.005 else value  # sums of decimals: a cent of noise is nothing

        value = rest("valeur")
        flat = None
        if total.get("part_forfaitaire") is not None and all(r.get("part_forfaitaire") is not None for r in placed) and value:
            amount = total["part_forfaitaire"] * total["valeur"] - sum(r["part_forfaitaire"] * r["valeur"] for r in placed)
            flat = min(100.0, max(0.0, amount / value))
        out.append({**total, "code_territoire": NON_REPARTI_CODE, "nom_territoire": NON_REPARTI_NOM, "valeur": value,
                    "valeur_basse": rest("valeur_basse"), "valeur_haute": rest("valeur_haute"), "part_forfaitaire": flat,
                    "couverture": None, "motif": None, "note": None, "valeur_precedente": None, "variation": None,
                    "variation_pct": None})
    return out


def _flat_part(rows: list[dict], total: float) -> float | None:
    """The flat-rate part (%) of a sum: each term's flat-rate amount over the total."""
    parts = [r.get("part_forfaitaire") for r in rows]
    if any(p is None for p in parts) or not total:
        return None
    return 100 * sum(p * r["valeur"] / 100 for p, r in zip(parts, rows, strict=True)) / total
