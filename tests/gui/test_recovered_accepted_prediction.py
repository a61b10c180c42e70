"""A prediction the user accepted (Enter) and did not edit, autosaved, and the app killed before
the image was left: recovery wrote it 'corrected' with no model version, so the model's own
output became training data (crash review s27, bug 1). Now the autosave records the accepted
prediction and recovery saves it as a save would have: 'predicted' by its model in a dense task,
'corrected' (with the model's version) in a task with sparse labels; a prediction edited after
the accept is still the user's correction."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.test_sparse_batch_predicted_stroke import DENSE, SCHEME, folder, on_disk
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.gui.editing.session import EditingSession


def accepted_and_autosaved(root, key, edit: bool) -> np.ndarray:
    """A session accepts a prediction on ``key`` (no mask file), ``edit``: then changes a
    pixel; autosaves as the timer does, and is left open (a crash); returns the mask."""
    session = EditingSession()
    session.open_workspace(root)
    assert session.open_image(key)
    prediction = np.zeros(session.document.shape, np.uint8)
    prediction[5:20, 10:30] = 255  # cell
    assert session.accept_prediction(prediction, "v7", 0.25) is not None
    if edit:
        changed = prediction.copy()
        changed[0, 0] = 255
        session.document.replace_mask(changed, "stroke")
    session._autosave_in_background()
    mask = session.document.mask.copy()
    assert session.journal.get(root, key) is not None  # once the writer is done
    return mask


@pytest.mark.parametrize(("scheme", "state"), [(DENSE, ImageState.PREDICTED),
                                                (SCHEME, ImageState.CORRECTED)],
                         ids=["dense", "sparse"])
def test_a_recovered_accepted_prediction_is_saved_as_a_save_would(qtbot, tmp_path, scheme,
                                                                   state):
    root, key, _other = folder(tmp_path, False, scheme)
    accepted = accepted_and_autosaved(root, key, edit=False)
    session = EditingSession()  # the restart
    assert session.open_workspace(root) == [key]
    mask, saved_state = on_disk(root, key)
    np.testing.assert_array_equal(mask, accepted)
    assert saved_state is state
    ws = Workspace.open(root)
    assert ws[key].model_version == "v7" and ws[key].uncertainty == pytest.approx(0.25)
    labelled = key in [e.key for e in ws.labelled()]
    ws.close()
    assert labelled is (state is ImageState.CORRECTED)  # a dense task's prediction: no label
    session.shutdown()


def test_a_recovered_prediction_edited_after_its_accept_is_a_correction(qtbot, tmp_path):
    root, key, _other = folder(tmp_path, False, DENSE)
    edited = accepted_and_autosaved(root, key, edit=True)
    session = EditingSession()
    assert session.open_workspace(root) == [key]
    mask, state = on_disk(root, key)
    np.testing.assert_array_equal(mask, edited)
    assert state is ImageState.CORRECTED
    session.shutdown()


def test_an_accepted_prediction_recovered_into_memory_is_saved_predicted(qtbot, tmp_path,
                                                                         monkeypatch):
    root, key, _other = folder(tmp_path, False, DENSE)
    accepted = accepted_and_autosaved(root, key, edit=False)

    def cannot_write(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    session = EditingSession()
    with monkeypatch.context() as patch:  # the restart cannot write: kept in memory
        patch.setattr(Workspace, "save_mask", cannot_write)
        session.open_workspace(root)
    assert session.unsaved_keys() == [key]
    assert session.save_all() == []  # the disk has room again
    mask, state = on_disk(root, key)
    np.testing.assert_array_equal(mask, accepted)
    assert state is ImageState.PREDICTED
    session.shutdown()
