"""Evaluation of the référentiel over measure rows: per organisation, then consolidated.

Each formula is evaluated three times, with every parameter at its low, central and high value
(and the `formule_basse` / `formule_haute` variants where the catalogue gives them); the low and
high values of a result are the minimum and maximum of the three. Consolidation sums an
indicator's measures over the organisations that provide all of them, then evaluates the formula
on the sums: ratios are recomputed, never averaged, and coverage says who was counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from acterr_cli.engine.measures import (
    KEYS,
    TERRITORY_MEASURES,
    RawMeasure,
    raw_measures,
)
from acterr_cli.referentiel.model import SCENARIOS, Indicator, Referentiel

RESULT_SCHEMA = {
    "indicateur": pl.Utf8,
    "libelle": pl.Utf8,
    "axe": pl.Utf8,
    "registre": pl.Utf8,
    "niveau": pl.Utf8,
    "code_territoire": pl.Utf8,
    "nom_territoire": pl.Utf8,
    "siren": pl.Utf8,
    "raison_sociale": pl.Utf8,
    "exercice": pl.Int64,
    "valeur": pl.Float64,
    "valeur_basse": pl.Float64,
    "valeur_haute": pl.Float64,
    "unite": pl.Utf8,
    "couverture": pl.Float64,
    "nb_organismes": pl.Int64,
    "nb_organismes_calcules": pl.Int64,
    "statut": pl.Utf8,
    "motif": pl.Utf8,
    "note": pl.Utf8,
}
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
# Raw measures located where an organisation spends, not where it houses: its suppliers' communes,
# its employees' residences (and the organisation-wide purchases and payroll behind LM3).
ECONOMIC_PRESENCE = {"achats_fournisseur_eur", "masse_salariale_eur", "etp"}
CALCULE = "calcule"
NON_CALCULABLE = "non_calculable"


@dataclass
class Evaluator:
    referentiel: Referentiel

    def __post_init__(self) -> None:
        self.raw = raw_measures()
        self.ordered = self.referentiel.ordered_indicators()
        self.roots = self._measure_roots()
        self._literals = {
            s: [pl.lit(p.value(s), dtype=pl.Float64).alias(p.nom) for p in self.referentiel.parameters.values()] for s in SCENARIOS
        }

    # ─── derived measures ───

    def derive(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Evaluate the catalogue's derived measures in order (a measure may refine itself:
        `etp = COALESCE(etp, etp_total)`). Absence flags of raw measures are kept for motifs."""
        rows = rows.with_columns([pl.col(m).is_null().alias(f"__absent_{m}") for m in self.raw if m in rows.columns])
        params = self._params("centrale")
        for m in self.referentiel.measures:
            rows = rows.with_columns(params).with_columns(pl.sql_expr(m.formule).alias(m.nom))
        return rows.drop([p for p in self.referentiel.parameters if p in rows.columns])

    def _measure_roots(self) -> dict[str, set[str]]:
        """Raw measures behind each derived measure (for motifs)."""
        roots: dict[str, set[str]] = {}
        for m in self.referentiel.measures:
            names = pl.sql_expr(m.formule).meta.root_names()
            roots[m.nom] = set().union(*(roots.get(n, {n}) for n in names if n not in self.referentiel.parameters))
        return roots

    # ─── formulas ───

    def _params(self, scenario: str) -> list[pl.Expr]:
        return self._literals[scenario]

    def evaluate(self, frame: FrameT, indicators: list[Indicator]) -> FrameT:
        """Add `<ident>__basse|centrale|haute` columns for the given indicators (and those they use).
        One linear chain (eager or lazy): for each scenario the parameters take its values, the
        indicators are evaluated by layers (those using no other indicator first), then kept
        under their scenario's name — a few passes over the frame, not one per formula."""
        needed = self._with_dependencies(indicators)
        layers = self._layers(needed)
        for scenario in SCENARIOS:
            frame = frame.with_columns(self._params(scenario))
            for layer in layers:
                frame = frame.with_columns([_finite(pl.sql_expr(ind.formula(scenario))).alias(ind.ident) for ind in layer])
            frame = frame.with_columns([pl.col(i.ident).alias(f"{i.ident}__{scenario}") for i in needed])
        return frame.drop([*self.referentiel.parameters, *(i.ident for i in needed)], strict=False)

    def _layers(self, indicators: list[Indicator]) -> list[list[Indicator]]:
        """Indicators grouped so that each layer uses only indicators of earlier layers."""
        depth: dict[str, int] = {}
        for ind in indicators:  # already in dependency order
            used = [depth[d.code] for n in self.referentiel.dependencies(ind) if (d := self.referentiel.by_ident.get(n)) and d.code in depth]
            depth[ind.code] = 1 + max(used, default=-1)
        layers: list[list[Indicator]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for ind in indicators:
            layers[depth[ind.code]].append(ind)
        return layers

    def _with_dependencies(self, indicators: list[Indicator]) -> list[Indicator]:
        """The indicators and those their formulas use, in evaluation order (internal fallback
        indicators, not in the catalogue order, come last)."""
        wanted = {i.code for i in indicators}
        stack = list(indicators)
        while stack:
            for name in self.referentiel.dependencies(stack.pop()):
                dep = self.referentiel.by_ident.get(name)
                if dep and dep.code not in wanted:
                    wanted.add(dep.code)
                    stack.append(dep)
        catalogued = {i.code for i in self.ordered}
        return [i for i in self.ordered if i.code in wanted] + [i for i in indicators if i.code not in catalogued]

    # ─── per organisation ───

    def per_organisation(self, rows: pl.DataFrame, level: str) -> pl.DataFrame:
        """Every indicator where the organisation is established (dwellings, operations); where it
        only buys or employs, only the indicators such economic presence can produce — the
        others would be zeros or « non calculable » (and most rows of a national run)."""
        rows = rows.filter(pl.col("siren").is_not_null())  # territory-only rows have no organisation
        established = rows.filter(pl.col("implante").fill_null(True))
        elsewhere = rows.filter(~pl.col("implante").fill_null(True))
        economic = [i for i in self.ordered if self._is_economic(i)]
        parts = [self._organisation_results(established, self.ordered, level),
                 self._organisation_results(elsewhere, economic, level)]
        return pl.concat(parts)

    def _is_economic(self, ind: Indicator) -> bool:
        """Uses a measure placed where the money goes (supplier's commune, employee's residence)."""
        roots = {r for m in self.referentiel.measure_roots(ind) for r in self.roots.get(m, {m})}
        return bool(roots & ECONOMIC_PRESENCE)

    def _organisation_results(self, rows: pl.DataFrame, indicators: list[Indicator], level: str) -> pl.DataFrame:
        if rows.is_empty() or not indicators:
            return _empty()
        fallbacks = {i.code: f for i in indicators if (f := i.fallback())}
        frame = self.evaluate(rows, indicators + list(fallbacks.values()))
        parts = []
        for ind in indicators:
            part = self._organisation_part(frame, ind, level)
            if ind.code in fallbacks:
                part = _prefer(part, self._organisation_part(frame, fallbacks[ind.code], level), ["code_territoire", "siren", "exercice"])
            parts.append(part)
        return pl.concat(parts)

    def _organisation_part(self, frame: pl.DataFrame, ind: Indicator, level: str) -> pl.DataFrame:
        central = pl.col(f"{ind.ident}__centrale")
        return _conform(frame.select(
                *_identity(ind, level),
                "code_territoire", "nom_territoire", "siren", "raison_sociale", "exercice",
                *_range(ind),
                pl.when(central.is_not_null()).then(100.0).otherwise(0.0).alias("couverture"),
                pl.lit(1, pl.Int64).alias("nb_organismes"),
                central.is_not_null().cast(pl.Int64).alias("nb_organismes_calcules"),
                pl.when(central.is_not_null()).then(pl.lit(CALCULE)).otherwise(pl.lit(NON_CALCULABLE)).alias("statut"),
                self._motifs(frame, ind).alias("motif"),
                pl.when(central.is_not_null() & _note_condition(ind)).then(pl.lit(ind.note)).otherwise(None).alias("note"),
        ))

    def _missing_inputs(self, ind: Indicator) -> list[tuple[str, RawMeasure]]:
        """(measure used by the indicator, raw input behind it) pairs, for motifs."""
        pairs = []
        for name in sorted(self.referentiel.measure_roots(ind)):
            for raw_name in sorted(self.roots.get(name, {name})):
                if raw_name in self.raw:
                    pairs.append((name, self.raw[raw_name]))
        return pairs

    def _motifs(self, frame: pl.DataFrame, ind: Indicator) -> pl.Series:
        """Why an indicator is not computable on each row, grouped by origin. The text depends only
        on which inputs are absent and on `inclus`: it is written once per distinct combination,
        and only for the rows without a value."""
        central = frame[f"{ind.ident}__centrale"]
        if not central.null_count():
            return pl.Series("motif", [None] * frame.height, dtype=pl.Utf8)
        pairs = self._missing_inputs(ind)
        flags = [(pl.col(name).is_null() & pl.col(f"__absent_{raw.nom}")).alias(f"_m{i}") for i, (name, raw) in enumerate(pairs)]
        combo = frame.select(pl.col("inclus").fill_null(False).alias("_inclus"), *flags)
        keys = combo.columns
        texts = [
            (*row, _describe_missing([raw for i, (_, raw) in enumerate(pairs) if row[1 + i]], row[0], ind.motif_si_nul))
            for row in combo.filter(central.is_null()).unique().iter_rows()
        ]
        table = pl.DataFrame(texts, schema=[*keys, "motif"], orient="row",
                             schema_overrides={k: pl.Boolean for k in keys} | {"motif": pl.Utf8})
        motif = combo.join(table, on=keys, how="left", maintain_order="left", nulls_equal=True)["motif"]
        return pl.select(pl.when(central.is_null()).then(motif).otherwise(None).alias("motif"))["motif"]

    # ─── consolidation ───

    def consolidate(self, rows: pl.DataFrame, level: str) -> pl.DataFrame:
        """One result per territory × exercice × indicator, all organisations together.

        Each indicator sums its own measures over the organisations that provide all of them
        (its « complete » organisations). All these sums are made in a single pass over the rows
        (columns named `<code>|<measure>`); each formula then runs on the small aggregated frame."""
        absent = {c for c in rows.columns if rows[c].null_count() == rows.height} if rows.height else set(rows.columns)
        trivial = [i for i in self.ordered if self._absent_inputs(i, absent) and not i.formule_repli]
        indicators = [i for i in self.ordered if i not in trivial]
        indicators += [f for i in indicators if (f := i.fallback())]
        group = ["code_territoire", "nom_territoire", "exercice"]
        is_org = pl.col("siren").is_not_null()
        weight = pl.col("logements").filter(is_org)
        shared = [pl.col("siren").drop_nulls().n_unique().alias("nb_organismes"), weight.sum().alias("_w_all"),
                  weight.is_null().any().alias("_w_unknown")]
        territory = {m for ind in indicators for m in self.referentiel.measure_roots(ind) if m in TERRITORY_MEASURES}
        agg = rows.group_by(group).agg(
            *shared, *[pl.col(m).first().alias(m) for m in sorted(territory)],
            *[e for ind in indicators for e in self._sums(ind, is_org)],
        )
        parts = {ind.code: self._consolidated_part(agg, ind, level) for ind in indicators}
        if trivial:
            for (code,), frame in self._not_computable(agg, trivial, level, absent).partition_by("indicateur", as_dict=True).items():
                parts[code] = frame
        return pl.concat([
            _prefer(parts[ind.code], parts[f"{ind.code}~repli"], ["code_territoire", "exercice"]) if ind.formule_repli
            else parts[ind.code] for ind in self.ordered
        ]) if self.ordered else _empty()

    def _absent_inputs(self, ind: Indicator, absent: set[str]) -> list[str]:
        return sorted(m for m in self.referentiel.measure_roots(ind) if m in absent)

    def _not_computable(self, agg: pl.DataFrame, trivial: list[Indicator], level: str, absent: set[str]) -> pl.DataFrame:
        """Indicators one of whose inputs exists nowhere in the workspace: no formula to run, the
        same reason in every territory — one cross join for all of them (keeps small runs fast)."""
        rows = []
        for ind in trivial:
            missing = self._absent_inputs(ind, absent)
            territory = [m for m in missing if m in TERRITORY_MEASURES]
            labels = ", ".join(self._measure_label(m) for m in (territory or missing))
            motif = f"donnée du territoire absente : {labels}" if territory else f"aucun organisme présent ne fournit : {labels}"
            rows.append({"indicateur": ind.code, "libelle": ind.libelle, "axe": ind.axe, "registre": ind.registre,
                         "unite": ind.unite, "motif": motif})
        meta = pl.DataFrame(rows, schema={k: pl.Utf8 for k in ("indicateur", "libelle", "axe", "registre", "unite", "motif")})
        territories = agg.select("code_territoire", "nom_territoire", "exercice", "nb_organismes")
        return _conform(meta.join(territories, how="cross").with_columns(
            pl.lit(level).alias("niveau"), pl.lit(None, pl.Utf8).alias("siren"), pl.lit(None, pl.Utf8).alias("raison_sociale"),
            *[pl.lit(None, pl.Float64).alias(c) for c in ("valeur", "valeur_basse", "valeur_haute")],
            pl.lit(0.0).alias("couverture"), pl.lit(0, pl.Int64).alias("nb_organismes_calcules"),
            pl.lit(NON_CALCULABLE).alias("statut"), pl.lit(None, pl.Utf8).alias("note"),
        ))

    def _org_measures(self, ind: Indicator) -> list[str]:
        return sorted(m for m in self.referentiel.measure_roots(ind) if m not in TERRITORY_MEASURES)

    def _sums(self, ind: Indicator, is_org: pl.Expr) -> list[pl.Expr]:
        """The indicator's aggregations: its measures over its complete organisations, how many
        they are, their dwellings, and which measures exist at all (for motifs)."""
        measures = self._org_measures(ind)
        complete = pl.all_horizontal([pl.col(m).is_not_null() for m in measures]) & is_org if measures else pl.lit(True)
        k = ind.code
        return [
            *[pl.col(m).filter(complete).sum().alias(f"{k}|{m}") for m in measures],
            pl.col("siren").filter(complete).drop_nulls().n_unique().alias(f"{k}|nb_organismes_calcules"),
            pl.col("logements").filter(complete).sum().alias(f"{k}|_w_ok"),
            *[pl.col(m).is_not_null().any().alias(f"{k}|_any_{m}") for m in measures],
        ]

    def _consolidated_part(self, agg: pl.DataFrame, ind: Indicator, level: str) -> pl.DataFrame:
        measures = self._org_measures(ind)
        k = ind.code
        territory = sorted(m for m in self.referentiel.measure_roots(ind) if m in TERRITORY_MEASURES)
        # No complete organisation: the sums are not zero, they are unknown.
        calculated = pl.col(f"{k}|nb_organismes_calcules")
        frame = agg.select(
            "code_territoire", "nom_territoire", "exercice", "nb_organismes", "_w_all", "_w_unknown", *territory,
            calculated.alias("nb_organismes_calcules"), pl.col(f"{k}|_w_ok").alias("_w_ok"),
            *[pl.when(calculated > 0).then(pl.col(f"{k}|{m}")).otherwise(None).alias(m) for m in measures],
            *[pl.col(f"{k}|_any_{m}").alias(f"_any_{m}") for m in measures],
        )
        frame = self.evaluate(frame, [ind])
        central = pl.col(f"{ind.ident}__centrale")
        coverage = (
            pl.lit(100.0) if not measures  # the territory's own figures (population, RPLS stock)
            else pl.when(pl.col("_w_unknown") | (pl.col("_w_all") == 0))
            .then(100.0 * pl.col("nb_organismes_calcules") / pl.col("nb_organismes"))
            .otherwise(100.0 * pl.col("_w_ok") / pl.col("_w_all"))
        )
        return _conform(frame.select(
            *_identity(ind, level),
            "code_territoire", "nom_territoire",
            pl.lit(None, pl.Utf8).alias("siren"), pl.lit(None, pl.Utf8).alias("raison_sociale"),
            "exercice", *_range(ind),
            pl.when(central.is_not_null()).then(coverage).otherwise(0.0).alias("couverture"),
            "nb_organismes", "nb_organismes_calcules",
            pl.when(central.is_not_null()).then(pl.lit(CALCULE)).otherwise(pl.lit(NON_CALCULABLE)).alias("statut"),
            self._consolidated_motif(measures, territory, central, ind.motif_si_nul),
            pl.when(central.is_not_null()).then(_partial_note(ind)).otherwise(None).alias("note"),
        ))

    def _consolidated_motif(self, org_measures: list[str], territory_measures: list[str], central: pl.Expr,
                            when_undefined: str | None = None) -> pl.Expr:
        missing_everywhere = [
            pl.when(~pl.col(f"_any_{m}")).then(pl.lit(self._measure_label(m))).otherwise(None) for m in org_measures
        ]
        listed = pl.concat_list(missing_everywhere).list.drop_nulls().list.join(", ") if missing_everywhere else pl.lit("")
        unknown_territory = [pl.when(pl.col(m).is_null()).then(pl.lit(self._measure_label(m))).otherwise(None) for m in territory_measures]
        territory = pl.concat_list(unknown_territory).list.drop_nulls().list.join(", ") if unknown_territory else pl.lit("")
        return (
            pl.when(central.is_not_null()).then(None)
            .when(territory.str.len_chars() > 0)
            .then(pl.lit("donnée du territoire absente : ") + territory)
            .when(listed.str.len_chars() > 0)
            .then(pl.lit("aucun organisme présent ne fournit : ") + listed)
            .when(pl.col("nb_organismes_calcules") == 0)
            .then(pl.lit("aucun organisme présent ne fournit à la fois toutes les données nécessaires"))
            .otherwise(pl.lit(when_undefined or "résultat indéfini (dénominateur nul)"))
            .alias("motif")
        )

    def _measure_label(self, name: str) -> str:
        """« Investissement construction neuve (€) (feuille Production ou liasse) »."""
        raws = [self.raw[r] for r in sorted(self.roots.get(name, {name})) if r in self.raw]
        if not raws:
            return name
        origins = list(dict.fromkeys(r.origine for r in raws))
        joined = origins[0] if len(origins) == 1 else ", ".join(origins[:-1]) + " ou " + origins[-1]
        return f"{raws[0].libelle} ({joined})"


def _describe_missing(missing: list[RawMeasure], inclus: bool, when_undefined: str | None = None) -> str:
    """« données manquantes — feuille Production : A, B ; données de niveau organisme (liasse) non
    réparties : … »; with nothing missing, the formula itself had no value (zero denominator)."""
    if not missing:
        return when_undefined or "résultat indéfini (dénominateur nul)"
    by_origin: dict[str, list[str]] = {}
    not_split: list[str] = []
    for raw in missing:
        if raw.niveau == "organisme" and not inclus:
            not_split.append(raw.origine)
        else:
            by_origin.setdefault(raw.origine, []).append(raw.libelle)
    parts = [f"{origin} : {', '.join(labels)}" for origin, labels in by_origin.items()]
    if not_split:
        origins = ", ".join(sorted(set(not_split)))
        parts.append(f"données de niveau organisme ({origins}) non réparties : le patrimoine de l'organisme s'étend hors de ce territoire")
    return "données manquantes — " + " ; ".join(parts)


def _note_condition(ind: Indicator) -> pl.Expr:
    return pl.sql_expr(ind.note_si).fill_null(False) if ind.note_si else pl.lit(True)


def _partial_note(ind: Indicator) -> pl.Expr:
    """The indicator's note (where its condition holds) and, for a partial consolidation, who was counted."""
    partial = pl.col("nb_organismes_calcules") < pl.col("nb_organismes")
    text = (pl.lit("partiel : ") + pl.col("nb_organismes_calcules").cast(pl.Utf8) + pl.lit(" organisme(s) sur ")
            + pl.col("nb_organismes").cast(pl.Utf8))
    base = pl.when(_note_condition(ind)).then(pl.lit(ind.note)).otherwise(None) if ind.note else pl.lit(None, pl.Utf8)
    return pl.concat_str([base, pl.when(partial).then(text).otherwise(None)], separator=" ; ", ignore_nulls=True).replace("", None)


def _prefer(main: pl.DataFrame, fallback: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Rows of `main`, replaced by the fallback's where only the fallback could be computed
    (its note says so). The indicator code stays the main one."""
    alt = fallback.drop("indicateur", "libelle", "axe", "registre", "niveau", "unite")
    merged = main.join(alt, on=keys, how="left", suffix="__repli", nulls_equal=True, maintain_order="left")
    use = (pl.col("statut") == NON_CALCULABLE) & (pl.col("statut__repli") == CALCULE)
    replaced = [c for c in alt.columns if c not in keys]
    return merged.with_columns(
        [pl.when(use).then(pl.col(f"{c}__repli")).otherwise(pl.col(c)).alias(c) for c in replaced]
    ).select(main.columns)


def _identity(ind: Indicator, level: str) -> list[pl.Expr]:
    return [
        pl.lit(ind.code).alias("indicateur"), pl.lit(ind.libelle).alias("libelle"), pl.lit(ind.axe).alias("axe"),
        pl.lit(ind.registre).alias("registre"), pl.lit(level).alias("niveau"),
    ]


def _range(ind: Indicator) -> list[pl.Expr]:
    cols = [pl.col(f"{ind.ident}__{s}") for s in SCENARIOS]
    central = pl.col(f"{ind.ident}__centrale")
    return [
        central.alias("valeur"),
        pl.when(central.is_not_null()).then(pl.min_horizontal(cols)).otherwise(None).alias("valeur_basse"),
        pl.when(central.is_not_null()).then(pl.max_horizontal(cols)).otherwise(None).alias("valeur_haute"),
        pl.lit(ind.unite).alias("unite"),
    ]


def _finite(expr: pl.Expr) -> pl.Expr:
    """inf and NaN (a division by zero that escaped NULLIF) are not results: null instead."""
    e = expr.cast(pl.Float64)
    return pl.when(e.is_finite()).then(e).otherwise(None)


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(t) for c, t in RESULT_SCHEMA.items()])


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=RESULT_SCHEMA)


__all__ = ["Evaluator", "RESULT_SCHEMA", "CALCULE", "NON_CALCULABLE", "KEYS"]
