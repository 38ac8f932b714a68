"""Parts of the README written from the code (the list of validation rules, the command
reference), between markers `<!-- debut:NAME -->` and `<!-- fin:NAME -->`; tests check that they
are up to date."""

from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    return f"<!-- debut:{name} (généré, ne pas modifier à la main) -->\n", f"<!-- fin:{name} -->"


def between(text: str, name: str) -> str:
    """What `text` holds between the markers `name`."""
    start, end = markers(name)
    if start not in text or end not in text:
        raise ValueError(f"marqueurs « {name} » absents")
    return text.split(start, 1)[1].split(end, 1)[0]


def replace_between(path: str | Path, name: str, content: str) -> bool:
    """Write `content` between the markers `name` of the file; True if it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = markers(name)
    new = text.replace(start + between(text, name) + end, start + content + end)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
