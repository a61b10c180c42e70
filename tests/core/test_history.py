from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.editing.brush import brush_segment
from unet_desktop.core.editing.delta import Delta, delta_from_masks
from unet_desktop.core.editing.history import EditHistory, HistoryStore, Step, mask_fingerprint


def paint(mask: np.ndarray, history: EditHistory, x: float, value: int = 255, size: int = 3):
    delta = brush_segment(mask, (x, 5.0), (x + 4, 9.0), size, value, "Brush stroke")
    assert delta is not None
    delta.apply(mask)
    history.push(delta)


def block_delta(mask: np.ndarray, value: int, label: str = "Block") -> Delta:
    """Delta that sets the whole mask to ``value`` (its size is known: 2 bytes/px changed)."""
    return delta_from_masks(mask, np.full_like(mask, value), label)


def test_undo_redo_round_trip_restores_exact_arrays():
    mask = np.zeros((20, 30), np.uint8)
    history = EditHistory()
    states = [mask.copy()]
    for i, x in enumerate((3.0, 5.0, 11.5, 4.0)):
        paint(mask, history, x, value=[255, 0, 255, 7][i])
        states.append(mask.copy())
    for expected in reversed(states[:-1]):
        assert history.undo(mask) is not None
        assert np.array_equal(mask, expected)
    assert history.undo(mask) is None
    for expected in states[1:]:
        history.redo(mask)
        assert np.array_equal(mask, expected)
    assert history.redo(mask) is None


def test_labels_for_the_edit_menu():
    mask = np.zeros((20, 30), np.uint8)
    history = EditHistory()
    assert history.undo_label is None and history.redo_label is None
    paint(mask, history, 3.0)
    history.push(block_delta(mask, 1, "Accept prediction"))
    assert history.undo_label == "Undo Accept prediction"
    history.undo(mask)
    assert history.undo_label == "Undo Brush stroke"
    assert history.redo_label == "Redo Accept prediction"


def test_a_new_edit_clears_redo():
    mask = np.zeros((20, 30), np.uint8)
    history = EditHistory()
    paint(mask, history, 3.0)
    paint(mask, history, 12.0)
    history.undo(mask)
    assert history.can_redo
    paint(mask, history, 20.0)
    assert not history.can_redo and len(history) == 2


def test_keeps_250_steps_and_undoes_them_all():
    mask = np.zeros((40, 40), np.uint8)
    original = mask.copy()
    history = EditHistory()
    for i in range(250):
        # A value not used before, so every dab changes something.
        delta = brush_segment(mask, (i % 37, i // 7), (i % 37 + 1, i // 7), 3, i + 1)
        delta.apply(mask)
        history.push(delta)
    assert len(history) == 250
    while history.undo(mask) is not None:
        pass
    assert np.array_equal(mask, original)


def test_step_limit_drops_the_oldest():
    mask = np.zeros((4, 4), np.uint8)
    history = EditHistory(max_steps=3)
    for value in (1, 2, 3, 4, 5):
        d = block_delta(mask, value)
        d.apply(mask)
        history.push(d)
    assert len(history) == 3
    while history.undo(mask):
        pass
    assert (mask == 2).all()  # steps 1->2 and 0->1 were dropped


@pytest.mark.reliability("resources", "undo history memory cap")
def test_memory_cap_drops_oldest_but_never_the_newest():
    mask = np.zeros((100, 100), np.uint8)
    # steps are compressed: their sizes differ by a few bytes with the values
    step_bytes = max(Step.pack(block_delta(np.full_like(mask, v - 1), v), 0).nbytes
                     for v in range(1, 8))
    history = EditHistory(max_bytes=3 * step_bytes)
    for value in range(1, 8):
        d = block_delta(mask, value)
        d.apply(mask)
        history.push(d)
        assert history.nbytes <= 3 * step_bytes
    assert len(history) == 3
    tiny = EditHistory(max_bytes=10)  # smaller than any step: the newest still stays
    d = block_delta(mask, 200)
    d.apply(mask)
    tiny.push(d)
    assert len(tiny) == 1 and tiny.undo(mask) is not None and (mask == 7).all()


def test_steps_store_only_changed_pixels():
    mask = np.zeros((4000, 6000), np.uint8)
    delta = brush_segment(mask, (10, 10), (5990, 3990), 20, 255)
    step = Step.pack(delta, 1)
    assert delta.nbytes > 40_000_000
    assert step.nbytes < 4_500_000


def test_state_id_tracks_position_and_dropped_steps():
    mask = np.zeros((4, 4), np.uint8)
    history = EditHistory(max_steps=1)
    start = history.state_id
    d = block_delta(mask, 1)
    d.apply(mask)
    history.push(d)
    after_first = history.state_id
    assert after_first != start
    d = block_delta(mask, 2)
    d.apply(mask)
    history.push(d)  # drops the first step
    history.undo(mask)
    assert history.state_id == after_first and (mask == 1).all()


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        EditHistory(max_steps=0)


def test_store_keeps_one_history_per_image():
    store = HistoryStore()
    a, b = np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.uint8)
    paint(a, store.get("a.png"), 2.0)
    paint(b, store.get("b.png"), 5.0)
    paint(b, store.get("b.png"), 1.0)
    assert len(store.get("a.png")) == 1 and len(store.get("b.png")) == 2
    store.get("a.png").undo(a)
    assert not a.any() and b.any()
    assert store.keys() == ["b.png", "a.png"]  # least recently used first


def test_store_drops_least_recently_used_histories_over_the_total_cap():
    mask = np.zeros((100, 100), np.uint8)
    step_bytes = Step.pack(block_delta(mask, 1), 0).nbytes
    store = HistoryStore(max_total_bytes=2 * step_bytes)
    for key in ("a", "b", "c"):
        m = mask.copy()
        d = block_delta(m, 1)
        d.apply(m)
        store.get(key).push(d)
        store.enforce_limit()
    assert "a" not in store and "b" in store and "c" in store
    assert store.nbytes <= 2 * step_bytes


def test_store_clears_a_history_whose_mask_changed_meanwhile():
    store = HistoryStore()
    mask = np.zeros((10, 10), np.uint8)
    history = store.get("a", mask)
    paint(mask, history, 2.0)
    history.remember(mask)
    assert len(store.get("a", mask.copy())) == 1
    changed = mask.copy()
    changed[0, 0] = 9  # e.g. batch prediction rewrote the file
    assert len(store.get("a", changed)) == 0
    assert mask_fingerprint(mask) != mask_fingerprint(changed)
