"""Before the window opens on Linux: are the system libraries of Qt's xcb plugin all there?

Qt aborts the process (no Python exception, exit code 134) when its xcb platform plugin cannot
load, and names only ``libxcb-cursor0`` whatever is missing. ``ldd`` on the plugin lists every
library the dynamic loader cannot find; this module turns that into one message that names them
all and the one ``apt-get`` (Debian/Ubuntu) and ``dnf`` (Fedora/RHEL) line that installs them.
Nothing here imports QtGui or QtWidgets: the check must run before a QApplication exists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MISSING_LIBRARIES_EXIT_CODE = 3
# shared library (soname) -> (Debian/Ubuntu package, Fedora/RHEL package); every library of
# PySide6's libqxcb.so that a minimal system may lack (``ldd libqxcb.so``, PySide6 6.11)
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found\s*$")


@dataclass(frozen=True)
class MissingLibraries:
    """What ``ldd`` could not find for the plugin, and how to install it."""

    plugin: Path
    libraries: tuple[str, ...]

    @property
    def apt_packages(self) -> list[str]:
        return _unique(PACKAGES[lib][0] for lib in self.libraries if lib in PACKAGES)

    @property
    def dnf_packages(self) -> list[str]:
        return _unique(PACKAGES[lib][1] for lib in self.libraries if lib in PACKAGES)

    @property
    def unknown(self) -> list[str]:
        """Missing libraries this module has no package name for."""
        return [lib for lib in self.libraries if lib not in PACKAGES]

    def message(self) -> str:
        """The text printed (and logged) instead of Qt's abort."""
        n = len(self.libraries)
        head = (f"unet-desktop: the window cannot open: Qt's xcb platform plugin ({self.plugin}) "
                f"needs {n} system librar{'y' if n == 1 else 'ies'} that this machine lacks: "
                f"{', '.join(self.libraries)}.")
        lines = [head, "Install them with"]
        if self.apt_packages:
            lines.append(f"  sudo apt-get install {' '.join(self.apt_packages)}   "
                         "(Debian, Ubuntu)")
        if self.dnf_packages:
            lines.append(f"  sudo dnf install {' '.join(self.dnf_packages)}   (Fedora, RHEL)")
        for lib in self.unknown:
            lines.append(f"  the package that provides {lib} (apt-file search {lib}; "
                         f"dnf provides '*/{lib}')")
        lines.append("or run without a window: QT_QPA_PLATFORM=offscreen (the subcommands "
                     "predict, train, evaluate need no window).")
        return "\n".join(lines)


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def missing_from_ldd(output: str) -> tuple[str, ...]:
    """The libraries ``ldd`` printed as ``NAME => not found``, each once, in its order."""
    found = (m.group(1) for line in output.splitlines() if (m := _NOT_FOUND.match(line)))
    return tuple(_unique(found))


def xcb_plugin_path() -> Path:
    """PySide6's ``plugins/platforms/libqxcb.so`` (QtCore loads without the plugin)."""
    from PySide6.QtCore import QLibraryInfo

    plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
    return Path(plugins) / "platforms" / "libqxcb.so"


def uses_xcb(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt will use the xcb plugin: on Linux, unless QT_QPA_PLATFORM names another
    (``offscreen``, ``wayland``...) or, with none named, a Wayland session lets Qt pick
    its wayland plugin."""
    environ = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return False
    wanted = environ.get("QT_QPA_PLATFORM", "").strip()
    if not wanted:
        return not environ.get("WAYLAND_DISPLAY")
    return any(p.strip().split(":")[0] == "xcb" for p in wanted.split(";"))


def run_ldd(plugin: Path) -> str | None:
    """``ldd PLUGIN``'s output; None when ``ldd`` is not installed or fails."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def check_xcb_libraries(ldd=None, plugin: Path | None = None,
                        environ: dict[str, str] | None = None,
                        platform: str | None = None) -> MissingLibraries | None:
    """What the xcb plugin lacks, or None when nothing is missing (or the check does not
    apply: another platform, no plugin file, no ``ldd``)."""
    if not uses_xcb(environ, platform):
        return None
    plugin = plugin or xcb_plugin_path()
    if not plugin.is_file():
        return None
    output = (ldd or run_ldd)(plugin)
    missing = missing_from_ldd(output) if output else ()
    return MissingLibraries(plugin, missing) if missing else None
