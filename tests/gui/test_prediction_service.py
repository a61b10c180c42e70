"""Instant predictions: latest wins, prefetch, cache, errors, hot-swap/toggle/rollback, ranking."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_model_file,
    model_worker,
    models,
    on_screen,
    service,
    tiny_model,
    tiny_pets,
)
from tests.gui.helpers import block
from unet_desktop.core.folder.workspace import ImageEntry, ImageState, Workspace
from unet_desktop.gui.model.model_controller import ModelSlots, device_choices
from unet_desktop.gui.model.prediction_cache import PredictionCache
from unet_desktop.gui.model.prediction_service import (
    most_uncertain,
    neighbours_of,
    uncertainty_order,
)
from unet_desktop.ml.inference.predictor import Prediction, Predictor


@pytest.fixture
def ws(service, tiny_pets) -> Workspace:
    workspace = Workspace.open(tiny_pets)
    service.set_workspace(workspace)
    return workspace


def record(service) -> list[tuple[str, str, Prediction]]:
    results: list = []
    service.prediction_ready.connect(lambda key, version, p: results.append((key, version, p)))
    return results


def expected_labels(model_path: Path, ws: Workspace, key: str) -> np.ndarray:
    return Predictor.from_file(model_path, device="cpu").predict(ws.load_image(key)).labels


def test_a_requested_prediction_comes_back_with_its_key_and_model_version(
        qtbot, service, ws, models, tiny_model, on_screen):
    key = on_screen.key = image_key(4)
    with qtbot.waitSignal(service.prediction_ready, timeout=TIMEOUT_MS) as ready:
        assert service.request(key) is None  # not cached yet
    got_key, version, prediction = ready.args
    assert (got_key, version) == (key, models.active_version)
    assert service.is_current(got_key, version)
    np.testing.assert_array_equal(prediction.labels, expected_labels(tiny_model, ws, key))
    assert prediction.uncertainty.shape == prediction.labels.shape == (40, 48)
    assert 0.0 <= prediction.score <= 1.0


def test_latest_request_wins_and_superseded_requests_never_run(qtbot, service, ws, models):
    results, superseded = record(service), []
    service.superseded.connect(superseded.append)
    gate = block(service.worker)
    for i in (1, 2, 3):
        service.request(image_key(i))
    gate.set()
    qtbot.waitUntil(service.worker.is_idle, timeout=TIMEOUT_MS)
    assert superseded == [image_key(1), image_key(2)]
    assert [r[0] for r in results] == [image_key(3)]
    assert [k for k, _ in service.cache.entries()] == [image_key(3)]  # the others were never run


@pytest.mark.reliability("concurrency", "rapid switching: the last key gets its own prediction")
def test_rapid_switching_ends_with_the_right_prediction_on_the_right_key(
        qtbot, service, ws, tiny_model, on_screen):
    results = record(service)
    keys = [image_key(i) for i in range(6)]
    for key in keys * 2:  # a user holding the next-image key
        on_screen.key = key
        service.request(key, neighbours_of(keys, key))
    qtbot.waitUntil(lambda: any(r[0] == keys[-1] for r in results), timeout=TIMEOUT_MS)
    shown = [r for r in results if service.is_current(r[0], r[1])]
    assert shown and all(r[0] == keys[-1] for r in shown)
    np.testing.assert_array_equal(shown[-1][2].labels, expected_labels(tiny_model, ws, keys[-1]))


def test_neighbours_are_prefetched_and_then_shown_at_once(qtbot, service, ws, models):
    keys = [image_key(i) for i in range(6)]
    service.request(keys[2], neighbours_of(keys, keys[2], radius=1))
    qtbot.waitUntil(service.worker.is_idle, timeout=TIMEOUT_MS)
    version = models.active_version
    assert {k for k, v in service.cache.entries() if v == version} == {keys[1], keys[2], keys[3]}
    results = record(service)
    hit = service.request(keys[3])
    assert hit is not None and service.cached(keys[3]) is hit
    assert results == [(keys[3], version, hit)]  # emitted synchronously, no worker round trip


@pytest.mark.reliability("images", "prediction of an unreadable image names the file")
def test_an_unreadable_image_reports_the_file_and_the_reason(qtbot, service, ws):
    key = image_key(5)
    ws[key].image_path.write_bytes(b"not an image at all")
    with qtbot.waitSignal(service.failed, timeout=TIMEOUT_MS) as failed:
        service.request(key)
    assert failed.args[0] == key
    assert "img_05.png" in failed.args[1]


def test_hot_swap_toggle_and_rollback(qtbot, service, ws, models, tmp_path):
    key = image_key(0)
    first = models.active_version
    with qtbot.waitSignal(service.prediction_ready, timeout=TIMEOUT_MS) as ready:
        service.request(key)
    old_prediction = ready.args[2]
    other = make_model_file(tmp_path / "models" / "other.safetensors", seed=1, name="other")
    with qtbot.waitSignal(models.model_changed, timeout=TIMEOUT_MS):
        models.load(other)
    second = models.active_version
    assert second != first and models.slots.previous.version == first
    assert not service.is_current(key, first)  # a late result of the old model is not painted
    with qtbot.waitSignal(service.prediction_ready, timeout=TIMEOUT_MS) as ready:
        service.request(key)
    assert ready.args[1] == second
    assert not np.array_equal(ready.args[2].probs if ready.args[2].probs is not None
                              else ready.args[2].uncertainty, old_prediction.uncertainty)
    assert models.toggle_previous() and models.active_version == first
    assert service.request(key) is old_prediction  # the old model's result is still cached
    assert models.toggle_previous() and models.active_version == second
    assert models.rollback()
    assert (models.slots.current.version, models.slots.previous.version) == (first, second)
    assert models.active_version == first and not models.using_previous


@pytest.mark.reliability("models", "missing model file reported by the window's model controller")
def test_a_missing_model_file_is_reported(qtbot, models, tmp_path):
    with qtbot.waitSignal(models.load_failed, timeout=TIMEOUT_MS) as failed:
        models.load(tmp_path / "nope.safetensors")
    assert "nope.safetensors" in failed.args[0] and "no such file" in failed.args[0]
    assert models.active is not None  # the loaded model stays


def test_mode_change_clears_the_cache(qtbot, service, ws, models):
    with qtbot.waitSignal(service.prediction_ready, timeout=TIMEOUT_MS):
        service.request(image_key(0))
    assert len(service.cache) == 1
    with qtbot.waitSignal(models.predictions_invalidated, timeout=TIMEOUT_MS):
        models.set_mode("tile")
    assert len(service.cache) == 0
    assert models.active.predictor.mode == "tile"


def test_device_choices_and_moving_the_models(qtbot, service, ws, models):
    names = [c.name for c in device_choices()]
    assert names[0] == "auto" and names[-1] == "cpu"
    with qtbot.waitSignal(service.prediction_ready, timeout=TIMEOUT_MS) as ready:
        service.request(image_key(2))
    before = ready.args[2]
    with qtbot.waitSignal(models.model_changed, timeout=TIMEOUT_MS):
        models.set_device("cpu")
    service.cache.clear()
    with qtbot.waitSignal(service.prediction_ready, timeout=TIMEOUT_MS) as ready:
        service.request(image_key(2))
    np.testing.assert_array_equal(ready.args[2].labels, before.labels)
    with qtbot.waitSignal(models.load_failed, timeout=TIMEOUT_MS) as failed:
        models.set_device("cuda:7" if "cuda:0" in names else "cuda")
    assert "cuda" in failed.args[0]
    assert str(models.active.predictor.device) == "cpu"


# --- Qt-free pieces ------------------------------------------------------------------------------
def fake_prediction(n_bytes: int, score: float = 0.5) -> Prediction:
    return Prediction(np.zeros(n_bytes, np.uint8), None, np.zeros(0, np.float32), score)


def test_cache_evicts_the_least_recently_used_by_bytes():
    cache = PredictionCache(max_bytes=300)
    for key in "abc":
        cache.put(key, "v1", fake_prediction(100))
    assert cache.get("a", "v1") is not None  # a is now the most recent
    cache.put("d", "v1", fake_prediction(100))
    assert [k for k, _ in cache.entries()] == ["c", "a", "d"] and cache.nbytes == 300
    cache.put("huge", "v1", fake_prediction(1000))  # bigger than the cache: not kept
    assert ("huge", "v1") not in cache and len(cache) == 3
    assert cache.get("a", "v2") is None  # another model version is another entry


def test_cache_limit_by_count_and_scores_per_version():
    cache = PredictionCache(max_items=2)
    cache.put("a", "v1", fake_prediction(1, 0.1))
    cache.put("b", "v2", fake_prediction(1, 0.2))
    cache.put("c", "v1", fake_prediction(1, 0.3))
    assert cache.scores("v1") == {"c": pytest.approx(0.3)} and len(cache) == 2


def entry(key: str, state: ImageState, uncertainty: float | None) -> ImageEntry:
    return ImageEntry(key, Path(key), Path(key), state, None, uncertainty)


def test_most_uncertain_image_not_yet_corrected_comes_first():
    entries = [entry("a", ImageState.PREDICTED, 0.2), entry("b", ImageState.CORRECTED, 0.9),
               entry("c", ImageState.UNLABELED, None), entry("d", ImageState.PREDICTED, 0.4),
               entry("e", ImageState.VERIFIED, 0.99), entry("f", ImageState.UNLABELED, None)]
    assert uncertainty_order(entries) == ["d", "a", "c", "f"]
    assert uncertainty_order(entries, {"c": 0.5, "a": 0.01}) == ["c", "d", "a", "f"]
    assert most_uncertain(entries, {"c": 0.5}) == "c"
    assert most_uncertain([entry("b", ImageState.CORRECTED, 0.9)]) is None


def test_image_with_an_invalid_mask_still_needs_work():
    entries = [entry("a", ImageState.PREDICTED, 0.2), entry("b", ImageState.CORRECTED, 0.9)]
    assert uncertainty_order(entries, invalid={"b": "values [1, 2, 3] are not allowed"}) \
        == ["b", "a"]
    assert most_uncertain(entries[1:], invalid={"b"}) == "b"


def test_neighbours_in_list_order_nearest_first():
    keys = list("abcdef")
    assert neighbours_of(keys, "c") == ["d", "b", "e", "a"]
    assert neighbours_of(keys, "a", radius=1) == ["b"]
    assert neighbours_of(keys, "zz") == []


def test_model_slots_install_toggle_rollback():
    class Fake:
        def __init__(self, version):
            self.meta = type("Meta", (), {"version": version, "name": version})()

    from unet_desktop.gui.model.model_controller import LoadedModel

    a, b, a2 = (LoadedModel(Fake(v), None) for v in ("a", "b", "a"))
    slots = ModelSlots()
    with pytest.raises(LookupError):
        slots.toggle()
    slots.install(a)
    slots.install(a2)  # the same version again: no "previous" to compare with
    assert slots.previous is None and slots.current is a2
    slots.install(b)
    assert slots.active() is b and slots.previous is a2
    assert slots.toggle() is a2 and slots.active() is a2
    assert slots.rollback() is a2 and slots.previous is b and slots.active() is a2
