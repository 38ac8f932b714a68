"""Typed parsing of text columns, with one Problem per faulty cell.

Readers hand over a frame of raw text: one column per canonical field, plus `_f` (which file of
the batch the row comes from) and `_i` (the row in that file's sheet, from 0). A blank cell (empty,
or only spaces) is null, as the grids give it (see excel.py). The files of a
batch are parsed together, in a few vectorised plans: on the clean path nothing is done cell by
cell in Python; problems are built only for the rows a check flags, each named by its file, sheet
and cell. The rules are the ones a user can read in the error report: required cells, numbers,
integers, controlled lists, oui/non, commune codes, SIREN, SIRET.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from acterr_cli.errors import AVERTISSEMENT, ERREUR, Problem
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs import rules
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
from acterr_cli.inputs.rules import Rule
from acterr_cli.territory.reference import TerritorialReference

MAX_PROBLEMS_PER_COLUMN = 200  # beyond this, one summary line (a wrong column, not 10 000 wrong cells)

NUMERIC_KINDS = (qs.INT, qs.AMOUNT, qs.SIGNED, qs.PERCENT, qs.YEAR)

FILE, ROW = "_f", "_i"  # which file of the batch, which row of its sheet (0 = Excel row 1)


@dataclass
class ParseContext:
    """Where the cells come from, and the problems found so far. `faulty` holds the rows (`_i`)
    with an error: what `--ignorer-erreurs` leaves out."""

    fichier: str
    feuille: str | None
    reference: TerritorialReference
    problems: list[Problem] = field(default_factory=list)
    faulty: dict[int, list[Problem]] = field(default_factory=dict)
    percent_lookup: Callable[[list[str]], set[str]] | None = None  # which cells are formatted as « % »

    def add(self, cell: str | None, column: qs.Column | None, value, rule: Rule, message: str, severity: str | None = None,
            position: int | None = None) -> None:
        """A problem under `rule` (inputs/rules.py), with its usual severity unless told."""
        severity = severity or rule.severity
        if severity not in rule.severities:
            raise ValueError(f"rule {rule.code} is never {severity}")
        problem = Problem(fichier=self.fichier, feuille=self.feuille, cellule=cell, colonne=column.label if column else None,
                          valeur=None if value is None else str(value)[:200], regle=rule.code, message=message, gravite=severity)
        self.problems.append(problem)
        if position is not None and severity == ERREUR:
            self.faulty.setdefault(position, []).append(problem)

    @property
    def has_errors(self) -> bool:
        return any(p.gravite == ERREUR for p in self.problems)

    def drop_reports_at(self, cells: set[str], keep_rule: Rule) -> None:
        """A cell reported under `keep_rule` is not reported again under another rule."""
        if not cells:
            return
        self.problems[:] = [p for p in self.problems if p.cellule not in cells or p.regle == keep_rule.code]
        for problems in self.faulty.values():
            problems[:] = [p for p in problems if p.cellule not in cells or p.regle == keep_rule.code]


CellNamer = Callable[[str, int], "str | None"]  # (field, row `_i`) -> "E27"


@dataclass
class Part:
    """One file's rows in a batch: where its problems go, how its cells are named, which fields
    its sheet has (a field another file of the batch has is null here, not blank)."""

    ctx: ParseContext
    cell: CellNamer
    fields: frozenset[str]


@dataclass
class _Check:
    """A rule over one column: a boolean mask column of the plan, and what to tell when it is true."""

    rule: Rule
    message: str
    severity: str | None = None  # the rule's usual one
    mask: str = ""
    emit: Callable | None = None  # custom reporting (communes: look the name up, suggest codes)


@dataclass
class _Plan:
    column: qs.Column
    stages: list[list[pl.Expr]]  # stage k may use the columns of stage k - 1
    outputs: list[tuple[str, str]]  # (plan column, output name)
    checks: list[_Check]


def parse_fields(raw: pl.DataFrame, columns: Sequence[qs.Column], parts: dict[int, Part],
                 reference: TerritorialReference) -> pl.DataFrame:
    """Typed columns (and `_f`, `_i`) for every field present in `raw` (text, blank cells null);
    problems go to the part of their file. Fields absent from `raw` are left out."""
    present = [c for c in columns if c.field in raw.columns]
    if not present:
        return pl.DataFrame()
    texts = raw.select(FILE, ROW, *[c.field for c in present])
    probe = _probe(texts, present)
    plans = [_PLANNERS[c.kind](c, texts, probe, parts, reference) for c in present]
    frame = texts.lazy()
    for k in range(max(len(p.stages) for p in plans)):
        frame = frame.with_columns([e for p in plans if k < len(p.stages) for e in p.stages[k]])
    for plan in plans:
        if plan.column.required and any(plan.column.field not in part.fields for part in parts.values()):
            # a file without this column is told once (missing column), not once per row
            has = [f for f, part in parts.items() if plan.column.field in part.fields]
            frame = frame.with_columns((pl.col(_mask(plan.column.field, rules.OBLIGATOIRE.code)) & pl.col(FILE).is_in(has)))
    masks = [c.mask for p in plans for c in p.checks if c.mask]
    frame = frame.with_columns(pl.any_horizontal(masks).alias("_flag") if masks else pl.lit(False).alias("_flag")).collect()
    updates = _report_all(frame, plans, parts)
    typed = frame.select(FILE, ROW, *[pl.col(src).alias(name) for p in plans for src, name in p.outputs])
    return _apply_updates(typed, updates)


def _probe(texts: pl.DataFrame, present: list[qs.Column]) -> dict[str, bool]:
    """Which columns need the slow paths: numbers not written plainly (« 1 234,56 € »), text with
    spaces to clean. One pass over the batch."""
    exprs = []
    for c in present:
        t = pl.col(c.field)
        if c.kind in NUMERIC_KINDS:
            exprs.append((t.is_not_null() & t.cast(pl.Float64, strict=False).is_null()).any().alias(c.field))
        elif c.kind == qs.TEXT:
            exprs.append(t.str.contains(r"^\s|\s$|\s\s|[^\S ]").any().alias(c.field))
    return texts.select(exprs).row(0, named=True) if exprs else {}


def _mask(f: str, rule: str) -> str:
    return f"_m:{f}:{rule}"


def _value(f: str, suffix: str = "") -> str:
    return f"_v:{f}{suffix}"


def _required(column: qs.Column) -> list[_Check]:
    if not column.required:
        return []
    return [_Check(rules.OBLIGATOIRE, rules.OBLIGATOIRE.text(colonne=column.label), mask=_mask(column.field, rules.OBLIGATOIRE.code))]


def _required_stage(column: qs.Column) -> list[pl.Expr]:
    return [pl.col(column.field).is_null().alias(_mask(column.field, rules.OBLIGATOIRE.code))] if column.required else []


# ─── parsers, one plan per kind ───

def _plan_number(column: qs.Column, texts: pl.DataFrame, probe: dict, parts: dict[int, Part],
                 reference: TerritorialReference) -> _Plan:
    f, t = column.field, pl.col(column.field)
    fast = t.cast(pl.Float64, strict=False)
    value = pl.when(fast.is_null()).then(parse_number(t)).otherwise(fast) if probe.get(f) else fast
    v, m = pl.col(_value(f, "0")), (lambda rule: _mask(f, rule))
    stages = [[value.alias(_value(f, "0")), *_required_stage(column)], [], []]
    checks = [_Check(rules.NOMBRE, rules.NOMBRE.text(colonne=column.label), mask=m(rules.NOMBRE.code))]
    stages[1].append((t.is_not_null() & v.is_null()).alias(m(rules.NOMBRE.code)))
    rounded = v
    if column.kind in (qs.INT, qs.YEAR):
        # A count computed by a formula may come as 239.99999999999997: that is 240.
        not_int = v.is_not_null() & ((v - v.round(0)).abs() > 1e-6)
        stages[1].append(not_int.alias(m(rules.ENTIER.code)))
        checks.append(_Check(rules.ENTIER, rules.ENTIER.text(colonne=column.label), mask=m(rules.ENTIER.code)))
        rounded = pl.when(not_int).then(v).otherwise(v.round(0))
    percent = _percent_format(column, texts, value, parts)
    if percent is not None:
        rounded = pl.coalesce(percent, rounded)
    if column.kind != qs.PERCENT and not column.field.endswith("_pct"):
        # « 25 % » in a count or an amount: a share where a number is expected, never read as 25
        stages[1].append((t.str.contains("%", literal=True) & v.is_not_null()).fill_null(False).alias(m(rules.POURCENTAGE_INATTENDU.code)))
        checks.append(_Check(rules.POURCENTAGE_INATTENDU, rules.POURCENTAGE_INATTENDU.text(colonne=column.label),
                             mask=m(rules.POURCENTAGE_INATTENDU.code)))
    stages[1].append(rounded.alias(_value(f)))
    # (only for a value that was read: « 6.919.637 », not a number, gets its own error)
    stages[1].append((t.str.contains(r"^\s*-?\d{1,3}(\.\d{3})+\s*$") & v.is_not_null()).fill_null(False).alias(m(rules.SEPARATEUR.code)))
    checks.append(_Check(rules.SEPARATEUR, rules.SEPARATEUR.text(), mask=m(rules.SEPARATEUR.code)))
    final = pl.col(_value(f))
    if column.kind == qs.INT:
        stages[2].append((final < 0).fill_null(False).alias(m(rules.POSITIF.code)))
        checks.append(_Check(rules.POSITIF, rules.POSITIF.text(colonne=column.label), mask=m(rules.POSITIF.code)))
    elif column.kind == qs.AMOUNT:
        stages[2].append((final < 0).fill_null(False).alias(m(rules.POSITIF.code)))
        checks.append(_Check(rules.POSITIF, rules.POSITIF.text("montant", colonne=column.label), AVERTISSEMENT, m(rules.POSITIF.code)))
    if column.kind == qs.PERCENT:
        stages[2].append(((final < 0) | (final > 100)).fill_null(False).alias(m(rules.POURCENTAGE.code)))
        checks.append(_Check(rules.POURCENTAGE, rules.POURCENTAGE.text(colonne=column.label), mask=m(rules.POURCENTAGE.code)))
    output = _value(f)
    if column.kind == qs.YEAR:
        stages[2].append(((final < 1990) | (final > 2100)).fill_null(False).alias(m(rules.ANNEE.code)))
        checks.append(_Check(rules.ANNEE, rules.ANNEE.text(colonne=column.label), mask=m(rules.ANNEE.code)))
        stages[2].append(final.cast(pl.Int64, strict=False).alias(_value(f, "y")))
        output = _value(f, "y")
    return _Plan(column, stages, [(output, f)], checks + _required(column))


def _percent_format(column: qs.Column, texts: pl.DataFrame, value: pl.Expr, parts: dict[int, Part]) -> pl.Expr | None:
    """« 82 % » typed in a cell formatted as a percentage is stored as 0.82: read it as 82. The
    format is looked up in each file for the few cells concerned (rates of the Organisme sheet
    and of the liasse). Returns the corrected values (null elsewhere), aligned with `texts`."""
    if column.kind != qs.PERCENT and not column.field.endswith("_pct"):
        return None
    if not any(p.ctx.percent_lookup is not None for p in parts.values()):
        return None
    t = pl.col(column.field)
    numeric = (texts.with_row_index("_pos").with_columns(value.alias("_n"))
               .filter(pl.col("_n").is_not_null() & ~t.str.contains("%").fill_null(False)))
    corrected: dict[int, float] = {}
    for (f,), rows in numeric.partition_by(FILE, as_dict=True, maintain_order=True).items():
        part = parts[f]
        if part.ctx.percent_lookup is None:
            continue
        refs = {part.cell(column.field, i): (pos, n) for pos, i, n in rows.select("_pos", ROW, "_n").iter_rows()}
        for ref in part.ctx.percent_lookup(list(refs)):
            pos, n = refs[ref]
            corrected[pos] = round(n * 100, 9)
    if not corrected:
        return None
    values = [None] * texts.height
    for pos, n in corrected.items():
        values[pos] = n
    return pl.lit(pl.Series(values, dtype=pl.Float64))


def _plan_text(column: qs.Column, texts: pl.DataFrame, probe: dict, parts: dict[int, Part],
               reference: TerritorialReference) -> _Plan:
    t = pl.col(column.field)
    value = clean_text(t) if probe.get(column.field) else t
    return _Plan(column, [[value.alias(_value(column.field)), *_required_stage(column)]], [(_value(column.field), column.field)],
                 _required(column))


def _by_text(texts: pl.DataFrame, f: str, compute: Callable[[pl.Series], pl.DataFrame],
             schema: dict[str, pl.DataType]) -> list[list[pl.Expr]]:
    """Stages giving the columns of `schema`, computed once per distinct text of the column (a
    column of 100 000 purchase lines holds a handful of natures and a few thousand communes) from
    its cleaned form, then mapped onto the rows."""
    keys = texts.get_column(f).drop_nulls().unique()
    if keys.is_empty():
        return [[pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items()]]
    values = compute(pl.select(clean_text(pl.lit(keys))).to_series())
    index = _value(f, ":index")
    return [[pl.col(f).replace_strict(keys, pl.Series(range(len(keys)), dtype=pl.UInt32), default=None).alias(index)],
            [pl.lit(values.get_column(name)).gather(pl.col(index)).alias(name) for name in schema]]


def _each(function: Callable[[str], object], name: str, dtype: pl.DataType) -> Callable[[pl.Series], pl.DataFrame]:
    return lambda cleaned: pl.DataFrame({name: [function(s) for s in cleaned.to_list()]}, schema={name: dtype})


def _plan_choice(column: qs.Column, texts: pl.DataFrame, probe: dict, parts: dict[int, Part],
                 reference: TerritorialReference) -> _Plan:
    f = column.field
    allowed = qs.CHOICES[column.choices]
    # French label or slug, any case or accentuation: « réhabilitation », « REHABILITATION », « rehabilitation ».
    by_key = {header_key(v): v for v in allowed}
    stages = [*_by_text(texts, f, _each(lambda s: by_key.get(header_key(s)), _value(f), pl.Utf8), {_value(f): pl.Utf8}),
              [*_required_stage(column), (pl.col(f).is_not_null() & pl.col(_value(f)).is_null()).alias(_mask(f, rules.LISTE.code))]]
    check = _Check(rules.LISTE, rules.LISTE.text(colonne=column.label, admises=", ".join(allowed)), mask=_mask(f, rules.LISTE.code))
    return _Plan(column, stages, [(_value(f), f)], [check, *_required(column)])


def _yes_no(text: str) -> bool | None:
    lowered = text.lower()
    return True if lowered in YES else False if lowered in NO else None


def _plan_yesno(column: qs.Column, texts: pl.DataFrame, probe: dict, parts: dict[int, Part],
                reference: TerritorialReference) -> _Plan:
    f = column.field
    stages = [*_by_text(texts, f, _each(_yes_no, _value(f), pl.Boolean), {_value(f): pl.Boolean}),
              [*_required_stage(column), (pl.col(f).is_not_null() & pl.col(_value(f)).is_null()).alias(_mask(f, rules.OUI_NON.code))]]
    check = _Check(rules.OUI_NON, rules.OUI_NON.text(colonne=column.label), mask=_mask(f, rules.OUI_NON.code))
    return _Plan(column, stages, [(_value(f), f)], [check, *_required(column)])


def _plan_commune(column: qs.Column, texts: pl.DataFrame, probe: dict, parts: dict[int, Part],
                  reference: TerritorialReference) -> _Plan:
    """Codes are looked up once per distinct text; a code the reference does not know is an
    error, unless it is the unambiguous name of a commune (see `_unknown_communes`)."""
    f = column.field

    def lookup(cleaned: pl.Series) -> pl.DataFrame:
        known = _normalized(reference)
        new = [c for c in cleaned.to_list() if c not in known]
        if new:
            found = reference.normalize_communes(pl.Series(new, dtype=pl.Utf8))
            unknown = (found.get_column("statut") == "inconnu").to_list()
            known.update(zip(new, zip(found.get_column("commune").to_list(), unknown, strict=True), strict=True))
        codes = [known[c] for c in cleaned.to_list()]
        return pl.DataFrame({_value(f, "_saisie"): cleaned, _value(f): [c[0] for c in codes], _mask(f, rules.COMMUNE.code): [c[1] for c in codes]},
                            schema={_value(f, "_saisie"): pl.Utf8, _value(f): pl.Utf8, _mask(f, rules.COMMUNE.code): pl.Boolean})

    schema = {_value(f, "_saisie"): pl.Utf8, _value(f): pl.Utf8, _mask(f, rules.COMMUNE.code): pl.Boolean}
    stages = [*_by_text(texts, f, lookup, schema), [*_required_stage(column), pl.col(_mask(f, rules.COMMUNE.code)).fill_null(False)]]
    check = _Check(rules.COMMUNE, "", mask=_mask(f, rules.COMMUNE.code), emit=_unknown_communes)
    return _Plan(column, stages, [(_value(f), f), (_value(f, "_saisie"), f"{f}_saisie")], [check, *_required(column)])


@functools.lru_cache(maxsize=4)
def _normalized(reference: TerritorialReference) -> dict[str, tuple[str | None, bool]]:
    """Commune codes as typed → (current commune, unknown?), remembered for the next batches."""
    return {}


def _codes(f: str, length: int, keep_bad: bool) -> Callable[[pl.Series], pl.DataFrame]:
    """SIREN (9) or SIRET (14) digits and whether their Luhn key is wrong, per distinct text."""
    def compute(cleaned: pl.Series) -> pl.DataFrame:
        digits = pl.select(digits_only(pl.lit(cleaned))).to_series().to_list()
        bad = [not (len(d) == length and luhn_valid(d)) for d in digits]
        values = digits if keep_bad else [None if b else d for d, b in zip(digits, bad, strict=True)]
        return pl.DataFrame({_value(f): values, _mask(f, "code"): bad}, schema={_value(f): pl.Utf8, _mask(f, "code"): pl.Boolean})
    return compute


def _plan_siren(column: qs.Column, texts: pl.DataFrame, probe: dict, parts: dict[int, Part],
                reference: TerritorialReference) -> _Plan:
    f = column.field
    schema = {_value(f): pl.Utf8, _mask(f, "code"): pl.Boolean}
    stages = [*_by_text(texts, f, _codes(f, 9, keep_bad=False), schema), [*_required_stage(column), pl.col(_mask(f, "code")).fill_null(False)]]
    check = _Check(rules.SIREN, rules.SIREN.text(), mask=_mask(f, "code"))
    return _Plan(column, stages, [(_value(f), f)], [check, *_required(column)])


def _plan_siret(column: qs.Column, texts: pl.DataFrame, probe: dict, parts: dict[int, Part],
                reference: TerritorialReference) -> _Plan:
    f = column.field
    schema = {_value(f): pl.Utf8, _mask(f, "code"): pl.Boolean}
    stages = [*_by_text(texts, f, _codes(f, 14, keep_bad=True), schema), [*_required_stage(column), pl.col(_mask(f, "code")).fill_null(False)]]
    check = _Check(rules.SIRET, rules.SIRET.text(), mask=_mask(f, "code"))
    return _Plan(column, stages, [(_value(f), f)], [check, *_required(column)])


def _plan_qpv(column: qs.Column, texts: pl.DataFrame, probe: dict, parts: dict[int, Part],
              reference: TerritorialReference) -> _Plan:
    f = column.field
    codes = pl.col(_value(f))
    stages = [[clean_text(pl.col(f)).str.to_uppercase().str.replace_all(" ", "").alias(_value(f)), *_required_stage(column)],
              [(codes.is_not_null() & ~codes.str.contains(r"^Q[NP]\d{3}\w{3}$")).fill_null(False).alias(_mask(f, rules.QPV.code))]]
    check = _Check(rules.QPV, rules.QPV.text(), mask=_mask(f, rules.QPV.code))
    return _Plan(column, stages, [(_value(f), f)], [check, *_required(column)])


_PLANNERS = {
    qs.INT: _plan_number,
    qs.AMOUNT: _plan_number,
    qs.SIGNED: _plan_number,
    qs.PERCENT: _plan_number,
    qs.YEAR: _plan_number,
    qs.TEXT: _plan_text,
    qs.CHOICE: _plan_choice,
    qs.YESNO: _plan_yesno,
    qs.COMMUNE: _plan_commune,
    qs.SIREN: _plan_siren,
    qs.SIRET: _plan_siret,
    qs.QPV: _plan_qpv,
}


# ─── problems: only for the flagged rows ───

Update = tuple[int, int, str, object]  # (file, row, output column, new value)


def _report_all(frame: pl.DataFrame, plans: list[_Plan], parts: dict[int, Part]) -> list[Update]:
    flagged = frame.filter(pl.col("_flag"))
    if not flagged.height:
        return []
    flagged = flagged.with_columns([clean_text(pl.col(p.column.field)) for p in plans])  # the cell as the user wrote it
    updates: list[Update] = []
    for (f,), rows in flagged.partition_by(FILE, as_dict=True, maintain_order=True).items():
        part = parts[f]
        for plan in plans:
            if plan.column.field not in part.fields:
                continue
            for check in plan.checks:
                positions = rows.get_column(check.mask).arg_true().to_list()
                if not positions:
                    continue
                if check.emit is not None:
                    updates += check.emit(check, plan.column, rows, positions, part, frame)
                else:
                    report_rows(part, plan.column, rows, positions, check.rule, check.message, check.severity)
    return updates


def report_rows(part: Part, column: qs.Column, rows: pl.DataFrame, positions: list[int], rule: Rule, message: str,
                severity: str | None = None) -> None:
    """One problem per flagged row (up to MAX_PROBLEMS_PER_COLUMN, then one summary line); `rows`
    holds the file's flagged rows, `positions` those this rule flags."""
    lines, texts = rows.get_column(ROW), rows.get_column(column.field)
    for pos in positions[:MAX_PROBLEMS_PER_COLUMN]:
        part.ctx.add(part.cell(column.field, lines[pos]), column, texts[pos], rule, message, severity, lines[pos])
    report_overflow([lines[pos] for pos in positions], column, part.ctx, rule, severity)


def report_overflow(lines: list[int], column: qs.Column, ctx: ParseContext, rule: Rule, severity: str | None = None) -> None:
    """Beyond MAX_PROBLEMS_PER_COLUMN cells, one summary line; the rows still count as faulty."""
    if len(lines) <= MAX_PROBLEMS_PER_COLUMN:
        return
    severity = severity or rule.severity
    ctx.add(None, column, None, rule,
            f"{len(lines) - MAX_PROBLEMS_PER_COLUMN} autres cellules de la colonne « {column.label} » ont le même problème.",
            severity)
    if severity == ERREUR:
        for line in lines[MAX_PROBLEMS_PER_COLUMN:]:
            ctx.faulty.setdefault(line, [])


def _unknown_communes(check: _Check, column: qs.Column, rows: pl.DataFrame, positions: list[int], part: Part,
                      frame: pl.DataFrame) -> list[Update]:
    """A name that designates one commune of the départements used elsewhere in the column is
    accepted (with a warning); otherwise an error, with the communes the user probably meant."""
    f = column.field
    helper = helper_for(part.ctx.reference)
    own = frame.filter(pl.col(FILE) == rows[FILE][0]).get_column(_value(f)).drop_nulls().unique().to_list()
    departements = {d for d in map(helper.departement, own) if d}
    lines, texts = rows.get_column(ROW), rows.get_column(f)
    updates: list[Update] = []
    for pos in positions[:MAX_PROBLEMS_PER_COLUMN]:
        line, value = lines[pos], texts[pos]
        code = _unknown_commune(value, line, column, part, helper, departements)
        if code is not None:
            updates.append((rows[FILE][0], line, f, code))
    report_overflow([lines[pos] for pos in positions], column, part.ctx, rules.COMMUNE)
    return updates


def _unknown_commune(value: str, line: int, column: qs.Column, part: Part, helper, departements: set[str]) -> str | None:
    cell, ctx = part.cell(column.field, line), part.ctx
    if looks_like_name(value):
        found, candidates = helper.from_name(value, departements)
        if found is not None:
            ctx.add(cell, column, value, rules.COMMUNE_NOM,
                    rules.COMMUNE_NOM.text(code=found.code, nom=found.nom, departement=found.departement), position=line)
            return found.code
        if candidates:
            hint = f" ; communes de ce nom : {describe(candidates[:5])}"
        else:
            close = helper.close_names(value, departements)
            hint = f" ; aucune commune de ce nom, vouliez-vous dire {describe(close)} ?" if close else " ; aucune commune de ce nom"
        end = "" if hint.endswith("?") else "."
        ctx.add(cell, column, value, rules.COMMUNE, rules.COMMUNE.text("nom", colonne=column.label, indice=hint + end), position=line)
        return None
    close = helper.suggestions(value, departements)
    hint = f" Vouliez-vous dire {describe(close)} ?" if close else ""
    ctx.add(cell, column, value, rules.COMMUNE, rules.COMMUNE.text(colonne=column.label, indice=hint), position=line)
    return None


def _apply_updates(typed: pl.DataFrame, updates: list[Update]) -> pl.DataFrame:
    if not updates:
        return typed
    for name in dict.fromkeys(u[2] for u in updates):
        rows = [(f, i, v) for f, i, n, v in updates if n == name]
        patch = pl.DataFrame(rows, schema={FILE: typed.schema[FILE], ROW: typed.schema[ROW], name: typed.schema[name]}, orient="row")
        typed = typed.update(patch, on=[FILE, ROW])
    return typed
