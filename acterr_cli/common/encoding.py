"""The text of a CSV (or TOML) file as people save it, or a clear French error naming what it is;
TOML parsed with its errors said in French (`load_toml`).

Read: UTF-8 with or without BOM, UTF-16 and UTF-32 with BOM (Excel's « Texte Unicode », tab
separated, is UTF-16 LE with BOM: unambiguous, so it is read), and Windows-1252 / Latin-1 for
the rest. Refused, by name: UTF-16 without BOM (every other byte is NUL: it cannot be told from
its byte order for sure), a file that mixes UTF-8 with another encoding (some accents would come
out garbled), and binary files saved under a text name (a workbook, a PDF, a compressed file),
instead of the misleading « colonne introuvable » errors their garbled text would give."""

from __future__ import annotations

import codecs
import re
import tomllib

from acterr_cli.errors import InvalidDataError

_BOMS = (  # longest first: UTF-32 LE starts like UTF-16 LE
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_SIGNATURES = (  # binary formats people rename or save with a .csv name
    (b"PK\x03\x04", "un classeur Excel (.xlsx) ou une archive ZIP"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "un classeur Excel 97-2003 (.xls)"),
    (b"%PDF", "un document PDF"),
    (b"\x1f\x8b", "un fichier compressé (gzip)"),
    (b"PAR1", "un fichier Parquet"),
)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
FIX = "enregistrez-le en « CSV UTF-8 » (Excel : Enregistrer sous → CSV UTF-8 (délimité par des virgules))"


def decode_text(data: bytes, name: str, what: str = "fichier CSV") -> str:
    """`data` as text (see the module's note); InvalidDataError naming `name` otherwise."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise _refused(name, f"marqué {label} mais illisible dans cet encodage (octet {exc.start + len(bom) + 1})") from exc
    refuse_binary(data, name, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(data[: exc.start]) or _UTF8_MULTIBYTE.search(data[exc.end:]):
            line = data[: exc.start].count(b"\n") + 1
            raise _refused(name, f"mélange d'UTF-8 et d'un autre encodage (ligne {line} : des accents seraient mal lus)") from exc
    return data.decode("cp1252", errors="replace")  # one byte, one character: Latin-1 as Windows saves it


def refuse_binary(head: bytes, name: str, what: str = "fichier CSV") -> None:
    """Refuse, naming it, what is not single-byte or UTF-8 text: `head` is the file's start (a few
    kilobytes are enough: for files streamed by Polars, only they are read here). A BOM of
    UTF-16/32 is refused too: for the callers that cannot decode it (large files)."""
    for bom, _codec, label in _BOMS:
        if head.startswith(bom) and label != "UTF-8":
            raise _refused(name, f"encodé en {label}, qu'acterr ne lit pas pour ce {what}")
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            raise Unreadable(name, f"ce n'est pas un {what} mais {kind}.")
    sample = head[:4096]
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            raise _refused(name, "encodé en UTF-16 (petit-boutiste) sans marque d'ordre des octets")
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            raise _refused(name, "encodé en UTF-16 (gros-boutiste) sans marque d'ordre des octets")
        raise Unreadable(name, f"fichier binaire (octets nuls), pas un {what}.")


class Unreadable(InvalidDataError):
    """A file in an encoding acterr does not read, or not text at all: « NAME : why » (the import
    reports it under the « lecture » rule, see inputs/batch.py); `reason` without the name."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name} : {reason}")
        self.reason = reason


def _refused(name: str, why: str) -> Unreadable:
    return Unreadable(name, f"{why} ; {FIX}.")


class TomlError(ValueError):
    """A TOML file that cannot be read: its reason in French, without the file's name."""


def load_toml(data: bytes, name: str, what: str = "fichier TOML") -> dict:
    """A TOML file's content (decoded as `decode_text` does); TomlError in French otherwise,
    « ligne 3, colonne 8 : « = » attendu après la clé » rather than the parser's English."""
    try:
        return tomllib.loads(decode_text(data, name, what))
    except Unreadable as exc:
        raise TomlError(exc.reason.rstrip(".")) from exc
    except tomllib.TOMLDecodeError as exc:
        raise TomlError(f"TOML invalide, {toml_reason(exc)}") from exc


_TOML_REASONS = {
    "Cannot overwrite a value": "valeur déjà définie plus haut",
    "Escaped character is not a Unicode scalar value": "caractère échappé invalide",
    "Expected '=' after a key in a key/value pair": "« = » attendu après la clé",
    "Expected ']' at the end of a table declaration": "« ] » attendu à la fin du nom de la table",
    "Expected ']]' at the end of an array declaration": "« ]] » attendu à la fin du nom de la liste de tables",
    "Expected newline or end of document after a statement": "fin de ligne attendue après la valeur",
    "Invalid date or datetime": "date invalide",
    "Invalid hex value": "valeur hexadécimale invalide",
    "Invalid initial character for a key part": "caractère invalide au début d'une clé",
    "Invalid statement": "ligne invalide",
    "Invalid value": "valeur invalide (un texte s'écrit entre guillemets)",
    "Unclosed array": "liste non fermée (« ] » manquant)",
    "Unclosed inline table": "table non fermée (« } » manquant)",
    "Unescaped '\\' in a string": "« \\ » seul dans un texte (écrivez « \\\\ », ou le texte entre apostrophes)",
    "Unterminated string": "texte non fermé (guillemet manquant)",
}
_TOML_PATTERNS = (
    (re.compile(r"^Cannot declare (.+) twice$"), "{} déclaré deux fois"),
    (re.compile(r"^Cannot (?:mutate immutable namespace|redefine namespace) (.+)$"), "table {} déjà définie"),
    (re.compile(r"^Duplicate inline table key (.+)$"), "clé {} en double"),
    (re.compile(r"^(?:Found invalid|Illegal) character (.+)$"), "caractère interdit {}"),
)
_TOML_WHERE = re.compile(r"^(.*?) \(at (?:line (\d+), column (\d+)|end of document)\)$", re.S)


def toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    """The parser's message in French, with its line and column."""
    match = _TOML_WHERE.match(str(exc))
    text, line, column = (match.group(1), match.group(2), match.group(3)) if match else (str(exc), None, None)
    reason = _TOML_REASONS.get(text)
    for pattern, french in _TOML_PATTERNS if reason is None else ():
        if found := pattern.match(text):
            reason = french.format(found.group(1))
            break
    where = f"ligne {line}, colonne {column}" if line else "à la fin du fichier" if match else None
    return f"{where} : {reason or 'syntaxe invalide'}" if where else reason or "syntaxe invalide"
