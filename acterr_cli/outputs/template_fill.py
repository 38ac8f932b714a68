"""User templates: a workbook designed in Excel (or LibreOffice), filled by acterr through
workbook names (`acterr_…`, one cell each) and named tables (`acterr_…`), with openpyxl.

The contract (README, « Rapports ») in short:
- a name `acterr_<champ>` receives one value: acterr_titre, acterr_perimetre, acterr_exercice…,
  or an indicator's figure `acterr_ECO_01` and its companions `acterr_ECO_01_basse`, `_haute`,
  `_couverture`, `_fourchette`, `_precedente`, `_variation`, `_libelle`, `_unite`, `_statut`,
  `_motif`, `_forfaitaire` (part_forfaitaire, %), `_nature` (« estimation forfaitaire » or
  « dont 40 % estimation forfaitaire », empty for a figure from local data) — the figures of the
  report's scope: the territory, the organisation, or all; a flat-rate figure in a cell left
  « Standard » reads « ≈ 4,7 M€ »;
- a table `acterr_<liste>` receives one row per item: acterr_indicateurs, acterr_territoires,
  acterr_organismes, acterr_resultats, acterr_parametres, acterr_fichiers; each column is filled
  according to its header (« Valeur », « Territoire », « ECO-01 », « ECO-01 basse »…), an
  unknown header stays empty; the table grows or shrinks with its rows, and the chart series
  that covered a column of the table are stretched to its new length;
- what the designer did is kept: formats, fonts, conditional formats, charts, images (Pillow),
  formulas; a cell formatted « Standard » gets acterr's number format;
- a percentage (a figure in %, a coverage, a flat-rate part, a relative change) is written as a
  fraction, 35,4 % as 0.354: give its cell a percent format (or leave it « Standard »).

Never a formula from data: every text is written as text (openpyxl would read `=…` as a formula).
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from acterr_cli import __version__
from acterr_cli.common.atomic import atomic_output
from acterr_cli.errors import ConfigurationError, InputMissingError
from acterr_cli.outputs.nature import flat_text, is_flat
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import (
    COVERAGE_FORMAT,
    display_format,
    flat_format,
    number_format,
    range_text,
    stored,
    variation_format,
)
from acterr_cli.referentiel.model import LEDGER_LABELS
from acterr_cli.results import CALCULE

PREFIX = "acterr_"
LEDGER_SENTENCE = "Valeur locale et plus-value sociale sont deux registres distincts : ils ne s'additionnent jamais."


# ─── values: single names ───

def _scalar_fields(data: ReportData) -> dict[str, Any]:
    meta = data.meta
    return {
        "titre": data.title, "perimetre": data.subject, "niveau": data.level, "exercice": data.year,
        "date": datetime.now().strftime("%d/%m/%Y"), "calcule_le": str(meta.get("calcule_le") or ""),
        "referentiel": data.referentiel.version, "acterr": str(meta.get("acterr", __version__)),
        "organismes": len(data.organisations), "territoires": len(data.housed), "autres_territoires": len(data.others),
        "registres": LEDGER_SENTENCE, "source": f"acterr {meta.get('acterr', __version__)}, référentiel {data.referentiel.version}",
    }


FIGURE_SUFFIXES = ("basse", "haute", "couverture", "fourchette", "precedente", "variation", "libelle", "unite", "statut", "motif",
                   "forfaitaire", "nature")


def _figure_value(r: dict, suffix: str | None) -> Any:
    ok = r["statut"] == CALCULE and r["valeur"] is not None
    if suffix is None:
        return r["valeur"] if ok else "n.c."
    return {
        "basse": r["valeur_basse"] if ok else None, "haute": r["valeur_haute"] if ok else None,
        "couverture": r["couverture"] if ok else None,
        "fourchette": range_text(r["valeur_basse"], r["valeur_haute"], r["unite"]) if ok else "",
        "precedente": r.get("valeur_precedente"),
        "variation": (r.get("variation") if r["unite"] == "%" else r.get("variation_pct")) if ok else None,
        "libelle": r["libelle"], "unite": r["unite"], "statut": "calculé" if ok else "non calculable",
        "motif": r.get("motif") or r.get("note"),
        # an estimation forfaitaire says so (« estimation forfaitaire », « dont 40 % … »); empty otherwise
        "forfaitaire": r.get("part_forfaitaire") if ok else None, "nature": flat_text(r) or "",
    }[suffix]


def _number_format_for(suffix: str | None, r: dict) -> str | None:
    """acterr's format for a cell the designer left « Standard »; an estimation forfaitaire's
    value and range read « ≈ 4,7 M€ »."""
    marked = flat_format if is_flat(r) else (lambda f: f)
    if suffix is None:
        return marked(display_format(r["unite"], r["valeur"]))
    if suffix in ("basse", "haute"):
        return marked(number_format(r["unite"]))
    if suffix == "precedente":
        return number_format(r["unite"])
    if suffix in ("couverture", "forfaitaire"):
        return COVERAGE_FORMAT
    if suffix == "variation":
        return variation_format(r["unite"])
    return None


@dataclass
class NameCheck:
    nom: str
    cible: str | None
    champ: str | None  # what it receives, or None when unknown
    probleme: str | None = None


SCALAR_NAMES = ("titre", "perimetre", "niveau", "exercice", "date", "calcule_le", "referentiel", "acterr", "organismes",
                "territoires", "autres_territoires", "registres", "source")
FIGURE_NAME = re.compile(r"^([a-z]{2,4})_(\d{2}[a-z]?(?:_r\d)?)(?:_([a-z]+))?$", re.IGNORECASE)


def parse_name(name: str, codes: set[str]) -> tuple[str | None, str | None, str | None]:
    """(scalar field, or indicator code, suffix) of an `acterr_` name — or a problem in place of
    the first two: ("?", None, problem). Names are read without regard to case."""
    key = name[len(PREFIX):]
    if key.lower() in SCALAR_NAMES:
        return key.lower(), None, None
    m = FIGURE_NAME.match(key)
    if not m:
        return "?", None, "nom inconnu du contrat acterr (voir README, « Rapports »)"
    by_upper = {c.upper(): c for c in codes}
    code = by_upper.get(f"{m.group(1)}-{m.group(2).replace('_', '-')}".upper())
    suffix = m.group(3).lower() if m.group(3) else None
    if code is None:
        return "?", None, f"indicateur inconnu « {m.group(1).upper()}-{m.group(2)} » (voir « acterr referentiel »)"
    if suffix and suffix not in FIGURE_SUFFIXES:
        return "?", None, f"suffixe inconnu « _{suffix} » (attendu : {', '.join('_' + s for s in FIGURE_SUFFIXES)})"
    return None, code, suffix


# ─── values: tables ───

def _norm(text: Any) -> str:
    s = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


RESULT_COLUMNS: dict[str, Callable[[dict], Any]] = {
    "code": lambda r: r["indicateur"], "code indicateur": lambda r: r["indicateur"], "indicateur": lambda r: r["libelle"],
    "libelle": lambda r: r["libelle"], "registre": lambda r: LEDGER_LABELS.get(r["registre"], r["registre"]),
    "valeur": lambda r: _figure_value(r, None), "basse": lambda r: _figure_value(r, "basse"),
    "valeur basse": lambda r: _figure_value(r, "basse"), "haute": lambda r: _figure_value(r, "haute"),
    "valeur haute": lambda r: _figure_value(r, "haute"), "fourchette": lambda r: _figure_value(r, "fourchette"),
    "unite": lambda r: r["unite"], "couverture": lambda r: _figure_value(r, "couverture"),
    "statut": lambda r: _figure_value(r, "statut"), "motif": lambda r: _figure_value(r, "motif"),
    "exercice precedent": lambda r: r.get("valeur_precedente"), "valeur precedente": lambda r: r.get("valeur_precedente"),
    "evolution": lambda r: _figure_value(r, "variation"), "variation": lambda r: _figure_value(r, "variation"),
    "code territoire": lambda r: r["code_territoire"], "territoire": lambda r: r["nom_territoire"],
    "siren": lambda r: r["siren"], "raison sociale": lambda r: r["raison_sociale"], "organisme": lambda r: r["raison_sociale"],
    "organismes": lambda r: r["nb_organismes"], "exercice": lambda r: r["exercice"],
}
RESULT_COLUMNS["couverture %"] = RESULT_COLUMNS["couverture"]
RESULT_COLUMNS["part forfaitaire"] = RESULT_COLUMNS["part forfaitaire %"] = lambda r: _figure_value(r, "forfaitaire")
RESULT_COLUMNS["nature"] = lambda r: _figure_value(r, "nature")
PARAMETER_COLUMNS: dict[str, Callable[[dict], Any]] = {
    k: (lambda key: lambda r: r.get(key))(v) for k, v in {
        "parametre": "nom", "nom": "nom", "libelle": "libelle", "basse": "basse", "centrale": "centrale", "haute": "haute",
        "unite": "unite", "annee": "annee", "source": "source", "statut": "statut"}.items()}
FILE_COLUMNS: dict[str, Callable[[dict], Any]] = {
    k: (lambda key: lambda r: r.get(key))(v) for k, v in {
        "fichier": "fichier", "sha256": "sha256", "sha 256": "sha256", "type": "type", "siren": "siren",
        "raison sociale": "raison_sociale", "organisme": "raison_sociale", "exercice": "exercice",
        "importe le": "importe_le"}.items()}


@dataclass
class Entity:
    """A row of a wide table (territory or organisation) and its results by indicator."""

    fields: dict[str, Any]
    results: dict[str, dict]


ENTITY_FIELDS = ("rang", "territoire", "code territoire", "code", "organisme", "raison sociale", "siren", "organismes", "logements")


def _entity_value(e: Entity, header: str, codes: set[str]) -> tuple[bool, Any, str | None]:
    """(known, value, number format) of a wide table's column for one row."""
    key = _norm(header)
    if key in e.fields:
        return True, e.fields[key], None
    m = re.match(r"^([a-z]{2,4}) (\d{2}[a-z]?(?: r\d)?)(?: (basse|haute|couverture))?$", key)
    if m:
        code = {c.upper(): c for c in codes}.get(f"{m.group(1)}-{m.group(2).replace(' ', '-')}".upper())
        if code is not None:
            r = e.results.get(code)
            if r is None:
                return True, None, None
            return True, _figure_value(r, m.group(3)), _number_format_for(m.group(3), r)
    return False, None, None


def _territory_entities(data: ReportData) -> list[Entity]:
    """Territories where the organisations have dwellings, largest first (the others, where they
    only have employees or suppliers, are in acterr_resultats; acterr_autres_territoires counts them)."""
    per_t: dict[str, dict[str, dict]] = {}
    for r in data.rows:
        per_t.setdefault(r["code_territoire"], {})[r["indicateur"]] = r
    out = []
    for i, t in enumerate(data.housed):
        fields = {"rang": i + 1 if t.housed else None, "territoire": t.nom, "code territoire": t.code, "code": t.code,
                  "organismes": t.organismes, "logements": t.logements}
        out.append(Entity(fields, per_t.get(t.code, {})))
    return out


def _organisation_entities(data: ReportData) -> list[Entity]:
    """Organisations of the scope: their figures on the territory (territory report), else their
    own totals (FRANCE level) when available."""
    source = data.org_rows if data.kind == TERRITOIRE else []
    national = data.inputs.national
    if data.kind != TERRITOIRE and national is not None:
        source = [r for r in national.results.filter(national.results["exercice"] == data.year).to_dicts() if r["siren"]]
    elif data.kind == ORGANISME:
        source = data.rows
    per_org: dict[str, dict[str, dict]] = {}
    for r in source:
        per_org.setdefault(r["siren"], {})[r["indicateur"]] = r
    out = []
    for siren, name in data.organisations:
        results = per_org.get(siren, {})
        dwellings = results.get("TER-00")
        fields = {"organisme": name, "raison sociale": name, "siren": siren, "code": siren,
                  "logements": dwellings["valeur"] if dwellings and dwellings["statut"] == CALCULE else None}
        out.append(Entity(fields, results))
    return out


TABLES = ("indicateurs", "territoires", "organismes", "resultats", "parametres", "fichiers")


def _table_rows(kind: str, data: ReportData) -> tuple[list, str]:
    """(rows, their nature) of an `acterr_` table: 'result', 'entity', 'parameter' or 'file'."""
    if kind == "indicateurs":
        order = {i.code: k for k, i in enumerate(data.referentiel.indicators)}
        return sorted(data.headline.values(), key=lambda r: order.get(r["indicateur"], len(order))), "result"
    if kind == "resultats":  # the level's NON_REPARTI after the territories (overview), then each organisation's
        return data.rows + (data.unplaced if data.kind == ENSEMBLE else []) + data.org_rows, "result"
    if kind == "territoires":
        return _territory_entities(data), "entity"
    if kind == "organismes":
        return _organisation_entities(data), "entity"
    if kind == "parametres":
        from acterr_cli.outputs.reports.method import parameter_rows

        return parameter_rows(data), "parameter"
    return list(data.meta.get("entrees") or []), "file"


def column_known(kind: str, header: str, codes: set[str]) -> bool:
    key = _norm(header)
    if kind in ("indicateurs", "resultats"):
        return key in RESULT_COLUMNS
    if kind == "parametres":
        return key in PARAMETER_COLUMNS
    if kind == "fichiers":
        return key in FILE_COLUMNS
    probe = Entity({f: None for f in ENTITY_FIELDS}, {})
    return _entity_value(probe, header, codes)[0]


def _cell_value(nature: str, item: Any, header: str, codes: set[str]) -> tuple[Any, str | None]:
    key = _norm(header)
    if nature == "result":
        getter = RESULT_COLUMNS.get(key)
        if getter is None:
            return None, None
        value = getter(item)
        if not isinstance(value, (int, float)):
            return value, None
        if key in ("valeur", "basse", "valeur basse", "haute", "valeur haute"):
            return value, flat_format(number_format(item["unite"])) if is_flat(item) else number_format(item["unite"])
        if key in ("exercice precedent", "valeur precedente"):
            return value, number_format(item["unite"])
        return value, {"couverture": COVERAGE_FORMAT, "couverture %": COVERAGE_FORMAT, "part forfaitaire": COVERAGE_FORMAT,
                       "part forfaitaire %": COVERAGE_FORMAT}.get(key, variation_format(item["unite"])
                                                                                          if key in ("evolution", "variation") else None)
    if nature == "entity":
        _, value, fmt = _entity_value(item, header, codes)
        return value, fmt
    getter = (PARAMETER_COLUMNS if nature == "parameter" else FILE_COLUMNS).get(key)
    return (getter(item) if getter else None), None


# ─── filling ───

@dataclass
class FilledTemplate:
    path: Path
    sheets: list[str]
    charts: int
    images: int
    names: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # table → rows written


def _load(template: Path):
    from openpyxl import load_workbook

    if not Path(template).exists():
        raise InputMissingError(f"{template} : modèle introuvable.")
    try:
        return load_workbook(template, rich_text=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not an xlsx workbook
        raise ConfigurationError(f"{template} : ce n'est pas un classeur Excel (.xlsx) lisible ({type(exc).__name__}: {exc}).") from exc


def _put(cell, value: Any, num_format: str | None) -> None:
    """A value in a template cell: numbers as numbers, text as text (never a formula); the
    designer's number format wins unless the cell was left « Standard ». A percentage is stored as
    a fraction (35,4 % is 0.354) whatever the designer's format, so that formulas on it are right."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = stored(value, num_format)
        if num_format and cell.number_format == "General":
            cell.number_format = num_format
    elif value is None:
        cell.value = None
    else:
        cell.value = str(value)
        cell.data_type = "s"


def fill_template(template: Path, target: Path, data: ReportData) -> FilledTemplate:
    wb = _load(template)
    codes = {i.code for i in data.referentiel.indicators} | set(data.headline)
    problems = [c for c in check_names(wb, codes) if c.probleme] + [p for p in check_tables(wb, codes) if p.probleme]
    if problems:
        raise ConfigurationError(f"{template} : modèle non conforme — " + " ; ".join(f"{p.nom} : {p.probleme}" for p in problems)
                                 + " (voir « acterr modele verifier »).")
    names = _fill_names(wb, data, codes)
    tables = _fill_tables(wb, data, codes)
    wb.calculation.fullCalcOnLoad = True  # the template's own formulas see the new values
    charts = sum(len(ws._charts) for ws in wb.worksheets)
    images = sum(len(ws._images) for ws in wb.worksheets)
    with atomic_output(Path(target)) as tmp:
        wb.save(tmp)
    return FilledTemplate(Path(target), wb.sheetnames, charts, images, names, tables)


def _acterr_names(wb) -> list[tuple[str, Any]]:
    out = [(n, dn) for n, dn in wb.defined_names.items() if n.lower().startswith(PREFIX)]
    for ws in wb.worksheets:
        out += [(n, dn) for n, dn in ws.defined_names.items() if n.lower().startswith(PREFIX)]
    return out


def _single_cell(wb, dn) -> tuple[Any, str | None]:
    """The cell a name points to, or a problem."""
    try:
        dests = list(dn.destinations)
    except Exception:  # an expression, not a reference
        return None, "ce nom n'est pas une référence de cellule"
    if len(dests) != 1:
        return None, "ce nom doit désigner une seule cellule"
    sheet, coord = dests[0]
    if sheet not in wb.sheetnames:
        return None, f"feuille « {sheet} » introuvable"
    coord = coord.replace("$", "")
    if ":" in coord:
        first, last = coord.split(":")
        if first != last:
            return None, f"ce nom désigne une plage ({coord}) : il doit désigner une seule cellule"
        coord = first
    return wb[sheet][coord], None


def check_names(wb, codes: set[str]) -> list[NameCheck]:
    out = []
    for name, dn in _acterr_names(wb):
        cell, problem = _single_cell(wb, dn)
        target = f"{cell.parent.title}!{cell.coordinate}" if cell is not None else dn.attr_text
        scalar, code, extra = parse_name(name, codes)
        if scalar == "?":
            out.append(NameCheck(name, target, None, problem or extra))
        else:
            out.append(NameCheck(name, target, scalar or (code + (f" {extra}" if extra else "")), problem))
    return out


def _fill_names(wb, data: ReportData, codes: set[str]) -> list[str]:
    scalars = _scalar_fields(data)
    filled = []
    for name, dn in _acterr_names(wb):
        cell, _ = _single_cell(wb, dn)
        scalar, code, suffix = parse_name(name, codes)
        if scalar:
            _put(cell, scalars[scalar], "0" if scalar == "exercice" else None)
        else:
            r = data.headline.get(code)
            if r is None:
                _put(cell, "n.c." if suffix is None else None, None)
            else:
                _put(cell, _figure_value(r, suffix), _number_format_for(suffix, r))
        filled.append(name)
    return filled


@dataclass
class TableCheck:
    nom: str
    feuille: str
    plage: str
    colonnes: list[tuple[str, bool]]  # (header, known)
    lignes_libres: int  # empty rows available below the header (the table may grow that far)
    probleme: str | None = None


def _tables(wb) -> list[tuple[Any, Any]]:
    return [(ws, t) for ws in wb.worksheets for t in ws.tables.values() if t.name.lower().startswith(PREFIX)]


def _room(ws, t) -> int:
    """Data rows the table can hold: down to the first non-empty cell below it in its columns."""
    from openpyxl.utils import range_boundaries

    min_col, min_row, max_col, max_row = range_boundaries(t.ref)
    row = max_row + 1
    while row <= ws.max_row:
        if any(ws.cell(row, c).value is not None for c in range(min_col, max_col + 1)):
            break
        row += 1
    return (row - 1 - min_row) if row <= ws.max_row else 1_048_576 - min_row


def check_tables(wb, codes: set[str]) -> list[TableCheck]:
    out = []
    for ws, t in _tables(wb):
        kind = t.name[len(PREFIX):].lower()
        headers = [c.name for c in t.tableColumns]
        problem = None if kind in TABLES else f"table inconnue du contrat (attendu : {', '.join(PREFIX + k for k in TABLES)})"
        known = [(h, problem is None and column_known(kind, h, codes)) for h in headers]
        out.append(TableCheck(t.name, ws.title, t.ref, known, _room(ws, t), problem))
    return out


def _fill_tables(wb, data: ReportData, codes: set[str]) -> dict[str, int]:
    from openpyxl.utils import get_column_letter, range_boundaries

    written = {}
    resized: list[tuple[str, int, int, int, int, int]] = []  # sheet, min_col, max_col, first data row, old last, new last
    for ws, t in _tables(wb):
        kind = t.name[len(PREFIX):].lower()
        rows, nature = _table_rows(kind, data)
        min_col, min_row, max_col, max_row = range_boundaries(t.ref)
        room = _room(ws, t)
        if len(rows) > room:
            raise ConfigurationError(f"table {t.name} (feuille {ws.title}) : {len(rows)} lignes à écrire mais seulement {room} "
                                     "lignes libres sous son en-tête ; laissez de la place sous la table (ou mettez-la en bas "
                                     "de la feuille).")
        headers = [c.name for c in t.tableColumns]
        model = [copy(ws.cell(min_row + 1, min_col + j)._style) for j in range(len(headers))]
        last = min_row + max(1, len(rows))
        for i in range(max(max_row, last) - min_row):
            for j, header in enumerate(headers):
                cell = ws.cell(min_row + 1 + i, min_col + j)
                if i >= len(rows):
                    cell.value = None  # the template's sample rows beyond the data
                    continue
                cell._style = copy(model[j])
                value, fmt = _cell_value(nature, rows[i], header, codes)
                _put(cell, value, fmt)
        t.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{last}"
        if t.autoFilter is not None:
            t.autoFilter.ref = t.ref
        written[t.name] = len(rows)
        resized.append((ws.title, min_col, max_col, min_row + 1, max_row, last))
    _stretch_charts(wb, resized)
    return written


REF = re.compile(r"^(?P<sheet>'(?:[^']|'')+'|[^!]+)!\$?(?P<c1>[A-Z]+)\$?(?P<r1>\d+)(?::\$?(?P<c2>[A-Z]+)\$?(?P<r2>\d+))?$")


def _stretch_charts(wb, resized: list[tuple[str, int, int, int, int, int]]) -> None:
    """Chart series that covered a filled table's column now cover its new rows."""
    from openpyxl.utils import column_index_from_string

    def stretch(ref) -> None:
        if ref is None or not getattr(ref, "f", None):
            return
        m = REF.match(ref.f)
        if not m or not m.group("r2"):
            return
        sheet = m.group("sheet").strip("'").replace("''", "'")
        c1, c2 = column_index_from_string(m.group("c1")), column_index_from_string(m.group("c2"))
        r1 = int(m.group("r1"))
        for title, min_col, max_col, first, _old, new_last in resized:
            if sheet == title and c1 == c2 and min_col <= c1 <= max_col and r1 == first:
                ref.f = f"{m.group('sheet')}!${m.group('c1')}${r1}:${m.group('c2')}${new_last}"
                for cache in ("numCache", "strCache"):
                    if hasattr(ref, cache):
                        setattr(ref, cache, None)  # stale cached points: the reader recomputes from the cells

    for ws in wb.worksheets:
        for chart in ws._charts:
            for series in chart.series:
                for source in (series.val, series.cat, series.xVal, series.yVal):
                    if source is not None:
                        stretch(source.numRef)
                        stretch(getattr(source, "strRef", None))


# ─── checking a template (acterr modele verifier) ───

LOST = (  # (what is in the file, how to detect it in the zip, what happens)
    ("formes et zones de texte", lambda z: any(b"<xdr:sp>" in z.read(n) or b"<xdr:sp " in z.read(n)
                                               for n in z.namelist() if n.startswith("xl/drawings/drawing"))),
    ("graphiques sparkline", lambda z: any(b"sparklineGroup" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))),
    ("tableaux croisés dynamiques", lambda z: any(n.startswith("xl/pivotTables/") for n in z.namelist())),
    ("segments (slicers)", lambda z: any(n.startswith("xl/slicers/") for n in z.namelist())),
    ("macros VBA", lambda z: "xl/vbaProject.bin" in z.namelist()),
    ("graphiques de nouveaux types (cascade, compartimentage…)", lambda z: any(n.startswith("xl/charts/chartEx") for n in z.namelist())),
    ("contrôles de formulaire", lambda z: any(n.startswith("xl/ctrlProps/") for n in z.namelist())),
)


def verify_template(template: Path, codes: set[str]) -> dict:
    """What a template offers and what it lacks, as a document (`acterr modele verifier`)."""
    wb = _load(template)
    names, tables = check_names(wb, codes), check_tables(wb, codes)
    problems = [{"gravite": "erreur", "message": f"{n.nom} : {n.probleme}"} for n in names if n.probleme]
    problems += [{"gravite": "erreur", "message": f"{t.nom} : {t.probleme}"} for t in tables if t.probleme]
    for t in tables:
        for header, known in t.colonnes:
            if not known and not t.probleme:
                problems.append({"gravite": "avertissement", "message": f"{t.nom} : colonne « {header} » inconnue, elle restera vide."})
    if not names and not tables:
        problems.append({"gravite": "erreur", "message": "aucun nom ni aucune table « acterr_… » : rien ne serait rempli."})
    fields = {n.champ.split()[0] for n in names if n.champ}
    ledgers = {"valeur_locale": "ECO-", "plus_value_sociale": ("SOC-", "PV-")}
    has_tables = {t.nom.lower() for t in tables}
    if "acterr_indicateurs" not in has_tables:
        for ledger, prefix in ledgers.items():
            if not any(f.startswith(prefix) for f in fields):
                problems.append({"gravite": "avertissement",
                                 "message": f"aucun chiffre du registre « {LEDGER_LABELS[ledger]} » (noms acterr_ECO_… ou "
                                            "acterr_SOC_…/acterr_PV_…) : un rapport équilibré montre les deux registres."})
    for wanted in ("titre", "exercice"):
        if wanted not in fields:
            problems.append({"gravite": "avertissement", "message": f"pas de nom acterr_{wanted} : le rapport ne dira pas "
                                                                    f"{'de quoi il parle' if wanted == 'titre' else 'de quel exercice il s’agit'}."})
    with zipfile.ZipFile(template) as z:
        lost = [label for label, found in LOST if found(z)]
    for label in lost:
        problems.append({"gravite": "avertissement", "message": f"le modèle contient des {label} : openpyxl ne les conserve pas, "
                                                               "ils seront absents du rapport rempli."})
    images = sum(len(ws._images) for ws in wb.worksheets)
    return {
        "version": 1, "modele": str(template), "valide": not any(p["gravite"] == "erreur" for p in problems),
        "feuilles": wb.sheetnames,
        "noms": [{"nom": n.nom, "cellule": n.cible, "champ": n.champ, "probleme": n.probleme} for n in names],
        "tables": [{"nom": t.nom, "feuille": t.feuille, "plage": t.plage, "lignes_libres": t.lignes_libres,
                    "colonnes": [{"entete": h, "reconnue": k} for h, k in t.colonnes], "probleme": t.probleme} for t in tables],
        "graphiques": sum(len(ws._charts) for ws in wb.worksheets), "images": images, "perdus": lost,
        "problemes": problems,
    }


__all__ = ["fill_template", "verify_template", "FilledTemplate", "TABLES", "FIGURE_SUFFIXES", "ENSEMBLE"]
