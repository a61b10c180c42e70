"""The bundled sample folder that a first start opens (a copy in the user's data directory)."""

from __future__ import annotations

import shutil
from pathlib import Path

from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.imageio import IMAGE_EXTENSIONS
from unet_desktop.core.io.paths import samples_dir, user_data_dir
from unet_desktop.core.labels import trimap_scheme


def sample_workspace() -> Path:
    """Copy the shipped sample images to ``<user data>/samples`` once; return that folder.

    The copy gets a manifest naming the trimap scheme and a task "pets" with the default model's
    classes (the samples are Oxford-IIIT pets, like the default model's data): a folder without
    masks would otherwise open as binary and ask for a task on the first start. Images the user
    deleted from the copy are not brought back; masks they made are kept.
    """
    target = user_data_dir() / "samples"
    if not target.is_dir():
        target.mkdir(parents=True)
        for src in sorted(samples_dir().iterdir()):
            if src.suffix.lower() in IMAGE_EXTENSIONS:
                shutil.copyfile(src, target / src.name)
        Workspace.open(target, scheme=trimap_scheme()).save_manifest()
        save_task(target, Task("pets", trimap_scheme()))
    return target
