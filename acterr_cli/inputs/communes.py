"""Help for commune cells the territorial reference does not recognise as a code.

Two things people do: type a code with a slip of the finger (a digit swapped, lost or doubled),
or type the commune's *name*. A name is accepted only when it designates a single commune of
the départements found elsewhere in the column (or written next to it, « Blagnac (31) »): « Saint-
Martin » alone is 30 communes. Neither a code nor a name is ever guessed: close codes and
names spelt nearly alike (« Toulouze ») are only suggested.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass

import polars as pl

from acterr_cli.territory.reference import TerritorialReference

MAX_SUGGESTIONS = 3
NAME_SIMILARITY = 0.85  # difflib ratio: « toulouze » / « toulouse » 0.88, « colomier » / « colomiers » 0.94
_DEPT_HINT = re.compile(r"\(\s*(\d[\dAB]|9[78]\d)\s*\)\s*$", re.I)


@dataclass(frozen=True)
class Commune:
    code: str
    nom: str
    departement: str


class CommuneHelper:
    """Indexes of one reference, built once: accepted codes and commune names."""

    def __init__(self, reference: TerritorialReference):
        communes = reference.communes.select("code", "nom", "departement")
        self.by_code = {c: Commune(c, n, d) for c, n, d in communes.iter_rows()}
        self._communes = reference.communes
        # Old codes, delegated communes, arrondissements: accepted codes that lead to a commune.
        self.accepted = {c: c for c in self.by_code}
        self.accepted.update(dict(reference.correspondances.select("code_saisi", "commune").iter_rows()))
        self.by_name: dict[str, list[str]] = {}
        names = pl.concat([
            communes.select("code", "nom"),
            reference.correspondances.drop_nulls("nom_saisi").select(code="commune", nom="nom_saisi"),
        ])
        for code, nom in names.iter_rows():
            bucket = self.by_name.setdefault(name_key(nom), [])
            if code not in bucket:
                bucket.append(code)

    def departement(self, code: str | None) -> str | None:
        commune = self.by_code.get(code) if code else None
        return commune.departement if commune else None

    def from_name(self, text: str, departements: set[str]) -> tuple[Commune | None, list[Commune]]:
        """(the commune, None) when the name is unambiguous in the départements; else (None, candidates)."""
        hint = _DEPT_HINT.search(text)
        if hint:
            departements = {hint.group(1).upper()}
            text = text[: hint.start()]
        candidates = [self.by_code[c] for c in self.by_name.get(name_key(text), [])]
        local = [c for c in candidates if c.departement in departements]
        if len(local) == 1:
            return local[0], candidates
        return None, local or candidates

    @functools.cached_property
    def population(self) -> dict[str, int]:
        """Only for ranking close names (a misspelt commune): not built for every import."""
        return dict(self._communes.select("code", pl.col("population").fill_null(0)).iter_rows())

    def close_names(self, text: str, departements: set[str]) -> list[Commune]:
        """Communes whose name is spelt nearly like `text` (« Toulouze », « Colomier »), looked
        for in the départements found elsewhere in the column (or written next to the name), then
        in the whole country."""
        hint = _DEPT_HINT.search(text)
        if hint:
            departements = {hint.group(1).upper()}
            text = text[: hint.start()]
        key = name_key(text)
        return list(self._close_names(key, frozenset(departements))) if len(key) >= 4 else []

    @functools.lru_cache(maxsize=1024)  # noqa: B019 — one helper per reference (helper_for): kept as long anyway
    def _close_names(self, key: str, departements: frozenset[str]) -> tuple[Commune, ...]:
        """Remembered: a misspelt name is often repeated down a column."""
        local = [k for d in sorted(departements) for k in self._names_by_departement.get(d, [])]
        close = _close_keys(key, local) or _close_keys(key, self.by_name)
        score = {k: difflib.SequenceMatcher(None, key, k).ratio() for k in close}
        found = {c: (score[k], self.by_code[c]) for k in close for c in self.by_name[k] if c in self.by_code}
        # the départements of the column first, then the closest spelling, then the largest commune
        ranked = sorted(found.values(), key=lambda sc: (sc[1].departement not in departements, -sc[0], -self.population.get(sc[1].code, 0)))
        return tuple(c for _, c in ranked[:MAX_SUGGESTIONS])

    @functools.cached_property
    def _names_by_departement(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, codes in self.by_name.items():
            for d in {self.by_code[c].departement for c in codes if c in self.by_code}:
                out.setdefault(d, []).append(key)
        return out

    def suggestions(self, text: str, departements: set[str]) -> list[Commune]:
        """Current communes whose code is one keystroke away from `text` (old codes included),
        those of the départements found elsewhere first."""
        code = re.sub(r"\s", "", text).upper()
        if not re.fullmatch(r"[0-9AB]{3,7}", code):
            return []
        found: dict[str, Commune] = {}
        for variant in _one_keystroke_away(code):
            target = self.accepted.get(variant)
            if target and target in self.by_code and target not in found:
                found[target] = self.by_code[target]
        ranked = sorted(found.values(), key=lambda c: (c.departement not in departements, c.code))
        return ranked[:MAX_SUGGESTIONS]


@functools.lru_cache(maxsize=4)
def helper_for(reference: TerritorialReference) -> CommuneHelper:
    return CommuneHelper(reference)


def name_key(text: str) -> str:
    """« Saint-Orens-de-Gameville », « ST ORENS DE GAMEVILLE » → « saintorensdegameville »."""
    s = unicodedata.normalize("NFKD", str(text)[:200])
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower().replace("œ", "oe")
    words = re.findall(r"[a-z0-9]+", s)
    words = ["saint" if w == "st" else "sainte" if w == "ste" else w for w in words]
    return "".join(words)


def looks_like_name(text: str) -> bool:
    """Letters beyond Corsica's 2A/2B: a name, not a code."""
    return bool(re.search(r"[^\W\d_]{3,}", text))


def _close_keys(key: str, keys) -> list[str]:
    """Keys spelt nearly like `key`, closest first; only keys of about the same length can be close enough."""
    near = [k for k in keys if abs(len(k) - len(key)) <= 3]
    return difflib.get_close_matches(key, near, n=MAX_SUGGESTIONS, cutoff=NAME_SIMILARITY)


def _one_keystroke_away(code: str) -> set[str]:
    digits = "0123456789"
    variants = set()
    for i in range(len(code)):
        variants.add(code[:i] + code[i + 1:])  # a doubled or extra digit
        for d in digits:
            variants.add(code[:i] + d + code[i + 1:])  # a wrong digit
        if i + 1 < len(code):
            variants.add(code[:i] + code[i + 1] + code[i] + code[i + 2:])  # two digits swapped
    for i in range(len(code) + 1):
        for d in digits:
            variants.add(code[:i] + d + code[i:])  # a lost digit
    variants.discard(code)
    return {v for v in variants if len(v) == 5}


def describe(communes: list[Commune]) -> str:
    return ", ".join(f"{c.code} ({c.nom}, {c.departement})" for c in communes)
