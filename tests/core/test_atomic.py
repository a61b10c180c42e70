"""atomic_write: content, permissions, cleanup on failure, and survival of a killed writer."""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from unet_desktop.core.io import atomic
from unet_desktop.core.io.atomic import atomic_write, atomic_write_bytes, remove_stale_temp_files
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import trimap_scheme


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(atomic.TEMP_SUFFIX))


def test_writes_and_overwrites(tmp_path):
    path = tmp_path / "a.bin"
    atomic_write_bytes(path, b"first")
    assert path.read_bytes() == b"first"
    atomic_write(path, lambda f: f.write(b"second, longer"))
    assert path.read_bytes() == b"second, longer"
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_keeps_the_permissions_of_the_replaced_file(tmp_path):
    path = tmp_path / "a.bin"
    atomic_write_bytes(path, b"x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~atomic._umask()  # not mkstemp's 0600
    path.chmod(0o640)
    atomic_write_bytes(path, b"y")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.reliability("disk", "writer fails or is interrupted midway")
@pytest.mark.parametrize("exc", [ValueError("encoder failed"), KeyboardInterrupt()])
def test_failure_while_writing_keeps_the_old_file_and_no_temp_file(tmp_path, exc):
    path = tmp_path / "a.bin"
    atomic_write_bytes(path, b"old")

    def write_half_then_fail(f):
        f.write(b"new but incomplete")
        raise exc

    with pytest.raises(type(exc)):
        atomic_write(path, write_half_then_fail)
    assert path.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_missing_folder_raises_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "absent" / "a.bin", b"x")


def test_remove_stale_temp_files_only_removes_old_temp_files_of_ours(tmp_path):
    ours = tmp_path / ".m.png.ab12_xyz.tmp"
    young = tmp_path / ".m.png.zz12_xyz.tmp"
    users = tmp_path / ".notes.tmp"
    for p in (ours, young, users):
        p.write_bytes(b"x")
    old = time.time() - 7200
    os.utime(ours, (old, old))
    os.utime(users, (old, old))
    assert remove_stale_temp_files(tmp_path) == [ours]
    assert not ours.exists() and young.exists() and users.exists()


# --- a writer killed at random moments ----------------------------------------------------------
_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import numpy as np
    from unet_desktop.core.labels import trimap_scheme
    from unet_desktop.core.io.maskio import write_mask

    folder, count = Path(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    versions = [rng.integers(1, 4, (256, 256)).astype(np.uint8) for _ in range(2)]
    np.save(folder / "versions.npy", np.stack(versions))
    turn = 0
    while True:
        for k in range(count):
            write_mask(folder / f"m{k}.png", versions[turn % 2], trimap_scheme())
        if turn == 0:
            print("ready", flush=True)
        turn += 1
    """
)


@pytest.mark.reliability("process", "SIGKILL during a mask save loop")
def test_killed_writer_leaves_only_complete_old_or_new_masks(tmp_path):
    """SIGKILL a process that rewrites the same masks with two alternating images."""
    count, rounds = 4, 5
    rng = random.Random(1234)
    seen = set()
    for _ in range(rounds):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), str(count)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert writer.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.25))
        finally:
            writer.kill()  # SIGKILL on POSIX: no cleanup code runs
            writer.wait(timeout=10)
            writer.stdout.close()
        versions = np.load(tmp_path / "versions.npy")
        for k in range(count):
            mask = read_mask(tmp_path / f"m{k}.png", trimap_scheme())  # decodes fully or raises
            matches = [i for i, v in enumerate(versions) if np.array_equal(mask, v)]
            assert len(matches) == 1, f"m{k}.png is neither the old nor the new mask"
            seen.add(matches[0])
    assert seen == {0, 1}  # both versions were on disk at some point: the writes really ran
    # temp files of killed writes may remain; they are never mistaken for masks
    assert all(name.startswith(atomic.TEMP_PREFIX) for name in _leftovers(tmp_path))
