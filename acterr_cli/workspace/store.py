"""The workspace: facts and results as Parquet files under one folder, no server.

Layout (see README, « Espace de travail ») :

    ESPACE/
      manifest.json                       the list of live files: the single commit point
      faits/<jeu>/exercice=<N>/<type>-<jeton>.parquet
      resultats/<NIVEAU>.parquet, resultats/<NIVEAU>.json
      .verrou                             lock held by the acterr process writing facts
      .lecteurs                           shared lock of the processes reading facts (compute, export)
      .verrou_resultats                   lock held while results are written (seconds)

One fact file per dataset, exercice and source type for each import (cut in parts of 600 000 rows
at most): a national run of 600 questionnaires writes a dozen files, not thousands. The manifest gives, for each unit
(organisation × exercice × source type) and dataset, its file and its rows in it (`debut`,
`lignes`). A re-import replaces a unit: the files that held it are rewritten without it (with
the new facts of the same dataset and exercice), under fresh names; the other units keep their
facts, moved as they are.

Why a manifest: an import writes its new Parquet files under fresh names, then replaces
`manifest.json` atomically (rename). A reader only ever reads the files the manifest lists, so a
process killed at any point leaves either the old data or the new data, never half; files no
longer listed are removed afterwards (and on the next run if the process was killed).

Readers do not block writers: a compute or an export reads the manifest it found (a snapshot)
under a shared lock (`snapshot`), without the write lock; an import may commit meanwhile, and
removes the files it replaced only when no reader holds that shared lock (otherwise the next
writer does). Results are written under their own short lock (`store_results`), tagged with the
generation of the manifest they were computed from, so that an import never waits for a compute.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import polars as pl

from acterr_cli.common.atomic import atomic_write_bytes
from acterr_cli.errors import (
    ActerrError,
    ConfigurationError,
    ExitCode,
    InputMissingError,
    InvalidDataError,
    UsageError,
)
from acterr_cli.inputs.model import ImportUnit

FORMAT = "acterr-espace"
VERSION = 2  # 2: several units share a fact file (rows debut…debut+lignes); 1 is still read
MANIFEST = "manifest.json"
FACTS = "faits"
RESULTS = "resultats"
LOCK = ".verrou"
READERS = ".lecteurs"
RESULTS_LOCK = ".verrou_resultats"
PREVIOUS = "precedent"  # under RESULTS: the previous exercice's values of a one-exercice compute
RESULTS_WAIT = 600  # seconds: another compute writing its results (a few seconds) is waited for
WRITING = ".ecriture_en_cours"  # present while a commit runs: after a kill, the next writer cleans up
# Temporary files of atomic writes made under the lock (manifest, results): left by a killed
# process, removed by the next one that takes the lock.
_MANIFEST_TMP = re.compile(r"^\.manifest\.json\..*\.tmp$")
_RESULTS_TMP = re.compile(r"^\..*\.tmp$")
# Names that become path components of fact files: a value read from a file can never climb out.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_]{1,40}$")
PART_ROWS = 600_000  # rows per fact file at most, unless one unit has more: large imports are written on several cores


class WorkspaceBusyError(ActerrError):
    exit_code = ExitCode.INPUT_MISSING


MAX_WAIT = 86_400  # seconds: a wait for the lock longer than a day is a mistake (« attendre = 1e308 »)


def check_wait(seconds: float, name: str = "--attendre") -> None:
    """A wait for the lock is a number of seconds between 0 and 24 h (UsageError otherwise)."""
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 <= seconds <= MAX_WAIT):
        raise UsageError(f"{name} : un nombre de secondes entre 0 et 86 400 (24 h) est attendu, pas {seconds:g}.")


@contextmanager
def exclusive(path: Path, wait_seconds: float, busy: str) -> Iterator[None]:
    """An exclusive lock on `path` (flock: released by the system if the holder dies), waited for
    up to `wait_seconds`; then WorkspaceBusyError with `busy`, whose first « {} » becomes who holds
    it (« pid 1234 depuis … », written in the file). Not str.format: a path may hold braces."""
    check_wait(wait_seconds)
    with open(path, "a+") as fh:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    raise WorkspaceBusyError(busy.replace("{}", fh.read().strip() or "inconnu")) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} depuis {_now()}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextmanager
def _shared(path: Path) -> Iterator[None]:
    """A shared lock on `path`, waited for (its exclusive holders hold it for a moment). In a
    workspace the user cannot write (a mounted backup), the file may not be creatable: then
    nobody can write there either, and reading goes on without it."""
    fh = None
    for mode in ("a+", "r"):
        try:
            fh = open(path, mode)
            break
        except OSError:
            continue
    if fh is None:
        yield
        return
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        yield


@contextmanager
def _unless_shared(path: Path) -> Iterator[bool]:
    """An exclusive lock on `path` if nobody holds it (True), else nothing (False): never waited for."""
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class Workspace:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._manifest: dict | None = None

    # ─── opening, locking ───

    @classmethod
    def open(cls, root: Path, create: bool = True) -> "Workspace":
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise ConfigurationError(f"{root} : l'espace de travail doit être un dossier.")
        if root.exists() and not (root / MANIFEST).exists() and create and not _only_own_entries(root):
            raise ConfigurationError(
                f"{root} : ce dossier n'est pas vide et n'est pas un espace de travail acterr ; choisissez un autre dossier (--espace)."
            )
        if not root.exists() and not create:
            raise InputMissingError(f"{root} : espace de travail introuvable (lancez d'abord « acterr import »).")
        # A new workspace's folder is made by its first write (see locked): a run whose files are
        # all refused leaves the disk exactly as it was.
        ws = cls(root)
        manifest = ws.manifest
        if manifest.get("format") != FORMAT:
            raise ConfigurationError(f"{root / MANIFEST} : ce n'est pas un espace de travail acterr.")
        return ws

    @contextmanager
    def locked(self, wait_seconds: float = 0.0) -> Iterator["Workspace"]:
        """Exclusive lock for the whole write; a second process waits up to `wait_seconds`, then
        stops with a clear message instead of interleaving its writes."""
        self.root.mkdir(parents=True, exist_ok=True)  # another acterr may create it at the same moment
        busy = (f"l'espace de travail {self.root} est utilisé par un autre processus acterr ({{}}) ; "
                "réessayez quand il aura terminé.")
        with exclusive(self.root / LOCK, wait_seconds, busy):
            self._manifest = None  # re-read under the lock
            # A writer was killed, or could not remove the files it replaced while a reader used
            # them: its leftovers go now, if no reader is left.
            if (self.root / WRITING).exists() and self._collect_garbage():
                (self.root / WRITING).unlink(missing_ok=True)
            yield self

    @contextmanager
    def snapshot(self) -> Iterator["Workspace"]:
        """Read the workspace as one manifest lists it, without the write lock: the files it lists
        stay while the block runs (writers leave them to the next writer, see _collect_garbage),
        even if an import commits a new manifest meanwhile."""
        with _shared(self.root / READERS):
            self._manifest = None  # read under the shared lock: its files cannot go now
            yield self

    def writable(self) -> bool:
        """Whether results can be stored (a read-only copy of a workspace can still be read)."""
        folder = self.root / RESULTS
        return os.access(self.root, os.W_OK) and (not folder.exists() or os.access(folder, os.W_OK))

    # ─── manifest ───

    @property
    def manifest(self) -> dict:
        if self._manifest is None:
            path = self.root / MANIFEST
            if path.exists():
                try:
                    self._manifest = json.loads(path.read_text("utf-8"))
                except json.JSONDecodeError as exc:
                    raise ConfigurationError(f"{path} : manifeste illisible (JSON invalide ligne {exc.lineno}, colonne {exc.colno}).") from exc
                except UnicodeDecodeError as exc:
                    raise ConfigurationError(f"{path} : manifeste illisible (pas du texte UTF-8, octet {exc.start + 1}).") from exc
                if int(self._manifest.get("version", 1)) > VERSION:
                    raise ConfigurationError(
                        f"{path} : espace de travail écrit par une version plus récente d'acterr "
                        f"(format {self._manifest.get('version')}) : mettez acterr à jour pour le lire.")
            else:
                self._manifest = {"format": FORMAT, "version": VERSION, "generation": 0, "unites": {}}
        return self._manifest

    def _write_manifest(self, manifest: dict) -> None:
        manifest["generation"] = int(manifest.get("generation", 0)) + 1
        manifest["version"] = VERSION
        manifest["modifie_le"] = _now()
        atomic_write_bytes(self.root / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        self._manifest = manifest

    @property
    def generation(self) -> int:
        return int(self.manifest.get("generation", 0))

    def units(self) -> dict[str, dict]:
        return dict(self.manifest.get("unites", {}))

    # ─── facts ───

    def commit_units(self, units: list[ImportUnit], fichiers: dict[str, dict]) -> None:
        """Store the units (replacing any unit with the same key) in one atomic step.
        `fichiers` maps a unit key to its source description (name, sha256)."""
        manifest = json.loads(json.dumps(self.manifest))
        live = manifest["unites"]
        for unit in units:
            self._check_names(unit)
        (self.root / WRITING).touch()  # removed once the commit and its clean-up are done
        now = _now()
        incoming = {unit.key for unit in units}
        # Rows of the units that stay, in the files that also hold a replaced unit: moved to new files.
        kept: dict[tuple, list[tuple[str, str, dict]]] = defaultdict(list)
        for path in {item["chemin"] for key in incoming & set(live) for item in live[key].get("jeux", {}).values()}:
            for key, entry in live.items():
                for dataset, item in entry.get("jeux", {}).items():
                    if key not in incoming and item["chemin"] == path:
                        kept[(entry["type"], dataset, int(entry["exercice"]))].append((key, dataset, item))
        new: dict[tuple, list[tuple[str, str, pl.DataFrame]]] = defaultdict(list)
        for unit in units:
            live[unit.key] = {
                "type": unit.kind, "siren": unit.siren, "exercice": unit.exercice, "raison_sociale": unit.raison_sociale,
                **fichiers[unit.key], "importe_le": now, "jeux": {},
            }
            for dataset, frame in unit.tables.items():
                new[(unit.kind, dataset, int(unit.exercice))].append((unit.key, dataset, frame))
        parts = [part for group in {**kept, **new} for part in self._batch_parts(group, kept.get(group, []), new.get(group, []), live)]
        with ThreadPoolExecutor(min(len(parts), os.cpu_count() or 1) or 1) as pool:  # a Parquet file is written on one core
            written = list(pool.map(lambda part: self._write_fact(*part), parts))
        _sync(written)  # the new files are on disk before the manifest points to them
        self._write_manifest(manifest)
        if self._collect_garbage():  # else a reader holds the replaced files: the next writer removes them
            (self.root / WRITING).unlink(missing_ok=True)

    @staticmethod
    def _check_names(unit: ImportUnit) -> None:
        """Type, SIREN and dataset name paths and manifest keys: a value read from a file can never climb out."""
        for name in (unit.kind, unit.siren, *unit.tables):
            if not _SAFE_NAME.match(str(name)):
                raise InvalidDataError(f"nom refusé pour un fichier de l'espace de travail : « {str(name)[:60]} ».")

    def _batch_parts(self, group: tuple[str, str, int], kept: list[tuple[str, str, dict]],
                     new: list[tuple[str, str, pl.DataFrame]], live: dict) -> list[tuple[Path, pl.DataFrame]]:
        """The files of a dataset × exercice × type: the rows kept from rewritten files, then the
        new units' rows, cut at unit boundaries into parts of about PART_ROWS rows (written side by
        side); each unit's entry says where its rows are."""
        kind, dataset, exercice = group
        units: list[tuple[str, pl.DataFrame]] = []
        for path, entries in _by_file(kept).items():
            stored = pl.read_parquet(self._inside(path), glob=False)
            for key, _dataset, item in sorted(entries, key=lambda e: int(e[2].get("debut", 0))):
                units.append((key, stored.slice(int(item.get("debut", 0)), int(item["lignes"]))))
        units += [(key, frame) for key, _dataset, frame in new]
        parts: list[tuple[Path, pl.DataFrame]] = []
        while units:
            rel = Path(FACTS) / dataset / f"exercice={int(exercice)}" / f"{kind}-{uuid.uuid4().hex[:12]}.parquet"
            frames, start = [], 0
            while units and (not frames or start + units[0][1].height <= PART_ROWS):
                key, frame = units.pop(0)
                live[key]["jeux"][dataset] = {"chemin": rel.as_posix(), "debut": start, "lignes": frame.height}
                frames.append(frame)
                start += frame.height
            parts.append((rel, pl.concat(frames, how="diagonal_relaxed")))
        return parts

    def _write_fact(self, rel: Path, frame: pl.DataFrame) -> Path:
        target = self._inside(rel.as_posix())
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name("." + target.name + ".tmp")
        frame.write_parquet(tmp, compression="zstd")
        os.replace(tmp, target)
        return target

    def stored_unit(self, key: str) -> tuple[ImportUnit, str] | None:
        """A unit already in the workspace, read back (for checks against an incoming file), with
        the name of the file it came from."""
        entry = self.manifest.get("unites", {}).get(key)
        if entry is None:
            return None
        try:
            tables = {d: pl.scan_parquet(self._inside(item["chemin"]), glob=False).slice(int(item.get("debut", 0)), int(item["lignes"])).collect()
                      for d, item in entry.get("jeux", {}).items()}
        except (OSError, pl.exceptions.PolarsError):  # replaced meanwhile by another acterr: nothing to compare
            return None
        unit = ImportUnit(entry["type"], entry["siren"], int(entry["exercice"]), entry.get("raison_sociale"), tables)
        return unit, entry.get("fichier", "?")

    def dataset_paths(self, dataset: str) -> list[Path]:
        """The live files of a dataset (a file holds the rows of many units: listed once)."""
        # Each distinct path checked once: hundreds of units share a dozen files.
        listed = {item["chemin"] for entry in self.manifest.get("unites", {}).values() if (item := entry.get("jeux", {}).get(dataset))}
        return sorted(self._inside(rel) for rel in listed)

    def scan(self, dataset: str) -> pl.LazyFrame | None:
        """All live facts of a dataset, or None when no unit has it."""
        paths = self.dataset_paths(dataset)
        if not paths:
            return None
        return pl.concat([pl.scan_parquet(p, glob=False) for p in paths], how="diagonal_relaxed")

    def _inside(self, rel: str) -> Path:
        """A path listed in the manifest, refused if it would lead outside the facts folder. The
        check is on the text of the path (the names were built from checked values), so that
        hundreds of files are not resolved on the disk at each read."""
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or ".." in parts or not parts or parts[0] != FACTS:
            raise ConfigurationError(f"{self.root / MANIFEST} : chemin hors de l'espace de travail refusé ({rel}).")
        return self.root / rel

    def _collect_garbage(self) -> bool:
        """Remove fact files the manifest no longer lists (replaced units, killed imports) and the
        temporary files of interrupted manifest writes. Runs only under the write lock, and only
        when no reader holds a snapshot (False then: nothing removed)."""
        _remove_matching(self.root, _MANIFEST_TMP)
        facts = self.root / FACTS
        if not facts.exists():
            return True
        with _unless_shared(self.root / READERS) as alone:
            if alone:
                live = {p for d in self._datasets() for p in self.dataset_paths(d)}
                for path in facts.rglob("*"):
                    if path.is_file() and path not in live:
                        path.unlink(missing_ok=True)
            return alone

    def _datasets(self) -> set[str]:
        return {d for e in self.manifest.get("unites", {}).values() for d in e.get("jeux", {})}

    # ─── results ───

    def save_results(self, level: str, results: pl.DataFrame, meta: dict, wait_seconds: float = 0.0) -> str | None:
        """Store a level's results, computed from the manifest of generation `meta["generation"]`,
        under the results' own short lock (another compute's write is waited for, an import is
        not: it takes the other lock). None once stored; else why they were not, in French: a
        read-only workspace, or facts changed by an import meanwhile (these results would be
        out of date at once)."""
        if not self.writable():
            return f"l'espace de travail {self.root} est en lecture seule : résultats non enregistrés"
        folder = self.root / RESULTS
        folder.mkdir(parents=True, exist_ok=True)
        busy = f"les résultats de l'espace de travail {self.root} sont en cours d'écriture par un autre processus acterr ({{}})."
        with exclusive(self.root / RESULTS_LOCK, max(wait_seconds, RESULTS_WAIT), busy):
            _remove_matching(folder, _RESULTS_TMP)  # left by a killed compute (only this lock's holder writes here)
            if _generation_on_disk(self.root) != meta.get("generation"):
                return "les données ont été modifiées par un import pendant le calcul : résultats non enregistrés"
            target = folder / f"{level}.parquet"
            tmp = folder / f".{level}.{uuid.uuid4().hex[:8]}.tmp"
            # LZ4: a COMMUNE run writes millions of rows, and its time goes into encoding them (zstd
            # costs a quarter more for a file a quarter smaller); readers see the same columns.
            results.write_parquet(tmp, compression="lz4")
            os.replace(tmp, target)
            atomic_write_bytes(folder / f"{level}.json", json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))
        return None

    def results_meta(self, level: str) -> tuple[Path, dict] | None:
        """The file of a level's stored results and their meta, without reading the results."""
        folder = self.root / RESULTS
        target, meta_path = folder / f"{level}.parquet", folder / f"{level}.json"
        with _shared(self.root / RESULTS_LOCK):
            if not target.exists() or not meta_path.exists():
                return None
            return target, json.loads(meta_path.read_text("utf-8"))

    @contextmanager
    def results_kept(self) -> Iterator[None]:
        """Stored results are not replaced while the block reads them (a compute's store waits)."""
        with _shared(self.root / RESULTS_LOCK):
            yield

    # ─── the previous exercice's values (engine/run.py), kept for the next run ───

    def previous_values(self, name: str, fingerprint: str) -> pl.DataFrame | None:
        """Values kept by `keep_previous_values` under `name` with this fingerprint, or None."""
        path = self.root / RESULTS / PREVIOUS / f"{name}-{fingerprint}.parquet"
        with _shared(self.root / RESULTS_LOCK):
            try:
                return pl.read_parquet(path, glob=False)
            except (OSError, pl.exceptions.PolarsError):  # none yet, or unreadable: computed again
                return None

    def keep_previous_values(self, name: str, fingerprint: str, values: pl.DataFrame) -> None:
        """Keep `values` for the next run with the same inputs (those of other inputs go). Best
        effort: a read-only workspace, or another compute writing, and they are computed again."""
        folder = self.root / RESULTS / PREVIOUS
        if not self.writable():
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with exclusive(self.root / RESULTS_LOCK, 60, "{}"):  # another level's results being written: seconds
                for old in folder.glob(f"{name}-*.parquet"):
                    old.unlink(missing_ok=True)
                _remove_matching(folder, _RESULTS_TMP)
                tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
                values.write_parquet(tmp, compression="lz4")
                os.replace(tmp, folder / f"{name}-{fingerprint}.parquet")
        except (OSError, WorkspaceBusyError):
            pass

    def load_results(self, level: str) -> tuple[pl.DataFrame, dict] | None:
        """A level's stored results and their meta, read as one pair (never a file from one write
        and the other from the next)."""
        folder = self.root / RESULTS
        target, meta_path = folder / f"{level}.parquet", folder / f"{level}.json"
        with _shared(self.root / RESULTS_LOCK):
            if not target.exists() or not meta_path.exists():
                return None
            meta = json.loads(meta_path.read_text("utf-8"))
            return pl.read_parquet(target, glob=False), meta


def _generation_on_disk(root: Path) -> int | None:
    """The generation of the manifest as it is now on disk (not the one a reader holds)."""
    try:
        return int(json.loads((root / MANIFEST).read_text("utf-8")).get("generation", 0))
    except (OSError, ValueError):
        return None


def _only_own_entries(root: Path) -> bool:
    """A folder holding only what acterr writes (hidden state and lock files, or the facts of a
    first import killed before its manifest): a workspace, not someone's documents."""
    return all(p.name.startswith(".") or p.name in (FACTS, RESULTS) for p in root.iterdir())


def _remove_matching(folder: Path, pattern: re.Pattern) -> None:
    if folder.is_dir():
        for path in folder.iterdir():
            if pattern.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)


def _by_file(entries: list[tuple[str, str, dict]]) -> dict[str, list[tuple[str, str, dict]]]:
    files: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    for entry in entries:
        files[entry[2]["chemin"]].append(entry)
    return files


def _sync(paths: list[Path]) -> None:
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
