"""``unet-desktop``: opens the window by default; subcommands for scripted work.

Each subcommand lives in ``unet_desktop/commands/<name>.py`` with ``add_parser(subparsers)``
and ``run(args) -> int``; heavy imports (torch, Qt) happen inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import platform
import sys

from unet_desktop import __version__
from unet_desktop.core.io.logs import setup_logging

log = logging.getLogger(__name__)

COMMANDS = ["gui", "predict", "train", "evaluate", "info", "export"]


def fail(command: str, message: str) -> int:
    """How a subcommand fails: one line on stderr naming the command; exit status 2."""
    print(f"unet-desktop {command}: error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unet-desktop",
        description="Image segmentation with a human in the loop. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"unet-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"unet_desktop.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"unet_desktop.commands.{name}":
                continue  # command not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()
    if not argv or (argv[0] not in known and argv[0] not in ("-h", "--help", "--version")):
        argv = ["gui", *argv]  # `unet-desktop [FOLDER]` opens the window
    args = parser.parse_args(argv)
    setup_logging()
    log.info("unet-desktop %s (Python %s, %s): %s", __version__, platform.python_version(),
             platform.platform(), " ".join(argv))
    try:
        code = int(args.run(args) or 0)
    except KeyboardInterrupt:
        log.info("interrupted")
        raise
    except Exception:
        log.exception("unet-desktop %s crashed", args.command)
        raise
    log.info("exit code %d", code)
    return code


if __name__ == "__main__":
    sys.exit(main())
