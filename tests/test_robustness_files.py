"""Hostile files: refused (or read) within bounded memory and time, with a French message naming
what is wrong, never a traceback. The files are crafted here, byte by byte where needed."""

import io
import resource
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import builders
import pytest

from acterr_cli import api
from acterr_cli.errors import ERREUR
from acterr_cli.inputs import container

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 b'<Default Extension="xml" ContentType="application/xml"/>'
                 b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                 b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                 b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                 b'</Types>')
ROOT_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
             b'</Relationships>')
WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                 b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                 b'</Relationships>')
SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = b"</sheetData></worksheet>"


def xlsx(path: Path, rows, shared: list[str] = (), sheet: str = "Organisme", level: int = 6) -> Path:
    """A minimal xlsx by hand: `rows` yields the <row> elements (bytes), streamed into the zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK.format(name=sheet).encode())
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        strings = "".join(f"<si><t>{s}</t></si>" for s in shared)
        zf.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                                            f'spreadsheetml/2006/main" count="{len(shared)}" uniqueCount="{len(shared)}">{strings}</sst>')
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(SHEET_HEAD)
            for row in rows:
                fh.write(row)
            fh.write(SHEET_TAIL)
    return path


def ods(path: Path, content: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:'
                                             b'tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
                                             b'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                                             b'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                                             b'</manifest:manifest>')
        zf.writestr("content.xml", content)
    return path


def million_rows(path: Path) -> Path:
    rows = (b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 1_000_001))
    return xlsx(path, rows, level=1)


def bomb(path: Path) -> Path:
    """300 MB of blanks inside one sheet: a few hundred kB on disk."""
    def rows():
        blank = b" " * (1 << 20)
        for _ in range(300):
            yield blank
    return xlsx(path, rows(), level=9)


def lying_bomb(path: Path) -> Path:
    """70 MB that the zip directory declares as 1 kB (what a hand-made bomb does)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("xl/workbook.xml", WORKBOOK.format(name="Organisme").encode())
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + b" " * (70 << 20) + SHEET_TAIL)
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_length = struct.unpack_from("<H", data, start + (28 if signature == b"PK\x01\x02" else 26))[0]
            header = 46 if signature == b"PK\x01\x02" else 30
            if data[start + header:start + header + name_length] == b"xl/worksheets/sheet1.xml":
                struct.pack_into("<I", data, start + offset, 1024)
            start += 4
    path.write_bytes(bytes(data))
    return path


def huge_cell(path: Path) -> Path:
    """A 10 MB text in one cell (Excel stops at 32 767 characters)."""
    return xlsx(path, [b'<row r="2"><c r="B2" t="s"><v>0</v></c></row>'], shared=["x" * (10 << 20)])


def ods_repeat_bomb(path: Path) -> Path:
    """ODS stores « this row, 1 000 000 times »: a few bytes for 10⁹ filled cells."""
    row = (b'<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="1000" '
           b'office:value-type="float" office:value="1"/></table:table-row>')
    content = (b'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet>'
               b'<table:table table:name="Organisme">' + row + b"</table:table></office:spreadsheet></office:body></office:document-content>")
    return ods(path, content)


def truncated(path: Path) -> Path:
    whole = builders.write_org_a(path.parent, "entier.xlsx").read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    return path


def write(data: str | bytes):
    def maker(path: Path) -> Path:
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path
    return maker


def not_a_spreadsheet(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    return path


HOSTILE = {  # file name -> (maker, words the message must contain)
    "texte.xlsx": (write("siren;exercice\n900000001;2025\n"), "pas un classeur"),
    "vide.xlsx": (write(b""), "vide"),
    "document.pdf.xlsx": (write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "PDF"),
    "export_html.xls": (write("<html><table><tr><td>1</td></tr></table></html>"), "HTML"),
    "chiffre.xlsx": (write(container.CFB_MAGIC + b"\x00" * 4000), "mot de passe"),
    "pas_un_tableur.xlsx": (not_a_spreadsheet, "classeur"),
    "tronque.xlsx": (truncated, "incomplet"),
    "bombe.xlsx": (bomb, "décompresse"),
    "bombe_menteuse.xlsx": (lying_bomb, "endommagé"),
    "million_de_lignes.xlsx": (million_rows, "feuille Organisme : plus de 200 000 lignes ; ce n'est pas un questionnaire ni une liasse,"),
    "cellule_10_mo.xlsx": (huge_cell, "cellule B2"),
    "repetitions.ods": (ods_repeat_bomb, "cellules remplies"),
    "cellule_10_mo.csv": (write("siren;raison_sociale;exercice\n900000019;" + "x" * (10 << 20) + ";2025\n"), "32 767 caractères"),
    "million_de_lignes.csv": (write("siren;exercice\n" + "900000019;2025\n" * 1_000_000), "200 000 lignes"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostiles")
    return {name: maker(folder / name) for name, (maker, _) in HOSTILE.items()}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_with_a_message(hostile, name):
    report = api.verify_paths([hostile[name]])
    assert report.refused, name
    [problem] = [p for p in report.problems if p.gravite == ERREUR]
    assert HOSTILE[name][1] in " ".join(str(problem).split()), str(problem)  # str: file, sheet, cell and message
    assert problem.fichier == name


def test_hostile_files_leave_the_workspace_untouched(tmp_path, hostile):
    root = tmp_path / "espace"
    api.import_paths(root, [builders.write_org_b(tmp_path)])
    before = (root / "manifest.json").read_bytes()
    report = api.import_paths(root, list(hostile.values()))
    assert len(report.refused) == len(hostile)
    assert (root / "manifest.json").read_bytes() == before


def test_hostile_files_through_the_real_command_in_bounded_memory(hostile):
    """One process reads them all: exit code 3, no traceback, resident memory far below the
    inflated sizes (300 MB bomb, 10⁹-cell ODS, a million rows)."""
    done = subprocess.run([sys.executable, "-m", "acterr_cli", "verifier", *map(str, hostile.values())],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "Erreur interne" not in done.stderr
    assert f"{len(hostile)} refusés" in done.stderr
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mb < 1024, f"mémoire maximale {peak_mb:.0f} Mo"


def test_a_large_but_honest_sheet_is_read(tmp_path):
    """Bounds must not refuse real files: 20 000 purchase lines are read."""
    rows = [{"commune_fournisseur": "31555", "nature": "Gros entretien", "montant_ht_eur": 100 + i % 7} for i in range(20_000)]
    path = builders.write_questionnaire(tmp_path / "gros.xlsx", builders.ORG_A, {"Achats": rows})
    report = api.verify_paths([path])
    assert not report.refused
    assert report.fichiers[0].organismes[0]["feuilles"]["achats"] == 20_000


def test_ods_hidden_rows_numbered_through_groups_and_one_tag_rows(tmp_path):
    """Rows grouped (Data › Group) and empty rows written as one tag keep the numbering; a file of
    many sheets of hidden repeated rows notes MAX_ROWS row numbers at most, not per sheet."""
    from acterr_cli.inputs.container import MAX_ROWS, inspect_workbook

    def sheet(name: str, body: str) -> str:
        return f'<table:table table:name="{name}">{body}</table:table>'

    def row(attributes: str = "") -> str:
        return (f'<table:table-row{attributes}><table:table-cell office:value-type="string"><text:p>x</text:p>'
                '</table:table-cell></table:table-row>')

    def content(*sheets: str) -> bytes:
        return ('<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
                f'<office:body><office:spreadsheet>{"".join(sheets)}</office:spreadsheet></office:body></office:document-content>').encode()

    grouped = sheet("S", row() + '<table:table-row-group table:display="false">'
                    + row(' table:number-rows-repeated="2" table:visibility="collapse"') + row(' table:visibility="collapse"')
                    + "</table:table-row-group>" + '<table:table-row table:number-rows-repeated="3"/>' + row(' table:visibility="filter"'))
    after = sheet("T", row() + row(' table:visibility="filter"'))
    scan = inspect_workbook(ods(tmp_path / "groupes.ods", content(grouped, after)))
    assert scan.hidden_rows == {"S": [2, 3, 4, 8], "T": [2]}

    many = [sheet(f"F{i}", row(f' table:number-rows-repeated="{MAX_ROWS}" table:visibility="collapse"')) for i in range(20)]
    scan = inspect_workbook(ods(tmp_path / "masquees.ods", content(*many)))
    assert sum(map(len, scan.hidden_rows.values())) == MAX_ROWS
