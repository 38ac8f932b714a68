"""French number formatting for the terminal (Excel gets native number formats instead)."""

from __future__ import annotations

from datetime import datetime

NBSP = "\u202f"  # narrow no-break space, the French thousands separator

# Decimals shown per unit: money and counts as whole numbers, ratios with one or two decimals.
_DECIMALS = {"€": 0, "€/an": 0, "€/logt": 0, "€/hab": 0, "€/logt/an": 0, "€/mois": 0, "logements": 0, "ménages": 0,
             "%": 1, "‰": 1, "ETP": 0, "ETP-année": 0, "€/m²/mois": 2, "ratio": 2, "MWh/an": 0, "tCO2e/an": 0, "h": 0, "pour 100 logts": 1,
             "actions": 0, "ETP pour 100 logts": 2}


def decimals_for(unit: str) -> int:
    return _DECIMALS.get(unit, 1)


def fr_number(value: float | None, decimals: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def fr_count(n: int, singular: str, plural: str | None = None) -> str:
    """« 1 organisme », « 4 organismes » (0 and 1 take the singular in French): never « organisme(s) »."""
    return f"{fr_number(n)} {singular if abs(n) < 2 else (plural or singular + 's')}"


def fr_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    number = fr_number(value, decimals_for(unit))
    if unit == "%":
        return f"{number} %"
    return f"{number} {unit}".strip()


def fr_range(low: float | None, high: float | None, unit: str) -> str:
    if low is None or high is None or abs(high - low) < 1e-9:
        return ""
    return f"{fr_number(low, decimals_for(unit))} – {fr_value(high, unit)}"


def fr_date(value: object) -> str:
    """An ISO date-time as its day, « 06/12/2026 »; empty when absent or not a date."""
    try:
        return datetime.fromisoformat(str(value)).strftime("%d/%m/%Y") if value else ""
    except ValueError:
        return ""


def fr_datetime(value: object) -> str:
    """An ISO date-time (a manifest's, a computation's) as « 06/12/2026 17:31 »; other text as is."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return str(value)
