"""docs/architecture.md lists every package of the tree, and only those."""

from __future__ import annotations

import re
from pathlib import Path

import unet_desktop

ROOT = Path(unet_desktop.__file__).parent
MAP = ROOT.parent / "docs" / "architecture.md"


def test_the_map_names_every_package_and_no_other():
    listed = set(re.findall(r"^\| `(unet_desktop[\w.]*)` \|", MAP.read_text(), re.MULTILINE))
    packages = {".".join(("unet_desktop",) + p.parent.relative_to(ROOT).parts)
                for p in ROOT.rglob("__init__.py")}
    assert listed == packages


def test_every_module_says_what_it_owns():
    silent = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
              if not p.read_text().lstrip().startswith(('"""', 'r"""'))]
    assert silent == []
