"""`pip install .` gives a working app: the real wheel, installed into a fresh venv, run from
outside the checkout.

The wheel is built from a clean copy of the sources (an in-tree build would reuse a stale
``build/lib``) with ``--no-build-isolation``, so no build tools are downloaded. It is installed
with ``--no-deps`` into a new venv; torch, PySide6 and the other dependencies are not installed
again (gigabytes, and no network in CI) but made visible from this test environment through a
``.pth`` file holding its site-packages. A path added by a ``.pth`` line is only appended to
``sys.path``; the ``.pth`` files inside it, among them this environment's editable install of
the checkout, are not run. So ``unet_desktop`` resolves to the copy in the new venv, which the
test asserts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from unet_desktop import cli
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import trimap_scheme

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "setup.py", "README.md", "LICENSE", "MANIFEST.in", "unet_desktop",
           "resources", "models"]
SHIPPED_MODEL = REPO / "models" / "pets-trimap.safetensors"
SAMPLES = sorted(p.name for p in (REPO / "resources" / "samples").iterdir()
                 if p.suffix.lower() == ".jpg")

WHERE = """
import unet_desktop
from unet_desktop.core.io import paths
print(unet_desktop.__file__, paths.samples_dir(), paths.default_model_path(), paths.user_log_dir(),
      sep="\\n")
"""
FIRST_START = """
import sys, time
from unet_desktop.gui.app import create_application, starting_folder
from unet_desktop.gui.main_window import MainWindow

app = create_application()
window = MainWindow(model_path=sys.argv[1] if len(sys.argv) > 1 else None)
window.show()
folder = starting_folder(window.settings)  # what `unet-desktop` opens on a first start
print("folder", folder)
assert window.open_folder(folder)
deadline = time.monotonic() + 120
while window.prediction.shown is None and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
print("prediction shown for", window.prediction.shown_key)
window.close()
"""


def run(args: list, cwd: Path, env: dict, timeout: float = 180) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def app_env(home: Path) -> dict:
    """This environment without PYTHONPATH (it could point at the checkout), user data in home."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(UNET_DESKTOP_HOME=str(home), QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    return env


def build_wheel(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=ignore)
        else:
            shutil.copy2(source, src / name)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", dist, src], cwd=tmp_path, env=dict(os.environ))
    (wheel,) = dist.glob("unet_desktop-*.whl")
    return wheel


def make_venv(tmp_path: Path, wheel: Path) -> tuple[Path, Path]:
    """A fresh venv with the wheel installed; returns (its bin dir, its site-packages)."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=dict(os.environ))
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel], cwd=tmp_path, env=dict(os.environ))
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=tmp_path, env=dict(os.environ)).strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "test_environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv / "bin", site


def tiny_model(path: Path) -> Path:
    from unet_desktop.ml.models.architecture import build_model, unet_arch
    from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=trimap_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="wheel-test")
    save_model(path, build_model(meta.arch), meta)
    return path


def package_files(site: Path) -> set[Path]:
    return {p.relative_to(site) for p in (site / "unet_desktop").rglob("*")
            if "__pycache__" not in p.parts}


def assert_trimaps(out: Path) -> None:
    assert sorted(p.name for p in out.glob("*.png")) == [Path(s).stem + ".png" for s in SAMPLES]
    for mask_file in out.glob("*.png"):
        mask = read_mask(mask_file, trimap_scheme())  # raises on values outside 1/2/3
        assert set(np.unique(mask)) <= {1, 2, 3}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp)
    bin_dir, site = make_venv(tmp, wheel)
    return wheel, bin_dir, site


def test_the_wheel_carries_resources_and_models(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for sample in SAMPLES + ["README.md"]:
        assert f"unet_desktop/_data/resources/samples/{sample}" in names
    for shipped in (REPO / "models").iterdir():
        assert f"unet_desktop/_data/models/{shipped.name}" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "scripts/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "unet-desktop = unet_desktop.cli:main" in zipfile.ZipFile(wheel).read(
        entry_points).decode()


def test_installed_app_runs_outside_the_checkout(installed, tmp_path):
    _, bin_dir, site = installed
    home, cwd = tmp_path / "home", tmp_path / "elsewhere"
    cwd.mkdir()
    env = app_env(home)
    before = package_files(site)

    where = run([bin_dir / "python", "-c", WHERE], cwd, env).splitlines()
    package, samples, default_model, log_dir = (Path(line) for line in where)
    assert package.is_relative_to(site) and not package.is_relative_to(REPO)
    assert samples.is_relative_to(site) and default_model.is_relative_to(site)
    assert log_dir == home / "logs"

    usage = run([bin_dir / "unet-desktop", "--help"], cwd, env)
    for name in cli.COMMANDS:
        assert f"\n    {name} " in usage, f"{name} missing from --help"

    images = tmp_path / "samples"
    shutil.copytree(samples, images)
    model = SHIPPED_MODEL if SHIPPED_MODEL.is_file() else tiny_model(tmp_path / "tiny.safetensors")
    run([bin_dir / "unet-desktop", "predict", images, "--out", tmp_path / "masks",
         "--model", model], cwd, env)
    assert_trimaps(tmp_path / "masks")
    if SHIPPED_MODEL.is_file():  # the installed default model, found without --model
        run([bin_dir / "unet-desktop", "predict", images, "--out", tmp_path / "default"],
            cwd, env)
        assert_trimaps(tmp_path / "default")

    log_text = (home / "logs" / "unet-desktop.log").read_text(encoding="utf-8")
    assert log_text.count(": predict ") == log_text.count("exit code 0") == (
        2 if SHIPPED_MODEL.is_file() else 1)  # one start and one end line per command run
    assert package_files(site) == before  # user data never lands in site-packages


def test_first_start_opens_the_samples_with_predictions(installed, tmp_path):
    """What `unet-desktop` does on a fresh machine: the bundled samples, copied to the user's
    data dir, open with the default model's predictions (a tiny model until one is shipped)."""
    _, bin_dir, _ = installed
    home = tmp_path / "home"
    env = app_env(home)
    model = [] if SHIPPED_MODEL.is_file() else [tiny_model(tmp_path / "tiny.safetensors")]
    out = run([bin_dir / "python", "-c", FIRST_START, *model], tmp_path, env)
    assert f"folder {home / 'samples'}" in out
    assert sorted(p.name for p in (home / "samples").iterdir() if p.is_file()) == SAMPLES
    assert f"prediction shown for {SAMPLES[0]}" in out
