"""One unattended run (`acterr executer CONFIG.toml`): drop folder → import → compute → reports.

Meant for cron at regional associations during the campaign: every new or changed file of the
drop folder is imported (unchanged files, recognised by their sha256, are skipped), the
configured levels are computed, the configured reports written, and a JSON run report says what
happened. Paths of the configuration are relative to its folder and may not leave it.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import signal
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from acterr_cli import __version__, api, interrupts
from acterr_cli.common.atomic import atomic_write_bytes
from acterr_cli.common.encoding import TomlError, load_toml
from acterr_cli.common.formatting import fr_count
from acterr_cli.engine.run import normalize_level
from acterr_cli.errors import ERREUR, ActerrError, ConfigurationError, ExitCode, Problem, UsageError, system_reason
from acterr_cli.inputs import rules
from acterr_cli.inputs.model import sha256_of
from acterr_cli.progress import SILENT, Progress
from acterr_cli.referentiel.model import load_referentiel
from acterr_cli.results import CALCULE
from acterr_cli.workspace.store import MAX_WAIT, Workspace, exclusive

STATE_FILE = ".depot.json"  # in the workspace: sha256 of every drop-folder file already handled
RUN_LOCK = ".execution"  # in the workspace: held by the `acterr executer` run under way
DEFAULT_PATTERNS = ("*.xlsx", "*.xlsm", "*.ods", "*.xls", "*.csv")  # matched without case (« GARONNE.XLSX »)
# Never inputs: the lock files Excel (~$…) and LibreOffice (.~lock…) leave beside an open workbook,
# and hidden files.
IGNORED_PREFIXES = ("~$", ".")
# The configuration's keys and what each holds (see the README, « Exécution planifiée »).
KEYS = {"espace": str, "depot": str, "journal": str, "attendre": (int, float), "motifs": list, "referentiel": list,
        "calcul": dict, "rapports": list, "feuilles_retirees": list}
CALCUL_KEYS = {"niveaux": list, "exercice": int}
RAPPORT_KEYS = {"niveau": str, "sortie": str, "format": str}
REPORT_FORMATS = ("xlsx", "html")  # the board workbook, or the web page to publish
EXPECTED = {str: "un texte entre guillemets est attendu", list: "une liste [ … ] est attendue", dict: "une section [ … ] est attendue",
            int: "un nombre entier est attendu", (int, float): "un nombre est attendu"}
HINTS = {("rapports", dict): " (chaque rapport s'écrit dans une section [[rapports]], avec deux crochets)"}
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
    rapports: list[dict] = field(default_factory=list)  # {"niveau", "sortie", "format"}
    journal: Path | None = None
    attendre: float = 0.0
    journal_per_run: bool = False  # its name holds {date} or {heure}: never overwrites another run's
    feuilles_retirees: tuple[str, ...] = ()  # drop-folder files that may lack sheets of the questionnaire they replace


def load_config(path: Path) -> RunConfig:
    path = Path(path)
    try:
        raw = load_toml(path.read_bytes(), path.name, "fichier de configuration")
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{path} : fichier de configuration introuvable.") from exc
    except TomlError as exc:  # in French, with line and column (common/encoding.py)
        raise ConfigurationError(f"{path} : configuration {exc}.") from exc
    problems = _check(raw)
    if problems:  # every mistake at once, before anything is read or written
        raise ConfigurationError(f"{path.name} : configuration invalide : " + " ; ".join(problems) + ".")
    base = path.resolve().parent
    inside = _inside(base, path.name)
    calcul = raw.get("calcul", {})
    return RunConfig(
        base=base,
        espace=inside(raw.get("espace", "espace")),
        depot=inside(raw["depot"]),
        motifs=tuple(raw.get("motifs", DEFAULT_PATTERNS)),
        referentiel=[inside(p) for p in raw.get("referentiel", [])],
        niveaux=[normalize_level(n) for n in calcul.get("niveaux", ["EPCI"])],
        exercice=calcul.get("exercice"),
        rapports=[_rapport(r, inside) for r in raw.get("rapports", [])],
        journal=inside(raw["journal"]) if "journal" in raw else None,
        attendre=float(raw.get("attendre", 0)),
        journal_per_run=any(stamp in str(raw.get("journal", "")) for stamp in ("{date}", "{heure}")),
        feuilles_retirees=tuple(raw.get("feuilles_retirees", ())),
    )


def _check(raw: dict) -> list[str]:
    """What is wrong in a configuration: unknown keys (a typo must not silently fall back to a
    default), values of the wrong type, unknown levels, a missing drop folder or report path."""
    problems = _check_keys(raw, KEYS, "")
    if "depot" not in raw:
        problems.append("clé obligatoire manquante : depot (le dossier de dépôt)")
    wait = raw.get("attendre")
    if isinstance(wait, (int, float)) and not isinstance(wait, bool) and not (math.isfinite(wait) and 0 <= wait <= MAX_WAIT):
        problems.append(f"attendre : un nombre de secondes entre 0 et 86 400 (24 h) est attendu, pas {_toml(wait)}")
    for key in ("motifs", "referentiel", "feuilles_retirees"):
        if isinstance(raw.get(key), list) and not all(isinstance(v, str) for v in raw[key]):
            problems.append(f"{key} : liste de textes attendue")
    calcul = raw.get("calcul")
    if isinstance(calcul, dict):
        problems += _check_keys(calcul, CALCUL_KEYS, "calcul.")
        if isinstance(calcul.get("niveaux"), list):
            problems += _check_levels(calcul["niveaux"], "calcul.niveaux")
    rapports = raw.get("rapports")
    if isinstance(rapports, list):
        for i, rapport in enumerate(rapports, start=1):
            where = f"rapports n° {i}"
            if not isinstance(rapport, dict):
                problems.append(f"{where} : section [[rapports]] attendue")
                continue
            problems += _check_keys(rapport, RAPPORT_KEYS, f"{where} : ")
            if "sortie" not in rapport:
                problems.append(f"{where} : clé obligatoire manquante : sortie (le fichier du rapport)")
            if isinstance(rapport.get("niveau"), str):
                problems += _check_levels([rapport["niveau"]], f"{where} : niveau")
            if isinstance(rapport.get("format"), str) and rapport["format"].strip().lower() not in REPORT_FORMATS:
                problems.append(f"{where} : format inconnu « {rapport['format']} » (formats possibles : {', '.join(REPORT_FORMATS)})")
    return problems


def _rapport(raw: dict, inside: Callable[[str], Path]) -> dict:
    """A [[rapports]] entry: its level, its format, its path (with the format's extension, as `acterr export` gives it)."""
    fmt = raw.get("format", "xlsx").strip().lower()
    path = inside(raw["sortie"])
    return {"niveau": normalize_level(raw.get("niveau", "EPCI")), "format": fmt,
            "sortie": path if path.suffix.lower() == f".{fmt}" else path.with_suffix(f".{fmt}")}


def _check_keys(table: dict, known: dict, where: str) -> list[str]:
    problems = []
    for key, value in table.items():
        if key not in known:
            problems.append(f"clé inconnue « {key} »{' dans ' + where.rstrip(' :.') if where else ''} (clés possibles : {', '.join(known)})")
        elif isinstance(value, bool) or not isinstance(value, known[key]):
            problems.append(f"{where}{key} : {EXPECTED[known[key]]}, pas {_toml(value)}{HINTS.get((key, type(value)), '')}")
    return problems


def _toml(value) -> str:
    """A value as it was written in the TOML file (true, a section…), not as Python prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "une section"
    if isinstance(value, list):
        return "une liste"
    return f"« {value} »"


def _check_levels(levels: list, where: str) -> list[str]:
    problems = []
    for level in levels:
        try:
            normalize_level(str(level))
        except UsageError as exc:
            problems.append(f"{where} : {exc.message.rstrip('.')}")
    return problems


def _inside(base: Path, name: str) -> Callable[[str], Path]:
    """Paths of the configuration, resolved against its folder; none may lead outside it.
    `{date}` and `{heure}` are the run's start (the same for every path of the run)."""
    now = datetime.now()
    stamps = {"{date}": now.strftime("%Y-%m-%d"), "{heure}": now.strftime("%H%M%S")}

    def resolve(value: str) -> Path:
        for stamp, text in stamps.items():
            value = str(value).replace(stamp, text)
        target = (base / value).resolve()
        if not target.is_relative_to(base):
            raise ConfigurationError(f"{name} : chemin refusé « {value} » : il sort du dossier de la configuration ({base}).")
        return target
    return resolve


def execute(path: Path, log: Log, progress: Progress = SILENT) -> tuple[dict, int]:
    """Load the configuration and run it. A configuration that cannot be used still gets its dated
    log line and a run report (`erreur`, `code_sortie` 5), though no journal file: where to write
    it is part of what could not be read."""
    try:
        config = load_config(path)
    except ConfigurationError as exc:
        log(f"arrêt : {exc.message}")
        now = _now()
        return ({"version": 1, "acterr": __version__, "debut": now, "configuration": str(path), "erreur": exc.message,
                 "fin": now, "code_sortie": int(exc.exit_code)}, int(exc.exit_code))
    return run(config, log, progress)


def run(config: RunConfig, log: Log, progress: Progress = SILENT) -> tuple[dict, int]:
    """Returns the run report and the exit code: 0 all good, 3 some files refused, 4/5 could not run.
    `progress`: told as files are read, levels computed and reports written (a terminal shows it)."""
    started = time.monotonic()
    report: dict = {"version": 1, "acterr": __version__, "debut": _now(), "espace": str(config.espace),
                    "depot": str(config.depot), "depot_resume": None, "fichiers": [], "calculs": [], "rapports": [], "erreur": None}
    code = ExitCode.OK
    interrupted = None
    journal = None
    try:
        journal = _reserve_journal(config, report)  # first: a journal that cannot be written stops the run before it starts
        # One run at a time on a workspace: a night run that overlaps the next one must not read
        # the drop folder twice nor interleave its state file (each step also locks the workspace).
        Workspace.open(config.espace, create=True)  # a file, or a folder that is not a workspace: refused here
        config.espace.mkdir(parents=True, exist_ok=True)
        busy = (f"une autre exécution planifiée (acterr executer) travaille déjà sur l'espace {config.espace} ({{}}) ; "
                f"après {config.attendre:g} s d'attente, celle-ci s'arrête sans rien faire.")
        with exclusive(config.espace / RUN_LOCK, config.attendre, busy):
            referentiel = load_referentiel(surcharges=config.referentiel)
            refused = _import_drop_folder(config, report, log, progress)
            if Workspace.open(config.espace, create=False).units():
                _compute(config, referentiel, report, log, progress)
                _reports(config, referentiel, report, log, progress)
                code = ExitCode.OK
            else:  # nothing imported yet, tonight or before: the refusals (if any) say why
                report["erreur"] = "aucune donnée dans l'espace de travail : calculs et rapports non faits"
                log(f"{report['erreur']}.")
                code = ExitCode.INPUT_MISSING
        code = ExitCode.INVALID_DATA if refused else code
    except ActerrError as exc:
        report["erreur"] = exc.message
        code = exc.exit_code
        log(f"arrêt : {exc.message}")
    except interrupts.Interrupted as exc:  # Ctrl-C, SIGTERM, SIGHUP: the journal says so, then the command ends
        interrupted = exc
        report["erreur"] = f"interrompu ({signal.Signals(exc.signum).name})"
        code = exc.exit_code
        log(f"arrêt : {report['erreur']}")
    except OSError as exc:  # disk full, rights: the run report still says what was done and why it stopped
        where = f" : {exc.filename}" if exc.filename else ""
        report["erreur"] = f"lecture ou écriture impossible{where} ({system_reason(exc)})"
        code = ExitCode.INTERNAL
        log(f"arrêt : {report['erreur']}")
    report.update(fin=_now(), duree_s=round(time.monotonic() - started, 3), code_sortie=int(code))
    if journal is not None:
        atomic_write_bytes(journal, json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8"))
        log(f"rapport d'exécution : {journal}")
    if interrupted is not None:
        raise interrupted
    return report, int(code)


def _reserve_journal(config: RunConfig, report: dict) -> Path | None:
    """Where this run's report goes, checked before anything is done (a folder, a path that
    cannot be created: configuration error, code 5). A dated name (`{date}`, `{heure}`) is this
    run's alone: taken at once (exclusive creation, holding « en cours » until the run ends), with
    « -2 », « -3 »… if another run of the same second has it."""
    path = config.journal
    if path is None:
        return None
    if path.is_dir():
        raise ConfigurationError(f"journal : {path} est un dossier ; indiquez un nom de fichier (par exemple journal/execution-{{date}}.json).")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"journal : dossier {path.parent} impossible à créer ({system_reason(exc)}).") from exc
    if not config.journal_per_run:
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise ConfigurationError(f"journal : {path} ne peut pas être écrit (permission refusée).")
        return path
    start = json.dumps({**report, "erreur": "exécution en cours (ou arrêtée sans pouvoir le dire)"}, ensure_ascii=False, indent=2)
    for n in range(1, 1000):
        candidate = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
        try:
            with open(candidate, "x", encoding="utf-8") as fh:
                fh.write(start)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigurationError(f"journal : {candidate} ne peut pas être écrit ({system_reason(exc)}).") from exc
    raise ConfigurationError(f"journal : trop d'exécutions portent déjà le nom {path}.")


def _import_drop_folder(config: RunConfig, report: dict, log: Log, progress: Progress) -> int:
    from acterr_cli.importing import REFUSE  # with the readers: loaded by the commands that import

    if not config.depot.is_dir():
        raise ConfigurationError(f"dossier de dépôt introuvable : {config.depot}.")
    files, outside = _drop_files(config)
    state = _read_state(config.espace)
    todo = []
    for path in files:
        digest = sha256_of(path)
        key = str(path.relative_to(config.depot))
        retry = key in config.feuilles_retirees and state.get(key, {}).get("statut") == REFUSE  # allowed since its refusal
        if state.get(key, {}).get("sha256") == digest and not retry:
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
    refused = len(still_refused) + len(outside)
    log(f"dépôt : {fr_count(len(files) + len(outside), 'fichier')}, {fr_count(len(todo), 'nouveau ou modifié', 'nouveaux ou modifiés')}")
    for f in still_refused:
        log(f"toujours refusé (inchangé depuis le refus du {(f['refuse_le'] or '?')[:10]}) : {f['motif'] or f['fichier']}")
    for key, why in outside:  # never read, never remembered: refused again at each run while they stay
        report["fichiers"].append({"fichier": key, "sha256": None, "statut": REFUSE, "motif": f"{key} : {why}",
                                   "problemes": [Problem(fichier=key, regle=rules.DEPOT.code, message=why).to_dict()]})
        log(f"refusé : {key} : {why}")
    removed = _removed_files(state, {str(p.relative_to(config.depot)) for p in files} | {key for key, _ in outside}, report, log)
    t0 = time.monotonic()
    if todo:
        imported = api.import_paths(config.espace, [p for _, p, _ in todo], wait_seconds=config.attendre, progress=progress,
                                    withdrawn_sheets=[config.depot / name for name in config.feuilles_retirees])
        for (key, _, digest), file_report in zip(todo, imported.fichiers, strict=True):
            entry = {"fichier": key, "sha256": digest, "statut": file_report.statut,
                     "problemes": [p.to_dict() for p in file_report.problemes]}
            report["fichiers"].append(entry)
            state[key] = {"sha256": digest, "statut": file_report.statut, "le": _now()}
            if file_report.statut == REFUSE:
                refused += 1
                state[key]["motif"] = _why_refused(key, file_report.problemes)
                log(f"refusé : {state[key]['motif']}")
    if todo or removed:
        _write_state(config.espace, state)
    if todo:
        done = [f for f in report["fichiers"] if f["statut"] in ("importe", "refuse")]
        log(f"import : {fr_count(sum(f['statut'] == 'importe' for f in done), 'importé')}, "
            f"{fr_count(sum(f['statut'] == 'refuse' for f in done), 'refusé')} en {_seconds(time.monotonic() - t0)}")
    statuses = [f["statut"] for f in report["fichiers"]]
    report["depot_resume"] = {"vus": len(files) + len(outside), "importes": statuses.count("importe"), "inchanges": statuses.count("inchange"),
                              "refuses": statuses.count("refuse"), "refuses_restes_tels_quels": refused - statuses.count("refuse"),
                              "retires": len(removed), "duree_import_s": round(time.monotonic() - t0, 3)}
    return refused


def _removed_files(state: dict, present: set[str], report: dict, log: Log) -> list[str]:
    """Files handled by an earlier run and no longer in the drop folder: said once, and forgotten
    (put back, a file is imported again). Their facts stay in the workspace: taking a file out of
    the folder is not a way to delete an organisation's data."""
    removed = sorted(set(state) - present)
    if removed and not present:  # a share not mounted tonight, more likely than every file withdrawn
        log(f"dépôt vide alors que {fr_count(len(removed), 'fichier')} y {'était' if len(removed) < 2 else 'étaient'} : rien n'est oublié (le dossier est-il accessible ?)")
        return []
    for key in removed:
        before = state.pop(key)
        report["fichiers"].append({"fichier": key, "sha256": before.get("sha256"), "statut": "retire", "statut_precedent": before["statut"]})
        log(f"retiré du dépôt : {key} ({'ses données restent dans' if before['statut'] == 'importe' else 'aucune donnée importée dans'} "
            "l'espace de travail)")
    return removed


def _why_refused(key: str, problems: list[Problem]) -> str:
    """The first error of a refused file (`key`: its path in the drop folder), located (sheet,
    cell), how many others, on one line."""
    errors = [p for p in problems if p.gravite == ERREUR] or problems
    if not errors:
        return f"{key} : refusé sans motif"
    first = errors[0]
    where = key + first.location().removeprefix(first.fichier)  # the file by its path in the drop folder
    others = f" (et {fr_count(len(errors) - 1, 'autre erreur', 'autres erreurs')} : « acterr verifier » sur ce fichier les liste toutes)" if len(errors) > 1 else ""
    return " ".join(f"{where} : {first.message.removeprefix(f'{first.fichier} : ')}{others}".split())


def _compute(config: RunConfig, referentiel, report: dict, log: Log, progress: Progress) -> None:
    """Every level under one lock, as `acterr compute` does (each level's results written while
    the next is computed). A level's duration runs from the end of the one before (the first's
    includes waiting for the lock and loading the reference)."""
    t0 = time.monotonic()
    computations = api.compute_levels(config.espace, config.niveaux, config.exercice, referentiel=referentiel,
                                      wait_seconds=config.attendre, progress=progress)
    writes = []
    with closing(computations):
        for computation, write in computations:
            calculated = int((computation.results["statut"] == CALCULE).sum())  # a count, not a copy of millions of rows
            entry = {"niveau": computation.level, "resultats": computation.results.height, "calcules": calculated,
                     "duree_s": round(time.monotonic() - t0, 3)}
            report["calculs"].append(entry)
            writes.append((entry, write))
            log(f"calcul {computation.level} : {entry['resultats']} résultats ({calculated} calculés) en {_seconds(entry['duree_s'])}")
            del computation  # its results are being written: not kept while the next level is computed
            t0 = time.monotonic()
    # Every write is over here (a failed one has raised). Results not stored (a read-only workspace,
    # facts changed by an import meanwhile) are said in the journal and the run report: the next
    # export computes them again, which a nightly run's administrator should know.
    for entry, write in writes:
        entry["enregistre"] = (why := write.result()) is None
        if why:
            entry["non_enregistre"] = why
    for why in dict.fromkeys(e["non_enregistre"] for e, _ in writes if "non_enregistre" in e):
        levels = ", ".join(e["niveau"] for e, _ in writes if e.get("non_enregistre") == why)
        log(f"calcul {levels} : {why}")


def _reports(config: RunConfig, referentiel, report: dict, log: Log, progress: Progress) -> None:
    # The same inputs as `acterr export`: national headline figures, import warnings, the
    # référentiel actually used.
    from acterr_cli.outputs.html import write_page
    from acterr_cli.outputs.reports import ReportData, write_report

    for wanted in config.rapports:
        t0 = time.monotonic()
        with progress.step(f"Écriture du rapport {wanted['niveau']}"):
            inputs = api.report_inputs(config.espace, wanted["niveau"], referentiel, config.attendre)
            if wanted["format"] == "html":
                written = write_page(wanted["sortie"], ReportData.build(inputs, None, config.exercice))
            else:
                written = write_report(wanted["sortie"], inputs, config.exercice, referentiel=referentiel)
        entry = {"niveau": wanted["niveau"], "format": wanted["format"], "chemin": str(written.path),
                 "duree_s": round(time.monotonic() - t0, 3)}
        report["rapports"].append(entry)
        log(f"rapport {wanted['niveau']} : {written.path} en {_seconds(entry['duree_s'])}")


LINK = "lien symbolique : refusé (seuls les fichiers déposés dans le dossier sont lus, jamais ceux vers lesquels un lien mène)"
LINKED_FOLDER = "lien symbolique vers un dossier : refusé, son contenu n'est pas lu"
NOT_A_FILE = "ce n'est pas un fichier ordinaire (tube, périphérique…) : refusé"
OUTSIDE = "mène hors du dossier de dépôt : refusé"


def _drop_files(config: RunConfig) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files of the drop folder to import, and the entries refused with why (by their path in
    the folder): symbolic links, to a file or a folder, wherever they lead (the folder is open to
    the organisations; a link would let a file of the system be read and its cells quoted in
    messages), anything else that resolves outside the folder, and what is not a regular file (a
    named pipe would block the run). Folders are walked without following links."""
    depot = config.depot
    files, refused = [], []
    for folder, subfolders, names in os.walk(depot, followlinks=False):
        here = Path(folder)
        for name in list(subfolders):
            path = here / name
            if name.startswith(IGNORED_PREFIXES):
                subfolders.remove(name)
            elif path.is_symlink():
                subfolders.remove(name)
                refused.append((str(path.relative_to(depot)), LINKED_FOLDER))
        for name in names:
            path = here / name
            key = path.relative_to(depot)
            if not _wanted(key, config.motifs):
                continue
            if path.is_symlink():
                refused.append((str(key), LINK))
            elif not path.is_file():
                refused.append((str(key), NOT_A_FILE))
            elif not path.resolve().is_relative_to(depot):
                refused.append((str(key), OUTSIDE))
            else:
                files.append(path)
    return sorted(files), sorted(refused)


def _wanted(relative: Path, patterns: tuple[str, ...]) -> bool:
    """A file of the drop folder to import: its name matches a pattern (without case), and
    neither it nor a folder above it is hidden or an office lock file."""
    if any(part.startswith(IGNORED_PREFIXES) for part in relative.parts):
        return False
    return any(fnmatch.fnmatch(relative.name.lower(), pattern.lower()) for pattern in patterns)


def _read_state(espace: Path) -> dict:
    path = Path(espace) / STATE_FILE
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def _write_state(espace: Path, state: dict) -> None:
    Workspace.open(espace, create=True)
    atomic_write_bytes(Path(espace) / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=1).encode("utf-8"))


def _seconds(duration: float) -> str:
    """A duration for the log, the French way: « 2,3 s »."""
    return f"{duration:.1f} s".replace(".", ",")


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
