"""The files of one report (workbook or data, filled template, fiches) from its inputs,
everything checked before anything is written. `api.export` gives it the workspace's results
(`api.report_inputs`); the CLI calls the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from acterr_cli.errors import UsageError
from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.liasse_schema import LIASSE
from acterr_cli.outputs.nature import NON_REPARTI_CODE, is_flat, replaced_by
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, TERRITOIRE, ReportData, ReportInputs, Scope
from acterr_cli.outputs.reports.tabular import ENSEMBLE_SUBJECT, StoredLevel, write_level, write_level_provenance
from acterr_cli.outputs.rounding import rounded_figure, rounded_share
from acterr_cli.referentiel.model import Referentiel
from acterr_cli.results import CALCULE
from acterr_cli.workspace.store import Workspace

FORMATS = ("xlsx", "csv", "parquet", "html")
JSON_VERSION = 1


@dataclass
class ExportRequest:
    sortie: Path
    niveau: str = "EPCI"
    code: str | None = None  # one territory of the level
    siren: str | None = None  # one organisation
    exercice: int | None = None
    format: str = "xlsx"
    fiche: bool = False
    modele: Path | None = None  # user template to fill (xlsx only)
    forcer: bool = False
    attendre: float = 0.0  # seconds to wait for another acterr writing in the workspace

    def check(self) -> None:
        """Refuse a request that cannot be written, before anything is computed."""
        if self.format not in FORMATS:
            raise UsageError(f"format inconnu « {self.format} » (attendu : {', '.join(FORMATS)}).")
        if self.modele is not None and self.format != "xlsx":
            raise UsageError("--modele remplit un classeur Excel : il ne se combine pas avec --format csv, parquet ou html.")
        self.scope  # noqa: B018 (--organisme with --code is refused here)

    @property
    def scope(self) -> Scope:
        if self.siren and self.code:
            raise UsageError("--organisme et --code s'excluent : choisissez le rapport d'un organisme ou celui d'un territoire.")
        if self.siren:
            return Scope.organisation(self.siren)
        return Scope.territory(self.code) if self.code else Scope()


@dataclass
class Written:
    chemin: Path
    format: str
    contenu: str  # « rapport », « modele », « donnees », « provenance », « fiche »
    sujet: str = ""

    def to_dict(self) -> dict:
        return {"chemin": str(self.chemin), "format": self.format, "contenu": self.contenu, "sujet": self.sujet}


@dataclass(kw_only=True)
class _Files:
    """What an export wrote: its files (the first is the main one), the workbook's sheets and charts."""

    fichiers: list[Written] = field(default_factory=list)
    feuilles: list[str] = field(default_factory=list)
    graphiques: int = 0

    @property
    def main(self) -> Path:
        return self.fichiers[0].chemin


@dataclass
class ExportResult(_Files):
    data: ReportData

    def to_dict(self) -> dict:
        d = self.data
        scope = {"type": d.kind, "code": d.scope.code, "siren": d.scope.siren, "nom": d.subject}
        return _description(self, d.year, d.level, scope, d.headline, d.unplaced, d.referentiel)


@dataclass
class LevelExportResult(_Files):
    """The data files (CSV or Parquet) of a whole level, streamed from its stored results without
    a report's model (tabular.StoredLevel): what `--json` and the screen say of them."""

    stored: StoredLevel

    @property
    def subject(self) -> str:
        return ENSEMBLE_SUBJECT

    def to_dict(self) -> dict:
        s = self.stored
        scope = {"type": ENSEMBLE, "code": None, "siren": None, "nom": ENSEMBLE_SUBJECT}
        national = s.national.filter(pl.col("exercice") == s.year)
        headline = {r["indicateur"]: r for r in national.to_dicts()}
        unplaced = s.rows().filter(pl.col("siren").is_null() & (pl.col("code_territoire") == NON_REPARTI_CODE)).collect().to_dicts()
        return _description(self, s.year, s.level, scope, headline, unplaced, s.referentiel)


def _description(result: ExportResult | LevelExportResult, year: int | None, level: str, scope: dict, headline: dict[str, dict],
                 unplaced: list[dict], referentiel: Referentiel) -> dict:
    return {
        "version": JSON_VERSION,
        "rapport": str(result.main),
        "exercice": year,
        "niveau": level,
        "perimetre": scope,
        "feuilles": result.feuilles,
        "graphiques": result.graphiques,
        "fichiers": [f.to_dict() for f in result.fichiers],
        # the scope's figures that are estimations forfaitaires, and what would replace them
        "estimations_forfaitaires": [
            {"indicateur": code, "libelle": r["libelle"], "part_forfaitaire": rounded_share(r.get("part_forfaitaire")),
             "remplace_par": replaced_by(referentiel, code) or None}
            for code, r in headline.items() if is_flat(r)],
        # the level's NON_REPARTI figures (overview): what no territory holds, per additive indicator
        "non_reparti": {r["indicateur"]: rounded_figure(r["valeur"], r.get("unite")) for r in unplaced if r["statut"] == CALCULE},
    }


# ─── inputs ───

def import_warnings(ws: Workspace) -> list[dict]:
    """Warnings kept in the manifest by the import (Problem dicts), with their organisation."""
    out = []
    for unit in ws.units().values():
        for w in unit.get("avertissements") or []:
            out.append({**w, "siren": unit.get("siren"), "raison_sociale": unit.get("raison_sociale"),
                        "exercice": unit.get("exercice")})
    return out


def families(ws: Workspace) -> dict[str, str]:
    """siren → famille (OPH, ESH…), from the Organisme sheet or else the liasse, latest exercice."""
    frames = []
    for dataset in (qs.ORGANISME.dataset, LIASSE.dataset):
        scan = ws.scan(dataset)
        if scan is not None and "famille" in scan.collect_schema().names():
            frames.append(scan.select("siren", "exercice", pl.col("famille").cast(pl.Utf8)).collect())
    if not frames:
        return {}
    rows = pl.concat(frames).drop_nulls("famille").sort("exercice", descending=True).unique("siren", keep="first")
    return dict(rows.select("siren", "famille").iter_rows())


# ─── export ───

def write_export(inputs: ReportInputs, request: ExportRequest) -> ExportResult:
    """Write the files `request` asks for from the level's results (`api.report_inputs`)."""
    request.check()
    data = ReportData.build(inputs, request.scope, request.exercice)
    plan = _plan(request, data)
    _refuse_existing([p for p, _, _, _ in plan], request.forcer)
    result = ExportResult(data)
    for path, fmt, contenu, write in plan:
        sujet = write(path, result)
        result.fichiers.append(Written(path, fmt, contenu, sujet or data.subject))
    return result


def streamable(request: ExportRequest) -> bool:
    """Data files of a whole level, nothing else: written from the stored results as they are
    (write_level_export), without a report's model."""
    return request.format in ("csv", "parquet") and request.scope.kind == ENSEMBLE and not request.fiche and request.modele is None


def write_level_export(stored: StoredLevel, request: ExportRequest) -> LevelExportResult:
    """`request`'s data files (streamable) from the level's stored results: same bytes as
    write_export's, in the memory of a slice of them."""
    main = _with_suffix(request.sortie, request.format)
    plan = [(main, request.format, "donnees", lambda p: write_level(p, stored, request.format))]
    if request.format == "csv":
        plan.append((main.with_name(main.stem + ".provenance.json"), "json", "provenance", lambda p: write_level_provenance(p, stored)))
    _refuse_existing([p for p, _, _, _ in plan], request.forcer)
    result = LevelExportResult(stored)
    for path, fmt, contenu, write in plan:
        write(path)
        result.fichiers.append(Written(path, fmt, contenu, ENSEMBLE_SUBJECT))
    return result


def _refuse_existing(paths: list[Path], forcer: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not forcer:
        names = ", ".join(str(p) for p in existing[:5]) + (" …" if len(existing) > 5 else "")
        raise UsageError(f"{names} existe déjà : ajoutez --forcer pour le remplacer.")


def _plan(request: ExportRequest, data: ReportData) -> list[tuple]:
    """(path, format, content, writer) of every file to write, in order."""
    main = _with_suffix(request.sortie, request.format)
    plan: list[tuple] = []
    if request.modele is not None:
        plan.append((main, "xlsx", "modele", lambda p, r: _template(p, r, request.modele)))
    elif request.format == "xlsx":
        plan.append((main, "xlsx", "rapport", _workbook))
    elif request.format == "html":
        plan.append((main, "html", "page", _page))
    else:
        plan.append((main, request.format, "donnees", lambda p, r: _data(p, r, request.format)))
        if request.format == "csv":
            plan.append((main.with_name(main.stem + ".provenance.json"), "json", "provenance", _provenance))
    if request.fiche:
        from acterr_cli.outputs.fiche import fiche_subjects

        for subject in fiche_subjects(data):
            stem = main.with_name(f"{main.stem}_fiche_{subject.key}")
            plan.append((stem.with_suffix(".png"), "png", "fiche", _fiche_writer(subject)))
            plan.append((stem.with_suffix(".pdf"), "pdf", "fiche", _fiche_writer(subject)))
            slide = main.with_name(f"{main.stem}_diapo_{subject.key}")  # outputs/slide.py: 16:9, same subject
            plan.append((slide.with_suffix(".png"), "png", "diapo", _fiche_writer(subject, "slide")))
            plan.append((slide.with_suffix(".pdf"), "pdf", "diapo", _fiche_writer(subject, "slide")))
    return plan


def _with_suffix(path: Path, fmt: str) -> Path:
    return path if path.suffix.lower() == f".{fmt}" else path.with_suffix(f".{fmt}")


def _workbook(path: Path, result: ExportResult) -> str:
    from acterr_cli.outputs.reports.workbook import write_workbook

    written = write_workbook(path, result.data)
    result.feuilles, result.graphiques = written.sheets, written.charts
    return result.data.subject


def _page(path: Path, result: ExportResult) -> str:
    from acterr_cli.outputs.html import write_page

    written = write_page(path, result.data)
    result.feuilles = written.sections
    return result.data.subject


def _template(path: Path, result: ExportResult, modele: Path) -> str:
    from acterr_cli.outputs.template_fill import fill_template

    filled = fill_template(Path(modele), path, result.data)
    result.feuilles, result.graphiques = filled.sheets, filled.charts
    return result.data.subject


def _data(path: Path, result: ExportResult, fmt: str) -> str:
    from acterr_cli.outputs.reports.tabular import write_table

    write_table(path, result.data, fmt)
    return result.data.subject


def _provenance(path: Path, result: ExportResult) -> str:
    from acterr_cli.outputs.reports.tabular import write_provenance

    write_provenance(path, result.data)
    return result.data.subject


def _fiche_writer(subject, kind: str = "fiche"):
    def write(path: Path, result: ExportResult) -> str:
        from acterr_cli.outputs.fiche import write_fiche
        from acterr_cli.outputs.slide import write_slide

        (write_slide if kind == "slide" else write_fiche)(path, result.data, subject)
        return subject.name
    return write


__all__ = ["ExportRequest", "ExportResult", "LevelExportResult", "write_export", "streamable", "write_level_export", "import_warnings", "families", "FORMATS", "ENSEMBLE", "TERRITOIRE",
           "ORGANISME"]
