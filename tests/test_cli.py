"""The CLI: help everywhere, exit codes (the cron contract), JSON equal to the library result."""

import json

import builders
import pytest
from typer.testing import CliRunner

from acterr_cli import __version__, api
from acterr_cli.cli.app import app
from acterr_cli.outputs.rounding import rounded

runner = CliRunner()


def run(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


COMMANDS = [[], ["import"], ["verifier"], ["compute"], ["export"], ["executer"], ["referentiel"], ["territoire"], ["modele"],
            ["modele", "questionnaire"], ["modele", "verifier"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_french_help(command):
    """Our texts and the libraries' words around them (usage line, help option, defaults)."""
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Utilisation : acterr" in result.stdout and "Affiche cette aide et quitte." in result.stdout
    assert not any(english in result.stdout for english in ("Usage:", "Show this message", "[default:", "[required]", "COMMAND [ARGS]"))
    assert len(result.stdout.strip()) > 100


@pytest.mark.parametrize("args, french", [
    (["statut"], "commande inconnue « statut »"),
    (["compute", "--option-inconnue"], "option inconnue : --option-inconnue"),
    (["compute", "--exercice", "abc"], "valeur invalide pour --exercice : « abc » n'est pas un nombre entier"),
    (["import"], "argument manquant : FICHIERS"),
    (["compute", "--territoire"], "l'option --territoire attend une valeur"),
    (["compute", "en-trop"], "argument(s) en trop : en-trop"),
])
def test_usage_errors_are_told_in_french(args, french, monkeypatch, capsys):
    from acterr_cli.cli.app import main

    monkeypatch.setattr("sys.argv", ["acterr", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"Erreur d'utilisation : {french}" in err


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"acterr {__version__}"


def test_import_compute_json_equals_library(tmp_path, fixture_files):
    espace = tmp_path / "espace"
    result = run("--espace", espace, "import", *fixture_files)
    assert result.exit_code == 0, result.output
    assert "3 importés" in result.stderr
    result = run("--espace", espace, "compute", "--territoire", "epci", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    library = api.compute_level(espace, "EPCI")
    assert document["version"] == 1 and document["niveau"] == "EPCI"
    assert document["resultats"] == json.loads(json.dumps(rounded(library.results).to_dicts()))  # figures rounded by unit
    first = document["resultats"][0]
    assert set(first) >= {"indicateur", "libelle", "niveau", "code_territoire", "nom_territoire", "siren", "exercice",
                          "valeur", "valeur_basse", "valeur_haute", "unite", "couverture", "statut", "motif"}
    assert document["provenance"]["referentiel"]["version"]
    assert {e["fichier"] for e in document["provenance"]["entrees"]} == {"org_a.xlsx", "org_b.xlsx", "liasse.csv"}


def test_compute_one_territory_table(espace):
    result = run("--espace", espace, "compute", "--territoire", "EPCI", "--code", builders.TOULOUSE_METROPOLE)
    assert result.exit_code == 0, result.stderr
    assert "Toulouse Métropole" in result.stdout
    assert "10 100 000 €" in result.stdout.replace("\u202f", " ")


def test_workspace_from_environment(tmp_path, fixture_files):
    espace = tmp_path / "env-espace"
    result = run("import", *fixture_files, env={"ACTERR_ESPACE": str(espace)})
    assert result.exit_code == 0, result.output
    assert (espace / "manifest.json").exists()


def test_a_workspace_path_with_brackets_spaces_and_stars(tmp_path, fixture_files):
    """Paths are paths, never patterns: « [AR] » or « * » in a folder name is read as it is."""
    espace = tmp_path / "mon espace [AR] *"
    assert run("--espace", espace, "import", *fixture_files).exit_code == 0
    result = run("--espace", espace, "compute", "--territoire", "EPCI")
    assert result.exit_code == 0, result.output
    result = run("--espace", espace, "export", "--territoire", "EPCI", "--sortie", tmp_path / "rapport [v1].xlsx")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rapport [v1].xlsx").exists() and "rapport [v1].xlsx" in result.stdout
    # user text is shown as typed, never read as markup
    assert "« zz [b]inconnu[/b] »" in run("territoire", "zz [b]inconnu[/b]").output
    result = run("--espace", espace, "export", "--territoire", "EPCI", "--sortie", tmp_path / "rapport [v1].xlsx")
    assert "rapport [v1].xlsx existe déjà" in result.output


def test_exit_codes(tmp_path, espace):
    bad = tmp_path / "faux.xlsx"
    bad.write_text("pas un classeur")
    assert run("--espace", espace, "import", bad).exit_code == 3
    assert run("--espace", espace, "import", tmp_path / "absent.xlsx").exit_code == 3  # reported per file
    assert run("--espace", tmp_path / "vide", "compute").exit_code == 4  # no workspace there
    assert run("--espace", espace, "compute", "--territoire", "CANTON").exit_code == 2
    assert run("--espace", espace, "compute", "--option-inconnue").exit_code == 2
    assert run("territoire", "zzzz-inexistant").exit_code == 4
    # unknown territory or exercice: missing input (4), as the README says
    assert run("--espace", espace, "compute", "--code", "999999999").exit_code == 4
    result = run("--espace", espace, "compute", "--exercice", "2019")
    assert result.exit_code == 4 and "aucune donnée de l'exercice 2019" in result.output and "exercices importés : 2025" in result.output
    # a wrong --type is said once, as a usage error, not as every file refused
    result = run("--espace", espace, "import", "--type", "rplss", bad)
    assert result.exit_code == 2 and "attendu : questionnaire, liasse, rpls, loyers, qpv, sirene" in result.output
    result = run("--espace", espace, "import", tmp_path)
    assert result.exit_code == 3 and "c'est un dossier" in result.output


def test_import_error_message_names_file_sheet_and_cell(tmp_path):
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {"Patrimoine": [{"commune": "99999", "logements": 1}]})
    result = run("--espace", tmp_path / "espace", "import", path)
    assert result.exit_code == 3
    assert "q.xlsx, feuille Patrimoine, cellule A4" in result.stderr


def test_import_json_report(tmp_path):
    path = builders.write_questionnaire(tmp_path / "q.xlsx", builders.ORG_A, {"Patrimoine": [{"commune": "99999", "logements": 1}]})
    result = run("verifier", path, "--json")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["resume"]["refuses"] == 1
    assert document["fichiers"][0]["problemes"][0]["cellule"] == "A4"


def test_modele_questionnaire(tmp_path):
    target = tmp_path / "q.xlsx"
    assert run("modele", "questionnaire", "--sortie", target).exit_code == 0
    assert target.exists()
    assert run("modele", "questionnaire", "--sortie", target).exit_code == 2  # no silent overwrite
    assert run("modele", "questionnaire", "--sortie", target, "--forcer").exit_code == 0


def test_referentiel_json_lists_catalogue():
    result = run("referentiel", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    codes = {i["code"] for i in document["indicateurs"]}
    assert {"ECO-01", "ECO-06", "SOC-01", "PV-01", "ENV-01", "TER-05"} <= codes
    assert {p["nom"] for p in document["parametres"]} >= {"r_emplois_travaux", "avantage_loyer_national_mois"}


def test_territoire_lookup():
    result = run("territoire", "31555", "--json")
    assert result.exit_code == 0
    hit = json.loads(result.stdout)["resultats"][0]
    assert hit["nom"] == "Toulouse" and hit["epci"]["code"] == builders.TOULOUSE_METROPOLE
    text = run("territoire", "75111")
    assert "Paris" in text.stdout
    # a misspelt name also finds the communes spelt nearly like it, marked as such
    hits = json.loads(run("territoire", "Toulouze", "--json").stdout)["resultats"]
    assert any(h["code"] == "31555" and h["nom_proche"] for h in hits)
    text = run("territoire", "243100518").stdout
    assert "Toulouse Métropole — EPCI 243100518" in text and "37 communes ; métropole" in text


def test_expliquer_lets_a_reader_recompute_the_figure(espace):
    result = run("--espace", espace, "compute", "--expliquer", "ECO-06", "--territoire", "EPCI",
                 "--code", builders.TOULOUSE_METROPOLE, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    measures = {m["nom"]: m["valeur"] for m in doc["mesures"]}
    assert measures == {"invest_neuf_eur": 7_500_000, "invest_rehab_eur": 2_000_000, "gros_entretien_eur": 600_000}
    params = {p["nom"]: p["centrale"] for p in doc["parametres"]}
    assert params == {"r_emplois_travaux": 10, "part_travaux_ht_neuf": 0.62, "part_travaux_ht_rehab": 0.82}
    # the reader's computation on paper gives the result
    recomputed = (measures["invest_neuf_eur"] * params["part_travaux_ht_neuf"] + (
        measures["invest_rehab_eur"] + measures["gros_entretien_eur"]) * params["part_travaux_ht_rehab"]) / 1e6 * params["r_emplois_travaux"]
    assert doc["resultat"]["valeur"] == pytest.approx(recomputed)
    counted = {o["siren"]: o["compte"] for o in doc["organismes"]}
    assert counted == {builders.SIREN_A: True, builders.SIREN_B: False}
    assert {f["fichier"] for f in doc["fichiers"]} == {"org_a.xlsx", "org_b.xlsx", "liasse.csv"}
    text = run("--espace", espace, "compute", "--expliquer", "ECO-06", "--code", builders.TOULOUSE_METROPOLE)
    assert text.exit_code == 0 and "r_emplois_travaux" in text.stdout
    assert run("--espace", espace, "compute", "--expliquer", "ECO-06").exit_code == 2  # --code is needed
    assert run("--espace", espace, "compute", "--expliquer", "XYZ-9", "--code", "FR", "--territoire", "FRANCE").exit_code == 2


def test_real_entry_point_exit_codes(tmp_path):
    """Through `python -m acterr_cli` (main(), not CliRunner): the code cron sees."""
    import subprocess
    import sys

    def code(*args):
        return subprocess.run([sys.executable, "-m", "acterr_cli", *map(str, args)], capture_output=True).returncode

    assert code("--version") == 0
    assert code("--espace", tmp_path / "absent", "compute") == 4
    assert code("compute", "--option-inconnue") == 2
    assert code("territoire", "zzzz-inexistant") == 4


def test_a_full_disk_is_said_as_such_not_as_a_bug(tmp_path, monkeypatch, capsys):
    import errno

    from acterr_cli.cli.app import main
    from acterr_cli.workspace.store import Workspace

    espace = tmp_path / "espace"
    api.import_paths(espace, [builders.write_org_a(tmp_path)])

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(espace / "resultats"))

    monkeypatch.setattr(Workspace, "save_results", full)
    monkeypatch.setattr("sys.argv", ["acterr", "--espace", str(espace), "compute", "--territoire", "EPCI"])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and "lecture ou écriture impossible" in err and "plus de place sur le disque" in err
    assert "Erreur interne" not in err and "signalez" not in err


def test_progress_is_drawn_on_a_terminal_only():
    """Bars and spinners on a terminal; a cron log or a pipe gets nothing of them."""
    import io

    from rich.console import Console

    from acterr_cli.cli.progress import TerminalProgress, progress_for
    from acterr_cli.progress import SILENT

    assert progress_for(Console(file=io.StringIO(), force_terminal=False)) is SILENT
    screen = io.StringIO()
    progress = progress_for(Console(file=screen, force_terminal=True, width=100))
    assert isinstance(progress, TerminalProgress)
    with progress.files(3, "Lecture") as advance:
        advance(1)
        advance(2)
    with progress.step("Calcul du niveau EPCI"):
        pass
    with progress.step("Lecture de liasse [v2].csv"):  # a file name, not markup
        pass
    with progress.files(1, "Vérification") as advance:  # one file: a spinner, no bar
        assert advance is None
    drawn = screen.getvalue()
    assert "Lecture des fichiers" in drawn and "Calcul du niveau EPCI" in drawn and "liasse [v2].csv" in drawn
    assert "Vérification du fichier" in drawn
    with SILENT.files(3, "Lecture") as advance:
        assert advance is None


def test_an_unwritable_output_is_named_as_asked_not_by_its_temporary_file(tmp_path, monkeypatch):
    """The report folder refuses the write: the message names the report asked for."""
    import errno
    import tempfile

    from acterr_cli.common.atomic import atomic_write_bytes

    def refused(prefix, suffix, dir):
        raise OSError(errno.EACCES, "Permission denied", f"{dir}/{prefix}u99dj1mp{suffix}")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(OSError) as raised:
        atomic_write_bytes(tmp_path / "rapports" / "r.xlsx", b"x")
    assert raised.value.filename == str(tmp_path / "rapports" / "r.xlsx") and raised.value.errno == errno.EACCES
