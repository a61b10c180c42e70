"""Model > Versions' header names the button it points to ("select it and Use" named none: the
button is "Use This Version")."""

from __future__ import annotations

from unet_desktop.core.folder.task import ModelVersion, Task
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.gui.model.versions_dialog import VersionsDialog


def test_the_header_names_the_use_button(qtbot):
    version = ModelVersion("pets-v1", "models/pets-v1.safetensors", "v1", None,
                           "2026-12-06T10:00", {"miou": 0.81}, 2, "")
    dialog = VersionsDialog(Task("pets", trimap_scheme(), model=version.file,
                                 versions=(version,)))
    qtbot.addWidget(dialog)
    assert f"press {dialog.use_button.text()})" in dialog.title.text(), dialog.title.text()
