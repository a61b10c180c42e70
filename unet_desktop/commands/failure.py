"""How a subcommand fails: one line on stderr naming the command, and exit status 2."""

from __future__ import annotations

import sys


def fail(command: str, message: str) -> int:
    print(f"unet-desktop {command}: error: {message}", file=sys.stderr)
    return 2
