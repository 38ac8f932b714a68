"""Utilities every layer may use (see tests/test_layers.py): atomic file writes, French number
formatting. They import nothing of the package but `acterr_cli.errors`."""
