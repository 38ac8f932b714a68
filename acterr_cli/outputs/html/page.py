"""The whole page: one self-contained HTML file, in French, from a `ReportData`.

Inline CSS and SVG; a little inline JavaScript sorts the tables and shows a map shape's figure on
a tap (the page reads fully without it). The Content-Security-Policy in the page allows nothing
but its own style and script, by their SHA-256: the page loads nothing from elsewhere, and a
string from the data that escaped escaping could still not run."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from acterr_cli.common.atomic import atomic_write_bytes
from acterr_cli.outputs.html import provenance, sections
from acterr_cli.outputs.html.markup import esc
from acterr_cli.outputs.reports.model import ReportData
from acterr_cli.outputs.reports.synthese import context_line

HERE = Path(__file__).parent


@dataclass
class WrittenPage:
    path: Path
    size: int  # bytes
    sections: list[str]  # ids of the page's sections, in order
    map_shapes: int = 0


@cache
def _asset(name: str) -> str:
    return (HERE / name).read_text("utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def build_page(data: ReportData) -> tuple[str, list[str], int]:
    """The page's text, the ids of its sections, and the number of shapes on its map."""
    from acterr_cli.outputs.html import svgmap

    drawn = svgmap.map_section(data)
    parts = [
        ("chiffres", sections.headline(data)),
        ("carte", drawn.html if drawn else ""),
        ("classement", sections.ranking(data)),
        ("organismes", sections.contributions(data)),
        ("pairs", sections.peers(data)),
        ("methode", provenance.method(data)),
        ("sources", provenance.sources(data)),
    ]
    parts = [(ident, text) for ident, text in parts if text]
    nav_names = {"chiffres": "Chiffres clés", "carte": "Cartes", "classement": sections.RANK_TITLES[data.kind],
                 "organismes": "Organismes", "pairs": "Pairs", "methode": "Méthode", "sources": "Fichiers lus"}
    nav = "".join(f'<li><a href="#{ident}">{esc(nav_names[ident])}</a></li>' for ident, _ in parts)
    css, js = _asset("page.css"), _asset("page.js")
    policy = (f"default-src 'none'; style-src {_hash(css)}; script-src {_hash(js)}; "
              "base-uri 'none'; form-action 'none'")
    year = f"Exercice {data.year}" if data.year is not None else "Exercice inconnu"
    text = (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(policy)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f'<meta name="generator" content="acterr">'
        f"<title>{esc(data.title)}</title>"
        f'<meta name="description" content="{esc(context_line(data))}">'
        f"<style>{css}</style></head><body>"
        '<a class="skip" href="#contenu">Aller au contenu</a>'
        f'<header class="top"><p class="kicker">acterr — {esc(year)}</p><h1>{esc(data.title)}</h1>'
        f'<p class="context">{esc(context_line(data))}</p>'
        f'<nav aria-label="Sommaire"><ul>{nav}</ul></nav></header>'
        f'<main id="contenu">{"".join(text for _, text in parts)}</main>'
        f'<footer><p>{provenance.colophon(data)}</p></footer>'
        f"<script>{js}</script></body></html>\n"
    )
    return text, [ident for ident, _ in parts], drawn.shapes if drawn else 0


def write_page(path: Path, data: ReportData) -> WrittenPage:
    """Write the page atomically (temporary file, then renamed)."""
    text, idents, shapes = build_page(data)
    raw = text.encode("utf-8")
    atomic_write_bytes(Path(path), raw)
    return WrittenPage(Path(path), len(raw), idents, shapes)
