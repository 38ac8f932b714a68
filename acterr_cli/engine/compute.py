"""Evaluation of the référentiel over measure rows: per organisation, then consolidated.

Each formula is evaluated three times, with every parameter at its low, central and high value
(and the `formule_basse` / `formule_haute` variants where the catalogue gives them); the low and
high values of a result are the minimum and maximum of the three (an indicator without parameter
nor variant is evaluated once). Consolidation sums an indicator's measures over the organisations
that provide all of them, then evaluates the formula on the sums: ratios are recomputed, never
averaged, and coverage says who was counted.

A level's results run to millions of rows (every organisation × commune where it buys): they are
computed, sorted and compared with the previous exercice as compact rows (COMPACT_SCHEMA), and
given their labels only at the end (`Evaluator.expand`). Formulas, expression trees and column
expressions are kept from one level to the next (one Evaluator per run, `engine.run._evaluator`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import TypeVar

import polars as pl

from acterr_cli.engine import sensitivity, simulation
from acterr_cli.engine.measures import (
    KEYS,
    MARKET_CENTRAL,
    MARKET_FACTORS,
    MARKET_MEASURES,
    MARKET_PARAMETERS,
    NOT_SPLIT,
    RPLS_STOCK_MEASURES,
    TERRITORY_MEASURES,
    RawMeasure,
    market_swing,
    raw_measures,
)
from acterr_cli.engine.simulation import Draws
from acterr_cli.engine.sums import as_units, exact_sum, units_sum
from acterr_cli.referentiel.model import SCENARIOS, Indicator, Referentiel
from acterr_cli.results import CALCULE, NON_CALCULABLE, RESULT_SCHEMA, SENSITIVITY_SCHEMA, TEXT

# Results while they are computed, sorted and compared with the previous exercice: what varies
# from row to row, the rest being looked up at the end (`Evaluator.expand`) from integer keys —
# ranks of the territory code and of the SIREN (0: consolidated figure), position of the
# indicator in the catalogue (ORDER_KEYS). A COMMUNE run has millions of rows.
ORDER_KEYS = {"_t": pl.UInt32, "_s": pl.UInt32, "_o": pl.UInt32}
COMPACT_SCHEMA = {
    "exercice": pl.Int64, **ORDER_KEYS, "raison_sociale": TEXT,
    **{c: RESULT_SCHEMA[c] for c in ("valeur", "valeur_basse", "valeur_haute", "couverture", "part_forfaitaire", "nb_organismes",
                                     "nb_organismes_calcules", "motif", "note")},
    **SENSITIVITY_SCHEMA,
}
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
# Raw measures located where an organisation spends, not where it houses: its suppliers' communes,
# its employees' residences (and the organisation-wide purchases and payroll behind LM3).
ECONOMIC_PRESENCE = {"achats_fournisseur_eur", "masse_salariale_eur", "etp", "achats_locaux_eur", "masse_salariale_locale_eur"}


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
        self._position = {ind.code: i for i, ind in enumerate(self.referentiel.indicators)}
        # Kept from one level to the next (one Evaluator per run, see engine.run._evaluator).
        self._same: dict[str, bool] = {}
        self._set_ids: dict[tuple[str, ...], str] = {}
        self._columns: dict[tuple, dict[str, pl.Expr]] = {}
        self._live: frozenset[str] = frozenset()  # sets of measures summed in the current consolidation

    @classmethod
    def for_referentiel(cls, referentiel: Referentiel) -> Evaluator:
        """The evaluator of a référentiel, validated; made once per run (engine.run._evaluator)."""
        referentiel.validate(set(raw_measures()))
        return cls(referentiel)

    # ─── derived measures ───

    def derive(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Evaluate the catalogue's derived measures in order (a measure may refine itself:
        `etp = COALESCE(etp, etp_total)`). Absence flags of raw measures are kept for motifs, and
        the rows' places in the results' order (ORDER_KEYS) are set once here."""
        rows = rows.with_columns([pl.col(m).is_null().alias(f"__absent_{m}") for m in self.raw if m in rows.columns])
        rows = rows.with_columns(_rank(pl.col("code_territoire"), rows["code_territoire"]).alias("_t"),
                                 (_rank(pl.col("siren"), rows["siren"]) + 1).fill_null(0).cast(pl.UInt32).alias("_s"))
        for m in self.referentiel.measures:
            used = set(_sql(m.formule).meta.root_names()) & set(self.referentiel.parameters)
            if used:
                rows = rows.with_columns(self._params("centrale", used))
            rows = rows.with_columns(_sql(m.formule).alias(m.nom))
        return rows.drop([p for p in self.referentiel.parameters if p in rows.columns])

    def _measure_roots(self) -> dict[str, set[str]]:
        """Raw measures behind each derived measure (for motifs)."""
        roots: dict[str, set[str]] = {}
        for m in self.referentiel.measures:
            names = _sql(m.formule).meta.root_names()
            roots[m.nom] = set().union(*(roots.get(n, {n}) for n in names if n not in self.referentiel.parameters))
        return roots

    # ─── formulas ───

    def _params(self, scenario: str, names: set[str] | None = None) -> list[pl.Expr]:
        """The parameters' values in a scenario (or a one-at-a-time setting), as columns (only
        `names` when given)."""
        if scenario not in SCENARIOS:
            return [pl.lit(p.value(sensitivity.parameter_scenario(n, scenario)), dtype=pl.Float64).alias(n)
                    for n, p in self.referentiel.parameters.items() if names is None or n in names]
        if names is None:
            return self._literals[scenario]
        return [e for e, p in zip(self._literals[scenario], self.referentiel.parameters, strict=True) if p in names]

    def evaluate(self, frame: FrameT, indicators: list[Indicator], swings: bool = False, central_only: bool = False) -> FrameT:
        """Add `<ident>__basse|centrale|haute` columns for the given indicators (and those they use;
        only `__centrale` for an indicator the same in every scenario). One linear chain (eager or
        lazy): for each scenario the parameters take its values, the indicators are evaluated by
        layers (those using no other indicator first), then kept under their scenario's name — a
        few passes over the frame, not one per formula. `swings`: also `<ident>__<driver>^<end>`,
        each driver alone at its low and high value (sensitivity.py), for the simulation.
        `central_only`: only `__centrale` (the previous exercice's values, see run._previous_values)."""
        needed = self._with_dependencies(indicators)
        layers = self._layers(needed)
        used = set().union(*(self.referentiel.dependencies(i) for i in needed)) & set(self.referentiel.parameters)
        settings = sorted({sensitivity.setting(d, e) for i in needed for d in self.drivers(i) for e in sensitivity.ENDS}) if swings else []
        for scenario in ("centrale",) if central_only else ("centrale", *(s for s in SCENARIOS if s != "centrale"), *settings):
            # An indicator the same in every scenario is computed once (its value stays for the
            # indicators using it); its low and high values are its central one (see _range).
            if scenario in SCENARIOS:
                wanted = needed if scenario == "centrale" else [i for i in needed if not self._same_in_every_scenario(i)]
            else:  # one driver moves: the indicators it moves; the others used at their central value
                driver = sensitivity.parse(scenario)[0]
                wanted = [i for i in needed if driver in self.drivers(i)]
                frame = frame.with_columns([pl.col(f"{i.ident}__centrale").alias(i.ident) for i in needed if i not in wanted])
            if used:
                frame = frame.with_columns(self._params(scenario, used))
            for layer in layers:
                if exprs := [_formula(self._setting_formula(ind, scenario)).alias(ind.ident) for ind in layer if ind in wanted]:
                    frame = frame.with_columns(exprs)
            frame = frame.with_columns([pl.col(i.ident).alias(f"{i.ident}__{scenario}") for i in wanted])
        return frame.drop([*used, *(i.ident for i in needed)], strict=False)

    def _setting_formula(self, ind: Indicator, setting: str) -> str:
        """The formula's text in a scenario, or in a one-at-a-time setting with the market-rent
        measures it reads at the driver's end (sensitivity.measure_in_setting)."""
        if setting in SCENARIOS:
            return ind.formula(setting)
        return _rename_identifiers(sensitivity.formula(ind, setting), lambda n: sensitivity.measure_in_setting(n, setting))

    def _same_in_every_scenario(self, ind: Indicator) -> bool:
        """No parameter and no low or high formula, in the indicator and those it uses."""
        if ind.code not in self._same:
            self._same[ind.code] = not self.referentiel.parameters_used(ind) and all(
                len({used.formula(s) for s in SCENARIOS}) == 1 for used in self._with_dependencies([ind]))
        return self._same[ind.code]

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

    def per_organisation(self, rows: pl.DataFrame, draws: Draws | None = None, central_only: bool = False) -> pl.DataFrame:
        """Every indicator where the organisation is established (dwellings, operations); where it
        only buys or employs, only the figures such economic presence produces — computed and not
        zero: purchases, salaries, jobs, not dozens of zeros and « non calculable » about a
        patrimoine it does not have there (and most rows of a national run). `central_only`: the
        computed figures' central values only (see `consolidate`)."""
        # territory-only rows have no organisation; the name is encoded once, not for each indicator
        # (one filter of the wide rows for each part, not a copy of them all first)
        is_org, here = pl.col("siren").is_not_null(), pl.col("implante").fill_null(True)
        established = rows.filter(is_org & here).with_columns(pl.col("raison_sociale").cast(TEXT))
        elsewhere = rows.filter(is_org & ~here).with_columns(pl.col("raison_sociale").cast(TEXT))
        economic = [i for i in self.ordered if self._is_economic(i)]
        if central_only:
            return pl.concat([self._central_results(established, self.ordered), self._central_results(elsewhere, economic, True)])
        parts = [self._organisation_results(established, self.ordered, draws=draws),
                 self._organisation_results(elsewhere, economic, figures_only=True, draws=draws)]
        return pl.concat(parts)

    def _central_results(self, rows: pl.DataFrame, indicators: list[Indicator], figures_only: bool = False) -> pl.DataFrame:
        """`_organisation_results`' computed figures, their central value only."""
        if rows.is_empty() or not indicators:
            return _empty()
        fallbacks = {i.code: f for i in indicators if (f := i.fallback())}
        frame = self.evaluate(rows, indicators + list(fallbacks.values()), central_only=True)
        parts = []
        for ind in indicators:
            columns = self._central_columns(ind, pl.col(f"{ind.ident}__centrale"))
            if ind.code in fallbacks:
                fallback = fallbacks[ind.code]
                columns = _preferred(columns, self._central_columns(fallback, pl.col(f"{fallback.ident}__centrale")))
            parts.append(columns)
        return _padded(_stacked(frame, parts, _is_figure() if figures_only else pl.col("valeur").is_not_null()))

    def _central_columns(self, ind: Indicator, central: pl.Expr, s: pl.Expr = pl.col("_s")) -> dict[str, pl.Expr]:
        """The keys and the central value of an indicator (see `_organisation_columns`)."""
        return {"exercice": pl.col("exercice").cast(pl.Int64), "_t": pl.col("_t").cast(pl.UInt32), "_s": s.cast(pl.UInt32),
                "_o": pl.lit(self._position.get(ind.code, len(self._position))).cast(pl.UInt32), "valeur": central.cast(pl.Float64)}

    def _is_economic(self, ind: Indicator) -> bool:
        """Uses a measure placed where the money goes (supplier's commune, employee's residence)."""
        return bool(self._raw_roots(ind) & ECONOMIC_PRESENCE)

    def _raw_roots(self, ind: Indicator) -> set[str]:
        """The raw measures behind an indicator, through derived measures and used indicators."""
        return {r for m in self.referentiel.measure_roots(ind) for r in self.roots.get(m, {m})}

    def _organisation_results(self, rows: pl.DataFrame, indicators: list[Indicator], figures_only: bool = False,
                              draws: Draws | None = None) -> pl.DataFrame:
        """`figures_only`: keep only the computed, non-zero results (no motif needed); `draws`:
        with the simulation's quantiles (simulation.py)."""
        if rows.is_empty() or not indicators:
            return _empty(draws)
        fallbacks = {i.code: f for i in indicators if (f := i.fallback())}
        flat = {i.code: f for i in indicators if (f := i.flat_rate())}
        frame = self.evaluate(rows, indicators + list(fallbacks.values()) + list(flat.values()), swings=draws is not None)
        if draws is not None:
            frame = frame.with_columns(self._simulated(frame, indicators, draws, lambda i, s: f"{i.ident}__{s}"))
        if figures_only:
            motifs = {ind.code: pl.lit(None, TEXT) for ind in indicators}
        else:
            frame, motifs = self._with_motifs(frame, indicators)
        parts = []
        for ind in indicators:
            columns = self._organisation_columns(ind) | {"motif": motifs[ind.code]}
            if ind.code in fallbacks:  # its motif is never used: the fallback replaces only a computed value
                columns = _preferred(columns, self._organisation_columns(fallbacks[ind.code]))
            parts.append(columns | _quantile_columns(ind, draws))
        return _stacked(frame, parts, _is_figure() if figures_only else None)

    def _simulated(self, frame: pl.DataFrame, indicators: list[Indicator], draws: Draws,
                   column: Callable[[Indicator, str], str]) -> list[pl.Series]:
        """`__p10_<code>`, `__p50_<code>`, `__p90_<code>` of each indicator over an evaluated
        frame, from its central value and its drivers' one-at-a-time values (`column(indicator,
        setting)` names them)."""
        out = []
        for ind in indicators:
            ends = {d: tuple(column(ind, sensitivity.setting(d, e)) for e in sensitivity.ENDS) for d in self.drivers(ind)}
            quantiles = simulation.columns(frame, column(ind, "centrale"), ends, draws, (column(ind, "basse"), column(ind, "haute")))
            out += [q.alias(f"__{k}_{ind.code}") for k, q in quantiles.items()]
        return out

    def _organisation_columns(self, ind: Indicator) -> dict[str, pl.Expr]:
        key = ("organisation", ind.code)
        if key not in self._columns:
            self._columns[key] = self._make_organisation_columns(ind)
        return self._columns[key]

    def _make_organisation_columns(self, ind: Indicator) -> dict[str, pl.Expr]:
        central = pl.col(f"{ind.ident}__centrale")
        flat = ind.flat_rate()
        return _compact(
            exercice=pl.col("exercice"), _t=pl.col("_t"), _s=pl.col("_s"), _o=pl.lit(self._position.get(ind.code, len(self._position))),
            raison_sociale=pl.col("raison_sociale"),
            **_range(central, None if self._same_in_every_scenario(ind) else [pl.col(f"{ind.ident}__{s}") for s in SCENARIOS]),
            couverture=pl.when(central.is_not_null()).then(100.0).otherwise(0.0),
            part_forfaitaire=_flat_share(central, pl.col(f"{flat.ident}__centrale") if flat else None),
            nb_organismes=pl.lit(1, pl.Int64),
            nb_organismes_calcules=central.is_not_null().cast(pl.Int64),
            motif=pl.lit(None, pl.Utf8),  # written per frame, see _organisation_results
            note=pl.when(central.is_not_null() & _note_condition(ind)).then(pl.lit(ind.note)).otherwise(None),
        )

    def _missing_inputs(self, ind: Indicator) -> list[tuple[str, RawMeasure]]:
        """(measure used by the indicator, raw input behind it) pairs, for motifs."""
        pairs = []
        for name in sorted(self.referentiel.measure_roots(ind)):
            for raw_name in sorted(self.roots.get(name, {name})):
                if raw_name in self.raw:
                    pairs.append((name, self.raw[raw_name]))
        return pairs

    def _with_motifs(self, frame: pl.DataFrame, indicators: list[Indicator]) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
        """Why each indicator is not computable on each row, grouped by origin. The text depends
        only on which inputs are absent and on `inclus`: each row without a value gets a code of
        these flags, and each distinct code's text is written once (`_coded_texts`)."""
        key = ("organisation motifs", tuple(ind.code for ind in indicators))
        if key not in self._columns:
            self._columns[key] = [_motif_code(ind, f"{ind.ident}__centrale", [
                pl.col("inclus").fill_null(False),
                *[pl.col(name).is_null() & pl.col(f"__absent_{raw.nom}") for name, raw in self._missing_inputs(ind)],
            ]) for ind in indicators]
        return _coded_texts(frame, indicators, self._columns[key], self._organisation_motif)

    def _organisation_motif(self, ind: Indicator, code: int) -> str:
        missing = [raw for i, (_, raw) in enumerate(self._missing_inputs(ind)) if code >> (1 + i) & 1]
        return _describe_missing(missing, bool(code & 1), ind.motif_si_nul)

    # ─── full results ───

    def expand(self, compact: pl.DataFrame, rows: pl.DataFrame, level: str) -> pl.DataFrame:
        """RESULT_SCHEMA's columns (then any other column of `compact`, such as the evolution)
        from compact results: the indicator's identity from its position, the territory and
        the organisation from their ranks in `rows`, the statut from the value."""
        indicators = self.referentiel.indicators
        territories, sirens = _ranked_names(rows)
        by_position = {f: pl.Series([getattr(i, f) for i in indicators], dtype=pl.Utf8) for f in ("code", "libelle", "axe", "registre", "unite")}
        full = {
            "indicateur": _lookup(by_position["code"], "_o"),
            **{f: _lookup(by_position[f], "_o") for f in ("libelle", "axe", "registre", "unite")},
            "niveau": pl.lit(level, TEXT),
            "code_territoire": _lookup(territories["code_territoire"], "_t"),
            "nom_territoire": _lookup(territories["nom_territoire"], "_t"),
            "siren": _lookup(sirens, "_s"),
            "statut": _lookup(pl.Series([CALCULE, NON_CALCULABLE]), "_nc"),
            "fiabilite": _evidence_grade(_lookup(self._evidence_floors, "_o")),
            **self._net_columns(),
        }
        compact = compact.with_columns(pl.col("valeur").is_null().cast(pl.UInt32).alias("_nc"))
        columns = [(full[c] if c in full else pl.col(c)).cast(t).alias(c) for c, t in RESULT_SCHEMA.items()]
        others = [c for c in compact.columns if c not in RESULT_SCHEMA and c not in ORDER_KEYS and c != "_nc"]
        return compact.select(*columns, *others)

    def identified(self, compact: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
        """indicateur, code_territoire and siren (TEXT, as `expand` gives them) of compact results,
        and their valeur: what the next exercice's evolution reads of them (run._previous_values)."""
        territories, sirens = _ranked_names(rows)
        codes = pl.Series([i.code for i in self.referentiel.indicators], dtype=pl.Utf8)
        return compact.select(_lookup(codes, "_o").alias("indicateur"), _lookup(territories["code_territoire"], "_t").alias("code_territoire"),
                              _lookup(sirens, "_s").alias("siren"), "valeur")

    def ranked(self, values: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
        """Values of `identified`'s identity (indicateur, code_territoire, siren) with the ranks of
        the computation of `rows` instead (_o, _t, _s); those of an indicator, a territory or an
        organisation it does not have are left out."""
        territories, sirens = _ranked_names(rows)
        indicators = pl.DataFrame({"indicateur": [i.code for i in self.referentiel.indicators]}, schema={"indicateur": pl.Utf8})
        by_rank = [indicators.with_row_index("_o"), territories.select("_t", "code_territoire"), sirens.to_frame("siren").with_row_index("_s")]
        ranked = values.with_columns(pl.col(c).cast(TEXT) for c in ("indicateur", "code_territoire", "siren"))
        for ranks in by_rank:  # small frames: their texts as TEXT, joined on the texts' codes
            identity = next(c for c in ranks.columns if c not in ORDER_KEYS)
            rank = next(c for c in ranks.columns if c in ORDER_KEYS)
            ranks = ranks.select(pl.col(identity).cast(TEXT), pl.col(rank).cast(pl.UInt32))
            ranked = ranked.join(ranks, on=identity, how="inner", nulls_equal=True).drop(identity)
        return ranked

    def _net_columns(self) -> dict[str, pl.Expr]:
        """`valeur_nette` and its range: the gross figure × Π(1 − factor) of its additionality
        factors (Indicator.additionnalite); low with every factor at its high value and the gross
        low value, high the reverse (null without additionality)."""
        kept = {s: pl.lit(pl.Series(self._net_shares[s], dtype=pl.Float64)).gather(pl.col("_o")) for s in SCENARIOS}
        ends = [pl.col(c) * kept[s] for c in ("valeur_basse", "valeur_haute") for s in ("basse", "haute")]
        return {"valeur_nette": pl.col("valeur") * kept["centrale"],
                "valeur_nette_basse": pl.min_horizontal(ends), "valeur_nette_haute": pl.max_horizontal(ends)}

    @cached_property
    def _net_shares(self) -> dict[str, list[float | None]]:
        """Per scenario, each catalogue indicator's share of its gross value that is additional
        (null without additionality): « basse » is the smallest share (every factor high)."""
        shares: dict[str, list[float | None]] = {s: [] for s in SCENARIOS}
        for ind in self.referentiel.indicators:
            for s, factor_end in (("basse", "haute"), ("centrale", "centrale"), ("haute", "basse")):
                share = None
                if ind.additionnalite:
                    share = 1.0
                    for _, name in ind.additionnalite:
                        share *= 1 - self.referentiel.parameters[name].value(factor_end)
                shares[s].append(share)
        return shares

    @cached_property
    def _evidence_floors(self) -> pl.Series:
        """Each catalogue indicator's best possible grade, in catalogue order (made once per référentiel)."""
        return pl.Series([self._evidence_floor(i) for i in self.referentiel.indicators], dtype=pl.Utf8)

    def _evidence_floor(self, ind: Indicator) -> str:
        """The best grade an indicator can have whatever its data (see _evidence_grade): « C » when
        a parameter it uses is a hypothesis or not checked yet, « B » when it is modelled from
        territorial public data (market rents, RPLS), else « A »."""
        roots = self._raw_roots(ind)
        market = bool(roots & set(MARKET_MEASURES))
        used = self.referentiel.parameters_used(ind) | (set(MARKET_PARAMETERS) & set(self.referentiel.parameters) if market else set())
        if any(self.referentiel.parameters[p].statut in PROVISIONAL for p in used):
            return "C"
        return "B" if market or roots & set(RPLS_STOCK_MEASURES) else "A"

    # ─── consolidation ───

    def consolidate(self, rows: pl.DataFrame, draws: Draws | None = None, central_only: bool = False) -> pl.DataFrame:
        """One result per territory × exercice × indicator, all organisations together.

        Each indicator sums its own measures over the organisations that provide all of them
        (its « complete » organisations). All these sums are made in a single pass over the rows,
        once per distinct set of measures (columns `<set>|<measure>`); every formula then runs on
        that small aggregated frame, its names pointing to its own set's sums (`_in_context`), so
        that all the indicators come out of one plan. `draws`: with the simulation's quantiles.
        `central_only`: the computed figures' central values, without their range, sensitivity,
        coverage, notes and motifs (the other columns null): what the next exercice's evolution
        reads of this one (run._previous_values), the same values at a fraction of the cost."""
        absent = {c for c in rows.columns if rows[c].null_count() == rows.height} if rows.height else set(rows.columns)
        trivial = [i for i in self.ordered if self._absent_inputs(i, absent) and not i.formule_repli]
        indicators = [i for i in self.ordered if i not in trivial]
        fallbacks = {i.code: f for i in indicators if (f := i.fallback())}
        flat = {i.code: f for i in indicators if (f := i.flat_rate())}
        context = {ind.code: self._set_id(ind) for ind in indicators + list(fallbacks.values())}
        sets = {tuple(self._org_measures(ind)): context[ind.code] for ind in indicators + list(fallbacks.values())}
        # A flat-rate part is summed over the same organisations as its indicator (its measures are among the indicator's).
        context |= {f.code: context[code] for code, f in flat.items()}
        evaluated = indicators + list(fallbacks.values()) + ([] if central_only else list(flat.values()))
        is_org = pl.col("siren").is_not_null()
        weight = pl.col("logements").filter(is_org)
        territory = sorted({m for ind in evaluated for m in self.referentiel.measure_roots(ind) if m in TERRITORY_MEASURES})
        measures = sorted({m for ms in sets for m in ms})
        # Each set's measures where its organisations are complete (else null), summed by territory.
        # Each column summed is made whole units once (sums.as_units), not once for each set.
        summed = list(dict.fromkeys(c for ms in sets for c in self._set_sums(ms, central_only)))
        units = [as_units(pl.col(c)).alias(f"__units|{c}") for c in summed]
        masked = []
        for ms, sid in sets.items():
            complete = pl.all_horizontal([pl.col(m).is_not_null() for m in ms]) & is_org if ms else pl.lit(True)
            masked += [pl.when(complete).then(pl.col(f"__units|{c}")).otherwise(None).alias(f"{sid}|{c}")
                       for c in self._set_sums(ms, central_only)]
            masked.append(pl.when(complete & is_org).then(pl.col("_s")).otherwise(None).alias(f"{sid}|n"))
        # what the coverage, the notes and the motifs read
        described = [] if central_only else [
            pl.col("siren").drop_nulls().n_unique().alias("nb_organismes"), exact_sum(weight).alias("_w_all"),
            weight.is_null().any().alias("_w_unknown"),
            # organisation-level data given by an organisation present, which cannot count here
            *[(pl.col(c).any() if c in rows.columns else pl.lit(False)).alias(c) for c in self._not_split_columns],
            *[pl.col(m).is_not_null().any().alias(f"_any|{m}") for m in measures]]
        # by the territory's rank (derive: one per code), integers hashed faster than its code and name
        agg = rows.with_columns(units).with_columns(masked).group_by("_t", "exercice").agg(
            pl.col("code_territoire").first(), pl.col("nom_territoire").first(),
            *described, pl.col("implante").any().alias("_implante"),
            # the territory's own figures; at FRANCE level, those of the organisations' anchorage territories
            *[(pl.col(f"{m}__territoire") if f"{m}__territoire" in rows.columns else pl.col(m)).first().alias(m) for m in territory],
            *[units_sum(pl.col(f"{sid}|{c}")) for ms, sid in sets.items() for c in self._set_sums(ms, central_only)],
            *[pl.col(f"{sid}|n").count() for sid in sets.values()],
        )
        parts = [self._not_computable(agg, trivial, absent).with_columns(
            [pl.lit(None, pl.Float64).alias(k) for k in (simulation.QUANTILES if draws is not None else ())])] if trivial and not central_only else []
        self._live = frozenset(sets.values())
        if indicators:
            # A set's inputs: its sums, unknown (not zero) where no organisation is complete; the
            # parameters of each scenario as columns.
            inputs = agg.lazy().with_columns(
                *[pl.when(pl.col(f"{sid}|n") > 0).then(pl.col(f"{sid}|{m}")).otherwise(None).alias(f"{sid}:{m}")
                  for ms, sid in sets.items() for m in (ms if central_only else _summed(ms))],
                *[pl.lit(p.value(s), pl.Float64).alias(f"{p.nom}@{s}") for p in self.referentiel.parameters.values() for s in SCENARIOS],
            )
            columns = _ContextColumns(self, frozenset(territory))
            if central_only:
                return self._central_consolidated(columns, inputs, indicators, fallbacks, context)
            wanted = {f"{ind.code}@{s}": columns.indicator(ind, context[ind.code], s, ind.somme_des_parties)
                      for ind in evaluated
                      for s in (("centrale",) if self._same_in_every_scenario(ind) or ind in flat.values() else SCENARIOS)}
            wanted |= {f"__note_{ind.code}": columns.condition(ind.note_si, context[ind.code]) for ind in indicators if ind.note_si}
            # each driver alone at its low and high value (sensitivity.py)
            wanted |= {f"{ind.code}@{setting}": columns.indicator(ind, context[ind.code], setting, ind.somme_des_parties)
                       for ind in indicators for setting in self._swing_settings(ind)}
            values = columns.computed(inputs).with_columns([pl.col(c).alias(name) for name, c in wanted.items()]).collect()
            values, motifs = self._with_consolidated_motifs(values, indicators, context)
            for layer in self._swing_layers(indicators):
                values = values.with_columns(layer)
            if draws is not None:
                values = values.with_columns(self._simulated(values, indicators, draws, lambda i, s: f"{i.code}@{s}"))
            columns = []
            for ind in indicators:
                own = self._consolidated_columns(ind, context[ind.code], territory) | {"motif": motifs[ind.code]}
                if ind.code in fallbacks:  # its motif is never used: the fallback replaces only a computed value
                    fallback = fallbacks[ind.code]
                    own = _preferred(own, self._consolidated_columns(fallback, context[fallback.code], territory))
                columns.append(own | _quantile_columns(ind, draws) | {"_implante": pl.col("_implante")})
            parts.append(_stacked(values, columns))
        if not parts:
            return _empty(draws)
        # Where no organisation is established (they only buy or employ there), only the figures
        # such presence produces, as for each organisation (see per_organisation).
        return pl.concat(parts, how="vertical" if draws is None else "diagonal").filter(pl.col("_implante") | _is_figure()).drop("_implante")

    def _central_consolidated(self, columns: _ContextColumns, inputs: pl.LazyFrame, indicators: list[Indicator],
                              fallbacks: dict[str, Indicator], context: dict[str, str]) -> pl.DataFrame:
        """`consolidate`'s computed figures, their central value only (`central_only`)."""
        wanted = {f"{ind.code}@centrale": columns.indicator(ind, context[ind.code], "centrale", ind.somme_des_parties)
                  for ind in [*indicators, *fallbacks.values()]}
        values = columns.computed(inputs).with_columns([pl.col(c).alias(name) for name, c in wanted.items()]).collect()
        parts = []
        for ind in indicators:
            own = self._central_columns(ind, pl.col(f"{ind.code}@centrale"), pl.lit(0))
            if ind.code in fallbacks:
                fallback = fallbacks[ind.code]
                own = _preferred(own, self._central_columns(fallback, pl.col(f"{fallback.code}@centrale"), pl.lit(0)))
            parts.append(own | {"_implante": pl.col("_implante")})
        # the rows `consolidate` keeps, those with a value
        return _padded(_stacked(values, parts, (pl.col("_implante") | _is_figure()) & pl.col("valeur").is_not_null()))

    def not_placed(self, territories: pl.DataFrame, france: pl.DataFrame, rank: int) -> pl.DataFrame:
        """NON_REPARTI: for each additive indicator computed at FRANCE level, the FRANCE figure less
        the sum of the level's territories (`territories`: the level's consolidated results) — the
        organisation-level data that cannot be split by commune (liasse totals, the totals of an
        organisation whose dwellings straddle territories) and facts outside every territory of the
        level. Compact rows of territory rank `rank`; low and high values likewise."""
        additive = [self._position[i.code] for i in self.referentiel.indicators if i.additif]
        keys = ["exercice", "_o"]

        def flat_amount(value: str) -> pl.Expr:
            return pl.col(value) * pl.col("part_forfaitaire").fill_null(0) / 100

        placed = territories.filter(pl.col("_o").is_in(additive)).group_by(keys).agg(
            # computed figures, of any precision: added in sorted order, the same in every run
            *[pl.col(c).sort().sum().alias(f"_{c}") for c in ("valeur", "valeur_basse", "valeur_haute")],
            flat_amount("valeur").sort().sum().alias("_f"))
        whole = france.filter(pl.col("_o").is_in(additive) & pl.col("valeur").is_not_null()).join(placed, on=keys, how="left")

        def rest(column: str) -> pl.Expr:
            # the last bits of sums made in another order are noise, not data left out
            diff = pl.col(column) - pl.col(f"_{column}").fill_null(0)
            return pl.when(diff.abs() <= 1e-9 * pl.col(column).abs()).then(0.0).otherwise(diff)

        value, low, high = rest("valeur"), rest("valeur_basse"), rest("valeur_haute")
        flat = flat_amount("valeur") - pl.col("_f").fill_null(0)
        return whole.select(**_compact(
            exercice=pl.col("exercice"), _t=pl.lit(rank), _s=pl.lit(0), _o=pl.col("_o"), raison_sociale=pl.lit(None, pl.Utf8),
            valeur=value, valeur_basse=pl.min_horizontal(low, value, high), valeur_haute=pl.max_horizontal(low, value, high),
            couverture=pl.col("couverture"),
            part_forfaitaire=pl.when(value == 0).then(0.0).otherwise(100.0 * flat / value).clip(0.0, 100.0),
            nb_organismes=pl.col("nb_organismes"), nb_organismes_calcules=pl.col("nb_organismes_calcules"), motif=pl.lit(None, pl.Utf8),
            note=pl.lit("données de niveau organisme (liasse, totaux d'un organisme présent sur plusieurs territoires), faits hors "
                        "des territoires du niveau et montants des territoires où l'indicateur n'est pas calculable : les territoires "
                        "plus cette ligne donnent le total France"),
        ))

    def _absent_inputs(self, ind: Indicator, absent: set[str]) -> list[str]:
        return sorted(m for m in self.referentiel.measure_roots(ind) if m in absent)

    def _not_computable(self, agg: pl.DataFrame, trivial: list[Indicator], absent: set[str]) -> pl.DataFrame:
        """Indicators one of whose inputs exists nowhere in the workspace: no formula to run, the
        same reason in every territory — one cross join for all of them (keeps small runs fast)."""
        rows, not_split = [], []
        for ind in trivial:
            missing = self._absent_inputs(ind, absent)
            # where an organisation present gave the missing organisation-level data, which cannot count there
            not_split.append(pl.when(pl.col("_o") == self._position[ind.code]).then(
                self._not_split([m for m in missing if m not in TERRITORY_MEASURES])))
            territory = [m for m in missing if m in TERRITORY_MEASURES]
            labels = ", ".join(self._measure_label(m) for m in (territory or missing))
            motif = f"donnée du territoire absente : {labels}" if territory else _nobody_provides(labels, False)
            rows.append({"indicateur": ind.code, "libelle": ind.libelle, "axe": ind.axe, "registre": ind.registre,
                         "unite": ind.unite, "motif": motif, "motif_hors": _nobody_provides(labels, True), "_o": self._position[ind.code]})
        meta = pl.DataFrame(rows, schema={**{k: pl.Utf8 for k in ("indicateur", "libelle", "axe", "registre", "unite", "motif",
                                                                  "motif_hors")}, "_o": pl.UInt32})
        territories = agg.select("exercice", "nb_organismes", "_t", "_implante", *self._not_split_columns)
        return meta.join(territories, how="cross").select(**_compact(
            exercice=pl.col("exercice"), _t=pl.col("_t"), _s=pl.lit(0), _o=pl.col("_o"), raison_sociale=pl.lit(None, pl.Utf8),
            valeur=pl.lit(None, pl.Float64), valeur_basse=pl.lit(None, pl.Float64), valeur_haute=pl.lit(None, pl.Float64),
            couverture=pl.lit(0.0), part_forfaitaire=pl.lit(None, pl.Float64), nb_organismes=pl.col("nb_organismes"),
            nb_organismes_calcules=pl.lit(0, pl.Int64),
            motif=pl.when(pl.coalesce(not_split).fill_null(False)).then(pl.col("motif_hors")).otherwise(pl.col("motif")), note=pl.lit(None, pl.Utf8),
        ), _implante=pl.col("_implante"))

    def drivers(self, ind: Indicator) -> list[str]:
        """The parameters (and market factors) that move the indicator (sensitivity.drivers)."""
        key = ("drivers", ind.code)
        if key not in self._columns:
            self._columns[key] = sensitivity.drivers(self.referentiel, ind, self._raw_roots(ind))
        return self._columns[key]

    def _swing_layers(self, indicators: list[Indicator]) -> list[list[pl.Expr]]:
        """The columns the consolidated figures' sensitivity reads (sensitivity.swing_layers), each
        layer for every indicator together."""
        layers = [sensitivity.swing_layers(ind.code, pl.col(f"{ind.code}@centrale"), [
            tuple(pl.col(f"{ind.code}@{sensitivity.setting(d, e)}") for e in sensitivity.ENDS) for d in self.drivers(ind)])
            for ind in indicators if self.drivers(ind)]
        return [[e for layer in layers for e in layer[k]] for k in range(2)]

    @staticmethod
    def _set_sums(measures: tuple[str, ...], central_only: bool) -> list[str]:
        """The columns summed over a set's complete organisations: its measures (and their
        one-at-a-time variants, and their dwellings for the coverage, unless `central_only`)."""
        return list(dict.fromkeys(measures if central_only else (*_summed(measures), "logements")))

    def _swing_settings(self, ind: Indicator) -> list[str]:
        return [sensitivity.setting(d, e) for d in self.drivers(ind) for e in sensitivity.ENDS]

    def _org_measures(self, ind: Indicator) -> list[str]:
        return sorted(m for m in self.referentiel.measure_roots(ind) if m not in TERRITORY_MEASURES)

    def _set_id(self, ind: Indicator) -> str:
        """Name of the indicator's set of measures in the aggregated frame (the same in every run)."""
        measures = tuple(self._org_measures(ind))
        return self._set_ids.setdefault(measures, f"s{len(self._set_ids)}")

    def _consolidated_columns(self, ind: Indicator, sid: str, territory: list[str]) -> dict[str, pl.Expr]:
        key = ("consolidated", ind.code, tuple(territory), self._live if ind.somme_des_parties else None)
        if key not in self._columns:
            self._columns[key] = self._make_consolidated_columns(ind, sid, territory)
        return self._columns[key]

    def _make_consolidated_columns(self, ind: Indicator, sid: str, territory: list[str]) -> dict[str, pl.Expr]:
        if ind.somme_des_parties:
            return self._sum_of_parts_columns(ind, sid, territory)
        measures = self._org_measures(ind)
        central = pl.col(f"{ind.code}@centrale")
        calculated = pl.col(f"{sid}|n")
        by_count = 100.0 * calculated / pl.col("nb_organismes")
        by_dwellings = 100.0 * pl.col(f"{sid}|logements") / pl.col("_w_all")
        # Share of the base whose inputs were given: the organisations' dwellings; the share of the
        # organisations present where the counted ones have no dwelling here (they only buy or
        # employ here): a computed figure always covers someone, never 0 %.
        coverage = (
            pl.lit(100.0) if not measures  # the territory's own figures (population, RPLS stock)
            else pl.when(pl.col("_w_unknown") | (pl.col("_w_all") == 0) | (pl.col(f"{sid}|logements").fill_null(0) == 0))
            .then(by_count).otherwise(by_dwellings)
        )
        flat = ind.flat_rate()
        condition = pl.col(f"__note_{ind.code}").fill_null(False) if ind.note_si else pl.lit(True)
        return _compact(
            exercice=pl.col("exercice"), _t=pl.col("_t"), _s=pl.lit(0), _o=pl.lit(self._position.get(ind.code, len(self._position))),
            raison_sociale=pl.lit(None, pl.Utf8),
            **_range(central, None if self._same_in_every_scenario(ind) else [pl.col(f"{ind.code}@{s}") for s in SCENARIOS]),
            couverture=pl.when(central.is_not_null()).then(coverage).otherwise(0.0),
            part_forfaitaire=_flat_share(central, pl.col(f"{flat.code}@centrale") if flat else None),
            nb_organismes=pl.col("nb_organismes"), nb_organismes_calcules=calculated,
            motif=pl.lit(None, pl.Utf8),  # written per frame, see consolidate
            note=pl.when(central.is_not_null()).then(_partial_note(ind, condition, calculated)).otherwise(None),
            **sensitivity.top_drivers(ind.code, central, self.drivers(ind)),  # over the columns of _swing_layers
        )

    def _sum_of_parts_columns(self, ind: Indicator, sid: str, territory: list[str]) -> dict[str, pl.Expr]:
        """A sum of parts covers as much as its least covered part, and counts the organisations of
        its most counted one."""
        columns = self._make_consolidated_columns(replace(ind, somme_des_parties=False), sid, territory)
        used = [d for n in sorted(_sql(ind.formule).meta.root_names()) if (d := self.referentiel.by_ident.get(n))
                and self._set_id(d) in self._live]
        if used:
            parts = [self._consolidated_columns(d, self._set_id(d), territory) for d in used]
            central = columns["valeur"]
            columns["couverture"] = pl.when(central.is_not_null()).then(pl.min_horizontal([p["couverture"] for p in parts])).otherwise(0.0)
            columns["nb_organismes_calcules"] = pl.max_horizontal([p["nb_organismes_calcules"] for p in parts])
        return columns

    def _with_consolidated_motifs(self, values: pl.DataFrame, indicators: list[Indicator],
                                  context: dict[str, str]) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
        """Why each consolidated figure is not computable: the territory's own data missing, or
        measures no organisation provides, or no organisation providing them all, else an
        undefined formula. As for organisations (`_with_motifs`), each territory without a value
        gets a code of these flags, and each distinct code's text is written once."""
        key = ("consolidated motifs", tuple(ind.code for ind in indicators))
        if key not in self._columns:
            self._columns[key] = [_motif_code(ind, f"{ind.code}@centrale", [
                pl.col(f"{context[ind.code]}|n") == 0, *[pl.col(m).is_null() for m in self._territory_measures(ind)],
                *[~pl.col(f"_any|{m}") for m in self._org_measures(ind)],
                *[self._not_split([m]) for m in self._org_measures(ind)],
            ]) for ind in indicators]
        return _coded_texts(values, indicators, self._columns[key], self._consolidated_motif)

    def _consolidated_motif(self, ind: Indicator, code: int) -> str:
        measures, own_territory = self._org_measures(ind), self._territory_measures(ind)
        territory = [self._measure_label(m) for i, m in enumerate(own_territory) if code >> (1 + i) & 1]
        listed = [self._measure_label(m) for i, m in enumerate(measures) if code >> (1 + len(own_territory) + i) & 1]
        if territory:
            return "donnée du territoire absente : " + ", ".join(territory)
        if listed:
            first = 1 + len(own_territory)
            not_split = any(code >> (first + i) & 1 and code >> (first + len(measures) + i) & 1 for i in range(len(measures)))
            return _nobody_provides(", ".join(listed), not_split)
        if code & 1:
            return "aucun organisme présent ne fournit à la fois toutes les données nécessaires"
        return ind.motif_si_nul or "résultat indéfini (dénominateur nul)"

    @cached_property
    def _not_split_columns(self) -> list[str]:
        """`<measure>__non_reparti`: organisation-level data an organisation gave, which cannot count
        in the territory of the row (its dwellings lie elsewhere too; see measures.organisation_rows)."""
        return [f"{name}{NOT_SPLIT}" for name, raw in sorted(self.raw.items()) if raw.niveau == "organisme"]

    def _not_split(self, measures: list[str]) -> pl.Expr:
        """Whether organisation-level data behind these measures were given but cannot count here."""
        columns = [f"{r}{NOT_SPLIT}" for m in measures for r in sorted(self.roots.get(m, {m}))
                   if r in self.raw and self.raw[r].niveau == "organisme"]
        return pl.any_horizontal([pl.col(c) for c in columns]) if columns else pl.lit(False)

    def _territory_measures(self, ind: Indicator) -> list[str]:
        return sorted(m for m in self.referentiel.measure_roots(ind) if m in TERRITORY_MEASURES)

    def _measure_label(self, name: str) -> str:
        """« Investissement construction neuve (€) (feuille Production ou liasse) »."""
        raws = [self.raw[r] for r in sorted(self.roots.get(name, {name})) if r in self.raw]
        if not raws:
            return name
        origins = list(dict.fromkeys(r.origine for r in raws))
        joined = origins[0] if len(origins) == 1 else ", ".join(origins[:-1]) + " ou " + origins[-1]
        return f"{raws[0].libelle} ({joined})"


def _summed(measures: tuple[str, ...]) -> tuple[str, ...]:
    """A set's measures and, for a market-rent measure, its one-at-a-time variants (summed over
    the same organisations, for the sensitivity)."""
    return (*measures, *(market_swing(m.removesuffix("_centrale"), f, e) for m in measures if m in MARKET_CENTRAL
                         for f in MARKET_FACTORS for e in sensitivity.ENDS))


def _motif_code(ind: Indicator, central: str, bits: list[pl.Expr]) -> pl.Expr:
    """Where the indicator has no value (column `central` null), a code of a few flags, one bit
    each (column `__motif_<indicator>`), for `_coded_texts`."""
    if len(bits) > 63:
        raise ValueError(f"{ind.code} : trop de données d'entrée pour coder le motif ({len(bits)}).")
    code = pl.sum_horizontal([bit.fill_null(False).cast(pl.UInt64) * (1 << i) for i, bit in enumerate(bits)])
    return pl.when(pl.col(central).is_null()).then(code).otherwise(None).alias(f"__motif_{ind.code}")


def _coded_texts(frame: pl.DataFrame, indicators: list[Indicator], codes: list[pl.Expr],
                 text: Callable[[Indicator, int], str]) -> tuple[pl.DataFrame, dict[str, pl.Expr]]:
    """Texts that depend only on a few flags of each row without a value: `codes` (see
    `_motif_code`) turn the flags into a code, and `text(indicator, code)` is called once per
    distinct code — not once per row. Returns the frame with the codes and each indicator's text
    expression."""
    frame = frame.with_columns(codes)
    seen = (frame.select([f"__motif_{ind.code}" for ind in indicators]).unpivot(variable_name="indicateur", value_name="code")
            .drop_nulls().unique())
    by_code = {ind.code: ind for ind in indicators}
    texts: dict[str, dict[int, str]] = {}
    for column, code in seen.iter_rows():
        ind = by_code[column.removeprefix("__motif_")]
        texts.setdefault(ind.code, {})[code] = text(ind, code)
    exprs = {}
    for ind in indicators:
        known = texts.get(ind.code, {})
        exprs[ind.code] = (pl.col(f"__motif_{ind.code}").replace_strict(list(known), list(known.values()), default=None,
                                                                        return_dtype=TEXT)
                           if known else pl.lit(None, TEXT))
    return frame, exprs


def _nobody_provides(labels: str, not_split: bool) -> str:
    """Why a consolidated figure has no value when measures are missing. `not_split`: some of them
    are organisation-level data, which count only where all of an organisation's dwellings are
    (REFERENTIEL), and an organisation present here has dwellings elsewhere too."""
    if not not_split:
        return f"aucun organisme présent ne fournit : {labels}"
    return (f"aucun organisme présent ne fournit pour ce territoire : {labels} (les données de niveau organisme, liasse ou "
            "totaux, ne comptent que pour un organisme dont tout le patrimoine est dans le territoire : un organisme présent "
            "ici en a aussi ailleurs)")


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
    return _sql(ind.note_si).fill_null(False) if ind.note_si else pl.lit(True)


def _partial_note(ind: Indicator, condition: pl.Expr, calculated: pl.Expr) -> pl.Expr:
    """The indicator's note (where its condition holds) and, for a partial consolidation, who was counted."""
    partial = calculated < pl.col("nb_organismes")
    text = (pl.lit("partiel : ") + calculated.cast(pl.Utf8) + pl.when(calculated < 2).then(pl.lit(" organisme sur "))
            .otherwise(pl.lit(" organismes sur ")) + pl.col("nb_organismes").cast(pl.Utf8))
    base = pl.when(condition).then(pl.lit(ind.note)).otherwise(None) if ind.note else pl.lit(None, pl.Utf8)
    return pl.concat_str([base, pl.when(partial).then(text).otherwise(None)], separator=" ; ", ignore_nulls=True).replace("", None)


def _stacked(frame: pl.DataFrame, parts: list[dict[str, pl.Expr]], keep: pl.Expr | None = None) -> pl.DataFrame:
    """The parts' columns (same names in each), evaluated over `frame` and stacked part after
    part; `keep`: only the rows where it holds. One select for all the parts: a select per part
    costs more than its work on a wide frame."""
    wide = frame.select([e.alias(f"{i}\x1f{c}") for i, part in enumerate(parts) for c, e in part.items()])
    stacked = pl.DataFrame([pl.concat([wide.get_column(f"{i}\x1f{c}") for i in range(len(parts))]).alias(c) for c in parts[0]])
    return stacked if keep is None else stacked.filter(keep)


def _preferred(main: dict[str, pl.Expr], fallback: dict[str, pl.Expr]) -> dict[str, pl.Expr]:
    """The main formula's columns, replaced by the fallback formula's where only the fallback
    could be computed (its note says so); both over the same rows. The indicator stays the main one."""
    use = main["valeur"].is_null() & fallback["valeur"].is_not_null()
    return {c: e if c in ("exercice", *ORDER_KEYS) else pl.when(use).then(fallback[c]).otherwise(e) for c, e in main.items()}


def _ranked_names(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """The territories (_t, code_territoire, nom_territoire) and the SIRENs (rank 0: consolidated
    figure, null) in the order of their ranks in `rows` (see Evaluator.derive)."""
    territories = rows.select("_t", "code_territoire", "nom_territoire").unique("_t").sort("_t")
    sirens = rows.filter(pl.col("_s") > 0).select("_s", "siren").unique("_s").sort("_s")
    if not (territories["_t"] == pl.int_range(territories.height, eager=True)).all() or not (
            sirens["_s"] == pl.int_range(1, sirens.height + 1, eager=True)).all():
        raise RuntimeError("rangs de territoires ou d'organismes non contigus")
    return territories, pl.concat([pl.Series([None], dtype=pl.Utf8), sirens["siren"].cast(pl.Utf8)])


def _lookup(values: pl.Series, rank: str) -> pl.Expr:
    return pl.lit(values.cast(TEXT)).gather(pl.col(rank))


def _flat_share(central: pl.Expr, flat: pl.Expr | None) -> pl.Expr:
    """Percentage of the central value computed from a national flat rate (0 without one; null
    when the figure is not computed)."""
    if flat is None:
        return pl.when(central.is_not_null()).then(0.0).otherwise(None)
    share = pl.when(central == 0).then(0.0).otherwise(100.0 * flat.fill_null(0) / central).clip(0.0, 100.0)
    return pl.when(central.is_not_null()).then(share).otherwise(None)


PROVISIONAL = ("hypothèse", "à vérifier")  # parameter statuses that make a figure « C »


def _evidence_grade(floor: pl.Expr) -> pl.Expr:
    """`fiabilite`, the evidence grade of a computed figure (null otherwise):
    « A » the organisations' measured data, coverage ≥ 90 %, sourced parameters;
    « B » modelled from territorial public data (market rents, RPLS), coverage from 50 to 90 %,
    or partly a national flat rate;
    « C » mostly a national flat rate (≥ 50 % of the value), a hypothesis or an unchecked parameter,
    or coverage below 50 %. `floor`: the indicator's best possible grade (Evaluator._evidence_floor)."""
    value, coverage, flat = pl.col("valeur"), pl.col("couverture"), pl.col("part_forfaitaire").fill_null(0)
    return (pl.when(value.is_null()).then(None)
            .when((floor == "C") | (flat >= 50) | (coverage < 50)).then(pl.lit("C"))
            .when((floor == "B") | (flat > 0) | (coverage < 90)).then(pl.lit("B"))
            .otherwise(pl.lit("A")))


def _is_figure() -> pl.Expr:
    """A computed result that is not zero."""
    return pl.col("valeur").is_not_null() & (pl.col("valeur") != 0)


def _range(central: pl.Expr, scenarios: list[pl.Expr] | None) -> dict[str, pl.Expr]:
    """Value and range: the lowest and highest of the scenarios' values (`scenarios` None: the
    indicator is the same in every scenario, its range is its value)."""
    if scenarios is None:
        return {"valeur": central, "valeur_basse": central, "valeur_haute": central}
    return {
        "valeur": central,
        "valeur_basse": pl.when(central.is_not_null()).then(pl.min_horizontal(scenarios)).otherwise(None),
        "valeur_haute": pl.when(central.is_not_null()).then(pl.max_horizontal(scenarios)).otherwise(None),
    }


def _rank(column: pl.Expr, values: pl.Series) -> pl.Expr:
    """Position of each value among the sorted distinct values (null stays null)."""
    return column.cast(pl.Enum(values.drop_nulls().unique().sort())).to_physical().cast(pl.UInt32)


@lru_cache(maxsize=4096)
def _sql(text: str) -> pl.Expr:
    """A formula of the référentiel, parsed once per process."""
    return pl.sql_expr(text)


@lru_cache(maxsize=4096)
def _formula(text: str) -> pl.Expr:
    """An indicator's formula: inf and NaN (a division by zero that escaped NULLIF) become null."""
    return _finite(_sql(text))


def _finite(expr: pl.Expr) -> pl.Expr:
    """inf and NaN (a division by zero that escaped NULLIF) are not results: null instead."""
    e = expr.cast(pl.Float64)
    return pl.when(e.is_finite()).then(e).otherwise(None)


# ─── formulas over the aggregated frame of a consolidation ───

class _ContextColumns:
    """The columns a consolidation's formulas need, built on Polars' public API: a formula is
    parsed after its names are renamed in its text to the aggregated frame's columns — a measure
    to its set's sum (`<set>:<measure>`), a parameter to the scenario's value (`<name>@<scenario>`)
    — and each indicator it uses becomes a column of its own, computed first (inf and NaN made
    null, as for every indicator). Lives for one consolidation: nothing depends on an earlier one."""

    def __init__(self, evaluator: Evaluator, territory: frozenset[str]):
        self.evaluator, self.territory = evaluator, territory
        self.depth: dict[str, int] = {}  # column → layer (the columns it reads are in earlier layers)
        self.exprs: dict[str, pl.Expr] = {}

    def indicator(self, ind: Indicator, sid: str, scenario: str, parts: bool) -> str:
        """The column of an indicator summed over set `sid` (or, for a sum of parts, each used
        indicator over its own set) in a scenario or one-at-a-time setting (sensitivity.py)."""
        name = f"{ind.code}@{scenario}@{sid}{'+' if parts else ''}"
        if name not in self.exprs:
            text, depth = self._renamed(sensitivity.formula(ind, scenario), sid, scenario, parts)
            self.exprs[name], self.depth[name] = _finite(_sql(text)), depth
        return name

    def condition(self, text: str, sid: str) -> str:
        """The column of a note's condition (central scenario)."""
        name = f"__condition@{text}@{sid}"
        if name not in self.exprs:
            renamed, depth = self._renamed(text, sid, "centrale", False)
            self.exprs[name], self.depth[name] = _sql(renamed), depth
        return name

    def computed(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """The frame with every column asked for, layer by layer."""
        for layer in range(max(self.depth.values(), default=-1) + 1):
            frame = frame.with_columns([e.alias(c) for c, e in self.exprs.items() if self.depth[c] == layer])
        return frame

    def _renamed(self, text: str, sid: str, scenario: str, parts: bool) -> tuple[str, int]:
        referentiel, depth = self.evaluator.referentiel, 0

        def column(name: str) -> str:
            nonlocal depth
            if name in referentiel.by_ident:
                used = referentiel.by_ident[name]
                own = self.evaluator._set_id(used) if parts else sid
                if own not in self.evaluator._live:  # a part no organisation gives
                    return "CAST(NULL AS DOUBLE)"
                found = self.indicator(used, own, scenario, used.somme_des_parties)
                depth = max(depth, self.depth[found] + 1)
                return _quoted(found)
            if name in referentiel.parameters:
                return _quoted(f"{name}@{sensitivity.parameter_scenario(name, scenario)}")
            return _quoted(name if name in self.territory else f"{sid}:{sensitivity.measure_in_setting(name, scenario)}")

        return _rename_identifiers(text, column), depth


# A formula's tokens: quoted texts and identifiers are told apart, so that only names are renamed.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[A-Za-z_][A-Za-z0-9_]*")


def _rename_identifiers(text: str, column: Callable[[str], str]) -> str:
    """The formula with each name it reads (per Polars' parser) replaced by `column(name)`;
    functions, keywords and quoted texts are left as they are."""
    names = set(_sql(text).meta.root_names())
    return _TOKENS.sub(lambda m: column(m.group()) if m.group() in names else m.group(), text)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _compact(**columns: pl.Expr) -> dict[str, pl.Expr]:
    """Compact result columns in COMPACT_SCHEMA's order and types (no sensitivity unless given)."""
    return {c: (columns[c] if c in columns or c not in SENSITIVITY_SCHEMA else pl.lit(None)).cast(t)
            for c, t in COMPACT_SCHEMA.items()}


def _padded(frame: pl.DataFrame) -> pl.DataFrame:
    """Central values as compact results: the columns they do not have, null."""
    return frame.select([pl.col(c) if c in frame.columns else pl.lit(None, t).alias(c) for c, t in COMPACT_SCHEMA.items()])


def _empty(draws: Draws | None = None) -> pl.DataFrame:
    return pl.DataFrame(schema=COMPACT_SCHEMA | ({k: pl.Float64 for k in simulation.QUANTILES} if draws is not None else {}))


def _quantile_columns(ind: Indicator, draws: Draws | None) -> dict[str, pl.Expr]:
    """The simulation's quantiles of the main formula (null where a fallback gave the value)."""
    if draws is None:
        return {}
    return {k: pl.col(f"__{k}_{ind.code}") for k in simulation.QUANTILES}


__all__ = ["Evaluator", "COMPACT_SCHEMA", "ORDER_KEYS", "KEYS"]
