"""A mask written over a hand-changed one (its copy kept) from an image beyond the model's range:
the range note replaced the output's note, so the message naming the kept copy was lost."""

from pathlib import Path

from unet_desktop.ml.inference.batch_pipeline import _write_noting
from unet_desktop.ml.inference.batch_progress import ItemResult


class KeptACopy:
    def write(self, items):
        return [ItemResult(key, Path(key), "predicted", reason=reason)
                for key, reason in items]


def test_the_range_note_is_added_to_what_the_output_said():
    items = [("a.tif", "replaced your mask; a copy is in .unet-desktop/replaced/a-1.png"),
             ("b.tif", "")]
    results = _write_noting(KeptACopy(), items, ["beyond the 12-bit range", "beyond the 12-bit range"])
    assert "a copy is in" in results[0].reason and "beyond the 12-bit range" in results[0].reason
    assert results[1].reason == "beyond the 12-bit range"
