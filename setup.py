"""Build hook: ship the top-level resources/ and models/ inside the wheel as unet_desktop/_data/.

Everything else is declared in pyproject.toml. core/io/paths.py finds the files in either place.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout
        for name in ("resources", "models"):
            src = ROOT / name
            if src.is_dir():
                dst = Path(self.build_lib) / "unet_desktop" / "_data" / name
                shutil.copytree(src, dst, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithData})
