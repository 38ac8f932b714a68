"""Reading a run's files by batches: each file is opened on its own, then the questionnaires of a
batch are checked together (see questionnaire.check_questionnaires), which costs a few plans per
sheet for the whole batch instead of a dozen small operations per column of every file.

A batch may be read in another process: its result travels as one Arrow buffer per dataset (the
units' tables are slices of it), not as thousands of small frames. This module imports only the
readers, so that a worker process starts quickly.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from acterr_cli.errors import ActerrError, Problem
from acterr_cli.inputs import rules
from acterr_cli.inputs.detect import open_input
from acterr_cli.inputs.model import ParsedFile, ReadOptions
from acterr_cli.inputs.questionnaire import Draft, check_questionnaires
from acterr_cli.territory.reference import TerritorialReference

Read = tuple[Path, "ParsedFile | None", list[Problem]]


@dataclass
class Batch:
    """What a batch of files gave, in the order of its paths. `slices` lists the units' tables
    that are slices of `frames`: (read, unit, dataset, offset, rows)."""

    reads: list[Read]
    frames: dict[str, pl.DataFrame]
    slices: list[tuple[int, int, str, int, int]]

    def __getstate__(self) -> dict:
        sliced = {(r, u, d) for r, u, d, _, _ in self.slices}
        reads = []
        for r, (path, parsed, problems) in enumerate(self.reads):
            if parsed is not None and parsed.units:
                units = [dataclasses.replace(unit, tables={d: t for d, t in unit.tables.items() if (r, u, d) not in sliced})
                         for u, unit in enumerate(parsed.units)]
                parsed = dataclasses.replace(parsed, units=units)
            reads.append((path, parsed, problems))
        return {"reads": reads, "slices": self.slices, "frames": {d: _to_bytes(f) for d, f in self.frames.items()}}

    def __setstate__(self, state: dict) -> None:
        self.reads, self.slices = state["reads"], state["slices"]
        self.frames = {d: pl.read_ipc(io.BytesIO(data)) for d, data in state["frames"].items()}
        for r, u, d, offset, rows in self.slices:
            self.reads[r][1].units[u].tables[d] = self.frames[d].slice(offset, rows)


def _to_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")
    return buffer.getvalue()


def read_batch(paths: list[Path], reference: TerritorialReference, options: ReadOptions,
               advance: Callable[[int], None] | None = None) -> Batch:
    """Read every file; a file that cannot be read at all becomes one problem, not a crash.
    `advance(1)` is called as each file is opened (most of a batch's time)."""
    opened = []
    for path in paths:
        opened.append(_open(path, reference, options))
        if advance is not None:
            advance(1)
    reads: list[Read] = [(path, found if isinstance(found, ParsedFile) else None, problems) for path, found, problems in opened]
    batch = Batch(reads, {}, [])
    drafts = {n: found for n, (_, found, _) in enumerate(opened) if isinstance(found, Draft)}
    if not drafts:
        return batch
    try:
        groups = [(list(drafts), check_questionnaires(list(drafts.values()), reference, options))]
    except MemoryError:
        raise
    except Exception:  # a bug: check each file alone, so that only the file that triggers it is refused
        groups = []
        for n, draft in drafts.items():
            draft.restart()
            try:
                groups.append(([n], check_questionnaires([draft], reference, options)))
            except MemoryError:
                raise
            except Exception as exc:
                reads[n] = (paths[n], None, [internal_error(paths[n], exc)])
    for positions, checked in groups:
        for n, outcome in zip(positions, checked.files, strict=True):
            reads[n] = (paths[n], None, _problems(paths[n], outcome)) if isinstance(outcome, ActerrError) else (paths[n], outcome, [])
        base = {d: f.height for d, f in batch.frames.items()}
        for k, dataset, offset, rows in checked.slices:
            batch.slices.append((positions[k], 0, dataset, base.get(dataset, 0) + offset, rows))
        for dataset, frame in checked.frames.items():
            previous = batch.frames.get(dataset)
            batch.frames[dataset] = frame if previous is None else pl.concat([previous, frame], how="diagonal_relaxed")
    return batch


def read_batch_in_worker(paths: list[Path], options: ReadOptions) -> Batch:
    return read_batch(paths, TerritorialReference.load(), options)


def _open(path: Path, reference: TerritorialReference, options: ReadOptions) -> tuple[Path, ParsedFile | Draft | None, list[Problem]]:
    try:
        return path, open_input(path, reference, options), []
    except ActerrError as exc:
        return path, None, _problems(path, exc)
    except MemoryError:
        raise
    except Exception as exc:  # a bug must not stop a night run of 90 files: this file is refused, the others go on
        return path, None, [internal_error(path, exc)]


def _problems(path: Path, exc: ActerrError) -> list[Problem]:
    return exc.problems or [Problem(fichier=path.name, regle=rules.LECTURE.code, message=exc.message)]


def internal_error(path: Path, exc: Exception) -> Problem:
    return Problem(fichier=path.name, regle=rules.INTERNE.code,
                   message=f"erreur interne en lisant ce fichier ({type(exc).__name__}: {str(exc)[:200]}) ; "
                           "relancez avec --debug et signalez le problème.")
