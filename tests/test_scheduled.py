"""`acterr executer`: the cron scenario, twice in a row, with good, changed, unchanged and broken files."""

import json
import os
import shutil

import builders
import pytest
from typer.testing import CliRunner

from acterr_cli.cli.app import app

runner = CliRunner()


@pytest.fixture
def setup(tmp_path):
    base = tmp_path / "ar"
    depot = base / "depot"
    builders.write_all(depot)
    (depot / "casse.xlsx").write_text("pas un classeur")
    (depot / "notes.txt").write_text("ignored: not a pattern")
    config = base / "acterr.toml"
    config.write_text(
        'espace = "espace"\ndepot = "depot"\njournal = "journal/execution.json"\n'
        '[calcul]\nniveaux = ["EPCI", "FRANCE"]\n'
        '[[rapports]]\nniveau = "EPCI"\nsortie = "rapports/rapport_epci.xlsx"\n', encoding="utf-8")
    return base, depot, config


def execute(config):
    result = runner.invoke(app, ["executer", str(config), "--json"])
    return result, json.loads(result.stdout)


def statuses(report):
    return {f["fichier"]: f["statut"] for f in report["fichiers"]}


def test_two_runs_in_a_row(setup, tmp_path):
    base, depot, config = setup
    result, report = execute(config)
    assert result.exit_code == 3  # one file refused
    assert statuses(report) == {"org_a.xlsx": "importe", "org_b.xlsx": "importe", "liasse.csv": "importe", "casse.xlsx": "refuse"}
    assert [c["niveau"] for c in report["calculs"]] == ["EPCI", "FRANCE"]
    assert all(c["enregistre"] for c in report["calculs"])
    assert (base / "rapports" / "rapport_epci.xlsx").exists()
    assert json.loads((base / "journal" / "execution.json").read_text("utf-8"))["code_sortie"] == 3
    assert "acterr : dépôt : 4 fichiers, 4 nouveaux ou modifiés" in result.stderr
    # the log names the refused file and why, on one line
    assert "acterr : refusé : casse.xlsx : ce fichier n'est pas un classeur Excel (c'est un fichier texte" in result.stderr
    summary = {k: v for k, v in report["depot_resume"].items() if k != "duree_import_s"}
    assert summary == {"vus": 4, "importes": 3, "inchanges": 0, "refuses": 1, "refuses_restes_tels_quels": 0, "retires": 0}

    # Night 2: A's workbook changed, the broken file replaced by a good one, the rest unchanged.
    builders.write_questionnaire(depot / "org_a.xlsx", {**builders.ORG_A, "etp_total": 21}, builders.TABLES_A)
    (depot / "casse.xlsx").unlink()
    shutil.copy(builders.write_org_c(tmp_path), depot / "org_c.xlsx")
    result, report = execute(config)
    assert result.exit_code == 0, result.output
    assert statuses(report) == {"org_a.xlsx": "importe", "org_b.xlsx": "inchange", "liasse.csv": "inchange", "org_c.xlsx": "importe",
                                "casse.xlsx": "retire"}
    assert report["code_sortie"] == 0 and report["duree_s"] > 0
    assert report["depot_resume"]["vus"] == 4 and report["depot_resume"]["inchanges"] == 2 and report["depot_resume"]["importes"] == 2
    assert report["depot_resume"]["retires"] == 1
    assert "acterr : retiré du dépôt : casse.xlsx (aucune donnée importée dans l'espace de travail)" in result.stderr
    # said once: the next night, nothing about it
    result, report = execute(config)
    assert "casse.xlsx" not in result.stderr and "casse.xlsx" not in statuses(report)
    # a drop folder empty one night (a share not mounted): nothing forgotten, nothing re-imported after
    moved = tmp_path / "ailleurs"
    depot.rename(moved)
    depot.mkdir()
    result, report = execute(config)
    assert "dépôt vide alors que 4 fichiers y étaient : rien n'est oublié" in result.stderr and report["depot_resume"]["retires"] == 0
    depot.rmdir()
    moved.rename(depot)
    result, report = execute(config)
    assert set(statuses(report).values()) == {"inchange"}


def test_unchanged_broken_file_keeps_the_run_refused(setup):
    _, _, config = setup
    execute(config)
    result, report = execute(config)
    assert result.exit_code == 3
    assert set(statuses(report).values()) == {"inchange"}
    assert report["depot_resume"]["refuses_restes_tels_quels"] == 1 and report["depot_resume"]["refuses"] == 0
    # each night the log and the run report say which file keeps the run « with refusals », and why
    broken = next(f for f in report["fichiers"] if f["fichier"] == "casse.xlsx")
    assert broken["statut_precedent"] == "refuse" and broken["motif"].startswith("casse.xlsx : ce fichier n'est pas un classeur Excel")
    line = next(line for line in result.stderr.splitlines() if "toujours refusé" in line)
    assert line.endswith(f"toujours refusé (inchangé depuis le refus du {broken['refuse_le'][:10]}) : {broken['motif']}")


def test_paths_cannot_leave_the_configuration_folder(tmp_path):
    config = tmp_path / "acterr.toml"
    config.write_text('depot = "depot"\n[[rapports]]\nsortie = "../../etc/rapport.xlsx"\n', encoding="utf-8")
    result = runner.invoke(app, ["executer", str(config)])
    assert result.exit_code == 5
    assert "sort du dossier de la configuration" in result.stderr


def test_busy_workspace_is_reported(setup):
    base, _, config = setup
    from acterr_cli.workspace.store import Workspace

    execute(config)
    with Workspace.open(base / "espace").locked():
        builders.write_questionnaire(base / "depot" / "org_a.xlsx", {**builders.ORG_A, "etp_total": 22}, builders.TABLES_A)
        result, report = execute(config)
    assert result.exit_code == 4
    assert "utilisé par un autre processus" in report["erreur"]


def test_a_second_run_meanwhile_stops_with_a_clear_message(setup):
    """Cron starts the next run while the last one still works: the second waits `attendre`
    seconds (0 here), then stops without touching anything, exit code 4."""
    base, _, config = setup
    from acterr_cli.scheduled import RUN_LOCK
    from acterr_cli.workspace.store import exclusive

    (base / "espace").mkdir(exist_ok=True)
    with exclusive(base / "espace" / RUN_LOCK, 0, "occupé ({})"):
        result, report = execute(config)
    assert result.exit_code == 4
    assert "une autre exécution planifiée" in report["erreur"] and f"pid {os.getpid()}" in report["erreur"]
    assert report["fichiers"] == [] and report["calculs"] == []
    assert not (base / "espace" / "manifest.json").exists()  # nothing imported
    result, report = execute(config)  # once the first is over, the next run does the work
    assert result.exit_code == 3 and report["calculs"]


def test_a_workspace_path_with_braces_and_a_workspace_that_is_a_file(tmp_path):
    """The busy message names a path holding braces as it is; a workspace that is a file is a
    configuration error (exit 5), told in the run report like any other."""
    base = tmp_path / "ar{x}"
    (base / "depot").mkdir(parents=True)
    builders.write_org_a(base / "depot")
    config = base / "acterr.toml"
    config.write_text('espace = "espace"\ndepot = "depot"\njournal = "journal.json"\n', encoding="utf-8")
    from acterr_cli.scheduled import RUN_LOCK
    from acterr_cli.workspace.store import exclusive

    (base / "espace").mkdir()
    with exclusive(base / "espace" / RUN_LOCK, 0, "occupé ({})"):
        result, report = execute(config)
    assert result.exit_code == 4 and f"{base / 'espace'}" in report["erreur"]
    shutil.rmtree(base / "espace")
    (base / "espace").write_text("pas un dossier")
    result, report = execute(config)
    assert result.exit_code == 5 and "doit être un dossier" in report["erreur"]
    assert json.loads((base / "journal.json").read_text("utf-8"))["code_sortie"] == 5


@pytest.mark.parametrize("text, words", [
    ('depot = "depot"\nattendr = 5\n', "clé inconnue « attendr »"),
    ('depot = "depot"\n[calcul]\nniveau = ["REGION"]\n', "clé inconnue « niveau » dans calcul (clés possibles : niveaux, exercice)"),
    ('depot = "depot"\nattendre = "dix"\n', "attendre : un nombre est attendu, pas « dix »"),
    ('depot = "depot"\nattendre = true\n', "attendre : un nombre est attendu, pas true"),
    ('depot = "depot"\n[calcul]\nniveaux = "EPCI"\n', "calcul.niveaux : une liste [ … ] est attendue"),
    ('depot = "depot"\n[rapports]\nniveau = "EPCI"\nsortie = "r.xlsx"\n', "rapports : une liste [ … ] est attendue, pas une section "
                                                                          "(chaque rapport s'écrit dans une section [[rapports]]"),
    ('depot = "depot"\n[calcul]\nniveaux = ["EPCII"]\n', "calcul.niveaux : niveau de territoire inconnu « EPCII »"),
    ('depot = "depot"\n[[rapports]]\nniveau = "CANTON"\nsortie = "r.xlsx"\n', "rapports n° 1 : niveau : niveau de territoire inconnu « CANTON »"),
    ('espace = "espace"\n', "clé obligatoire manquante : depot"),
])
def test_a_mistake_in_the_configuration_stops_before_anything_with_code_5(tmp_path, text, words):
    """A typo never falls back silently to a default, and is caught before the drop folder is
    read: exit 5, a dated log line, and a run report on --json."""
    (tmp_path / "depot").mkdir()
    config = tmp_path / "acterr.toml"
    config.write_text(text, encoding="utf-8")
    result, report = execute(config)
    assert result.exit_code == 5 and report["code_sortie"] == 5
    assert words in report["erreur"], report["erreur"]
    assert " acterr : arrêt : acterr.toml : configuration invalide" in result.stderr
    assert not (tmp_path / "espace").exists()


def test_drop_folder_files_by_extension_without_case_and_never_lock_files(setup):
    """.ods and .xls questionnaires are seen, extensions in capitals too; the lock files an open
    workbook leaves beside it (~$…, .~lock…#) and hidden files are not inputs."""
    base, depot, config = setup
    (depot / "org_a.xlsx").rename(depot / "ORG_A.XLSX")
    (depot / "~$org_b.xlsx").write_bytes(b"")
    (depot / ".~lock.org_b.xlsx#").write_text("verrou")
    (depot / ".cache").mkdir()
    (depot / ".cache" / "vieux.xlsx").write_text("pas un classeur")
    (depot / "autre.ods").write_text("pas un classeur")
    result, report = execute(config)
    assert set(statuses(report)) == {"ORG_A.XLSX", "org_b.xlsx", "liasse.csv", "casse.xlsx", "autre.ods"}
    assert statuses(report)["ORG_A.XLSX"] == "importe" and statuses(report)["autre.ods"] == "refuse"


def test_a_first_night_with_only_refused_files_says_so_with_code_3(tmp_path):
    """Nothing imported yet and every file refused: no calculation to try, and the refusals, not
    an empty workspace, give the exit code; with an empty drop folder, code 4."""
    base = tmp_path / "ar"
    (base / "depot").mkdir(parents=True)
    (base / "depot" / "casse.xlsx").write_text("pas un classeur")
    config = base / "acterr.toml"
    config.write_text('depot = "depot"\n', encoding="utf-8")
    result, report = execute(config)
    assert result.exit_code == 3 and report["calculs"] == []
    assert "aucune donnée dans l'espace de travail : calculs et rapports non faits" in result.stderr
    (base / "depot" / "casse.xlsx").unlink()
    result, report = execute(config)
    assert result.exit_code == 4 and report["code_sortie"] == 4


def test_results_not_stored_are_said_in_the_journal_and_the_run_report(setup, monkeypatch):
    """A compute whose results could not be stored (here: facts changed by an import meanwhile,
    as the store says it) still runs, and the night's administrator reads why."""
    from acterr_cli.workspace.store import Workspace

    why = "les données ont été modifiées par un import pendant le calcul : résultats non enregistrés"
    monkeypatch.setattr(Workspace, "save_results", lambda self, *args, **kwargs: why)
    base, depot, config = setup
    result, report = execute(config)
    assert result.exit_code == 3  # the broken workbook of the drop folder, as in the first night
    assert [(c["niveau"], c["enregistre"], c["non_enregistre"]) for c in report["calculs"]] == [("EPCI", False, why), ("FRANCE", False, why)]
    assert f"acterr : calcul EPCI, FRANCE : {why}" in result.stderr  # said once for both levels
