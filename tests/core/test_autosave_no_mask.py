"""The recovery journal records whether an autosave is of edits undone back to no mask file
(recovery then leaves the image unlabeled, not a 'corrected' empty mask), and an autosave of
the same mask in the other sense is written again, not taken for the one already there."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.folder.autosave import RecoveryJournal
from unet_desktop.core.labels import binary_scheme

SCHEME = binary_scheme(("outside", "cell"), ignore_value=128)


def test_the_no_mask_flag_is_kept_and_tells_two_autosaves_of_one_mask_apart(tmp_path):
    journal = RecoveryJournal(tmp_path / "recovery")
    ws = tmp_path / "cells"
    ws.mkdir()
    empty = np.full((8, 8), 128, np.uint8)
    journal.save(ws, "a.png", empty, SCHEME, no_mask=True)
    (entry,) = RecoveryJournal(tmp_path / "recovery").left_behind(ws)  # read back from disk
    assert entry.no_mask
    assert journal.holds(ws, "a.png", empty, no_mask=True)
    assert not journal.holds(ws, "a.png", empty, no_mask=False)  # an erased mask is not "none"
    journal.save(ws, "a.png", empty, SCHEME)
    assert not journal.get(ws, "a.png").no_mask
