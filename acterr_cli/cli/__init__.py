"""The `acterr` command. Imported before anything else of it by the entry point: from here on,
while the command's modules load (half a second), an interrupt already ends it as promised
(« Interrompu. », 128 + signal, no traceback; see interrupts.py)."""

import sys

from acterr_cli import interrupts

if interrupts.is_entry_point(sys.argv):
    interrupts.install(owner=True)
