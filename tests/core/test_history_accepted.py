"""The states of an undo history that are an accepted prediction stay known through trimming,
redo, a new edit and the archive kept across restarts."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.editing.history import AcceptedPrediction, EditHistory
from unet_desktop.core.editing.history_archive import HistoryArchive

PREDICTION = AcceptedPrediction("v1", 0.25)


def history_with_prediction_at(step: int, steps: int) -> tuple[EditHistory, np.ndarray]:
    mask = np.zeros((8, 8), np.uint8)
    history = EditHistory()
    for i in range(steps):
        new = mask.copy()
        new[i % 8, i // 8] = 1
        history.push(delta_from_masks(mask, new, f"edit {i}"))
        mask = new
        if i == step:
            history.mark_accepted(PREDICTION)
    return history, mask


def test_the_archive_keeps_which_state_is_an_accepted_prediction(tmp_path):
    history, mask = history_with_prediction_at(step=3, steps=6)
    archive = HistoryArchive(tmp_path, max_steps=4)  # the two oldest steps are not kept
    assert archive.store("/folder", "a.png", history, mask)
    restored = EditHistory()
    assert archive.restore("/folder", "a.png", mask, restored)
    assert restored.accepted is None
    restored.undo(mask)
    restored.undo(mask)
    assert restored.accepted == PREDICTION
    restored.undo(mask)
    assert restored.accepted is None


def test_an_accepted_state_trimmed_to_the_base_or_dropped_from_redo_is_forgotten_rightly():
    history, mask = history_with_prediction_at(step=1, steps=3)
    history.max_steps = 2
    history.push(delta_from_masks(mask, mask + 1, "more"))  # the accepted state is now the base
    assert len(history) == 2
    history.undo(mask)
    history.undo(mask)
    assert history.accepted == PREDICTION
    history.redo(mask)
    history.mark_accepted(AcceptedPrediction("v2", None))
    history.undo(mask)
    history.push(delta_from_masks(mask, mask + 2, "new edit"))  # the v2 state cannot come back
    assert "v2" not in {a.model_version for a in history.accepted_predictions().values()}


def test_forget_automatic_turns_every_automatic_prediction_into_an_ordinary_one():
    history, _ = history_with_prediction_at(step=1, steps=2)
    history.mark_accepted(AcceptedPrediction("v2", None, automatic=True))
    history.forget_automatic()
    assert not history.accepted.automatic
