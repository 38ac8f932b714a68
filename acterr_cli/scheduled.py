"""One unattended run (`acterr executer CONFIG.toml`): drop folder → import → compute → reports.

Meant for cron at regional associations during the campaign: every new or changed file of the
drop folder is imported (unchanged files, recognised by their sha256, are skipped), the
configured levels are computed, the configured reports written, and a JSON run report says what
happened. Paths of the configuration are relative to its folder and may not leave it.
"""

from __future__ import annotations

import fnmatch
import json
import time
import tomllib
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from acterr_cli import __version__, api
from acterr_cli.errors import ERREUR, ActerrError, ConfigurationError, ExitCode, Problem
from acterr_cli.inputs.model import sha256_of
from acterr_cli.outputs.atomic import atomic_write_bytes
from acterr_cli.progress import SILENT, Progress
from acterr_cli.referentiel.model import load_referentiel
from acterr_cli.workspace.store import Workspace, exclusive

STATE_FILE = ".depot.json"  # in the workspace: sha256 of every drop-folder file already handled
RUN_LOCK = ".execution"  # in the workspace: held by the `acterr executer` run under way
DEFAULT_PATTERNS = ("*.xlsx", "*.xlsm", "*.csv")
Log = Callable[[str], None]


@dataclass
class RunConfig:
    base: Path
    espace: Path
    depot: Path
    motifs: tuple[str, ...] = DEFAULT_PATTERNS
    referentiel: list[Path] = field(default_factory=list)
    niveaux: list[str] = field(default_factory=lambda: ["EPCI"])
    exercice: int | None = None
    rapports: list[dict] = field(default_factory=list)  # {"niveau", "sortie"}
    journal: Path | None = None
    attendre: float = 0.0


def load_config(path: Path) -> RunConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{path} : fichier de configuration introuvable.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path} : configuration TOML invalide ({exc}).") from exc
    base = path.resolve().parent
    inside = _inside(base, path.name)
    try:
        calcul, sorties = raw.get("calcul", {}), raw.get("rapports", [])
        config = RunConfig(
            base=base,
            espace=inside(raw.get("espace", "espace")),
            depot=inside(raw["depot"]),
            motifs=tuple(raw.get("motifs", DEFAULT_PATTERNS)),
            referentiel=[inside(p) for p in raw.get("referentiel", [])],
            niveaux=[str(n).upper() for n in calcul.get("niveaux", ["EPCI"])],
            exercice=calcul.get("exercice"),
            rapports=[{"niveau": str(r.get("niveau", "EPCI")).upper(), "sortie": inside(r["sortie"])} for r in sorties],
            journal=inside(raw["journal"]) if "journal" in raw else None,
            attendre=float(raw.get("attendre", 0)),
        )
    except KeyError as exc:
        raise ConfigurationError(f"{path.name} : clé obligatoire manquante : {exc}.") from exc
    return config


def _inside(base: Path, name: str) -> Callable[[str], Path]:
    """Paths of the configuration, resolved against its folder; none may lead outside it."""
    def resolve(value: str) -> Path:
        target = (base / str(value).replace("{date}", _today())).resolve()
        if not target.is_relative_to(base):
            raise ConfigurationError(f"{name} : chemin refusé « {value} » : il sort du dossier de la configuration ({base}).")
        return target
    return resolve


def _today() -> str:
    return datetime.now().strftime("%Y-%m-%d")


def run(config: RunConfig, log: Log, progress: Progress = SILENT) -> tuple[dict, int]:
    """Returns the run report and the exit code: 0 all good, 3 some files refused, 4/5 could not run.
    `progress`: told as files are read, levels computed and reports written (a terminal shows it)."""
    started = time.monotonic()
    report: dict = {"version": 1, "acterr": __version__, "debut": _now(), "espace": str(config.espace),
                    "depot": str(config.depot), "depot_resume": None, "fichiers": [], "calculs": [], "rapports": [], "erreur": None}
    code = ExitCode.OK
    try:
        # One run at a time on a workspace: a night run that overlaps the next one must not read
        # the drop folder twice nor interleave its state file (each step also locks the workspace).
        Workspace.open(config.espace, create=True)  # a file, or a folder that is not a workspace: refused here
        config.espace.mkdir(parents=True, exist_ok=True)
        busy = (f"une autre exécution planifiée (acterr executer) travaille déjà sur l'espace {config.espace} ({{}}) ; "
                f"après {config.attendre:g} s d'attente, celle-ci s'arrête sans rien faire.")
        with exclusive(config.espace / RUN_LOCK, config.attendre, busy):
            referentiel = load_referentiel(surcharges=config.referentiel)
            refused = _import_drop_folder(config, report, log, progress)
            _compute(config, referentiel, report, log, progress)
            _reports(config, referentiel, report, log, progress)
        code = ExitCode.INVALID_DATA if refused else ExitCode.OK
    except ActerrError as exc:
        report["erreur"] = exc.message
        code = exc.exit_code
        log(f"arrêt : {exc.message}")
    except OSError as exc:  # disk full, rights: the run report still says what was done and why it stopped
        report["erreur"] = f"lecture ou écriture impossible : {exc}"
        code = ExitCode.INTERNAL
        log(f"arrêt : {report['erreur']}")
    report.update(fin=_now(), duree_s=round(time.monotonic() - started, 3), code_sortie=int(code))
    if config.journal:
        atomic_write_bytes(config.journal, json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8"))
        log(f"rapport d'exécution : {config.journal}")
    return report, int(code)


def _import_drop_folder(config: RunConfig, report: dict, log: Log, progress: Progress) -> int:
    from acterr_cli.importing import REFUSE  # with the readers: loaded by the commands that import

    if not config.depot.is_dir():
        raise ConfigurationError(f"dossier de dépôt introuvable : {config.depot}.")
    files = sorted(p for p in config.depot.rglob("*") if p.is_file() and any(fnmatch.fnmatch(p.name, m) for m in config.motifs))
    state = _read_state(config.espace)
    todo = []
    for path in files:
        digest = sha256_of(path)
        key = str(path.relative_to(config.depot))
        if state.get(key, {}).get("sha256") == digest:
            before = state[key]
            entry = {"fichier": key, "sha256": digest, "statut": "inchange", "statut_precedent": before["statut"]}
            if before["statut"] == REFUSE:
                entry.update(refuse_le=before.get("le"), motif=before.get("motif"))
            report["fichiers"].append(entry)
        else:
            todo.append((key, path, digest))
    # A broken file left in the folder keeps the run « with refusals » until it is replaced: the
    # log says so each night, with why, as the exit code stays 3.
    still_refused = [f for f in report["fichiers"] if f["statut_precedent"] == REFUSE]
    refused = len(still_refused)
    log(f"dépôt : {len(files)} fichier(s), {len(todo)} nouveau(x) ou modifié(s)")
    for f in still_refused:
        log(f"toujours refusé (inchangé depuis le refus du {(f['refuse_le'] or '?')[:10]}) : {f['motif'] or f['fichier']}")
    t0 = time.monotonic()
    if todo:
        imported = api.import_paths(config.espace, [p for _, p, _ in todo], wait_seconds=config.attendre, progress=progress)
        for (key, _, digest), file_report in zip(todo, imported.fichiers, strict=True):
            entry = {"fichier": key, "sha256": digest, "statut": file_report.statut,
                     "problemes": [p.to_dict() for p in file_report.problemes]}
            report["fichiers"].append(entry)
            state[key] = {"sha256": digest, "statut": file_report.statut, "le": _now()}
            if file_report.statut == REFUSE:
                refused += 1
                state[key]["motif"] = _why_refused(key, file_report.problemes)
                log(f"refusé : {state[key]['motif']}")
        _write_state(config.espace, state)
        done = [f for f in report["fichiers"] if f["statut"] != "inchange"]
        log(f"import : {sum(f['statut'] == 'importe' for f in done)} importé(s), {sum(f['statut'] == 'refuse' for f in done)} "
            f"refusé(s) en {time.monotonic() - t0:.1f} s")
    statuses = [f["statut"] for f in report["fichiers"]]
    report["depot_resume"] = {"vus": len(files), "importes": statuses.count("importe"), "inchanges": statuses.count("inchange"),
                              "refuses": statuses.count("refuse"), "refuses_restes_tels_quels": refused - statuses.count("refuse"),
                              "duree_import_s": round(time.monotonic() - t0, 3)}
    return refused


def _why_refused(key: str, problems: list[Problem]) -> str:
    """The first error of a refused file (`key`: its path in the drop folder), located (sheet,
    cell), how many others, on one line."""
    errors = [p for p in problems if p.gravite == ERREUR] or problems
    if not errors:
        return f"{key} : refusé sans motif"
    first = errors[0]
    where = key + first.location().removeprefix(first.fichier)  # the file by its path in the drop folder
    others = f" (et {len(errors) - 1} autre(s) erreur(s) : « acterr verifier » sur ce fichier les liste toutes)" if len(errors) > 1 else ""
    return " ".join(f"{where} : {first.message.removeprefix(f'{first.fichier} : ')}{others}".split())


def _compute(config: RunConfig, referentiel, report: dict, log: Log, progress: Progress) -> None:
    """Every level under one lock, as `acterr compute` does (each level's results written while
    the next is computed). A level's duration runs from the end of the one before (the first's
    includes waiting for the lock and loading the reference)."""
    t0 = time.monotonic()
    computations = api.compute_levels(config.espace, config.niveaux, config.exercice, referentiel=referentiel,
                                      wait_seconds=config.attendre, progress=progress)
    with closing(computations):
        for computation, _ in computations:
            calculated = computation.results.filter(computation.results["statut"] == "calcule").height
            entry = {"niveau": computation.level, "resultats": computation.results.height, "calcules": calculated,
                     "duree_s": round(time.monotonic() - t0, 3)}
            report["calculs"].append(entry)
            log(f"calcul {computation.level} : {entry['resultats']} résultats ({calculated} calculés) en {entry['duree_s']} s")
            del computation  # its results are being written: not kept while the next level is computed
            t0 = time.monotonic()


def _reports(config: RunConfig, referentiel, report: dict, log: Log, progress: Progress) -> None:
    # The same inputs as `acterr export`: national headline figures, import warnings, the
    # référentiel actually used.
    from acterr_cli.outputs.reports import write_report
    from acterr_cli.outputs.reports.api import report_inputs

    for wanted in config.rapports:
        t0 = time.monotonic()
        with progress.step(f"Écriture du rapport {wanted['niveau']}"):
            inputs = report_inputs(config.espace, wanted["niveau"], referentiel)
            written = write_report(wanted["sortie"], inputs, config.exercice, referentiel=referentiel)
        entry = {"niveau": wanted["niveau"], "chemin": str(written.path), "duree_s": round(time.monotonic() - t0, 3)}
        report["rapports"].append(entry)
        log(f"rapport {wanted['niveau']} : {written.path} en {entry['duree_s']} s")


def _read_state(espace: Path) -> dict:
    path = Path(espace) / STATE_FILE
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def _write_state(espace: Path, state: dict) -> None:
    Workspace.open(espace, create=True)
    atomic_write_bytes(Path(espace) / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1).encode("utf-8"))


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
