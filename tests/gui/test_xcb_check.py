"""Start-up on a Linux machine without the xcb libraries: every missing library named with the
apt-get and dnf lines, on stderr and in the log, and exit code 3 instead of Qt's abort
(issue 33, item 1)."""

from __future__ import annotations

from unet_desktop import cli
from unet_desktop.core.io.logs import log_file_path
from unet_desktop.gui import xcb_check
from unet_desktop.gui.xcb_check import (
    MISSING_LIBRARIES_EXIT_CODE,
    check_xcb_libraries,
    missing_from_ldd,
    uses_xcb,
)

# ldd's output on a Debian 12 machine with libxcb-cursor0 installed but not libxcb-icccm4 and
# libxcb-keysyms1 (shortened): the cursor library alone is not enough
FAKE_LDD = """\
\tlinux-vdso.so.1 (0x00007ffd4b9f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f6c1c400000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f6c1c3f0000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f6c1c3e0000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibfoo-made-up.so.7 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f6c1d800000)
"""


def test_every_missing_library_is_named_once_with_its_packages(tmp_path):
    assert missing_from_ldd(FAKE_LDD) == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1",
                                          "libfoo-made-up.so.7")
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"\x7fELF")
    missing = check_xcb_libraries(lambda path: FAKE_LDD if path == plugin else "", plugin,
                                  environ={}, platform="linux")
    assert missing.libraries == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1",
                                 "libfoo-made-up.so.7")
    text = missing.message()
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1   (Debian, Ubuntu)" in text
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms   (Fedora, RHEL)" in text
    assert "apt-file search libfoo-made-up.so.7" in text  # no package known: says how to find it
    assert str(plugin) in text and "3 system libraries" in text
    # nothing missing, another platform, or a platform plugin other than xcb: no complaint
    assert check_xcb_libraries(lambda _p: FAKE_LDD.replace("not found", "/x (0x1)"), plugin,
                               environ={}, platform="linux") is None
    assert check_xcb_libraries(lambda _p: FAKE_LDD, plugin, environ={},
                               platform="darwin") is None
    assert check_xcb_libraries(lambda _p: FAKE_LDD, plugin,
                               environ={"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None
    assert check_xcb_libraries(lambda _p: None, plugin, environ={}, platform="linux") is None
    assert uses_xcb({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux")
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")  # Qt picks wayland there
    assert uses_xcb({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, "linux")


def test_the_real_plugins_libraries_all_have_packages():
    """Every library the installed plugin links (ldd on this machine) that is not part of the C
    runtime or of PySide6 itself has apt and dnf names, so a message never lacks them."""
    plugin = xcb_check.xcb_plugin_path()
    output = xcb_check.run_ldd(plugin)
    assert output, f"ldd gave nothing for {plugin}"
    linked = {line.split()[0] for line in output.splitlines() if "=>" in line}
    for name in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1",
                 "libxkbcommon-x11.so.0"):
        assert name in linked
    x_libs = {n for n in linked if n.startswith(("libxcb", "libX11", "libxkb"))}
    assert x_libs <= set(xcb_check.PACKAGES), x_libs - set(xcb_check.PACKAGES)


def test_the_window_command_exits_3_and_logs_why(monkeypatch, capsys, workspace_dir):
    monkeypatch.setattr(xcb_check, "run_ldd", lambda _plugin: FAKE_LDD)
    monkeypatch.setattr(xcb_check, "uses_xcb", lambda *a: True)
    assert cli.main(["gui", str(workspace_dir)]) == MISSING_LIBRARIES_EXIT_CODE == 3
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in err
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in err
    log = log_file_path().read_text()
    assert "the window cannot open" in log and "sudo dnf install xcb-util-wm" in log
    assert log.rstrip().endswith("exit code 3")
