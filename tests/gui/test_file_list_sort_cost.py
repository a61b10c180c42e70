"""Sorting the file list by state or uncertainty read every row's data again for each of Qt's
comparisons (N log N reads), freezing the window for seconds on folders of thousands of
images; each sort now reads each row once. The order stays right as entries change."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from unet_desktop.core.folder.manifest import ImageState
from unet_desktop.gui.editing.file_list_dock import FileListDock
from unet_desktop.gui.editing.image_list_model import ImageListModel

STATES = list(ImageState)


@dataclass
class Entry:
    key: str
    state: ImageState
    uncertainty: float | None = None
    model_version: str | None = None

    @property
    def has_mask(self) -> bool:
        return self.state is not ImageState.UNLABELED


def entries(count: int) -> list[Entry]:
    return [Entry(f"img_{i:04d}.png", STATES[i * 7 % 4], (i * 7919 % 1000) / 1000)
            for i in range(count)]


@pytest.mark.parametrize("mode", ["name", "state", "uncertainty"])
def test_a_sort_reads_each_row_a_few_times_not_per_comparison(qtbot, monkeypatch, mode):
    reads = []
    original = ImageListModel.data

    def counted(self, index, role=0):
        reads.append(role)
        return original(self, index, role)

    monkeypatch.setattr(ImageListModel, "data", counted)
    dock = FileListDock()
    qtbot.addWidget(dock)
    dock.set_sort_mode(mode)
    rows = entries(600)
    reads.clear()
    dock.set_entries(rows, lambda key: False, {})
    assert len(dock.visible_keys()) == 600
    assert len(reads) < 15 * len(rows)  # was about 80 per row (4 reads per comparison)


def test_the_order_follows_changed_entries_and_a_new_folder(qtbot):
    dock = FileListDock()
    qtbot.addWidget(dock)
    rows = entries(8)
    dock.set_entries(rows, lambda key: False, {})
    dock.set_sort_mode("uncertainty")
    by_uncertainty = sorted(rows, key=lambda e: (-e.uncertainty, e.key))
    assert dock.visible_keys() == [e.key for e in by_uncertainty]

    rows[5].uncertainty = 2.0  # a new prediction: first once sorted again
    dock.refresh_entry(rows[5].key)
    dock.set_sort_mode("state")
    dock.set_sort_mode("uncertainty")
    assert dock.visible_keys()[0] == rows[5].key

    fewer = entries(3)  # another folder, fewer rows, sorted in the mode kept
    dock.set_entries(fewer, lambda key: False, {})
    assert dock.visible_keys() == [e.key for e in sorted(fewer, key=lambda e: (-e.uncertainty,
                                                                               e.key))]
    dock.set_sort_mode("state")
    order = {s.value: i for i, s in enumerate(STATES)}
    assert dock.visible_keys() == [e.key for e in sorted(fewer, key=lambda e: (
        order[e.state.value], e.key))]
