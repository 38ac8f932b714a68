"""Text files in the encodings people save them in (common/encoding.py): UTF-8 with or without
BOM, UTF-16 with BOM (Excel « Texte Unicode », tab separated) and Latin-1 are read alike; UTF-16
without BOM, mixed encodings and binary files under a .csv name are refused with one French
message naming what they are — not the « colonne siren introuvable » their garbled text gave."""

import builders
import pytest
from typer.testing import CliRunner

from acterr_cli.cli.app import app
from acterr_cli.common.encoding import TomlError, decode_text, load_toml
from acterr_cli.errors import ERREUR, InvalidDataError
from acterr_cli.inputs.liasse import read_liasse
from acterr_cli.territory.reference import TerritorialReference

runner = CliRunner()
LIASSE_TEXT = "\n".join((builders.LIASSE_HEADER, builders.LIASSE_B.replace("Logis Test B", "Logis Équité B"))) + "\n"


def facts_of(tmp_path, name: str, data: bytes) -> dict:
    """The liasse's facts, without their provenance (file name, checksum)."""
    path = tmp_path / name
    path.write_bytes(data)
    parsed = read_liasse(path, TerritorialReference.load())
    assert parsed.units and not [p for p in parsed.problems if p.gravite == ERREUR], parsed.problems
    return {d: t.drop([c for c in t.columns if c.startswith("source_")]).to_dicts() for d, t in parsed.units[0].tables.items()}


@pytest.mark.parametrize("encoding, bom, tabs", [
    ("utf-16-le", b"\xff\xfe", True),   # Excel « Texte Unicode »
    ("utf-16-be", b"\xfe\xff", False),
    ("utf-8", b"\xef\xbb\xbf", False),
    ("cp1252", b"", False),
])
def test_a_liasse_in_each_readable_encoding_is_the_utf8_one(tmp_path, encoding, bom, tabs):
    text = LIASSE_TEXT.replace(";", "\t") if tabs else LIASSE_TEXT
    expected = facts_of(tmp_path, "reference.csv", LIASSE_TEXT.encode("utf-8"))
    assert facts_of(tmp_path, "liasse.csv", bom + text.replace("\n", "\r\n").encode(encoding)) == expected
    assert "Logis Équité B" in str(expected)


@pytest.mark.parametrize("data, named", [
    (LIASSE_TEXT.encode("utf-16-le"), "encodé en UTF-16 (petit-boutiste) sans marque d'ordre des octets"),
    (LIASSE_TEXT.encode("utf-16-be"), "encodé en UTF-16 (gros-boutiste) sans marque d'ordre des octets"),
    ("Équité;".encode("utf-8") + "é\n".encode("cp1252") + LIASSE_TEXT.encode("utf-8"), "mélange d'UTF-8 et d'un autre encodage (ligne 1"),
    (b"PK\x03\x04" + b"\x00" * 40, "ce n'est pas un fichier CSV mais un classeur Excel (.xlsx) ou une archive ZIP"),
    (b"%PDF-1.7\n" + b"\x00\x01" * 40, "ce n'est pas un fichier CSV mais un document PDF"),
    (b"\x01\x00\x02" * 30, "fichier binaire (octets nuls), pas un fichier CSV"),
])
def test_an_unreadable_encoding_is_named_once(tmp_path, data, named):
    path = tmp_path / "liasse.csv"
    path.write_bytes(data)
    result = runner.invoke(app, ["--espace", str(tmp_path / "espace"), "import", str(path)])
    assert result.exit_code == 3, result.output
    said = " ".join(result.stderr.split())
    assert named in said, said
    assert "introuvable" not in said and said.count(named) == 1
    assert not (tmp_path / "espace" / "manifest.json").exists()


def test_every_csv_reader_names_a_utf16_file_without_bom(tmp_path):
    """The public files (RPLS, loyers, QPV, SIRENE) and the liasse mapping: each says UTF-16."""
    data = "DEPCOM;QPV;TYPECONST\n31555;;C\n".encode("utf-16-le")
    for kind in ("rpls", "loyers", "qpv", "sirene"):
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(data)
        result = runner.invoke(app, ["--espace", str(tmp_path / "espace"), "import", "--type", kind, "--exercice", "2024", str(path)])
        said = " ".join(result.stderr.split())
        assert result.exit_code != 0 and "UTF-16 (petit-boutiste)" in said and "Traceback" not in said, (kind, said)
    mapping = tmp_path / "correspondance.toml"
    mapping.write_bytes('[colonnes]\nsiren = "SIREN"\n'.encode("utf-16-le"))
    result = runner.invoke(app, ["--espace", str(tmp_path / "espace"), "verifier", "--correspondance", str(mapping),
                                 str(builders.write_liasse(tmp_path))])
    said = " ".join(result.stderr.split())
    assert result.exit_code != 0 and "UTF-16 (petit-boutiste)" in said and "codec" not in said, said


def test_decode_and_toml_errors_in_french():
    assert decode_text("a;b\n".encode("utf-16"), "f.csv") == "a;b\n"  # with its BOM
    assert decode_text("é".encode("cp1252"), "f.csv") == "é"
    with pytest.raises(InvalidDataError, match="marqué UTF-16 mais illisible"):
        decode_text(b"\xff\xfe\x00\xd8", "f.csv")  # a lone surrogate
    assert load_toml('nom = "Équité"'.encode("utf-16"), "f.toml") == {"nom": "Équité"}
    for text, said in (('a = b', "ligne 1, colonne 5 : valeur invalide"), ("[x\n", "« ] » attendu"),
                       ('x = "abc', "texte non fermé"), ("a = 1 b = 2", "fin de ligne attendue")):
        with pytest.raises(TomlError, match=said):
            load_toml(text.encode(), "f.toml")


def test_configuration_and_referentiel_toml_mistakes_in_french(tmp_path):
    config = tmp_path / "acterr.toml"
    config.write_text('depot = "depot"\nespace = espace\n', encoding="utf-8")
    said = " ".join(runner.invoke(app, ["executer", str(config)]).stderr.split())
    assert "configuration TOML invalide, ligne 2, colonne 10 : valeur invalide" in said and "Invalid" not in said, said
    surcharge = tmp_path / "mes_parametres.toml"
    surcharge.write_bytes('[[parametre]\nnom = "x"\n'.encode("utf-16"))  # Notepad's « Unicode », and a bracket missing
    result = runner.invoke(app, ["--referentiel", str(surcharge), "referentiel"])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 5 and "TOML invalide, ligne 1" in said and "Expected" not in said, said
    (tmp_path / "espace").mkdir()
    (tmp_path / "espace" / "manifest.json").write_text('{"format": "acterr-espace",', encoding="utf-8")
    said = " ".join(runner.invoke(app, ["--espace", str(tmp_path / "espace"), "compute"]).stderr.split())
    assert "manifeste illisible (JSON invalide ligne 1, colonne 28)" in said and "Expecting" not in said, said
