"""``unet-desktop``: opens the window by default; subcommands for scripted work.

Each subcommand lives in ``unet_desktop/commands/<name>.py`` with ``add_parser(subparsers)``
and ``run(args) -> int``; heavy imports (torch, Qt) happen inside ``run``.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import logging
import os
import platform
import sys
from pathlib import Path

from unet_desktop import __version__
from unet_desktop.core.io.logs import setup_logging

log = logging.getLogger(__name__)

COMMANDS = ["gui", "predict", "train", "evaluate", "info", "export"]


def fail(command: str, message: str) -> int:
    """How a subcommand fails: one line on stderr naming the command; exit status 2."""
    print(f"unet-desktop {command}: error: {message}", file=sys.stderr)
    return 2


def int_at_least(minimum: int):
    """An argparse ``type``: a whole number >= ``minimum``; otherwise the option's error says
    so (``argument --workers: must be at least 0, got -1``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


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
    routed = bool(argv) and argv[0] not in known and argv[0] not in ("-h", "--help", "--version")
    if not argv or routed:
        argv = ["gui", *argv]  # `unet-desktop [FOLDER]` opens the window
    if routed and not argv[1].startswith("-"):
        _refuse_unknown_command(parser, argv, known)
    args = parser.parse_args(argv)
    _expand_home(args)
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


def _expand_home(args: argparse.Namespace) -> None:
    """``~`` in every path argument of every command means the home folder, as in a shell: a
    quoted ``"~/x"`` or ``--out=~/x`` arrives unexpanded (zsh, scripts), and a folder named
    ``~`` would be made instead. ``~user`` with no such user is left as typed."""
    for name, value in vars(args).items():
        if isinstance(value, Path):
            setattr(args, name, Path(os.path.expanduser(value)))
        elif isinstance(value, list) and any(isinstance(item, Path) for item in value):
            setattr(args, name, [Path(os.path.expanduser(item)) if isinstance(item, Path)
                                 else item for item in value])


def _refuse_unknown_command(parser: argparse.ArgumentParser, argv: list[str],
                            known: set[str]) -> None:
    """``unet-desktop WORD ...`` where WORD is no command would open the window on a folder
    WORD; when WORD is no file or folder and arguments follow that the window does not take, WORD
    was meant as a command (``trian``): the error names it rather than the arguments."""
    if Path(os.path.expanduser(argv[1])).exists() or not parser.parse_known_args(argv)[1]:
        return
    word = argv[1]
    close = difflib.get_close_matches(word, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    parser.error(f"{word!r} is not a command{hint} (commands: {', '.join(COMMANDS)})")


if __name__ == "__main__":
    sys.exit(main())
