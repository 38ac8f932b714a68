"""Library API: what the CLI calls, and what tests and scripts can call directly."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from acterr_cli.engine.run import compute, normalize_level
from acterr_cli.engine.simulation import Simulation
from acterr_cli.errors import InputMissingError, UsageError
from acterr_cli.inputs.registry import kinds as import_kinds
from acterr_cli.inputs.registry import reader
from acterr_cli.progress import SILENT, Progress
from acterr_cli.referentiel.model import Referentiel, load_referentiel
from acterr_cli.results import Computation, as_text
from acterr_cli.territory.reference import TerritorialReference
from acterr_cli.workspace.store import RESULTS_WAIT, Workspace, check_wait

if TYPE_CHECKING:
    from collections.abc import Callable

    from acterr_cli.importing import ImportReport
    from acterr_cli.outputs.reports.export import ExportRequest, ExportResult, LevelExportResult
    from acterr_cli.outputs.reports.model import ReportInputs
    from acterr_cli.outputs.reports.tabular import StoredLevel

__all__ = [
    "ImportReport", "Computation", "Referentiel", "TerritorialReference", "Workspace", "ExportRequest", "ExportResult", "LevelExportResult",
    # import (kinds: the reader registry, inputs/registry.py)
    "import_paths", "verify_paths", "import_kinds", "reader_description", "check_wait", "write_error_report",
    # compute
    "compute_level", "compute_levels", "results_for", "explain_figure", "explain_evolution", "evolution_of",
    "lookup_territory", "RESULTS_WAIT",
    # reports
    "report_inputs", "export", "write_blank_questionnaire", "verify_template",
    # référentiel
    "load_referentiel", "check_referentiel", "method_note",
    # scheduled runs
    "run_scheduled",
]


def __getattr__(name: str):
    """`api.ImportReport`, imported on first use: the readers behind imports (Excel, liasses…) are
    not loaded by a process that only computes."""
    if name == "ImportReport":
        from acterr_cli.importing import ImportReport

        return ImportReport
    if name in ("ExportRequest", "ExportResult", "LevelExportResult"):
        from acterr_cli.outputs.reports import export as exporting

        return getattr(exporting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def import_paths(espace: Path, paths: list[Path], kind: str | None = None, wait_seconds: float = 0.0, *,
                 exercice: int | None = None, ignore_errors: bool = False, mapping: Path | None = None,
                 progress: Progress = SILENT, withdrawn_sheets: bool | list[Path] = False, siren: str | None = None,
                 logement: str | None = None) -> ImportReport:
    """Read, check and store files of any kind of the reader registry (inputs/registry.py): the
    organisations' files (`import_kinds(public=False)`, detected from the content when `kind` is
    None) and public data (`import_kinds(public=True)`, always named).
    `exercice`: the year the run is about, or the millésime of public data (required for them);
    `ignore_errors`: leave out the rows with an error instead of refusing the file; `mapping`: a
    liasse mapping file (TOML); `progress`: told as files are read (see progress.py);
    `withdrawn_sheets`: a questionnaire that replaces a stored one may lack some of its sheets, any
    (True) or these (otherwise an error on the file); `siren`: an RPLS that is this organisation's
    patrimoine; `logement`: market rents of « appartement » or « maison » (else told by the name)."""
    from acterr_cli.inputs.model import ReadOptions

    _check_kind(kind, import_kinds(public=False) + import_kinds(public=True))
    options = ReadOptions(kind=kind, exercice=exercice, drop_faulty_rows=ignore_errors, mapping=_mapping(mapping),
                          siren=siren, logement=logement)
    if kind in import_kinds(public=True):
        return _import_public(espace, [Path(p) for p in paths], options, wait_seconds, progress)
    from acterr_cli.importing import import_files

    ws = Workspace.open(espace, create=True)
    return import_files(ws, [Path(p) for p in paths], TerritorialReference.load(), kind, wait_seconds, options, progress,
                        withdrawn_sheets)


def verify_paths(paths: list[Path], kind: str | None = None, *, exercice: int | None = None,
                 mapping: Path | None = None, progress: Progress = SILENT) -> ImportReport:
    """The same checks as import_paths, without writing anything."""
    from acterr_cli.importing import verify_files
    from acterr_cli.inputs.model import ReadOptions

    _check_kind(kind, import_kinds(public=False))
    options = ReadOptions(kind=kind, exercice=exercice, mapping=_mapping(mapping))
    return verify_files([Path(p) for p in paths], TerritorialReference.load(), kind, options, progress)


def compute_level(espace: Path, level: str, exercice: int | None = None, store: bool = True,
                  referentiel: Referentiel | None = None, wait_seconds: float = 0.0,
                  simulation: Simulation | None = None) -> Computation:
    """Compute every indicator at one level and (by default) store the results in the workspace.
    The results' text columns are Categorical (see results.TEXT; `results.as_text` makes them strings).
    `simulation`: with the quantiles p10, p50, p90 of each figure (engine/simulation.py)."""
    check_wait(wait_seconds)
    ws = _existing_workspace(espace, exercice)
    referentiel = referentiel or load_referentiel()
    # One snapshot of the facts, without the write lock: an import may run meanwhile (see store.py).
    with ws.snapshot():
        computation = compute(ws, TerritorialReference.load(), referentiel, level, exercice, simulation=simulation)
    if store:
        ws.save_results(_results_name(computation.level, exercice), computation.results, computation.meta, wait_seconds)
        _record_referentiel(ws, referentiel, exercice)
    return computation


def compute_levels(espace: Path, levels: list[str], exercice: int | None = None, referentiel: Referentiel | None = None,
                   wait_seconds: float = 0.0, progress: Progress = SILENT,
                   simulation: Simulation | None = None) -> Iterator[tuple[Computation, Future]]:
    """Compute and store several levels, one after the other, from one snapshot of the facts
    (no write lock: an import may run meanwhile, see store.py). Each level's
    results are written by a background thread while the caller shows them and the next level
    is computed (a COMMUNE run writes millions of rows, which takes about as long as computing
    the next level). Yields each computation with the future of its write: `.result()` returns
    None once the file is written, or why it was not (a read-only workspace, facts changed by an
    import meanwhile), or raises its error. Every write is over when the iteration ends (or is
    closed). `progress` is told the level under way. Text
    columns are Categorical, as in `compute_level`."""
    check_wait(wait_seconds)
    ws = _existing_workspace(espace, exercice)
    referentiel = referentiel or load_referentiel()
    with ws.snapshot(), ThreadPoolExecutor(1, thread_name_prefix="acterr-resultats") as writer:
        reference = TerritorialReference.load()
        run: dict = {}  # what the levels of this run share (see engine.run.compute)
        writes: list[Future] = []
        try:
            for level in levels:
                if failed := [w for w in writes if w.done() and w.exception() is not None]:
                    failed[0].result()  # a level could not be written: stop there, with its error
                with progress.step(f"Calcul du niveau {normalize_level(level)}"):
                    computation = compute(ws, reference, referentiel, level, exercice, run, simulation)
                if not writes:
                    _record_referentiel(ws, referentiel, exercice)
                writes.append(writer.submit(ws.save_results, _results_name(computation.level, exercice), computation.results,
                                            computation.meta, wait_seconds))
                yield computation, writes[-1]
                del computation  # its results are the writer's now: let them go once written
        finally:
            # Every write is over before the lock is released, and a failed one is never silent,
            # even when the caller stopped early on an error of its own (the disk's comes first).
            if failures := [e for w in writes if (e := w.exception()) is not None]:
                raise failures[0]


def results_for(espace: Path, level: str, exercice: int | None = None, referentiel: Referentiel | None = None,
                wait_seconds: float = 0.0) -> Computation:
    """Stored results of a level if they are up to date with the facts and computed with the same
    référentiel files, else a fresh computation; text columns as strings (for the reports)."""
    ws = _existing_workspace(espace)
    level = normalize_level(level)
    referentiel = referentiel or load_referentiel()
    stored = ws.load_results(_results_name(level, exercice))
    up_to_date = stored is not None and stored[1].get("generation") == ws.generation
    if up_to_date and stored[1].get("referentiel", {}).get("fichiers") == referentiel.sources:
        computation = Computation(level, stored[0], stored[1])
    elif up_to_date:
        # Stored with other référentiel files (a user's overrides): computed anew for this report,
        # and the stored results are kept — the caller is told (meta) and may say so.
        computation = compute_level(espace, level, exercice, store=False, referentiel=referentiel, wait_seconds=wait_seconds)
        computation.meta["referentiel_des_resultats_enregistres"] = stored[1].get("referentiel", {}).get("fichiers")
    else:
        computation = compute_level(espace, level, exercice, referentiel=referentiel, wait_seconds=wait_seconds)
    computation.results = as_text(computation.results)
    return computation


def report_inputs(espace: Path, level: str, referentiel: Referentiel | None = None, wait_seconds: float = 0.0) -> ReportInputs:
    """What a report is made from: the level's results, plus the FRANCE level (true totals, each
    organisation's own figures) and the REGION level (home région of each organisation, for
    peers), the import warnings and the organisations' familles. Stored results are reused when
    they are up to date (`results_for`)."""
    from acterr_cli.outputs.reports.export import families, import_warnings
    from acterr_cli.outputs.reports.model import ReportInputs

    referentiel = referentiel or load_referentiel()
    computation = results_for(espace, level, None, referentiel=referentiel, wait_seconds=wait_seconds)
    by_level = {computation.level: computation}
    for other in ("FRANCE", "REGION"):
        if other not in by_level:
            by_level[other] = results_for(espace, other, None, referentiel=referentiel, wait_seconds=wait_seconds)
    ws = Workspace.open(espace, create=False)
    inputs = ReportInputs(computation, by_level["FRANCE"], by_level["REGION"], referentiel, import_warnings(ws), families(ws))
    # The « Évolution » sheet's bridge, asked by the workbook once it knows its scope and exercice.
    inputs.bridge = lambda codes, level, code, year, siren: evolution_of(espace, codes, level, code, year, inputs.referentiel, siren)
    return inputs


def export(espace: Path, request: ExportRequest, referentiel: Referentiel | None = None) -> ExportResult | LevelExportResult:
    """The files of one report (`acterr export`): workbook or data, filled template, fiches. The
    request is checked before anything is computed, every file before anything is written."""
    from acterr_cli.outputs.reports.export import streamable, write_export, write_level_export
    from acterr_cli.outputs.reports.tabular import choose_year

    request.check()
    if streamable(request) and (stored := _stored_level(espace, request.niveau, referentiel, request.attendre)) is not None:
        # A whole level's data, streamed from the stored results (no report model), which no
        # compute replaces meanwhile; if one just did, the usual way.
        ws = _existing_workspace(espace)
        with ws.results_kept():
            if (now := ws.results_meta(stored.level)) is not None and now[1] == stored.meta:
                return write_level_export(choose_year(stored, request.exercice), request)
    return write_export(report_inputs(espace, request.niveau, referentiel, request.attendre), request)


def _stored_level(espace: Path, level: str, referentiel: Referentiel | None, wait_seconds: float) -> StoredLevel | None:
    """The level's results as stored, computed and stored first if they are out of date; None
    when they cannot be used as they are (a read-only workspace, other référentiel files)."""
    import polars as pl

    from acterr_cli.outputs.reports.tabular import StoredLevel

    ws = _existing_workspace(espace)
    level = normalize_level(level)
    referentiel = referentiel or load_referentiel()
    for attempt in range(2):
        stored = ws.results_meta(level)
        if stored is not None and stored[1].get("generation") == ws.generation \
                and stored[1].get("referentiel", {}).get("fichiers") == referentiel.sources:
            national = results_for(espace, "FRANCE", referentiel=referentiel, wait_seconds=wait_seconds).results
            return StoredLevel(level, stored[0], stored[1], national.filter(pl.col("siren").is_null()), referentiel)
        if attempt or (stored is not None and stored[1].get("generation") == ws.generation) or not ws.writable():
            return None
        compute_level(espace, level, referentiel=referentiel, wait_seconds=wait_seconds)  # stored, then read from the file
    return None


def reader_description(kind: str) -> str:
    """What a kind of file is, in French (for --type's help)."""
    return reader(kind).description


def _check_kind(kind: str | None, known: tuple[str, ...]) -> None:
    """A wrong type is a usage error told once, not a refusal of every file."""
    if kind is not None and kind not in known:
        raise UsageError(f"--type « {kind} » inconnu (attendu : {', '.join(known)}).")


def _mapping(path: Path | None):
    from acterr_cli.inputs.mapping import load_mapping

    return None if path is None else load_mapping(Path(path))


def _import_public(espace: Path, paths: list[Path], options, wait_seconds: float, progress: Progress) -> ImportReport:
    """Public data (RPLS, market rents, QPV list, SIRENE), one file at a time, each stored as it
    is read: the millésime (`exercice`) says which year they describe."""
    from acterr_cli.importing import IMPORTE, ImportReport, file_report

    if options.exercice is None:
        raise UsageError(f"--type {options.kind} demande --exercice (le millésime des données, ex. 2024).")
    read = reader(options.kind).function()
    reports = []
    for path in paths:
        if not path.is_file():
            what = "c'est un dossier, pas un fichier" if path.is_dir() else "fichier introuvable"
            raise UsageError(f"{path} : {what}.")
        ws = Workspace.open(espace, create=True)
        with progress.step(f"Lecture de {path.name}"):
            parsed = read(path, TerritorialReference.load(), options, ws.scan)
            with ws.locked(wait_seconds):
                ws.commit_units(parsed.units, {u.key: {"fichier": parsed.path.name, "sha256": parsed.sha256} for u in parsed.units})
        reports.append(file_report(parsed.path, parsed, [], IMPORTE))
    return ImportReport(reports, ecrit=True)


def write_error_report(report: ImportReport, path: Path) -> Path:
    """The problems of an import or a check, cell by cell, in a workbook (`--rapport-erreurs`)."""
    from acterr_cli.outputs.error_report import write_error_report as write  # xlsxwriter: only when asked

    return write(report, Path(path))


def write_blank_questionnaire(path: Path) -> None:
    """The blank questionnaire organisations fill in (`acterr modele questionnaire`)."""
    from acterr_cli.outputs.questionnaire_template import write_questionnaire

    write_questionnaire(Path(path))


def verify_template(path: Path, referentiel: Referentiel | None = None) -> dict:
    """What a user's report template offers and lacks (`acterr modele verifier`), as a document."""
    from acterr_cli.outputs.template_fill import verify_template as verify

    return verify(Path(path), {i.code for i in (referentiel or load_referentiel()).indicators})


def check_referentiel(surcharges: list[Path] | None = None) -> Referentiel:
    """The référentiel with the user's files applied, checked against the measures the facts
    provide: a ConfigurationError lists every problem."""
    from acterr_cli.engine.measures import raw_measures

    referentiel = load_referentiel(surcharges=surcharges or [])
    referentiel.validate(set(raw_measures()))
    return referentiel


def method_note(referentiel: Referentiel | None = None) -> str:
    """The method note (Markdown, French) of a référentiel: docs/METHODE.md for the default one."""
    from acterr_cli.referentiel.method_note import render_method_note

    return render_method_note(referentiel or load_referentiel())


def run_scheduled(config: Path, log: Callable[[str], None], progress: Progress = SILENT) -> tuple[dict, int]:
    """A scheduled run (`acterr executer`): imports, computations and reports as the TOML file
    says; returns the run report and the exit code. scheduled.py is built on this module's
    functions (the one import cycle of the package, within the API layer)."""
    from acterr_cli.scheduled import execute

    return execute(Path(config), log, progress)


def explain_figure(espace: Path, indicator: str, level: str, code: str, exercice: int | None = None,
                   referentiel: Referentiel | None = None) -> dict:
    """Everything needed to recompute one figure by hand (see engine/explain.py)."""
    from acterr_cli.engine.explain import explain

    ws = _existing_workspace(espace, exercice)
    referentiel = referentiel or load_referentiel()
    with ws.snapshot():
        return explain(ws, TerritorialReference.load(), referentiel, indicator, level, code, exercice)


def explain_evolution(espace: Path, indicator: str, level: str, code: str, exercice: int | None = None,
                      referentiel: Referentiel | None = None) -> dict:
    """Why a figure moved from N-1 to N: organisations leaving and entering, their data, the
    référentiel (see engine/bridge.py); the components add up to the change."""
    from acterr_cli.engine.bridge import explain_evolution as bridge

    ws = _existing_workspace(espace, exercice)
    return bridge(ws, TerritorialReference.load(), referentiel or load_referentiel(), indicator, level, code, exercice)


def evolution_of(espace: Path, indicators: list[str], level: str, code: str, exercice: int,
                 referentiel: Referentiel | None = None, siren: str | None = None) -> dict[str, dict]:
    """The N-1 → N bridge of several figures of one territory (or of one organisation's own
    figures, `siren`), for a report: empty when N-1 is not imported; a figure not computed in
    either year is left out."""
    from acterr_cli.engine.bridge import bridges

    ws = _existing_workspace(espace, exercice)
    if not any(u["exercice"] == exercice - 1 and str(u.get("siren", "")).isdigit() for u in ws.units().values()):
        return {}
    return bridges(ws, TerritorialReference.load(), referentiel or load_referentiel(), indicators, level, code, exercice,
                   siren=siren)


def _record_referentiel(ws: Workspace, referentiel: Referentiel, exercice: int | None) -> None:
    """The référentiel of the exercices computed, kept for their year-on-year bridge (engine/bridge.py)."""
    from acterr_cli.engine.bridge import record_referentiel

    record_referentiel(ws, referentiel, None if exercice is None else [exercice])


def lookup_territory(query: str) -> list[dict]:
    """Territories matching a code or a name (see TerritorialReference.lookup); when no name is
    the one asked for, the communes spelt nearly like it too (« Toulouze » → Toulouse), marked
    `nom_proche`."""
    from acterr_cli.inputs.communes import helper_for, name_key

    reference = TerritorialReference.load()
    hits = reference.lookup(query)
    if any(c.isdigit() for c in query) or any(name_key(h.get("nom") or "") == name_key(query) for h in hits):
        return hits  # a code, or a name found as it is
    seen = {(h["niveau"], h["code"]) for h in hits}
    for commune in helper_for(reference).close_names(query, set()):
        if ("COMMUNE", commune.code) not in seen:
            hits += [{**h, "nom_proche": True} for h in reference.lookup(commune.code)[:1]]
    return hits


def _existing_workspace(espace: Path, exercice: int | None = None) -> Workspace:
    """The workspace, with data (and data of `exercice`, when one is asked for)."""
    ws = Workspace.open(espace, create=False)
    units = ws.units().values()
    if not units:
        raise InputMissingError(f"l'espace de travail {espace} ne contient aucune donnée : lancez d'abord « acterr import FICHIERS… ».")
    years = sorted({u["exercice"] for u in units})
    if exercice is not None and exercice not in years:
        raise InputMissingError(f"aucune donnée de l'exercice {exercice} dans l'espace de travail {espace} "
                                f"(exercices importés : {', '.join(map(str, years))}).")
    return ws


def _results_name(level: str, exercice: int | None) -> str:
    return level if exercice is None else f"{level}-{exercice}"
