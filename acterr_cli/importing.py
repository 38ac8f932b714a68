"""Import: read files, check them, store the good ones in one atomic step.

A file with an error (erreur) is refused whole and nothing of it reaches the workspace; warnings
(avertissements) are reported and the file is imported. The same organisation × exercice given
by two different files of one run is an error on both (which one should win?); re-importing it
in a later run replaces it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from acterr_cli.errors import ERREUR, ActerrError, Problem
from acterr_cli.inputs.detect import read_input
from acterr_cli.inputs.model import ParsedFile
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import Workspace

IMPORTE = "importe"
REFUSE = "refuse"
VERIFIE = "verifie"


@dataclass
class FileReport:
    fichier: str
    chemin: str
    type: str | None
    sha256: str | None
    statut: str
    organismes: list[dict] = field(default_factory=list)
    problemes: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "fichier": self.fichier, "chemin": self.chemin, "type": self.type, "sha256": self.sha256,
            "statut": self.statut, "organismes": self.organismes,
            "problemes": [p.to_dict() for p in self.problemes],
        }


@dataclass
class ImportReport:
    fichiers: list[FileReport]
    ecrit: bool

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.fichiers for p in f.problemes]

    @property
    def refused(self) -> list[FileReport]:
        return [f for f in self.fichiers if f.statut == REFUSE]

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "fichiers": [f.to_dict() for f in self.fichiers],
            "resume": {
                "fichiers": len(self.fichiers),
                "importes": sum(f.statut == IMPORTE for f in self.fichiers),
                "refuses": len(self.refused),
                "erreurs": sum(p.gravite == ERREUR for p in self.problems),
                "avertissements": sum(p.gravite != ERREUR for p in self.problems),
            },
        }


def read_files(paths: list[Path], reference: TerritorialReference, kind: str | None = None) -> list[tuple[Path, ParsedFile | None, list[Problem]]]:
    """Read every file; a file that cannot be read at all becomes one problem, not a crash."""
    out = []
    for path in paths:
        try:
            parsed = read_input(path, reference, kind)
            out.append((path, parsed, []))
        except ActerrError as exc:
            out.append((path, None, [Problem(fichier=Path(path).name, regle="lecture", message=exc.message)]))
    _flag_duplicate_units([p for _, p, _ in out if p is not None])
    return out


def _flag_duplicate_units(parsed: list[ParsedFile]) -> None:
    owners: dict[str, list[ParsedFile]] = defaultdict(list)
    for pf in parsed:
        for unit in pf.units:
            owners[unit.key].append(pf)
    for key, files in owners.items():
        distinct = {pf.sha256 for pf in files}
        if len(files) > 1:
            unit = next(u for u in files[0].units if u.key == key)
            names = ", ".join(pf.path.name for pf in files)
            for pf in files:
                what = "deux fichiers différents" if len(distinct) > 1 else "le même fichier deux fois"
                pf.problems.append(Problem(
                    fichier=pf.path.name, regle="doublon",
                    message=f"{what} pour l'organisme {unit.siren}, exercice {unit.exercice} ({names}) : importez-en un seul."))


def verify_files(paths: list[Path], reference: TerritorialReference, kind: str | None = None) -> ImportReport:
    reports = [_report(path, parsed, problems, VERIFIE) for path, parsed, problems in read_files(paths, reference, kind)]
    return ImportReport(reports, ecrit=False)


def import_files(ws: Workspace, paths: list[Path], reference: TerritorialReference, kind: str | None = None,
                 wait_seconds: float = 0.0) -> ImportReport:
    read = read_files(paths, reference, kind)
    reports, units, sources = [], [], {}
    for path, parsed, problems in read:
        report = _report(path, parsed, problems, IMPORTE)
        reports.append(report)
        if report.statut == IMPORTE:
            units += parsed.units
            for unit in parsed.units:
                sources[unit.key] = {"fichier": parsed.path.name, "sha256": parsed.sha256}
    if units:
        with ws.locked(wait_seconds):
            ws.commit_units(units, sources)
    return ImportReport(reports, ecrit=bool(units))


def _report(path: Path, parsed: ParsedFile | None, problems: list[Problem], ok_status: str) -> FileReport:
    if parsed is None:
        return FileReport(Path(path).name, str(path), None, None, REFUSE, [], problems)
    all_problems = problems + parsed.problems
    refused = any(p.gravite == ERREUR for p in all_problems) or not parsed.units
    if not parsed.units and not all_problems:
        all_problems.append(Problem(fichier=parsed.path.name, regle="vide", message="aucune donnée à importer."))
    return FileReport(
        parsed.path.name, str(path), parsed.kind, parsed.sha256, REFUSE if refused else ok_status,
        [{"siren": u.siren, "exercice": u.exercice, "raison_sociale": u.raison_sociale,
          "feuilles": {k: v.height for k, v in u.tables.items()}} for u in parsed.units],
        all_problems,
    )
