"""Builds templates_xlsx/modele_rapport_conseil.xlsx: an example of a board template to fill with
`acterr export --modele`, designed as a user would in Excel — a cover page with a logo, named
cells for the headline figures of both ledgers, a chart over a named table, a table of every
indicator. Run from the repository root:

    .venv/bin/python templates_xlsx/make_board_template.py [--sortie FICHIER]

The layout is the user's: acterr only fills the cells named `acterr_…` and the tables named
`acterr_…` (see README, « Rapports »). Needs Pillow (for the logo drawn here).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import xlsxwriter

OUT = Path(__file__).with_name("modele_rapport_conseil.xlsx")
NAVY, BLUE, PURPLE = "#1F3864", "#1F4E79", "#6A1B5F"
# (name, caption) of the figures on the cover; each with its low–high range beside it.
LOCAL = (("ECO_01", "Investissement injecté"), ("ECO_06", "Emplois BTP soutenus (ETP-année)"), ("ECO_10", "Taxe foncière versée"))
SOCIAL = (("SOC_01", "Pouvoir d'achat rendu aux locataires (par an)"), ("SOC_06", "Ménages logés dans l'année"),
          ("PV_01", "Part du parc en quartier prioritaire"))


def logo_png() -> bytes:
    """A stand-in logo (the organisation puts its own): a navy square with a white house."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (180, 180), NAVY)
    d = ImageDraw.Draw(img)
    d.polygon([(30, 90), (90, 35), (150, 90)], fill="white")
    d.rectangle([50, 90, 130, 150], fill="white")
    d.rectangle([78, 110, 102, 150], fill=NAVY)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def build(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    cover, data, detail = wb.add_worksheet("Rapport"), wb.add_worksheet("Données"), wb.add_worksheet("Indicateurs")
    f = {
        "title": wb.add_format({"bold": True, "font_size": 18, "font_color": NAVY}),
        "sub": wb.add_format({"font_size": 11, "font_color": "#595959"}),
        "band_l": wb.add_format({"bold": True, "font_color": "white", "bg_color": BLUE, "font_size": 12}),
        "band_s": wb.add_format({"bold": True, "font_color": "white", "bg_color": PURPLE, "font_size": 12}),
        "label": wb.add_format({"font_size": 10, "text_wrap": True, "valign": "vcenter"}),
        "big_l": wb.add_format({"bold": True, "font_size": 16, "font_color": BLUE, "num_format": "#,##0", "valign": "vcenter"}),
        "big_s": wb.add_format({"bold": True, "font_size": 16, "font_color": PURPLE, "num_format": "#,##0", "valign": "vcenter"}),
        "range": wb.add_format({"font_color": "#7F7F7F", "italic": True, "valign": "vcenter"}),
        "note": wb.add_format({"italic": True, "font_color": "#C00000"}),
        "year": wb.add_format({"bold": True, "font_size": 14, "font_color": NAVY, "num_format": "0"}),
    }
    cover.hide_gridlines(2)
    cover.set_column("A:A", 2)
    cover.set_column("B:B", 34)
    cover.set_column("C:C", 16)
    cover.set_column("D:D", 20)
    cover.set_column("E:E", 3)
    cover.set_column("F:F", 34)
    cover.set_column("G:G", 16)
    cover.set_column("H:H", 20)
    cover.insert_image("H1", "logo.png", {"image_data": io.BytesIO(logo_png()), "x_scale": 0.4, "y_scale": 0.4, "x_offset": 60})
    cover.write("B2", "Titre du rapport", f["title"])
    wb.define_name("acterr_titre", "=Rapport!$B$2")
    cover.write("B3", "Périmètre", f["sub"])
    wb.define_name("acterr_perimetre", "=Rapport!$B$3")
    cover.write("B4", "Exercice", f["sub"])
    cover.write_number("C4", 2025, f["year"])
    wb.define_name("acterr_exercice", "=Rapport!$C$4")
    cover.write("B5", "Valeur locale et plus-value sociale ne s'additionnent pas.", f["note"])
    cover.merge_range("B7:D7", "Valeur locale", f["band_l"])
    cover.merge_range("F7:H7", "Plus-value sociale", f["band_s"])
    for k, ((loc, loc_label), (soc, soc_label)) in enumerate(zip(LOCAL, SOCIAL, strict=True)):
        row = 8 + k
        cover.set_row(row, 30)
        for col, name, label, big in ((1, loc, loc_label, f["big_l"]), (5, soc, soc_label, f["big_s"])):
            cover.write(row, col, label, f["label"])
            cover.write_number(row, col + 1, 0, big)
            cover.write(row, col + 2, "", f["range"])
            wb.define_name(f"acterr_{name}", f"=Rapport!${chr(65 + col + 1)}${row + 1}")
            wb.define_name(f"acterr_{name}_fourchette", f"=Rapport!${chr(65 + col + 2)}${row + 1}")
    cover.write("B13", "Source", f["sub"])
    cover.write("C13", "", f["sub"])
    wb.define_name("acterr_source", "=Rapport!$C$13")
    # the data of the chart: one row per territory, filled by acterr (the sample rows are replaced)
    data.set_column("A:A", 36)
    data.set_column("B:D", 16)
    data.write("A1", "Territoires (rempli par acterr)", f["sub"])
    data.add_table("A3:D5", {"name": "acterr_territoires", "style": "Table Style Medium 2", "columns": [
        {"header": "Territoire"}, {"header": "Logements", "format": wb.add_format({"num_format": "#,##0"})},
        {"header": "ECO-01", "format": wb.add_format({"num_format": '#,##0 "€"'})},
        {"header": "SOC-01", "format": wb.add_format({"num_format": '#,##0 "€"'})}],
        "data": [["Exemple A", 100, 1000, 2000], ["Exemple B", 50, 500, 900]]})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "Investissement injecté (€)", "categories": "=Données!$A$4:$A$5", "values": "=Données!$C$4:$C$5",
                      "fill": {"color": BLUE}})
    chart.set_title({"name": "Investissement injecté par territoire"})
    chart.set_legend({"none": True})
    chart.set_size({"width": 900, "height": 320})
    cover.insert_chart("B15", chart)
    detail.set_column("A:A", 10)
    detail.set_column("B:B", 50)
    detail.set_column("C:F", 16)
    detail.add_table("A1:F2", {"name": "acterr_indicateurs", "style": "Table Style Light 9", "columns": [
        {"header": "Code"}, {"header": "Indicateur"}, {"header": "Valeur"}, {"header": "Unité"},
        {"header": "Fourchette"}, {"header": "Couverture"}]})
    for ws in (cover, data, detail):
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
    wb.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sortie", type=Path, default=OUT)
    args = parser.parse_args()
    print(build(args.sortie))


if __name__ == "__main__":
    main()
