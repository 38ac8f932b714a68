"""The web page of a report (`acterr export --format html`): one self-contained HTML file, built
from the same `ReportData` as the workbook (outputs/reports/model.py).

- page.py — the document: head with its Content-Security-Policy, header, sections, footer;
- sections.py — headline figures (the two ledgers side by side), ranking, contributions, peers;
- svgmap.py — the map of the scope's territories, from the embedded outlines;
- provenance.py — method, parameters with their sources, files read with their SHA-256;
- markup.py — escaping and French figures; page.css and page.js, inlined in the page."""

from acterr_cli.outputs.html.page import WrittenPage, build_page, write_page

__all__ = ["WrittenPage", "build_page", "write_page"]
