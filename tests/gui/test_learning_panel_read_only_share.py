"""The Training dock on a folder that cannot be written (a read-only share; no other window
anywhere): it says why the learning settings are not changed, and blames no other window."""

from __future__ import annotations

import pytest

from tests.gui.conftest import open_window
from tests.gui.conftest_model import make_pets
from unet_desktop.core.folder.learning_record import LearningRecord, record_path, save_record
from unet_desktop.gui.task.read_only import read_only_reason

OTHER_WINDOW = ("another window", "window that writes", "only reads the folder")


@pytest.fixture
def share(tmp_path):
    """Write bits off: the app reads such a folder as read-only even for root."""
    folder = make_pets(tmp_path / "share", n_images=3, n_labelled=1)
    (folder / ".unet-desktop").mkdir()
    save_record(record_path(folder), LearningRecord(enabled=True, target=0.9, every_k=5))
    for path in (folder, folder / "annotations" / "trimaps", folder / ".unet-desktop"):
        path.chmod(0o555)
    yield folder
    for path in (folder, folder / "annotations" / "trimaps", folder / ".unet-desktop"):
        path.chmod(0o755)


def test_a_read_only_share_blames_no_other_window(qtbot, share):
    win = open_window(qtbot)
    assert win.open_folder(share)
    ws = win.session.workspace
    assert ws.read_only and ws.lock_holder is None
    reason = read_only_reason(ws)
    panel = win.learning.panel
    status = panel.status_label.text()
    tip = panel.target_spin.toolTip()
    with qtbot.waitSignal(win.learning.message) as said:
        panel.target_spin.setValue(0.77)  # as if changed: the controller refuses
    for text in (status, tip, said.args[0]):
        assert not any(words in text for words in OTHER_WINDOW), text
    assert reason[1:] in status and "is on in this folder's record" in status
    assert reason in tip and not panel.target_spin.isEnabled()
    assert said.args[0] == f"The learning loop's setting is not changed ({reason})"
    win.close()
