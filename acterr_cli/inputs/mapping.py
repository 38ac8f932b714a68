"""Mapping files: read a federation export whose layout differs from the canonical liasse.

Federations export the liasse in member-only layouts (other column names, amounts in k€, rates
as fractions, a title above the header). Rather than asking users to rework the file by hand,
a small TOML file says which source column is which canonical field (DATA.md §2) and in which
unit it is, e.g. `samples/mappings/federation_export.toml`:

    [source]
    feuille = "Export"      # xlsx: the sheet (else the first one holding the mapped columns)
    ligne_entetes = 3       # Excel row of the header (else searched in the first rows)
    separateur = ";"        # CSV only (else detected)

    [colonnes]
    "N° SIREN" = "siren"
    "Loyers quittancés (k€)" = { champ = "loyers_quittances_eur", unite = "k€" }
    "Taux de vacance" = { champ = "taux_vacance_pct", unite = "fraction" }   # 0,025 → 2,5 %

    [valeurs]               # fields the export lacks, the same for every row
    exercice = 2025

A mapping only ever names columns, fields and units: it holds no path, so it cannot make
acterr read or write anywhere else. Unknown keys are refused rather than silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from acterr_cli.common.encoding import TomlError, load_toml
from acterr_cli.errors import ConfigurationError
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.cells import header_key, parse_number
from acterr_cli.inputs.excel import Grid, column_name
from acterr_cli.inputs.liasse_schema import LIASSE
from acterr_cli.inputs.tables import HEADER_SEARCH_ROWS, Layout

UNITS = {"€": 1.0, "eur": 1.0, "k€": 1_000.0, "keur": 1_000.0, "m€": 1_000_000.0, "meur": 1_000_000.0,
         "%": 1.0, "fraction": 100.0, "nombre": 1.0}
_SECTIONS = {"source", "colonnes", "valeurs", "description"}
_SOURCE_KEYS = {"feuille", "ligne_entetes", "separateur"}
MAX_MAPPING_BYTES = 256 * 1024


@dataclass(frozen=True)
class Source:
    label: str  # column header in the export
    field: str  # canonical field
    factor: float = 1.0


@dataclass(frozen=True)
class LiasseMapping:
    path: Path
    sources: tuple[Source, ...]
    constants: dict[str, str]
    sheet: str | None = None
    header_row: int | None = None  # Excel row number (1-based)
    separator: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def schema(self) -> qs.Sheet:
        """The canonical liasse, labelled with the export's headers so that messages name the
        columns the user sees."""
        labels = {s.field: s.label for s in self.sources}
        columns = tuple(dataclasses.replace(c, label=labels.get(c.field, c.label)) for c in LIASSE.columns)
        return dataclasses.replace(LIASSE, columns=columns)

    def matches(self, grid: Grid) -> bool:
        return self._find_header(grid) is not None

    def layout(self, grid: Grid) -> tuple[Grid, Layout] | None:
        """The grid (with the constant fields added as columns) and where each field is; None when
        the mapped columns are not there."""
        found = self._find_header(grid)
        if found is None:
            return None
        row, columns = found
        scales = {s.field: s.factor for s in self.sources if s.factor != 1.0}
        frame = grid.frame
        for name, value in self.constants.items():
            j = frame.width
            frame = frame.with_columns(pl.lit(value, dtype=pl.Utf8).alias(column_name(j)))
            columns[j] = name
        return (dataclasses.replace(grid, frame=frame),
                Layout(row, columns, scales, announce=False, constants=frozenset(self.constants)))

    def missing_columns(self, grid: Grid) -> list[str]:
        header = self._header_cells(grid, self._best_row(grid))
        return [s.label for s in self.sources if _match(s.label, header) is None]

    def _find_header(self, grid: Grid) -> tuple[int, dict[int, str]] | None:
        row = self._best_row(grid)
        if row is None:
            return None
        header = self._header_cells(grid, row)
        columns = {}
        for s in self.sources:
            j = _match(s.label, header)
            if j is not None:
                columns[j] = s.field
        required = {c.field for c in LIASSE.columns if c.required} - set(self.constants)
        return (row, columns) if required <= set(columns.values()) else None

    def _best_row(self, grid: Grid) -> int | None:
        if self.header_row is not None:
            return self.header_row - 1 if self.header_row - 1 < grid.frame.height else None
        best, best_count = None, 0
        for i in range(min(HEADER_SEARCH_ROWS, grid.frame.height)):
            header = self._header_cells(grid, i)
            count = sum(_match(s.label, header) is not None for s in self.sources)
            if count > best_count:
                best, best_count = i, count
        return best

    @staticmethod
    def _header_cells(grid: Grid, row: int | None) -> list[str | None]:
        if row is None or row >= grid.frame.height:
            return []
        return list(grid.frame.row(row))


def _strict(text: object) -> str:
    """Same header up to case, accents, and spacing: units still count (« k€ » ≠ « € »)."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", s).strip().casefold()


def _match(label: str, header: list[str | None]) -> int | None:
    strict = [j for j, cell in enumerate(header) if cell is not None and _strict(cell) == _strict(label)]
    if strict:
        return strict[0]
    loose = [j for j, cell in enumerate(header) if cell is not None and header_key(cell) == header_key(label)]
    return loose[0] if len(loose) == 1 else None


# ─── loading and validating a mapping file ───

def load_mapping(path: Path) -> LiasseMapping:
    path = Path(path)
    data = _read_toml(path)
    unknown = set(data) - _SECTIONS
    if unknown:
        raise _bad(path, f"section(s) inconnue(s) : {', '.join(sorted(unknown))} (attendu : [source], [colonnes], [valeurs]).")
    source = data.get("source", {})
    if not isinstance(source, dict) or set(source) - _SOURCE_KEYS:
        raise _bad(path, f"[source] n'admet que {', '.join(sorted(_SOURCE_KEYS))}.")
    sources = tuple(_source(path, label, spec) for label, spec in _table(path, data, "colonnes").items())
    constants = {name: _constant(path, name, value) for name, value in _table(path, data, "valeurs").items()}
    _check_fields(path, sources, constants)
    return LiasseMapping(path, sources, constants, _sheet(path, source.get("feuille")), _header_row(path, source.get("ligne_entetes")),
                         _separator(path, source.get("separateur")))


def _read_toml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigurationError(f"{path} : fichier de correspondance introuvable.")
    if path.stat().st_size > MAX_MAPPING_BYTES:
        raise _bad(path, "fichier trop volumineux pour une correspondance.")
    try:
        return load_toml(path.read_bytes(), path.name, "fichier de correspondance")
    except TomlError as exc:
        raise _bad(path, f"{exc}.") from exc


def _bad(path: Path, message: str) -> ConfigurationError:
    return ConfigurationError(f"{path.name} (correspondance) : {message}")


def _table(path: Path, data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise _bad(path, f"[{name}] doit être une table.")
    return value


def _source(path: Path, label: str, spec) -> Source:
    if isinstance(spec, str):
        spec = {"champ": spec}
    if not isinstance(spec, dict) or "champ" not in spec or set(spec) - {"champ", "unite", "facteur"}:
        raise _bad(path, f"colonne « {label} » : attendu un nom de champ, ou {{ champ = …, unite = … }}.")
    factor = 1.0
    if "unite" in spec:
        unit = str(spec["unite"]).strip().lower()
        if unit not in UNITS:
            raise _bad(path, f"colonne « {label} » : unité « {spec['unite']} » inconnue (admises : €, k€, M€, %, fraction).")
        factor = UNITS[unit]
    if "facteur" in spec:
        if not isinstance(spec["facteur"], (int, float)) or isinstance(spec["facteur"], bool) or spec["facteur"] == 0:
            raise _bad(path, f"colonne « {label} » : « facteur » doit être un nombre non nul.")
        factor *= float(spec["facteur"])
    return Source(str(label), str(spec["champ"]), factor)


def _constant(path: Path, name: str, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(path, f"[valeurs] {name} : texte ou nombre attendu.")
    column = next((c for c in LIASSE.columns if c.field == name), None)
    if column is not None and column.kind in (qs.YEAR, qs.INT, qs.AMOUNT, qs.SIGNED, qs.PERCENT):
        if pl.select(parse_number(pl.lit(str(value))))[0, 0] is None:
            raise _bad(path, f"[valeurs] {name} : nombre attendu, « {value} » trouvé.")
    return str(value)


def _check_fields(path: Path, sources: tuple[Source, ...], constants: dict[str, str]) -> None:
    known = {c.field for c in LIASSE.columns}
    for name in [s.field for s in sources] + list(constants):
        if name not in known:
            raise _bad(path, f"champ « {name} » inconnu ; champs de la liasse : {', '.join(sorted(known))}.")
    fields = [s.field for s in sources] + list(constants)
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if twice:
        raise _bad(path, f"champ(s) associé(s) à plusieurs colonnes : {', '.join(twice)}.")
    for required in ("siren", "exercice"):
        if required not in fields:
            raise _bad(path, f"aucune colonne ni valeur pour « {required} » (obligatoire).")


def _sheet(path: Path, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise _bad(path, "[source] feuille : nom de feuille attendu.")
    return value


def _header_row(path: Path, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= HEADER_SEARCH_ROWS:
        raise _bad(path, f"[source] ligne_entetes : numéro de ligne entre 1 et {HEADER_SEARCH_ROWS} attendu.")
    return value


def _separator(path: Path, value) -> str | None:
    if value is None:
        return None
    if value not in (";", ",", "\t", "|"):
        raise _bad(path, "[source] separateur : « ; », « , », « | » ou tabulation attendu.")
    return value
