"""The learning curve panel mirrors a record: points, moving average, target, estimate, k."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from unet_desktop.core.folder.learning_record import CurvePoint, LearningRecord
from unet_desktop.gui.training.learning_panel import LearningPanel, estimate_text


def record_of(scores: list[float], versions: list[str], **options) -> LearningRecord:
    record = LearningRecord(**options)
    for i, (score, version) in enumerate(zip(scores, versions)):
        record = record.with_point(CurvePoint(0, f"img_{i}.png", score, "dice", 0.1, version))
    return record


def test_the_panel_mirrors_the_record_without_echoing_it(qtbot):
    panel = LearningPanel()
    qtbot.addWidget(panel)
    changes = []
    panel.every_k_changed.connect(changes.append)
    panel.target_changed.connect(changes.append)
    record = record_of([0.5, 0.7, 0.8, 0.9], ["v1", "v1", "v2", "v3"], every_k=4, target=0.9)
    panel.show_record(record, {"v2": "cells-v2"})
    assert len(panel.points.points()) == 4
    xs, ys = panel.average_curve.getData()
    assert list(xs) == [1, 2, 3, 4] and ys[-1] == (0.7 + 0.8 + 0.9) / 3
    assert panel.target_line.value() == 0.9
    assert panel.k_spin.value() == 4 and panel.target_spin.value() == 0.9
    assert changes == []  # mirroring is not a change
    assert panel.points.points()[2].data() == ("img_2.png", "cells-v2", None)  # not strokes
    assert "3 model version(s)" in panel.estimate_label.text()
    panel.k_spin.setValue(6)
    assert changes == [6]


def test_the_estimate_says_how_far_the_target_is_on_checked_images():
    every = {f"img_{i}.png" for i in range(4)}
    assert "No corrections recorded yet" in estimate_text(LearningRecord())
    assert "more checked image(s)" in estimate_text(record_of([0.5, 0.6, 0.7, 0.8], ["v"] * 4),
                                                    every)
    assert ": reached" in estimate_text(record_of([0.96, 0.97, 0.98], ["v"] * 3), every)
    assert "no rising trend" in estimate_text(record_of([0.9, 0.8, 0.7], ["v"] * 3), every)


def test_target_reached_only_on_verified_or_validation_images(qtbot):
    """High agreement on images nobody checked (a corrected mask keeps every predicted pixel the
    user did not repaint) never says the target is reached."""
    record = record_of([0.96, 0.97, 0.98, 0.97], ["v"] * 4)
    text = estimate_text(record)
    assert "reached" not in text.replace("not judged", "")
    assert "not judged yet (0 of the 3" in text and "how little you edited" in text
    assert "you changed 10.0% of the pixels" in text
    panel = LearningPanel()
    qtbot.addWidget(panel)
    panel.show_record(record, verified={"img_0.png", "img_1.png"})  # two checked: not enough
    assert "not judged yet (2 of the 3" in panel.estimate_label.text()
    frozen = record_of([0.96, 0.97, 0.98, 0.97], ["v"] * 4, validation=("img_3.png",))
    panel.show_record(frozen, verified={"img_0.png", "img_1.png"})  # + a validation image
    assert ": reached" in panel.estimate_label.text()
    _, changed = panel.changed_curve.getData()
    assert list(changed) == [0.1] * 4  # the changed fraction beside the agreement


def test_points_of_strokes_stay_out_of_the_averages_and_the_target(qtbot):
    """Strokes are painted where the prediction was wrong: a low agreement there must not pull
    the average down, nor a high one judge the target."""
    record = record_of([0.9, 0.92, 0.94], ["v"] * 3, validation=("img_0.png",))
    for i, score in enumerate([0.05, 0.99, 0.99], start=3):
        record = record.with_point(CurvePoint(0, f"img_{i}.png", score, "dice", 0.95, "v",
                                              labelled_fraction=0.02))
    checked = {f"img_{i}.png" for i in range(6)}
    text = estimate_text(record, checked)
    assert "3 image(s); last 3: the starting prediction agrees with your saved mask at Dice " \
           "0.920, you changed 10.0% of the pixels" in text
    assert "3 image(s) saved as strokes (hollow; 2.0% painted)" in text
    assert "(3, last 3 0.920): not reached" in text or "(3, last 3 0.920): about" in text
    panel = LearningPanel()
    qtbot.addWidget(panel)
    panel.show_record(record)
    xs, ys = panel.average_curve.getData()
    assert list(xs) == [1, 2, 3] and ys[-1] == pytest.approx(0.92)
    assert list(panel.changed_curve.getData()[1]) == [0.1] * 3
    spots = panel.points.points()
    assert len(spots) == 6
    assert [s.brush().style() == Qt.BrushStyle.NoBrush for s in spots] == [False] * 3 + [True] * 3
    assert "strokes: 2.0% of it painted" in panel._tip(4, 0.05, spots[3].data())
    assert "strokes" not in panel._tip(1, 0.9, spots[0].data())
    only_strokes = LearningRecord().with_point(CurvePoint(0, "a", 0.1, "dice", 0.9, "v",
                                                          labelled_fraction=0.05))
    assert "No full corrections yet" in estimate_text(only_strokes, {"a"})
