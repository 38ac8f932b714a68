"""The référentiel: indicator catalogue and parameters, read from data files shipped in the package.

Formulas are SQL expressions parsed by Polars (`pl.sql_expr`): a safe parser, never `eval`.
Loading validates every formula: it must parse, and every name it uses must be a known measure,
parameter or indicator; indicators may use other indicators, without cycles.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import polars as pl

from acterr_cli.common.encoding import TomlError, load_toml
from acterr_cli.errors import ConfigurationError

SCENARIOS = ("basse", "centrale", "haute")

AXES = {
    "ECO": "Économique — valeur locale",
    "SOC": "Social — plus-value sociale",
    "PV": "Politique de la ville",
    "ENV": "Environnement",
    "GOV": "Gouvernance",
    "TER": "Territoire — contexte",
}
# The two ledgers that must never be added together, and the other families beside them.
LEDGERS = {
    "ECO": "valeur_locale",
    "SOC": "plus_value_sociale",
    "PV": "plus_value_sociale",
    "ENV": "environnement",
    "GOV": "gouvernance",
    "TER": "contexte",
}
LEDGER_LABELS = {
    "valeur_locale": "Valeur locale",
    "plus_value_sociale": "Plus-value sociale",
    "environnement": "Environnement",
    "gouvernance": "Gouvernance",
    "contexte": "Contexte territorial",
}
# Where an indicator is a headline (`en_tete` in the catalogue): the outputs read these lists,
# so that adding or moving a headline figure is a catalogue edit only.
PLACES = {
    "synthese": "panneaux de la feuille Synthèse, par registre",
    "terminal": "panneaux du résumé de `acterr export` dans le terminal, par registre",
    "fiche": "chiffres de la fiche (image par territoire ou organisme), valeur locale et plus-value sociale",
    "diapo": "chiffres de la diapositive 16:9, valeur locale et plus-value sociale",
    "terminal_territoires": "colonnes du tableau des territoires de `acterr compute` (la première classe les territoires)",
    "terminal_parc": "colonnes de ce tableau quand seul le RPLS est importé (la première classe les territoires)",
    "terminal_qpv": "colonnes de ce tableau au niveau QPV (la première classe les quartiers)",
    "classement": "colonnes de la feuille Classement du rapport",
    "pairs": "indicateurs comparés aux pairs (feuille Pairs)",
}
# Places whose figures stand in one panel per ledger: the ledgers they can show.
PANEL_LEDGERS = {
    "synthese": ("valeur_locale", "plus_value_sociale", "environnement", "contexte"),
    "terminal": ("valeur_locale", "plus_value_sociale", "environnement", "contexte"),
    "fiche": ("valeur_locale", "plus_value_sociale"),
    "diapo": ("valeur_locale", "plus_value_sociale"),
}
# Charts that show an indicator (`graphique` in the catalogue).
CHARTS = {
    "synthese": "graphique sous le panneau de son registre, sur la feuille Synthèse (le premier de chaque registre)",
    "graphiques": "un graphique en barres par territoire (ou organisme) sur la feuille Graphiques",
    "fiche": "barres de la fiche (le premier avec au moins deux barres)",
    "evolution": "évolution depuis l'exercice précédent, feuille Graphiques",
    "carte": "carte choroplèthe (feuille Carte, fiche, diapositive, page web) : les quatre premières qu'un territoire au moins peut colorer ; un taux, jamais un total",
    "cascade": "cascade de l'évolution (organismes entrés et sortis, données, méthode), feuille Évolution (un montant additif)",
    "parties": "barres empilées de ses parties par territoire, feuille Graphiques (un indicateur somme_des_parties)",
}
# The favourable direction of an indicator (`sens`): « mieux si plus haut / plus bas ».
DIRECTIONS = {"hausse": "mieux si plus haut", "baisse": "mieux si plus bas"}
# The adjustments from a gross to a net social value (SROI, HCA Additionality Guide): what would
# have happened anyway, the share due to others, the value taken from others. Drop-off is not
# among them: every figure is one exercice's effect, never projected over later years.
ADDITIONALITY = {
    "aubaine": "Effet d'aubaine (ce qui serait arrivé sans l'organisme)",
    "attribution": "Attribution (part due à d'autres acteurs : État, collectivités, associations)",
    "deplacement": "Déplacement (valeur retirée à d'autres ménages ou territoires)",
}
STAKEHOLDERS = {
    "locataires": "Locataires",
    "collectivites": "Collectivités",
    "etat_financeurs": "État et financeurs",
    "entreprises_locales": "Entreprises locales",
    "salaries": "Salariés",
}


@dataclass(frozen=True)
class Parameter:
    nom: str
    libelle: str
    basse: float | None
    centrale: float | None
    haute: float | None
    unite: str
    annee: int | None
    source: str
    statut: str
    remarque: str = ""  # why a parameter is provisional and what would settle it; other caveats

    def value(self, scenario: str) -> float | None:
        return getattr(self, scenario)


@dataclass(frozen=True)
class DerivedMeasure:
    nom: str
    formule: str
    description: str


@dataclass(frozen=True)
class Indicator:
    code: str
    libelle: str
    axe: str
    niveau: str
    etape: str
    unite: str
    formule: str
    description: str = ""
    formule_basse: str | None = None
    formule_haute: str | None = None
    formule_repli: str | None = None  # used where the main formula is not computable, flagged in the note
    note: str | None = None
    note_si: str | None = None  # condition (SQL, over the same measures) for showing the note
    motif_si_nul: str | None = None  # reason given when all inputs exist but the formula has no value
    source: str | None = None
    parties_prenantes: tuple[str, ...] = ()
    # The part of the central value computed from a national average standing in for missing local
    # data (SQL, same names as the formula): `part_forfaitaire` = 100 × this / value.
    formule_forfait: str | None = None
    forfait_remplace_par: str = ""  # the import that replaces the flat rate by local data (told beside it)
    # Adds up over territories (amounts, counts): the level's territories plus NON_REPARTI give
    # the FRANCE figure. Ratios and percentages do not.
    additif: bool = False
    # Consolidated as the sum of the indicators it adds, each over the organisations that give it,
    # so that a total equals its parts as printed beside it (not only over those giving them all).
    somme_des_parties: bool = False
    limites: str = ""  # what the figure leaves out and its known biases (method note)
    # Display choices (read by every output; see PLACES and CHARTS):
    libelle_court: str = ""  # for panels, terminal, peers (« Investissement »)
    abreviation: str = ""  # a narrow terminal column's header, explained in a legend (« Invest. »)
    legende: str = ""  # the words under the figure on the fiche and the slide
    en_tete: tuple[tuple[str, float], ...] = ()  # (place, rank): where it is a headline, in which order
    graphique: tuple[tuple[str, float], ...] = ()  # (chart, rank): the charts that show it
    sens: str = ""  # « hausse » or « baisse »: the favourable direction; empty: neither
    # A monetised figure of the plus-value sociale: the parameters of its additionality factors
    # (ADDITIONALITY: aubaine, attribution, deplacement), as (factor, parameter) pairs; its net
    # value is the gross one × Π(1 − factor) (engine: `valeur_nette`).
    additionnalite: tuple[tuple[str, str], ...] = ()
    recoupe: tuple[str, ...] = ()  # indicators whose figures overlap this one's: never to be added to it
    recoupe_motif: str = ""  # why they overlap (said beside them)

    @property
    def ident(self) -> str:
        """Name of the indicator inside formulas: ECO-01 → ECO_01."""
        return self.code.replace("-", "_")

    @property
    def registre(self) -> str:
        return LEDGERS[self.axe]

    @property
    def short_label(self) -> str:
        return self.libelle_court or self.libelle

    def formula(self, scenario: str) -> str:
        return {"basse": self.formule_basse, "haute": self.formule_haute}.get(scenario) or self.formule

    def flat_rate(self) -> "Indicator | None":
        """The part of the indicator computed from a national flat rate, as a separate internal
        indicator (central scenario only: it gives `part_forfaitaire`)."""
        if not self.formule_forfait:
            return None
        return replace(self, code=f"{self.code}~forfait", formule=self.formule_forfait, formule_basse=None, formule_haute=None,
                       formule_repli=None, formule_forfait=None, note=None, note_si=None)

    def fallback(self) -> "Indicator | None":
        """The indicator computed with `formule_repli`, as a separate internal indicator."""
        if not self.formule_repli:
            return None
        return replace(self, code=f"{self.code}~repli", formule=self.formule_repli, formule_basse=None, formule_haute=None,
                       formule_repli=None, note=f"valeur de repli : {self.formule_repli}", note_si=None)


@dataclass
class Referentiel:
    meta: dict
    parameters: dict[str, Parameter]
    measures: list[DerivedMeasure]
    indicators: list[Indicator]
    sources: list[dict] = field(default_factory=list)  # files read, with sha256
    files: tuple[Path, ...] = ()  # the same files (catalogue, parametres, surcharges): kept per exercice (engine/bridge.py)
    # Pairs of parameters drawn together by `--simulations` ([[correlation]] in parametres.toml):
    # {"parametres": [a, b], "coefficient": r, "source": …}; the others are drawn independently.
    correlations: list[dict] = field(default_factory=list)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "?"))

    @cached_property
    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    @cached_property
    def by_ident(self) -> dict[str, Indicator]:
        return {i.ident: i for i in self.indicators}

    # ─── display choices (catalogue keys libelle_court, abreviation, legende, en_tete, graphique, sens) ───

    def headlines(self, place: str, ledger: str | None = None) -> list[Indicator]:
        """The headline indicators of a place (PLACES), in their order; of one ledger only if given."""
        return self._placed("en_tete", place, ledger)

    def charted(self, chart: str, ledger: str | None = None) -> list[Indicator]:
        """The indicators a chart (CHARTS) shows, in their order; of one ledger only if given."""
        return self._placed("graphique", chart, ledger)

    def _placed(self, key: str, place: str, ledger: str | None) -> list[Indicator]:
        known = PLACES if key == "en_tete" else CHARTS
        if place not in known:
            raise ValueError(f"unknown {key} place {place!r}")
        ranked = [(dict(getattr(i, key))[place], n, i) for n, i in enumerate(self.indicators)
                  if place in dict(getattr(i, key)) and (ledger is None or i.registre == ledger)]
        return [i for _, _, i in sorted(ranked, key=lambda t: t[:2])]

    def short_label(self, code: str, default: str | None = None) -> str:
        """An indicator's `libelle_court`, else its libellé (`default`, else the code, when unknown)."""
        ind = self.by_code.get(code)
        return ind.short_label if ind else (default or code)

    def abbreviation(self, code: str) -> str:
        ind = self.by_code.get(code)
        return (ind.abreviation or ind.short_label) if ind else code

    def caption(self, code: str) -> str:
        """The words under a figure on the fiche: its `legende`, else its short label."""
        ind = self.by_code.get(code)
        return (ind.legende or ind.short_label) if ind else code

    def overlaps(self, codes: list[str]) -> list[tuple[Indicator, list[Indicator]]]:
        """Among `codes` (the figures shown on a page), each indicator with the ones it overlaps
        (its `recoupe`), each pair once."""
        shown, seen, out = set(codes), set(), []
        for code in codes:
            ind = self.by_code.get(code)
            if ind is None:
                continue
            others = [self.by_code[o] for o in ind.recoupe if o in shown and o in self.by_code and (code, o) not in seen]
            seen |= {(code, o.code) for o in others} | {(o.code, code) for o in others}
            if others:
                out.append((ind, others))
        return out

    def favourable_direction(self, code: str) -> str | None:
        """« hausse » (better when higher), « baisse » (better when lower) or None (neither)."""
        ind = self.by_code.get(code)
        return (ind.sens or None) if ind else None

    def validate(self, raw_measures: set[str]) -> None:
        """Every formula parses, uses only known names and is computed row by row into a number (a
        condition, a boolean); indicator references have no cycle."""
        errors: list[str] = []
        readable: list[tuple[str, str, bool]] = []
        known = set(raw_measures)
        for m in self.measures:
            errors += _check_formula(f"mesure {m.nom}", m.formule, known | set(self.parameters), readable=readable)
            known.add(m.nom)
        for p in self.parameters.values():
            if None in (p.basse, p.centrale, p.haute):
                errors.append(f"paramètre {p.nom} : valeurs basse, centrale et haute attendues.")
            elif not p.basse <= p.centrale <= p.haute:
                errors.append(f"paramètre {p.nom} : il faut basse ≤ centrale ≤ haute ({p.basse}, {p.centrale}, {p.haute}).")
        for c in self.correlations:
            pair, r = c.get("parametres"), c.get("coefficient")
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str) for n in pair) and pair[0] != pair[1]):
                errors.append(f"corrélation {pair} : « parametres » attend deux noms de paramètres différents.")
            elif unknown := [n for n in pair if n not in self.parameters]:
                errors.append(f"corrélation {pair} : paramètre inconnu « {unknown[0]} ».")
            if not isinstance(r, (int, float)) or isinstance(r, bool) or not -1 < r < 1:
                errors.append(f"corrélation {pair} : « coefficient » attend un nombre strictement entre -1 et 1 ({r}).")
        names = known | set(self.parameters) | set(self.by_ident)
        for ind in self.indicators:
            if not ind.unite.strip():
                errors.append(f"{ind.code} : unité manquante.")
            if ind.axe not in AXES:
                errors.append(f"{ind.code} : axe inconnu « {ind.axe} » (attendu : {', '.join(AXES)}).")
            for s in SCENARIOS:
                errors += _check_formula(f"{ind.code} ({s})", ind.formula(s), names, readable=readable)
            if ind.formule_repli:
                errors += _check_formula(f"{ind.code} (repli)", ind.formule_repli, names, readable=readable)
            if ind.formule_forfait:
                errors += _check_formula(f"{ind.code} (forfait)", ind.formule_forfait, names, readable=readable)
            if ind.note_si:
                errors += _check_formula(f"{ind.code} (note_si)", ind.note_si, names, condition=True, readable=readable)
            errors += _display_problems(ind)
            for other in ind.recoupe:
                if other not in self.by_code:
                    close = difflib.get_close_matches(other, list(self.by_code), n=1, cutoff=0.6)
                    errors.append(f"{ind.code} : recoupe un indicateur inconnu « {other} »"
                                  + (f" (vouliez-vous dire {close[0]} ?)" if close else "") + ".")
            for p in ind.parties_prenantes:
                if p not in STAKEHOLDERS:
                    errors.append(f"{ind.code} : partie prenante inconnue « {p} ».")
            for factor, name in ind.additionnalite:
                if factor not in ADDITIONALITY:
                    errors.append(f"{ind.code} : facteur d'additionnalité inconnu « {factor} » (attendu : {', '.join(ADDITIONALITY)}).")
                elif name not in self.parameters:
                    errors.append(f"{ind.code} : additionnalité {factor}, paramètre inconnu « {name} ».")
                elif not (0 <= (self.parameters[name].basse or 0) and (self.parameters[name].haute or 0) <= 1):
                    errors.append(f"{ind.code} : additionnalité {factor}, le paramètre {name} est une part entre 0 et 1.")
        # each formula once (an indicator without variant has the same one in every scenario)
        errors += _check_row_by_row(list({(f, c): (w, f, c) for w, f, c in reversed(readable)}.values())[::-1]) if readable else []
        for place in ("terminal_territoires", "terminal_parc", "terminal_qpv"):
            if not self.headlines(place):
                errors.append(f"en_tete « {place} » : aucun indicateur (il en faut au moins un : le premier classe les territoires).")
        if not errors:
            try:
                self.ordered_indicators()
            except ConfigurationError as exc:
                errors.append(exc.message)
        if errors:
            raise ConfigurationError("référentiel invalide :\n- " + "\n- ".join(errors))

    def dependencies(self, ind: Indicator) -> set[str]:
        """Names used by an indicator's formulas (all scenarios) and by its note condition."""
        return _dependencies(ind)

    def ordered_indicators(self) -> list[Indicator]:
        """Indicators sorted so that each comes after the indicators its formulas use."""
        order: list[Indicator] = []
        state: dict[str, int] = {}

        def visit(ind: Indicator, path: list[str]) -> None:
            if state.get(ind.code) == 2:
                return
            if state.get(ind.code) == 1:
                raise ConfigurationError(f"définition circulaire : {' → '.join(path + [ind.code])}.")
            state[ind.code] = 1
            for name in sorted(self.dependencies(ind)):
                if name in self.by_ident:
                    visit(self.by_ident[name], path + [ind.code])
            state[ind.code] = 2
            order.append(ind)

        for ind in self.indicators:
            visit(ind, [])
        return order

    def measure_roots(self, ind: Indicator, derived: set[str] | None = None) -> set[str]:
        """Measures (raw or derived) an indicator needs, through the indicators it uses."""
        result: set[str] = set()
        for name in self.dependencies(ind):
            if name in self.by_ident:
                result |= self.measure_roots(self.by_ident[name])
            elif name not in self.parameters:
                result.add(name)
        return result

    def additionality_parameters(self) -> set[str]:
        """Parameters read by no formula but as additionality factors (valeur_nette)."""
        return {name for ind in self.indicators for _, name in ind.additionnalite}

    def parameters_used(self, ind: Indicator) -> set[str]:
        result = {n for n in self.dependencies(ind) if n in self.parameters}
        for name in self.dependencies(ind):
            if name in self.by_ident:
                result |= self.parameters_used(self.by_ident[name])
        return result


def _display_problems(ind: Indicator) -> list[str]:
    errors = []
    for key, known in (("en_tete", PLACES), ("graphique", CHARTS)):
        for place, _ in getattr(ind, key):
            if place not in known:
                close = difflib.get_close_matches(place, list(known), n=1, cutoff=0.6)
                errors.append(f"{ind.code} : {key} « {place} » inconnu" + (f" (vouliez-vous dire {close[0]} ?)" if close else "")
                              + f" ; attendu : {', '.join(known)}.")
            elif key == "en_tete" and place in PANEL_LEDGERS and ind.registre not in PANEL_LEDGERS[place]:
                errors.append(f"{ind.code} : en_tete « {place} » n'a pas de panneau pour le registre "
                              f"{LEDGER_LABELS[ind.registre]} (registres : {', '.join(LEDGER_LABELS[r] for r in PANEL_LEDGERS[place])}).")
    if "parties" in dict(ind.graphique) and not ind.somme_des_parties:
        errors.append(f"{ind.code} : graphique « parties » pour un indicateur qui n'est pas la somme de ses parties "
                      "(somme_des_parties = true).")
    if "carte" in dict(ind.graphique) and ind.additif:
        errors.append(f"{ind.code} : graphique « carte » pour un total (additif = true) : une carte de totaux peindrait en "
                      "foncé les grands territoires quoi qu'ils reçoivent ; cartographier un taux (par habitant, par logement, part).")
    if "cascade" in dict(ind.graphique) and not ind.additif:
        errors.append(f"{ind.code} : graphique « cascade » pour un indicateur non additif (additif = true) : "
                      "ses étapes ne se liraient pas comme des montants.")
    if ind.sens and ind.sens not in DIRECTIONS:
        errors.append(f"{ind.code} : sens « {ind.sens} » inconnu (attendu : {' ou '.join(DIRECTIONS)}).")
    if len(ind.abreviation) > ABBREVIATION_MAX:
        errors.append(f"{ind.code} : abréviation « {ind.abreviation} » trop longue ({ABBREVIATION_MAX} caractères au plus : "
                      "c'est l'en-tête d'une colonne étroite du terminal).")
    return errors


ABBREVIATION_MAX = 12


@lru_cache(maxsize=4096)
def _dependencies(ind: Indicator) -> frozenset[str]:
    names = {n for s in SCENARIOS for n in _names(ind.formula(s))}
    names |= set(_names(ind.formule_forfait)) if ind.formule_forfait else set()
    return frozenset(names | (set(_names(ind.note_si)) if ind.note_si else set()))


@lru_cache(maxsize=4096)
def _names(formula: str) -> tuple[str, ...]:
    return tuple(pl.sql_expr(formula).meta.root_names())


formula_names = _names  # the names a formula reads (parsed once per process)


def _check_formula(what: str, formula: str, known: set[str], condition: bool = False,
                   readable: list | None = None) -> list[str]:
    """Problems of a formula's text and names; a readable one joins `readable` (what, formula,
    condition) for _check_row_by_row."""
    try:
        names = _names(formula)
    except Exception as exc:  # Polars raises SQL errors of several types
        return [f"{what} : formule illisible « {formula} » ({str(exc).splitlines()[0]})."]
    unknown = sorted(set(names) - known)
    if unknown:
        return [f"{what} : nom inconnu « {n} » dans la formule." for n in unknown]
    if readable is not None:
        readable.append((what, formula, condition))
    return []


def _check_row_by_row(formulas: list[tuple[str, str, bool]]) -> list[str]:
    """A formula is computed for each territory and organisation, row by row: run on two made-up
    rows, it must give two numbers (a condition: two booleans). SUM(…), MAX(…), COUNT(*) would
    give the same total everywhere; a subquery or a text cannot be computed at all. All formulas
    in one go (one Polars call); one by one only when that fails, to name the culprit."""
    names = sorted({n for _, formula, _ in formulas for n in _names(formula)}) or ["_"]
    sample = pl.DataFrame({n: [1.0, 2.0] for n in names})
    exprs = [pl.sql_expr(formula) for _, formula, _ in formulas]
    try:
        # lengths apart: in one select, an aggregate's single value would be spread over the rows
        lengths = sample.select([e.len().alias(str(i)) for i, e in enumerate(exprs)]).row(0)
        results = sample.select([e.alias(str(i)) for i, e in enumerate(exprs)])
    except Exception:  # Polars raises errors of several types: find the culprits one by one
        return [problem for item in formulas for problem in _check_one(sample, *item)]
    return [problem for (what, formula, condition), n, i in zip(formulas, lengths, range(len(formulas)), strict=True)
            for problem in _row_problems(what, formula, condition, results[str(i)].head(n), sample.height)]


def _check_one(sample: pl.DataFrame, what: str, formula: str, condition: bool) -> list[str]:
    try:
        result = sample.select(pl.sql_expr(formula).alias("_r"))["_r"]
    except Exception as exc:  # Polars raises errors of several types
        return [f"{what} : formule non calculable « {formula} » ({str(exc).splitlines()[0]})."]
    return _row_problems(what, formula, condition, result, sample.height)


def _row_problems(what: str, formula: str, condition: bool, result: pl.Series, rows: int) -> list[str]:
    if result.len() != rows:
        return [f"{what} : « {formula} » agrège (SUM, MAX, COUNT…) : une formule se calcule pour chaque territoire et "
                "organisme, avec les mesures et paramètres de la ligne."]
    expected = result.dtype == pl.Boolean if condition else (result.dtype.is_numeric() or result.dtype == pl.Null)
    if not expected:
        wrong = "autre chose qu'une condition" if condition else "un texte, pas un nombre"
        return [f"{what} : « {formula} » donne {wrong}."]
    return []


# ─── loading ───

def _package_file(name: str) -> Path:
    return Path(str(resources.files("acterr_cli.referentiel") / name))


def load_referentiel(catalogue: Path | None = None, parametres: Path | None = None,
                     surcharges: list[Path] | tuple[Path, ...] = ()) -> Referentiel:
    """The shipped référentiel (or given files), then each user file in `surcharges`, which may
    change parameters (only the fields it gives), and add or replace indicators and measures."""
    cat_path = Path(catalogue) if catalogue else _package_file("catalogue.toml")
    par_path = Path(parametres) if parametres else _package_file("parametres.toml")
    cat, par = _read_toml(cat_path), _read_toml(par_path)
    raw_parameters = {p["nom"]: dict(p) for p in par.get("parametre", []) if "nom" in p}
    raw_indicators = {i["code"]: dict(i) for i in cat.get("indicateur", []) if "code" in i}
    raw_measures = [dict(m) for m in cat.get("mesure", [])]
    correlations = [dict(c) for c in par.get("correlation", [])]
    meta = {**cat.get("meta", {}), "version_parametres": par.get("meta", {}).get("version"), "surcharges": []}
    paths = [cat_path, par_path]
    for path in map(Path, surcharges):
        user = _read_toml(path)
        _check_user_keys(user, path)
        changed: dict[str, list[str]] = {}  # parameter → the fields this file gives (the others stay)
        added: list[str] = []
        for p in user.get("parametre", []):
            name = _required(p, "nom", path)
            if name not in raw_parameters and not {"basse", "centrale", "haute"} <= set(p):
                close = difflib.get_close_matches(name, list(raw_parameters), n=1, cutoff=0.75)
                raise ConfigurationError(f"{path.name} : paramètre inconnu « {name} »"
                                         + (f" (vouliez-vous dire {close[0]} ?)" if close else "")
                                         + " ; un nouveau paramètre donne ses valeurs basse, centrale et haute.")
            if name in raw_parameters:
                changed[name] = [k for k in p if k != "nom"]
            else:
                added.append(name)
            raw_parameters[name] = {**raw_parameters.get(name, {}), **p}
        for i in user.get("indicateur", []):
            raw_indicators[_required(i, "code", path)] = i
        raw_measures += user.get("mesure", [])
        correlations += [dict(c) for c in user.get("correlation", [])]
        meta["surcharges"].append({"fichier": path.name, "description": user.get("meta", {}).get("description"),
                                   "parametres": changed, "parametres_ajoutes": added})
        paths.append(path)
    try:
        parameters = {name: _parameter(p) for name, p in raw_parameters.items()}
        measures = [DerivedMeasure(m["nom"], m["formule"], m.get("description", "")) for m in raw_measures]
        indicators = [_indicator(i) for i in raw_indicators.values()]
    except (KeyError, TypeError, ValueError) as exc:
        names = " / ".join(p.name for p in paths)
        raise ConfigurationError(f"{names} : entrée incomplète ou mal typée ({exc}).") from exc
    sources = [{"fichier": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in paths]
    return Referentiel(meta, parameters, measures, indicators, sources, tuple(paths), correlations)


# What a user file may hold: the shipped files' tables and keys (a typo such as « centarle » or
# [[parametres]] must not be ignored, leaving the national value in place without a word).
USER_KEYS = {
    "meta": {"description", "nom", "version", "auteur", "date"},
    "parametre": {"nom", "libelle", "basse", "centrale", "haute", "unite", "annee", "source", "statut", "remarque"},
    "indicateur": {"code", "libelle", "axe", "niveau", "etape", "unite", "formule", "description", "formule_basse",
                   "formule_haute", "formule_repli", "note", "note_si", "motif_si_nul", "source", "parties_prenantes",
                   "formule_forfait", "forfait_remplace_par", "additif", "somme_des_parties", "limites",
                   "libelle_court", "abreviation", "legende", "en_tete", "graphique", "rang", "sens", "additionnalite",
                   "recoupe", "recoupe_motif"},
    "mesure": {"nom", "formule", "description"},
    "correlation": {"parametres", "coefficient", "source", "remarque"},
}


def _check_user_keys(user: dict, path: Path) -> None:
    problems = []
    for table, value in user.items():
        if table not in USER_KEYS:
            close = difflib.get_close_matches(table, list(USER_KEYS), n=1, cutoff=0.6)
            problems.append(f"section inconnue « {table} »" + (f" (vouliez-vous dire {close[0]} ?)" if close else ""))
            continue
        for entry in value if isinstance(value, list) else [value]:
            for key in set(entry) - USER_KEYS[table] if isinstance(entry, dict) else ():
                close = difflib.get_close_matches(key, sorted(USER_KEYS[table]), n=1, cutoff=0.6)
                problems.append(f"clé inconnue « {key} » dans [{table}]" + (f" (vouliez-vous dire {close[0]} ?)" if close else ""))
    if problems:
        raise ConfigurationError(f"{path.name} : " + " ; ".join(problems) + ".")


def _required(entry: dict, key: str, path: Path) -> str:
    if key not in entry:
        raise ConfigurationError(f"{path.name} : une entrée n'a pas de « {key} » ({entry}).")
    return entry[key]


def _read_toml(path: Path) -> dict:
    """A TOML file's content, parsed once per process and content (a run of several levels
    loads the référentiel for each)."""
    try:
        data = path.read_bytes()
        key = hashlib.sha256(data).digest()
        if key not in _PARSED:
            if len(_PARSED) >= 32:
                _PARSED.pop(next(iter(_PARSED)))
            _PARSED[key] = load_toml(data, path.name, "fichier du référentiel")
        return copy.deepcopy(_PARSED[key])
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{path} : fichier du référentiel introuvable.") from exc
    except TomlError as exc:  # in French, with line and column (common/encoding.py)
        raise ConfigurationError(f"{path} : {exc}.") from exc


_PARSED: dict[bytes, dict] = {}  # sha256 of a file's text → its content


def _parameter(p: dict) -> Parameter:
    def num(key: str) -> float | None:
        v = p.get(key)
        return None if v is None else float(v)

    return Parameter(p["nom"], p.get("libelle", p["nom"]), num("basse"), num("centrale"), num("haute"),
                     p.get("unite", ""), p.get("annee"), p.get("source", ""), p.get("statut", "à vérifier"), p.get("remarque", ""))


def _indicator(i: dict) -> Indicator:
    return Indicator(
        code=i["code"], libelle=i["libelle"], axe=i["axe"], niveau=i.get("niveau", "socle"), etape=i.get("etape", ""),
        unite=i.get("unite", ""), formule=i["formule"], description=i.get("description", ""),
        formule_basse=i.get("formule_basse"), formule_haute=i.get("formule_haute"), formule_repli=i.get("formule_repli"),
        note=i.get("note"), note_si=i.get("note_si"), motif_si_nul=i.get("motif_si_nul"),
        source=i.get("source"), parties_prenantes=tuple(i.get("parties_prenantes", ())),
        formule_forfait=i.get("formule_forfait"), forfait_remplace_par=i.get("forfait_remplace_par", ""), additif=bool(i.get("additif", False)), somme_des_parties=bool(i.get("somme_des_parties", False)), limites=i.get("limites", ""),
        libelle_court=i.get("libelle_court", ""), abreviation=i.get("abreviation", ""), legende=i.get("legende", ""),
        en_tete=_ranked(i, "en_tete"), graphique=_ranked(i, "graphique"), sens=i.get("sens", ""),
        additionnalite=tuple((str(k), str(v)) for k, v in i.get("additionnalite", {}).items()),
        recoupe=tuple(i.get("recoupe", ())), recoupe_motif=i.get("recoupe_motif", ""),
    )


def _ranked(i: dict, key: str) -> tuple[tuple[str, float], ...]:
    """`en_tete` / `graphique` as (place, rank) pairs: a table gives each place its rank
    ({ synthese = 1, fiche = 3 }, decimals to insert between two: 2.5); a list gives every place the indicator's `rang` (default: after
    the ranked ones, in catalogue order)."""
    value = i.get(key, ())
    if isinstance(value, dict):
        return tuple((str(place), float(rank)) for place, rank in value.items())
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise TypeError(f"{i.get('code')} : {key} attend une liste de noms ou une table nom = rang")
    return tuple((str(place), float(i.get("rang", RANK_LAST))) for place in value)


RANK_LAST = 1000  # an indicator listed without `rang` comes after the ranked ones
