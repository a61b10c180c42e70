"""An edit autosaved, then Mark Verified (or Ctrl+S, or an accepted prediction left), and the
app killed after the mask and its state were written but before the autosave was discarded:
reopening 'recovered' the stale autosave over the save (verified became corrected, a predicted
mask corrected), put the saved file in replaced/ and said another program had saved it (crash
review s27, bug 2). Now an autosave the mask file already holds is discarded silently."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.test_sparse_batch_predicted_stroke import DENSE, SCHEME, folder, on_disk
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.gui.editing.session import EditingSession


def saved_but_not_discarded(root, key, how: str) -> np.ndarray:
    """A session edits ``key`` (paints, or accepts a prediction), autosaves, then saves as
    ``how`` says, and ends (a crash) before the autosave is discarded; returns the mask."""
    session = EditingSession()
    session.open_workspace(root)
    assert session.open_image(key)
    mask = np.zeros(session.document.shape, np.uint8)
    mask[5:20, 10:30] = 255  # 'cell'
    if how == "accept and leave":
        session.accept_prediction(mask, "v7", 0.25)
    else:
        session.document.replace_mask(mask, "stroke")
    session._autosave_in_background()
    assert session.journal.get(root, key) is not None
    session.journal.discard = lambda *_a, **_k: False  # the kill comes before it
    if how == "verify":
        assert session.mark_verified()
    elif how == "save":
        assert session.save()
    else:
        session.close_document("leave")
    return mask


@pytest.mark.parametrize(("how", "state"), [("verify", ImageState.VERIFIED),
                                            ("save", ImageState.CORRECTED),
                                            ("accept and leave", ImageState.PREDICTED)])
@pytest.mark.parametrize(("scheme", "stack"), [(DENSE, False), (SCHEME, False), (DENSE, True)],
                         ids=["dense", "sparse", "dense stack slice"])
def test_an_autosave_the_saved_mask_holds_is_not_recovered_over_it(qtbot, tmp_path, how, state,
                                                                   scheme, stack):
    if how == "accept and leave" and scheme is SCHEME:
        state = ImageState.CORRECTED  # a sparse task's accepted labels are the user's
    root, key, _other = folder(tmp_path, stack, scheme)
    saved = saved_but_not_discarded(root, key, how)
    assert on_disk(root, key)[1] is state
    session = EditingSession()  # the restart
    errors = []
    session.error.connect(errors.append)
    assert session.open_workspace(root) == []  # nothing to recover
    mask, after = on_disk(root, key)
    np.testing.assert_array_equal(mask, saved)
    assert after is state and errors == []
    assert not (root / ".unet-desktop" / "replaced").exists()
    assert session.journal.entries(root) == []  # the stale autosave is gone
    session.shutdown()
