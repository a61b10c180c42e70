"""Resources: a 24-megapixel image edited and predicted within 4 GiB, and a folder of 10,000
images that opens and scrolls without decoding the images nobody looks at."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import open_window
from tests.ml.conftest import make_model_file
from unet_desktop.core.io import imageio
from unet_desktop.core.labels import trimap_scheme

REPO = Path(__file__).resolve().parents[2]
GIB = 1 << 30

_BIG_IMAGE = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np, torch
    from PIL import Image
    torch.set_num_threads(1)
    from unet_desktop.core.editing.document import MaskDocument
    from unet_desktop.core.editing.brush import brush_segment
    from unet_desktop.core.io.imageio import read_image
    from unet_desktop.core.labels import trimap_scheme
    from unet_desktop.ml.inference.predictor import Predictor

    image_path, model_path = sys.argv[1], sys.argv[2]

    def peak():
        # VmHWM, not getrusage's ru_maxrss: a child spawned by a process takes that process's
        # peak into its ru_maxrss (the kernel folds in the old memory map's at exec), so under
        # a pytest process that peaked at 3-4 GiB the child read 3.4-4.0 GiB for its 2.25 GiB.
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    start = time.perf_counter()
    image = read_image(image_path)
    assert image.shape == (4000, 6000, 3), image.shape
    original = np.full((4000, 6000), 2, np.uint8)
    document = MaskDocument("big.png", image, original.copy(), trimap_scheme())
    rng = np.random.default_rng(0)
    for stroke in range(20):
        document.begin_stroke("Brush stroke")
        points = rng.uniform(0, (6000, 4000), (8, 2))
        for a, b in zip(points[:-1], points[1:]):
            document.apply(brush_segment(document.mask, tuple(a), tuple(b), 40, 1 + stroke % 3))
        document.end_stroke()
    painted = int((document.mask != 2).sum())
    while document.can_undo:
        document.undo()
    undone = bool(np.array_equal(document.mask, original))
    edit_s = time.perf_counter() - start
    predictor = Predictor.from_file(model_path, device="cpu", mode="tile", tile_size=512,
                                    batch_size=4)
    prediction = predictor.predict(image, probs=False)
    print(json.dumps({"peak_rss": peak(), "painted": painted, "undone": undone,
                      "labels": list(prediction.labels.shape),
                      "values": sorted(int(v) for v in np.unique(prediction.labels)),
                      "edit_s": edit_s, "total_s": time.perf_counter() - start}))
    """
)


@pytest.mark.reliability("resources", "24 MP image: edit, undo, tile prediction in < 4 GiB")
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_a_24_megapixel_image_is_edited_and_predicted_within_4_gib(tmp_path):
    yy, xx = np.mgrid[:4000, :6000]
    pixels = np.stack([xx % 256, yy % 256, (xx + yy) % 256], axis=-1).astype(np.uint8)
    image_path = tmp_path / "big.png"
    Image.fromarray(pixels).save(image_path, compress_level=1)
    del pixels, yy, xx
    model, _ = make_model_file(tmp_path / "tiny.safetensors", trimap_scheme())
    env = dict(os.environ, OMP_NUM_THREADS="1", UNET_DESKTOP_HOME=str(tmp_path / "home"))
    run = subprocess.run([sys.executable, "-c", _BIG_IMAGE, str(image_path), str(model)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
                         check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"24 MP: peak RSS {result['peak_rss'] / GIB:.2f} GiB, edits {result['edit_s']:.1f} s, "
          f"total {result['total_s']:.1f} s")
    assert result["painted"] > 100_000 and result["undone"]
    assert result["labels"] == [4000, 6000] and set(result["values"]) <= {1, 2, 3}
    assert result["peak_rss"] < 4 * GIB


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.reliability("resources", "10,000-image folder opens and scrolls, flat memory")
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads RSS from /proc")
def test_ten_thousand_images_open_and_scroll_decoding_only_the_shown_one(qtbot, tmp_path,
                                                                        monkeypatch):
    count = 10_000
    flat = np.zeros((256, 256, 3), np.uint8)  # decodes to 192 KiB: 1.9 GB if all were read
    flat[:, :128] = 200
    source = tmp_path / "one.png"
    Image.fromarray(flat).save(source)
    data = source.read_bytes()
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(count):
        (folder / f"img_{i:05d}.png").write_bytes(data)

    decoded: list[str] = []
    sized: list[str] = []
    read_image, image_size = imageio.read_image_raw, imageio.image_size  # what the window reads
    monkeypatch.setattr(imageio, "read_image_raw",
                        lambda path: decoded.append(Path(path).name) or read_image(path))
    monkeypatch.setattr(imageio, "image_size",
                        lambda path: sized.append(Path(path).name) or image_size(path))
    win = open_window(qtbot)
    QApplication.processEvents()
    before = _rss_bytes()
    assert win.open_folder(folder)
    assert len(win.session.workspace) == count
    bar = win.file_dock.view.verticalScrollBar()
    assert bar.maximum() > 1000
    for value in range(0, bar.maximum() + bar.pageStep(), bar.pageStep()):
        bar.setValue(value)
        QApplication.processEvents()
    assert bar.value() == bar.maximum()
    win.file_dock.select_key(f"img_{count - 1:05d}.png")
    QApplication.processEvents()
    growth = _rss_bytes() - before
    print(f"10k images: RSS grew {growth / 2**20:.0f} MiB after open + scroll")
    assert decoded == ["img_00000.png", f"img_{count - 1:05d}.png"] and sized == []
    assert growth < 150 * 2**20
    win.close()
