"""Safety checks on a workbook file before the calamine engine opens it.

Workbooks arrive by e-mail from many organisations and are imported at night, unattended: a file
that is not a workbook, a truncated download, a « zip bomb » (a few kB that inflate to gigabytes),
a sheet of a million rows must be refused with a message, in bounded time and memory, never
crash the run. An xlsx or ods file is a zip archive: its members are inflated here once, in
chunks, counting the real sizes (the sizes declared in the zip directory may lie) and, for xlsx
worksheets, the rows, the cells holding an Excel error and the formulas saved without their
computed value; for xlsx and ods sheets, the rows hidden by hand or by a filter. A member that
is not a worksheet is not inflated when it cannot exceed the limits whatever it holds: deflate
cannot inflate more than 1 032 times, and the compressed size bounds what any reader (calamine
included) feeds to the decompressor.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from acterr_cli.errors import InvalidDataError

MAX_FILE_BYTES = 50 * 1024 * 1024  # a questionnaire is ~30 kB, a regional liasse < 1 MB
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one inflated sheet, shared strings… (≈ 1 M cells)
MAX_TOTAL_BYTES = 160 * 1024 * 1024
MAX_ROWS = 200_000  # a questionnaire sheet beyond this is refused (bounded memory)
MAX_REPORTED_FORMULAS = 200
_CHUNK = 1 << 20

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97–2003 (.xls), or an encrypted xlsx

# A cell whose only content is a formula, without the <v> value a spreadsheet stores on save.
_CELL = re.compile(rb"<c\b([^>]*)>(.*?)</c>", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
# A cell holding an Excel error (« #DIV/0! »): calamine gives it as an empty cell.
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>/]*)>(.*?)</c>', re.S)
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)
# A row hidden by hand or by a filter (Excel writes hidden="1", LibreOffice hidden="true").
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
_ROW_NUMBER = re.compile(rb'\br="([0-9]{1,7})"')
MAX_DEFLATE_RATIO = 1032
KEPT_BYTES = 256 * 1024  # xlsx worksheets up to this size are kept inflated (number formats are looked up in them)
STYLES = "xl/styles.xml"
# In document order (rows are numbered per sheet): a sheet's start and name; an empty row written
# as one tag; a row and its cells. Not the tags that group rows (table:table-row-group).
_ODS_SHEET_OR_ROW = re.compile(
    rb'<table:table\s[^>]*?table:name="([^"]*)"'
    rb'|<table:table-row(?=[\s/>])([^>]*?)/>'
    rb'|<table:table-row(?=[\s/>])([^>]*)>(.*?)</table:table-row>', re.S)
# A row hidden by hand (collapse) or by a filter.
_ODS_HIDDEN = re.compile(rb'\btable:visibility="(?:collapse|filter)"')
_ODS_REPEAT = re.compile(rb'number-(?:rows|columns)-repeated="([0-9]+)"')
MAX_ODS_CELLS = 5_000_000


@dataclass
class ContainerScan:
    """What the scan learnt: rows per sheet (xlsx), cells holding a formula without value, and
    cells holding an Excel error (reference → what Excel shows, « #N/A »). `errors_known` tells
    whether the errors were read here (xlsx) or must be asked to calamine (ods, xls)."""

    rows: dict[str, int] = field(default_factory=dict)
    formulas_without_value: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    errors_known: bool = False
    hidden_rows: dict[str, list[int]] = field(default_factory=dict)  # sheet -> row numbers (xlsx, ods)
    members: dict[str, str] = field(default_factory=dict)  # xlsx worksheet member -> sheet name
    kept: dict[str, bytes] = field(default_factory=dict)  # small xlsx members the reader needs again (styles, sheets)


def inspect_workbook(path: Path, data: bytes | None = None) -> ContainerScan:
    """Refuse what calamine should never see; return what the reader needs to know. `data`: the
    file's bytes when the caller has read them already."""
    path = Path(path)
    size = path.stat().st_size if data is None else len(data)
    if size == 0:
        raise InvalidDataError(f"{path.name} : le fichier est vide.")
    if size > MAX_FILE_BYTES:
        raise InvalidDataError(f"{path.name} : fichier de {size / 1e6:.0f} Mo, trop volumineux pour un questionnaire ou une liasse "
                               f"(limite {MAX_FILE_BYTES // (1024 * 1024)} Mo).")
    if data is None:
        with open(path, "rb") as fh:
            head = fh.read(512)
    else:
        head = data[:512]
    if head.startswith(CFB_MAGIC):
        if path.suffix.lower() in (".xlsx", ".xlsm"):  # an xlsx wrapped this way is encrypted
            raise InvalidDataError(f"{path.name} : classeur protégé par un mot de passe (ou ancien format .xls renommé) ; "
                                   "enregistrez-le sans mot de passe au format .xlsx.")
        return ContainerScan()  # .xls: calamine reads it; its size is already bounded
    if not head.startswith(ZIP_MAGIC):
        raise InvalidDataError(f"{path.name} : ce fichier n'est pas un classeur Excel ({_guess(head)}). "
                               "Ouvrez-le dans Excel ou LibreOffice et enregistrez-le au format .xlsx.")
    try:
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as zf:
            return _scan_zip(zf, path.name, data)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise InvalidDataError(f"{path.name} : classeur endommagé ou incomplet (téléchargement interrompu ?) ; "
                               f"demandez à nouveau le fichier ({type(exc).__name__}).") from exc


def _guess(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"%pdf"):
        return "c'est un PDF"
    if text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
        return "c'est une page HTML ou XML portant une extension de classeur"
    if all(32 <= b < 127 or b in b"\t\r\n" or b >= 128 for b in head[:200]):
        return "c'est un fichier texte, peut-être un CSV : renommez-le en .csv"
    return "contenu non reconnu"


def _scan_zip(zf: zipfile.ZipFile, name: str, data: bytes | None = None) -> ContainerScan:
    infos = zf.infolist()
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_BYTES or any(i.file_size > MAX_MEMBER_BYTES for i in infos):
        raise _bomb(name, declared)
    sheets = xlsx_sheet_members(zf)
    scan = ContainerScan(errors_known=bool(sheets), members=sheets)
    total = 0
    for info in infos:
        sheet = sheets.get(info.filename)
        if info.filename == "content.xml":
            total += _scan_ods_content(zf, info, name, total, scan)
        elif info.filename == STYLES and sheets and info.file_size <= KEPT_BYTES:
            total += _scan_member(zf, info, name, total, scan, None, data)
        elif sheet is None and _bounded(info) and total + _inflated_bound(info) <= MAX_TOTAL_BYTES:
            total += _inflated_bound(info)
        else:
            total += _scan_member(zf, info, name, total, scan, sheet, data)
    return scan


def _inflated_bound(info: zipfile.ZipInfo) -> int:
    return info.compress_size if info.compress_type == zipfile.ZIP_STORED else info.compress_size * MAX_DEFLATE_RATIO


def _bounded(info: zipfile.ZipInfo) -> bool:
    """A member whose inflated size cannot exceed the limit, without inflating it."""
    return info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) and _inflated_bound(info) <= MAX_MEMBER_BYTES


def _bomb(name: str, size: int) -> InvalidDataError:
    return InvalidDataError(
        f"{name} : le classeur se décompresse en plus de {MAX_TOTAL_BYTES // (1024 * 1024)} Mo ({size / 1e6:.0f} Mo annoncés) ; "
        "ce n'est pas un questionnaire ni une liasse (fichier piégé ou mal exporté), il est refusé.")


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, total_before: int):
    """The member's inflated bytes, chunk by chunk, stopping as soon as a limit is crossed."""
    read = 0
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            read += len(chunk)
            if read > MAX_MEMBER_BYTES or total_before + read > MAX_TOTAL_BYTES:
                raise _bomb(name, total_before + read)
            yield chunk


def _small_member(data: bytes | None, info: zipfile.ZipInfo) -> bytes | None:
    """A member of at most one chunk inflated in one go from the file's bytes (most members of a
    questionnaire), its size and checksum checked; None when it must go through zipfile."""
    if data is None or info.file_size > _CHUNK or info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    offset = info.header_offset
    if data[offset:offset + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"en-tête local absent ({info.filename})")
    start = offset + 30 + sum(struct.unpack_from("<HH", data, offset + 26))
    packed = memoryview(data)[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        inflated = bytes(packed)
    else:
        inflater = zlib.decompressobj(-15)
        inflated = inflater.decompress(packed, info.file_size + 1)  # never more than announced: a lying size is damage
        if not inflater.eof:
            raise zipfile.BadZipFile(f"taille annoncée fausse ({info.filename})")
    if len(inflated) != info.file_size or zlib.crc32(inflated) != info.CRC:
        raise zipfile.BadZipFile(f"contenu endommagé ({info.filename})")
    return inflated


def _scan_member(zf, info, name: str, total_before: int, scan: ContainerScan, sheet: str | None, data: bytes | None = None) -> int:
    size, rows, tail, chunks = 0, 0, b"", []
    small = _small_member(data, info)
    for chunk in [small] if small is not None else _chunks(zf, info, name, total_before):
        size += len(chunk)
        if size <= KEPT_BYTES:
            chunks.append(chunk)
        if sheet is None:
            continue
        buffer = tail + chunk if tail else chunk
        cut = buffer.rfind(b"</c>") + 4 if b"</c>" in buffer else 0
        # Rows are counted in sheets that may hold too many (a row takes 4 bytes at least); the
        # reader checks the count again after loading at most MAX_ROWS + 1 rows.
        if size > _CHUNK or info.file_size > 4 * MAX_ROWS:
            rows += buffer.count(b"<row", 0, cut)
        _formulas_without_value(buffer, cut, scan.formulas_without_value.setdefault(sheet, []))
        _error_cells(buffer, cut, scan.errors.setdefault(sheet, {}))
        _hidden_rows(buffer, cut, scan.hidden_rows.setdefault(sheet, []))
        tail = buffer[cut:]
        if len(tail) > 8 * _CHUNK:  # a single « cell » of megabytes: not what a spreadsheet writes
            raise InvalidDataError(f"{name}, feuille {sheet} : structure de feuille anormale (cellule de plusieurs Mo).")
        if rows > MAX_ROWS:
            break
    if sheet is not None:
        scan.rows[sheet] = rows + tail.count(b"<row")
    if size <= KEPT_BYTES and (sheet is not None or info.filename == STYLES):
        scan.kept[info.filename] = b"".join(chunks)
    return size


def _formulas_without_value(xml: bytes, end: int, found: list[str]) -> None:
    # A sheet with formulas has a closing </f> (shared formulas too: their first cell holds the text).
    if len(found) >= MAX_REPORTED_FORMULAS or xml.find(b"</f>", 0, end) < 0:
        return
    for match in _CELL.finditer(xml, 0, end):
        inner = match.group(2)
        if b"<f" in inner and b"<v>" not in inner and b"<is>" not in inner:
            ref = _REF.search(match.group(1))
            if ref:
                found.append(ref.group(1).decode())
                if len(found) >= MAX_REPORTED_FORMULAS:
                    return


def _error_cells(xml: bytes, end: int, found: dict[str, str]) -> None:
    if xml.find(b't="e"', 0, end) < 0:
        return
    for match in _ERROR_CELL.finditer(xml, 0, end):
        ref, value = _REF.search(match.group(1)), _VALUE.search(match.group(2))
        if ref:
            shown = value.group(1).decode("utf-8", "replace").strip() if value else ""
            found[ref.group(1).decode()] = shown or "#ERREUR"


def _hidden_rows(xml: bytes, end: int, found: list[int]) -> None:
    # All of them (at most MAX_ROWS): the reader keeps those holding data, which may come after
    # hundreds of empty hidden rows.
    if xml.find(b"hidden=", 0, end) < 0:
        return
    for match in _HIDDEN_ROW.finditer(xml, 0, end):
        number = _ROW_NUMBER.search(match.group(0))
        if number:
            found.append(int(number.group(1)))


def _scan_ods_content(zf, info, name: str, total_before: int, scan: ContainerScan) -> int:
    """ODS compresses repeated rows and cells as a count: a few bytes can stand for billions of
    cells. Refuse counts of repeated cells *with a value* beyond MAX_ODS_CELLS. Rows holding a
    value and hidden by hand or by a filter are noted (row numbers counted as LibreOffice shows
    them: a repeated row counts as many times as it is repeated)."""
    size, cells, tail, sheet, row_number, noted = 0, 0, b"", None, 0, 0
    too_many = InvalidDataError(f"{name} : la feuille déclare plus de {MAX_ODS_CELLS:,} cellules remplies ; "
                                "ce n'est pas un questionnaire ni une liasse.".replace(",", " "))
    for chunk in _chunks(zf, info, name, total_before):
        size += len(chunk)
        buffer = tail + chunk
        cut = buffer.rfind(b"</table:table-row>") + len(b"</table:table-row>") if b"</table:table-row>" in buffer else 0
        for match in _ODS_SHEET_OR_ROW.finditer(buffer, 0, cut):
            if match.group(1) is not None:  # a new sheet
                sheet, row_number = _unescape(match.group(1).decode("utf-8", "replace")), 0
                continue
            attributes, content = (match.group(2), b"") if match.group(2) is not None else (match.group(3), match.group(4))
            repeat = _repeat(attributes)
            if b"office:value-type" in content:
                cells += repeat * max(1, _valued_cells(content))
                if cells > MAX_ODS_CELLS:
                    raise too_many
                if sheet is not None and _ODS_HIDDEN.search(attributes):
                    # at most MAX_ROWS row numbers for the whole file, whatever its number of sheets
                    take = min(repeat, MAX_ROWS - noted)
                    scan.hidden_rows.setdefault(sheet, []).extend(range(row_number + 1, row_number + 1 + take))
                    noted += take
            row_number += repeat
        tail = buffer[cut:]
        if len(tail) > 8 * _CHUNK:
            raise too_many
    return size


def _repeat(attributes: bytes) -> int:
    match = _ODS_REPEAT.search(attributes)
    return int(match.group(1)) if match else 1


def _valued_cells(row: bytes) -> int:
    return sum(_repeat(cell) for cell in re.findall(rb"<table:table-cell\b([^>]*office:value-type[^>]*)>", row))


def xlsx_sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member → sheet name, from workbook.xml and its relationships (xlsx only)."""
    try:
        workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update({rid: t for t, rid in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
    members = {}
    for sheet, rid in re.findall(r'<(?:\w+:)?sheet\b[^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook):
        target = targets.get(rid)
        if target:
            member = target.lstrip("/") if target.startswith("/") else "/".join(p for p in f"xl/{target}".split("/") if p not in ("", "."))
            members[member] = _unescape(sheet)
    return members


def _unescape(name: str) -> str:
    return (name.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))
