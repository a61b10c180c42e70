"""The rotating log file: where it goes, one handler however often it is set up, rotation, and
the traceback of a command that crashes."""

from __future__ import annotations

import logging
import logging.handlers
import os
import subprocess
import sys
from pathlib import Path

import pytest

from unet_desktop import cli
from unet_desktop.core.io import logs
from unet_desktop.core.io.logs import setup_logging


def _our_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger("unet_desktop").handlers
            if isinstance(h, logging.handlers.RotatingFileHandler)]


@pytest.fixture(autouse=True)
def _no_handler_left_behind():
    yield
    for handler in _our_handlers():
        logging.getLogger("unet_desktop").removeHandler(handler)
        handler.close()


def test_log_goes_to_the_user_log_dir_once(_isolated_user_dirs):
    path = setup_logging()
    assert path == _isolated_user_dirs / "logs" / "unet-desktop.log"
    assert setup_logging() == path and setup_logging() == path
    assert len(_our_handlers()) == 1
    logging.getLogger("unet_desktop.some.module").info("hello from a module")
    logging.getLogger("unet_desktop").debug("not at the default level")
    for handler in _our_handlers():
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert text.count("hello from a module") == 1  # one handler: one line
    assert "INFO unet_desktop.some.module: hello from a module" in text
    assert "not at the default level" not in text


def test_a_new_home_replaces_the_handler(tmp_path, monkeypatch):
    first = setup_logging()
    monkeypatch.setenv("UNET_DESKTOP_HOME", str(tmp_path / "elsewhere"))
    second = setup_logging()
    assert second == tmp_path / "elsewhere" / "logs" / "unet-desktop.log" and second != first
    assert [h.baseFilename for h in _our_handlers()] == [str(second)]


def test_rotation_keeps_three_small_backups(monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = setup_logging()
    logger = logging.getLogger("unet_desktop.test")
    for i in range(200):
        logger.warning("line %03d %s", i, "x" * 60)
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["unet-desktop.log", "unet-desktop.log.1", "unet-desktop.log.2",
                     "unet-desktop.log.3"]
    assert all(p.stat().st_size <= 2_000 for p in path.parent.iterdir())
    assert "line 199" in path.read_text(encoding="utf-8")


def test_torchrun_workers_other_than_rank_0_get_their_own_file(monkeypatch, _isolated_user_dirs):
    monkeypatch.setenv("RANK", "2")
    assert setup_logging() == _isolated_user_dirs / "logs" / "unet-desktop.rank2.log"


def test_an_unwritable_log_dir_is_one_warning_not_a_failure(monkeypatch, tmp_path, capsys):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    monkeypatch.setenv("UNET_DESKTOP_HOME", str(blocker))  # logs/ cannot be made inside a file
    assert setup_logging() is None
    err = capsys.readouterr().err
    assert "warning: no log file" in err and str(blocker) in err
    assert logs.current_log_file() is None


def test_every_command_logs_and_a_crash_leaves_its_traceback(monkeypatch, _isolated_user_dirs,
                                                             capsys):
    from unet_desktop.commands import info

    assert cli.main(["info", str(_isolated_user_dirs / "missing.safetensors")]) == 2
    log_file = _isolated_user_dirs / "logs" / "unet-desktop.log"
    assert "missing.safetensors" in log_file.read_text(encoding="utf-8")  # the command line
    assert "exit code 2" in log_file.read_text(encoding="utf-8")

    def broken_run(args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(info, "run", broken_run)
    with pytest.raises(RuntimeError, match="disk on fire"):
        cli.main(["info", "model.safetensors"])
    text = log_file.read_text(encoding="utf-8")
    assert "ERROR unet_desktop.cli: unet-desktop info crashed" in text
    assert "Traceback (most recent call last)" in text and "in broken_run" in text
    assert "RuntimeError: disk on fire" in text


def test_help_lists_every_command_module():
    import unet_desktop.commands

    modules = {p.stem for p in Path(unet_desktop.commands.__file__).parent.glob("*.py")
               if p.stem != "__init__"}
    assert modules == set(cli.COMMANDS)  # a command module not wired into the CLI is a bug
    out = subprocess.run([sys.executable, "-m", "unet_desktop.cli", "--help"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    for name in cli.COMMANDS:
        assert f"\n    {name} " in out, f"{name} missing from --help:\n{out}"


SEGFAULT = """
import faulthandler
from unet_desktop.core.io.logs import enable_fault_log

def paint_stroke():
    faulthandler._sigsegv()

print(enable_fault_log(), flush=True)
paint_stroke()
"""


def test_a_hard_crash_leaves_the_python_stack_in_the_fault_log(_isolated_user_dirs):
    env = dict(os.environ, UNET_DESKTOP_HOME=str(_isolated_user_dirs))
    done = subprocess.run([sys.executable, "-c", SEGFAULT], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode != 0  # it did crash
    fault_log = _isolated_user_dirs / "logs" / "faults.log"
    assert done.stdout.strip() == str(fault_log)
    text = fault_log.read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in text and "paint_stroke" in text
