"""The Model Card of a learning-loop version the gate validated shows the gate's verdict (from
the task: rounds train without validating) and never says "not validated" of it; metrics with no
value are left out of its tables."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_pets,
    tiny_model,
)
from unet_desktop.gui.model.model_card_dialog import metric_rows
from unet_desktop.ml.loop.learning_loop import LoopSettings


def table(widget) -> dict[str, str]:
    return {widget.item(r, 0).text(): widget.item(r, 1).text() for r in range(widget.rowCount())}


def test_metrics_without_a_value_are_left_out():
    rows = metric_rows({"loss": None, "miou": None, "epoch": 1, "parent": {"miou": None}}, [])
    assert rows == [("epoch", "1")]


def test_the_card_of_a_gate_validated_version_shows_the_verdict(qtbot, tmp_path, tiny_model):
    pets = make_pets(tmp_path / "pets", n_images=6, n_labelled=4)
    w = open_window(qtbot, model_path=tiny_model)
    try:
        qtbot.waitUntil(lambda: w.models.active is not None, timeout=TIMEOUT_MS)
        w.learning.settings = LoopSettings(epochs=1, size=32, batch_size=4)
        assert w.open_folder(pets)
        w.learning.panel.k_spin.setValue(2)
        with qtbot.waitSignal(w.learning.round_finished, timeout=TIMEOUT_MS) as done:
            w.model_actions.learn_as_i_correct.trigger()
        result = done.args[0]
        assert result.validated
        qtbot.waitUntil(lambda: w.models.active_version == result.version, timeout=TIMEOUT_MS)
        card = w.model_commands.show_model_card()
        assert not any("not validated" in h for h in card.headings)
        assert card.headings[0].endswith("on 2 validation image(s) it never trained on")
        verdict = table(card.verdict_table)
        assert verdict["score"] == f"{result.metrics['val_score']:.4g}"
        assert "Promoted" in verdict["verdict"] or "first model" in verdict["verdict"]
        if card.metrics_table is not None:
            assert "None" not in table(card.metrics_table).values()
        card.close()
    finally:
        w.close()
