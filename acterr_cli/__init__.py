"""acterr — mesurer la valeur créée par les organismes Hlm sur leur territoire."""

__version__ = "0.1.0"
