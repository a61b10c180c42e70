"""A mask corrected again while Learn as I Correct is off: turning learning on again asks for a
round, and that round trains on the mask as it is now, not the one the loop read before."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import numpy as np

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_pets,
    tiny_model,
)
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.io.file_hash import file_sha1
from unet_desktop.ml.loop.learning_loop import LoopSettings
from unet_desktop.ml.models.modelfile import read_meta


def test_turning_learning_on_trains_the_mask_corrected_while_off(qtbot, tmp_path, tiny_model):
    pets = make_pets(tmp_path / "pets", n_images=5, n_labelled=4)
    w = open_window(qtbot, model_path=tiny_model)
    try:
        qtbot.waitUntil(lambda: w.models.active is not None, timeout=TIMEOUT_MS)
        w.learning.settings = LoopSettings(epochs=1, size=32, batch_size=4)
        assert w.open_folder(pets)
        w.learning.panel.k_spin.setValue(2)
        with qtbot.waitSignal(w.learning.round_finished, timeout=TIMEOUT_MS):
            w.model_actions.learn_as_i_correct.trigger()
        qtbot.waitUntil(lambda: not w.learning.running and not w.models.loading,
                        timeout=TIMEOUT_MS)
        trained = w.learning.loop.record.training_keys
        key = trained[0]
        w.model_actions.learn_as_i_correct.trigger()  # off
        assert not w.learning.enabled
        w.file_dock.select_key(key)
        qtbot.waitUntil(lambda: w.session.current_key == key, timeout=TIMEOUT_MS)
        mask = w.session.document.mask
        w.session.apply(delta_from_masks(mask, np.full_like(mask, 2), "brush"))
        assert w.session.save("save")
        now = file_sha1(w.session.workspace[key].mask_path)

        with qtbot.waitSignal(w.learning.round_finished, timeout=TIMEOUT_MS) as done:
            w.model_actions.learn_as_i_correct.trigger()  # on again: a round for it
        result = done.args[0]
        assert key in result.train_images
        assert read_meta(result.model_path).data_summary["mask_sha1"][key] == now
    finally:
        w.close()
