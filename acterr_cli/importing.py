"""Import: read files, check them, store the good ones in one atomic step.

A file with an error (erreur) is refused whole and nothing of it reaches the workspace; warnings
(avertissements) are reported and the file is imported. Under `--ignorer-erreurs` only the rows
with an error are left out (each named in the report), unless the error is not tied to a row
(the organisation's identity, a missing column), which still refuses the file. The same
organisation × exercice given by two different files of one run is an error on both (which one
should win?); re-importing it in a later run replaces it.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
from collections import defaultdict
from collections.abc import Collection
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from acterr_cli import interrupts
from acterr_cli.errors import AVERTISSEMENT, ERREUR, Problem, printable
from acterr_cli.inputs import rules
from acterr_cli.inputs.batch import Read, read_batch, read_batch_in_worker
from acterr_cli.inputs.crosscheck import compare_units
from acterr_cli.inputs.model import LIASSE, QUESTIONNAIRE, ImportUnit, ParsedFile, ReadOptions
from acterr_cli.progress import SILENT, Advance, Progress
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import Workspace

MAX_KEPT_WARNINGS = 500  # per file, in the manifest
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
    lignes_ignorees: int = 0

    @property
    def erreurs(self) -> int:
        return sum(p.gravite == ERREUR for p in self.problemes)

    def to_dict(self) -> dict:
        return {
            "fichier": self.fichier, "chemin": self.chemin, "type": self.type, "sha256": self.sha256,
            "statut": self.statut, "organismes": self.organismes, "lignes_ignorees": self.lignes_ignorees,
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

    @property
    def errors_found(self) -> bool:
        """Any error, even in rows left out under --ignorer-erreurs: exit code 3."""
        return any(p.gravite == ERREUR for p in self.problems)

    @property
    def internal_errors(self) -> bool:
        return any(p.regle == rules.INTERNE.code for p in self.problems)

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "fichiers": [f.to_dict() for f in self.fichiers],
            "resume": {
                "fichiers": len(self.fichiers),
                "importes": sum(f.statut == IMPORTE for f in self.fichiers),
                "verifies": sum(f.statut == VERIFIE for f in self.fichiers),
                "refuses": len(self.refused),
                "erreurs": sum(p.gravite == ERREUR for p in self.problems),
                "avertissements": sum(p.gravite != ERREUR for p in self.problems),
                "lignes_ignorees": sum(f.lignes_ignorees for f in self.fichiers),
            },
        }


def read_files(paths: list[Path], reference: TerritorialReference, kind: str | None = None,
               options: ReadOptions | None = None, advance: Advance | None = None) -> list[Read]:
    """Read every file; a file that cannot be read at all becomes one problem, not a crash.
    `advance(n)`: n more files read (see progress.py)."""
    options = options or ReadOptions(kind=kind)
    out = _read_all([Path(p) for p in paths], reference, options, advance)
    parsed = [p for _, p, _ in out if p is not None]
    _flag_duplicate_units(parsed)
    _cross_check_run(parsed)
    return out


BATCH_FILES = 150  # files checked together at most: enough to share the fixed cost of a check (~60 ms)
MIN_BATCH_FILES = 24  # the last batches are smaller, so that the processes finish together
PARALLEL_FROM = 2 * MIN_BATCH_FILES  # files; below, starting a worker (~0.3 s) costs about what it saves


class _Shares:
    """The files still to read: this process takes batches from the start of the list, the
    workers from the end, smaller and smaller as the work left shrinks."""

    def __init__(self, paths: list[Path], processes: int, min_batch: int = MIN_BATCH_FILES):
        self.paths, self.lo, self.hi, self.processes, self.min_batch = paths, 0, len(paths), processes, min_batch
        self.lock = threading.RLock()

    def take(self, front: bool) -> tuple[int, list[Path]] | None:
        with self.lock:
            left = self.hi - self.lo
            if not left:
                return None
            size = min(left, max(self.min_batch, min(BATCH_FILES, left // self.processes)))
            start = self.lo if front else self.hi - size
            if front:
                self.lo += size
            else:
                self.hi -= size
            return start, self.paths[start:start + size]


def worker_processes(files: int) -> tuple[int, bool]:
    """How many processes read `files` files (this process included), and whether the number
    was forced: the cores, from PARALLEL_FROM files; or ACTERR_PROCESSUS when set (the tests force
    9: 8 workers beside this process, whatever the machine and the number of files)."""
    forced = os.environ.get("ACTERR_PROCESSUS", "").strip()
    if forced.isdigit() and int(forced) >= 1:
        return max(1, min(int(forced), files)), True
    return (min(os.cpu_count() or 1, files) if files >= PARALLEL_FROM else 1), False


def _read_all(paths: list[Path], reference: TerritorialReference, options: ReadOptions,
              advance: Advance | None = None) -> list[Read]:
    """Files are independent: a regional run of 20–90 workbooks (or a national one of 600) reads
    them on every core, by batches. This process reads batches from the start of the list while
    worker processes take them from the end (a process spared, and its batches need no transfer);
    a worker gets its next batch as soon as it hands one back. Results keep the order of the paths.

    Interrupted (Ctrl-C, SIGTERM, SIGHUP: see interrupts.py), the workers are killed and the pool
    is shut down without waiting for them: a worker that died holding the call queue's lock would
    otherwise leave the others, and the join of the pool, blocked for ever."""
    processes, forced = worker_processes(len(paths))
    if processes < 2:
        return [read for i in range(0, len(paths), BATCH_FILES)
                for read in read_batch(paths[i:i + BATCH_FILES], reference, options, advance).reads]
    shares = _Shares(paths, processes, min_batch=1 if forced else MIN_BATCH_FILES)
    done: dict[int, list[Read]] = {}
    futures: list[tuple[int, Future]] = []
    sizes: dict[Future, int] = {}
    stopping = threading.Event()
    context = multiprocessing.get_context("spawn")  # fork would copy Polars' thread pool in an unusable state
    pool: ProcessPoolExecutor | None = None

    def give(finished: Future | None = None) -> None:
        if stopping.is_set() or (finished is not None and (finished.cancelled() or finished.exception() is not None)):
            return  # the run is ending: no new batch (submit would fail, from the pool's thread)
        if finished is not None and advance is not None:
            advance(sizes[finished])  # a worker's files are told when its batch comes back
        with shares.lock:
            share = shares.take(front=False)
            if share is None:
                return
            try:
                future = pool.submit(read_batch_in_worker, share[1], options)
            except (RuntimeError, BrokenProcessPool):  # shut down meanwhile: the main thread says why
                return
            sizes[future] = len(share[1])
            futures.append((share[0], future))
        future.add_done_callback(give)

    def kill_workers() -> None:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            try:
                process.kill()
            except (OSError, AttributeError, ValueError):
                pass

    try:
        with interrupts.on_forced_exit(kill_workers):
            # The workers (and multiprocessing's resource tracker) are started here: with the
            # interrupting signals blocked, they inherit a mask under which no signal can
            # interrupt their start-up; each worker sets its own handling, then unblocks.
            with interrupts.signals_blocked():
                pool = ProcessPoolExecutor(processes - 1, mp_context=context, initializer=interrupts.worker_init,
                                           initargs=(os.getpid(),))
                for _ in range(processes - 1):
                    give()
            while (share := shares.take(front=True)) is not None:
                done[share[0]] = read_batch(share[1], reference, options, advance).reads
            while True:
                with shares.lock:
                    current = list(futures)
                wait([f for _, f in current])
                with shares.lock:
                    if len(futures) == len(current):
                        break
            for start, future in futures:
                done[start] = future.result().reads
            pool.shutdown(wait=True)
    except BaseException as exc:
        stopping.set()
        if pool is not None:
            _tear_down(pool, kill_workers)
        signum = interrupts.received()
        if signum is not None and not isinstance(exc, interrupts.Interrupted):
            # a worker killed by the same signal (Ctrl-C, a closed terminal) broke the pool first
            raise interrupts.Interrupted(signum) from None
        raise
    return [read for start in sorted(done) for read in done[start]]


def _tear_down(pool: ProcessPoolExecutor, kill_workers) -> None:
    """The pool of an interrupted (or failed) run: workers killed, shut down without waiting on
    them. Its manager thread, which notices the dead workers and closes the pool's pipes, is given
    a moment to finish, then forgotten by concurrent.futures' exit hook: that hook wakes it
    without a lock (CPython 3.11, gh-109047) and, racing with the closing, printed an « OSError:
    Bad file descriptor » traceback at exit."""
    from concurrent.futures import process

    manager = getattr(pool, "_executor_manager_thread", None)
    kill_workers()
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        manager.join(timeout=0.8)  # the workers are dead: it sees it at once and ends
        getattr(process, "_threads_wakeups", {}).pop(manager, None)


def _flag_duplicate_units(parsed: list[ParsedFile]) -> None:
    owners: dict[str, list[ParsedFile]] = defaultdict(list)
    for pf in parsed:
        for unit in pf.units:
            owners[unit.key].append(pf)
    for key, files in owners.items():
        distinct = {pf.sha256 for pf in files}
        if len(files) > 1:
            unit = next(u for u in files[0].units if u.key == key)
            for pf in files:
                # each file names a few of the others, not all (a folder may hold hundreds of copies)
                others = [o.path.name for o in files if o is not pf]
                names = ", ".join(others[:3]) + (f" et {len(others) - 3} {'autre' if len(others) - 3 < 2 else 'autres'}" if len(others) > 3 else "")
                what = (f"{len(files)} fichiers" + (" différents" if len(distinct) > 1 else " identiques")) if len(files) > 2 else (
                    "deux fichiers différents" if len(distinct) > 1 else "le même fichier deux fois")
                pf.problems.append(Problem(
                    fichier=pf.path.name, regle=rules.DOUBLON.code,
                    message=f"{what} pour l'organisme {unit.siren}, exercice {unit.exercice} (celui-ci et {names}) : importez-en un seul."))


def _cross_check_run(parsed: list[ParsedFile]) -> None:
    """A liasse and questionnaires of the same run: differences are told on the questionnaire."""
    liasses = {(u.siren, u.exercice): (u, pf) for pf in parsed if pf.ok for u in pf.units if u.kind == LIASSE}
    for pf in parsed:
        for unit in pf.units:
            pair = liasses.get((unit.siren, unit.exercice)) if unit.kind == QUESTIONNAIRE and pf.ok else None
            if pair:
                pf.problems.extend(compare_units(pair[0], unit, unit, pf.path.name, pair[1].path.name))


def _cross_check_workspace(ws: Workspace, parsed: list[ParsedFile]) -> None:
    """The other source already in the workspace (and not replaced by this run)."""
    incoming = {u.key for pf in parsed for u in pf.units}
    for pf in parsed:
        if not pf.ok:
            continue
        for unit in pf.units:
            other_kind = {LIASSE: QUESTIONNAIRE, QUESTIONNAIRE: LIASSE}.get(unit.kind)
            key = f"{other_kind}-{unit.siren}-{unit.exercice}"
            if other_kind is None or key in incoming:
                continue
            stored = ws.stored_unit(key)
            if stored is None:
                continue
            other, fichier = stored
            liasse, questionnaire = (unit, other) if unit.kind == LIASSE else (other, unit)
            pf.problems.extend(compare_units(liasse, questionnaire, unit, pf.path.name, f"{fichier}, déjà dans l'espace"))


def _check_withdrawn_sheets(ws: Workspace, parsed: list[ParsedFile]) -> None:
    """A questionnaire that replaces one already imported (same organisation × exercice) and no
    longer has one of its sheets (deleted, or renamed beyond recognition) would erase that sheet's
    stored data: an error on the file, unless the run says it is intended (--feuilles-retirees).
    A sheet still there but emptied says « not provided » on purpose: it replaces, as written, with
    a warning."""
    from acterr_cli.inputs import questionnaire_schema as qs
    from acterr_cli.inputs.excel import sheet_key, sheet_names

    by_dataset = {s.dataset: s.name for s in qs.TABLE_SHEETS}
    stored = ws.units()
    for pf in parsed:
        if not pf.ok or pf.kind != QUESTIONNAIRE:
            continue
        present: set[str] | None = None
        for unit in pf.units:
            entry = stored.get(unit.key)
            lost = [by_dataset[d] for d in (entry or {}).get("jeux", {}) if d in by_dataset and d not in unit.tables]
            if not lost:
                continue
            if present is None:  # read again only here: rare, and the reader keeps no sheet list
                try:
                    present = {sheet_key(name) for name in sheet_names(pf.path)}
                except Exception:
                    present = set()
            for sheet in lost:
                if sheet_key(sheet) in present:
                    pf.problems.append(Problem(
                        fichier=pf.path.name, feuille=sheet, regle=rules.FEUILLE_VIDEE.code, gravite=AVERTISSEMENT,
                        message=rules.FEUILLE_VIDEE.text(feuille=sheet, siren=unit.siren, exercice=unit.exercice,
                                                         fichier=entry.get("fichier", "?"))))
                    continue
                pf.problems.append(Problem(
                    fichier=pf.path.name, feuille=sheet, regle=rules.FEUILLE_ABSENTE.code,
                    message=f"feuille « {sheet} » absente du classeur : il remplace celui déjà importé pour "
                            f"{entry.get('raison_sociale') or unit.siren} ({unit.siren}, exercice {unit.exercice}, "
                            f"fichier « {entry.get('fichier', '?')} »), dont les données de cette feuille seraient effacées. "
                            "Rétablissez la feuille (un nom de feuille non reconnu est signalé) ; si ces données doivent bien être "
                            "retirées : acterr import --feuilles-retirees, ou feuilles_retirees = [\"ce fichier\"] dans la "
                            "configuration d'acterr executer."))


def verify_files(paths: list[Path], reference: TerritorialReference, kind: str | None = None,
                 options: ReadOptions | None = None, progress: Progress = SILENT) -> ImportReport:
    with progress.files(len(paths), "Vérification") as advance:
        read = read_files(paths, reference, kind, options, advance)
    reports = [file_report(path, parsed, problems, VERIFIE) for path, parsed, problems in read]
    return ImportReport(reports, ecrit=False)


def import_files(ws: Workspace, paths: list[Path], reference: TerritorialReference, kind: str | None = None,
                 wait_seconds: float = 0.0, options: ReadOptions | None = None, progress: Progress = SILENT,
                 withdrawn_sheets: bool | Collection[Path] = False) -> ImportReport:
    """`withdrawn_sheets`: a questionnaire replacing a stored one may lack some of its sheets
    (their stored data go), for every file (True) or for these files; otherwise that is an error
    on the file."""
    with progress.files(len(paths), "Lecture") as advance:
        read = read_files(paths, reference, kind, options, advance)
    _cross_check_workspace(ws, [p for _, p, _ in read if p is not None])
    if withdrawn_sheets is not True:
        allowed = {Path(p).resolve() for p in withdrawn_sheets or ()}
        _check_withdrawn_sheets(ws, [p for _, p, _ in read if p is not None and Path(p.path).resolve() not in allowed])
    reports, units, sources = [], [], {}
    for path, parsed, problems in read:
        report = file_report(path, parsed, problems, IMPORTE)
        reports.append(report)
        if report.statut == IMPORTE:
            units += parsed.units
            # Warnings travel with the facts: the reports' data-quality sheet shows them later.
            warnings = [p.to_dict() for p in report.problemes if p.gravite != ERREUR][:MAX_KEPT_WARNINGS]
            for unit in parsed.units:
                sources[unit.key] = {"fichier": parsed.path.name, "sha256": parsed.sha256, "avertissements": warnings}
    if units:
        with ws.locked(wait_seconds), progress.step("Écriture dans l'espace de travail"):
            ws.commit_units(units, sources)
    return ImportReport(reports, ecrit=bool(units))


def file_report(path: Path, parsed: ParsedFile | None, problems: list[Problem], ok_status: str) -> FileReport:
    if parsed is None:
        return _named(FileReport(Path(path).name, str(path), None, None, REFUSE, [], problems))
    all_problems = problems + parsed.problems
    forgiven = {id(p) for p in parsed.forgiven}
    refused = any(p.gravite == ERREUR and id(p) not in forgiven for p in all_problems) or not parsed.units
    if not parsed.units and not all_problems:
        all_problems.append(Problem(fichier=parsed.path.name, regle=rules.VIDE.code, message=rules.VIDE.text()))
    return _named(FileReport(
        parsed.path.name, str(path), parsed.kind, parsed.sha256, REFUSE if refused else ok_status,
        [_unit_summary(u) for u in parsed.units], all_problems, 0 if refused else parsed.dropped_rows,
    ))


def _named(report: FileReport) -> FileReport:
    """A file name with control characters (a line break, an ANSI sequence) is written with them
    escaped wherever the report names the file, so that no message shows it raw (`chemin` keeps
    the path as it is)."""
    name = report.fichier
    shown = printable(name)
    if shown == name:
        return report
    report.fichier = shown
    report.problemes = [dataclasses.replace(p, fichier=shown if p.fichier == name else printable(p.fichier),
                                            message=p.message.replace(name, shown)) for p in report.problemes]
    return report


def _unit_summary(unit: ImportUnit) -> dict:
    return {"siren": unit.siren, "exercice": unit.exercice, "raison_sociale": unit.raison_sociale,
            "feuilles": {k: v.height for k, v in unit.tables.items()}}
