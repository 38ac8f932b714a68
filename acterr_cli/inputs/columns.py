"""Typed parsing of text columns, with one Problem per faulty cell.

Readers hand over a frame of raw text (one column per canonical field) and a way to name the
cell of each value; `parse_fields` returns the typed frame and the problems found. The rules
here are the ones a user can read in the error report: required cells, numbers, integers,
controlled lists, oui/non, commune codes, SIRET.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, ERREUR, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.cells import (
    NO,
    YES,
    clean_text,
    digits_only,
    header_key,
    luhn_valid,
    parse_number,
)
from acterr_cli.inputs.communes import describe, helper_for, looks_like_name
from acterr_cli.territory.reference import TerritorialReference

MAX_PROBLEMS_PER_COLUMN = 200  # beyond this, one summary line (a wrong column, not 10 000 wrong cells)

NUMERIC_KINDS = (qs.INT, qs.AMOUNT, qs.SIGNED, qs.PERCENT, qs.YEAR)


@dataclass
class ParseContext:
    """Where the cells come from, and the problems found so far. `faulty` holds the frame
    positions (rows) with an error: what `--ignorer-erreurs` leaves out."""

    fichier: str
    feuille: str | None
    reference: TerritorialReference
    problems: list[Problem] = field(default_factory=list)
    faulty: dict[int, list[Problem]] = field(default_factory=dict)
    percent_lookup: Callable[[list[str]], set[str]] | None = None  # which cells are formatted as « % »

    def add(self, cell: str | None, column: qs.Column | None, value, rule: str, message: str, severity: str = ERREUR,
            position: int | None = None) -> None:
        problem = Problem(fichier=self.fichier, feuille=self.feuille, cellule=cell, colonne=column.label if column else None,
                          valeur=None if value is None else str(value)[:200], regle=rule, message=message, gravite=severity)
        self.problems.append(problem)
        if position is not None and severity == ERREUR:
            self.faulty.setdefault(position, []).append(problem)

    @property
    def has_errors(self) -> bool:
        return any(p.gravite == ERREUR for p in self.problems)


CellNamer = Callable[[str, int], str]  # (field, position in frame) -> "E27"


def parse_fields(raw: pl.DataFrame, columns: Sequence[qs.Column], cell_of: CellNamer, ctx: ParseContext) -> pl.DataFrame:
    """Typed columns for every field present in `raw` (text). Fields absent from `raw` are left out."""
    out = {}
    for column in columns:
        if column.field not in raw.columns:
            continue
        text = raw.select(clean_text(pl.col(column.field)).alias("v"))["v"]
        parsed = _PARSERS[column.kind](text, column, cell_of, ctx)
        if isinstance(parsed, pl.DataFrame):
            out.update({name: parsed[name] for name in parsed.columns})
        else:
            out[column.field] = parsed
        _check_required(text, column, cell_of, ctx)
    return pl.DataFrame(out) if out else pl.DataFrame()


def _report(mask: pl.Series, text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext,
            rule: str, message: str, severity: str = ERREUR) -> None:
    positions = mask.fill_null(False).arg_true().to_list()
    for pos in positions[:MAX_PROBLEMS_PER_COLUMN]:
        ctx.add(cell_of(column.field, pos), column, text[pos], rule, message, severity, pos)
    _report_overflow(positions, column, ctx, rule, severity)


def _report_overflow(positions: list[int], column: qs.Column, ctx: ParseContext, rule: str, severity: str) -> None:
    """Beyond MAX_PROBLEMS_PER_COLUMN cells, one summary line; the rows still count as faulty."""
    if len(positions) <= MAX_PROBLEMS_PER_COLUMN:
        return
    ctx.add(None, column, None, rule,
            f"{len(positions) - MAX_PROBLEMS_PER_COLUMN} autres cellules de la colonne « {column.label} » ont le même problème.",
            severity)
    if severity == ERREUR:
        for pos in positions[MAX_PROBLEMS_PER_COLUMN:]:
            ctx.faulty.setdefault(pos, [])


def _check_required(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> None:
    if column.required:
        _report(text.is_null(), text, column, cell_of, ctx, "obligatoire", f"« {column.label} » est obligatoire.")


def _parse_number(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.Series:
    values = pl.select(parse_number(pl.lit(text)).alias("n"))["n"]
    bad = text.is_not_null() & values.is_null()
    _report(bad, text, column, cell_of, ctx, "nombre", f"nombre attendu dans « {column.label} ».")
    if column.kind in (qs.INT, qs.YEAR):
        # A count computed by a formula may come as 239.99999999999997: that is 240.
        not_int = values.is_not_null() & ((values - values.round(0)).abs() > 1e-6)
        _report(not_int, text, column, cell_of, ctx, "entier", f"nombre entier attendu dans « {column.label} ».")
        values = pl.select(pl.when(pl.lit(not_int)).then(pl.lit(values)).otherwise(pl.lit(values).round(0)).alias("n"))["n"]
    _report(text.str.contains(r"^-?\d{1,3}(\.\d{3})+$").fill_null(False), text, column, cell_of, ctx, "separateur",
            "nombre ambigu : le point est lu comme une virgule décimale ; si c'est un séparateur de milliers, "
            "écrivez le nombre sans point.", AVERTISSEMENT)
    negative = values < 0
    if column.kind == qs.INT:
        _report(negative, text, column, cell_of, ctx, "positif", f"« {column.label} » ne peut pas être négatif.")
    elif column.kind == qs.AMOUNT:
        _report(negative, text, column, cell_of, ctx, "positif",
                f"montant négatif dans « {column.label} » : vérifiez qu'il ne s'agit pas d'une erreur de signe.", AVERTISSEMENT)
    if column.kind == qs.PERCENT or column.field.endswith("_pct"):
        values = _percent_format(values, text, column, cell_of, ctx)
    if column.kind == qs.PERCENT:
        _report((values < 0) | (values > 100), text, column, cell_of, ctx, "pourcentage",
                f"« {column.label} » doit être compris entre 0 et 100.")
    if column.kind == qs.YEAR:
        _report((values < 1990) | (values > 2100), text, column, cell_of, ctx, "annee",
                f"« {column.label} » : année attendue (ex. 2025).")
        return values.cast(pl.Int64, strict=False)
    return values


def _percent_format(values: pl.Series, text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.Series:
    """« 82 % » typed in a cell formatted as a percentage is stored as 0.82: read it as 82."""
    if ctx.percent_lookup is None:
        return values
    numeric = (values.is_not_null() & ~text.str.contains("%").fill_null(False)).arg_true().to_list()
    refs = {cell_of(column.field, pos): pos for pos in numeric}
    formatted = {refs[ref] for ref in ctx.percent_lookup(list(refs))}
    if not formatted:
        return values
    return pl.Series(values.name, [round(v * 100, 9) if i in formatted else v for i, v in enumerate(values.to_list())], dtype=pl.Float64)


def _parse_text(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.Series:
    return text


def _parse_choice(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.Series:
    allowed = qs.CHOICES[column.choices]
    # French label or slug, any case or accentuation: « réhabilitation », « REHABILITATION », « rehabilitation ».
    by_key = {header_key(v): v for v in allowed}
    keys = text.map_elements(header_key, return_dtype=pl.Utf8, skip_nulls=True)
    values = keys.replace_strict(by_key, default=None, return_dtype=pl.Utf8)
    _report(text.is_not_null() & values.is_null(), text, column, cell_of, ctx, "liste",
            f"valeur inconnue dans « {column.label} » ; valeurs admises : {', '.join(allowed)}.")
    return values


def _parse_yesno(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.Series:
    lowered = text.str.to_lowercase()
    values = pl.select(
        pl.when(pl.lit(lowered).is_in(list(YES))).then(True)
        .when(pl.lit(lowered).is_in(list(NO))).then(False).otherwise(None).alias("b")
    )["b"]
    _report(text.is_not_null() & values.is_null(), text, column, cell_of, ctx, "oui_non",
            f"« oui » ou « non » attendu dans « {column.label} ».")
    return values


def _parse_commune(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.DataFrame:
    norm = ctx.reference.normalize_communes(text)
    communes = norm["commune"].to_list()
    unknown = (norm["statut"] == "inconnu").arg_true().to_list()
    if unknown:
        helper = helper_for(ctx.reference)
        departements = {d for d in map(helper.departement, set(communes)) if d}
        for pos in unknown[:MAX_PROBLEMS_PER_COLUMN]:
            communes[pos] = _unknown_commune(text[pos], pos, column, cell_of, ctx, helper, departements)
        _report_overflow(unknown, column, ctx, "commune", ERREUR)
    return pl.DataFrame({column.field: pl.Series(communes, dtype=pl.Utf8), f"{column.field}_saisie": text})


def _unknown_commune(value: str, pos: int, column: qs.Column, cell_of: CellNamer, ctx: ParseContext,
                     helper, departements: set[str]) -> str | None:
    """A name that designates one commune of the départements used elsewhere is accepted (with a
    warning); otherwise an error, with the communes the user probably meant."""
    cell = cell_of(column.field, pos)
    if looks_like_name(value):
        found, candidates = helper.from_name(value, departements)
        if found is not None:
            ctx.add(cell, column, value, "commune_nom",
                    f"nom de commune compris comme {found.code} ({found.nom}, département {found.departement}) ; "
                    "saisissez plutôt le code INSEE.", AVERTISSEMENT, pos)
            return found.code
        hint = f" ; communes de ce nom : {describe(candidates[:5])}" if candidates else ""
        ctx.add(cell, column, value, "commune",
                f"« {column.label} » attend un code INSEE (ex. 31555), pas un nom de commune{hint}.", ERREUR, pos)
        return None
    close = helper.suggestions(value, departements)
    hint = f" Vouliez-vous dire {describe(close)} ?" if close else ""
    ctx.add(cell, column, value, "commune",
            f"code commune inconnu dans « {column.label} » (code INSEE à 5 caractères attendu, ex. 31555).{hint}", ERREUR, pos)
    return None


def _parse_siren(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.Series:
    digits = pl.select(digits_only(pl.lit(text)).alias("d"))["d"]
    bad = digits.map_elements(lambda s: not (len(s) == 9 and luhn_valid(s)), return_dtype=pl.Boolean, skip_nulls=True)
    _report(bad, text, column, cell_of, ctx, "siren", "SIREN invalide : 9 chiffres avec une clé de contrôle (Luhn) correcte attendus.")
    return pl.select(pl.when(pl.lit(bad).fill_null(True)).then(None).otherwise(pl.lit(digits)).alias("s"))["s"]


def _parse_siret(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.Series:
    digits = pl.select(digits_only(pl.lit(text)).alias("d"))["d"]
    bad = digits.map_elements(lambda s: not (len(s) == 14 and luhn_valid(s)), return_dtype=pl.Boolean, skip_nulls=True)
    _report(bad, text, column, cell_of, ctx, "siret", "SIRET douteux : 14 chiffres avec une clé de contrôle correcte attendus.", AVERTISSEMENT)
    return digits


def _parse_qpv(text: pl.Series, column: qs.Column, cell_of: CellNamer, ctx: ParseContext) -> pl.Series:
    codes = text.str.to_uppercase().str.replace_all(" ", "")
    bad = codes.is_not_null() & ~codes.str.contains(r"^Q[NP]\d{3}\w{3}$")
    _report(bad, text, column, cell_of, ctx, "qpv", "code QPV inattendu (format QN07511M ou QP066007).", AVERTISSEMENT)
    return codes


_PARSERS = {
    qs.INT: _parse_number,
    qs.AMOUNT: _parse_number,
    qs.SIGNED: _parse_number,
    qs.PERCENT: _parse_number,
    qs.YEAR: _parse_number,
    qs.TEXT: _parse_text,
    qs.CHOICE: _parse_choice,
    qs.YESNO: _parse_yesno,
    qs.COMMUNE: _parse_commune,
    qs.SIREN: _parse_siren,
    qs.SIRET: _parse_siret,
    qs.QPV: _parse_qpv,
}
