from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from unet_desktop.core.labels import (
    IGNORE_INDEX,
    LabelScheme,
    binary_scheme,
    binary_to_trimap,
    camvid_scheme,
    multiclass_scheme,
    scheme_by_name,
    trimap_scheme,
    trimap_to_binary,
)


def test_binary_values_map_to_indices_and_back():
    s = binary_scheme()
    stored = np.array([[0, 255], [255, 0]], np.uint8)
    idx = s.to_index(stored)
    assert idx.tolist() == [[0, 1], [1, 0]]
    assert np.array_equal(s.to_stored(idx), stored)


def test_trimap_border_can_be_ignored():
    s = trimap_scheme()
    stored = np.array([1, 2, 3], np.uint8)
    assert s.to_index(stored).tolist() == [0, 1, 2]
    assert s.to_index(stored, border_as_ignore=True).tolist() == [0, 1, IGNORE_INDEX]
    assert s.foreground_value == 1


def test_multiclass_ignore_value_maps_to_ignore_index():
    s = camvid_scheme()
    assert s.num_classes == 11
    stored = np.array([0, 10, 11], np.uint8)
    assert s.to_index(stored).tolist() == [0, 10, IGNORE_INDEX]
    assert s.to_stored(np.array([IGNORE_INDEX], np.uint8)).tolist() == [11]


def test_values_outside_the_scheme_are_named():
    s = trimap_scheme()
    with pytest.raises(ValueError, match=r"\[0, 7\]"):
        s.to_index(np.array([0, 1, 7], np.uint8))
    assert s.invalid_values(np.array([1, 2, 3], np.uint8)) == []


def test_bad_scheme_definitions_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        LabelScheme("multiclass", binary_scheme().classes * 2)
    with pytest.raises(ValueError, match="ignore value"):
        multiclass_scheme(3, ignore_value=2)
    with pytest.raises(ValueError, match="colours"):
        multiclass_scheme(["a", "b"], colors=[(0, 0, 0)])
    with pytest.raises(ValueError, match="unknown label scheme"):
        scheme_by_name("rainbow")
    with pytest.raises(ValueError, match="number of classes"):
        scheme_by_name("multiclass")


@pytest.mark.parametrize("scheme", [binary_scheme(), trimap_scheme(), camvid_scheme()])
def test_dict_round_trip(scheme: LabelScheme):
    again = LabelScheme.from_dict(scheme.to_dict())
    assert again == scheme
    assert np.array_equal(again.palette(), scheme.palette())


def test_from_dict_rejects_garbage():
    with pytest.raises(ValueError):
        LabelScheme.from_dict({"kind": "binary"})
    with pytest.raises(ValueError, match="unknown scheme kind"):
        LabelScheme.from_dict({**binary_scheme().to_dict(), "kind": "weird"})


def test_palette_colours_stored_values():
    s = trimap_scheme()
    rgb = s.colorize(np.array([[1, 2, 3]], np.uint8))
    assert [tuple(c) for c in rgb[0]] == [c.color for c in s.classes]
    rgba = s.palette_rgba(128)
    assert rgba[1, 3] == 128 and rgba[0, 3] == 0


def test_binary_to_trimap_band_surrounds_the_boundary():
    binary = np.zeros((40, 40), np.uint8)
    binary[10:30, 10:30] = 255
    tri = binary_to_trimap(binary, band=2)
    assert tri[20, 20] == 1 and tri[0, 0] == 2
    # every border pixel is within 2 px of the edge of the square, on either side
    ys, xs = np.nonzero(tri == 3)
    dist_in = np.minimum.reduce([np.abs(ys - 10), np.abs(ys - 29), np.abs(xs - 10), np.abs(xs - 29)])
    assert dist_in.max() <= 2
    assert (tri[10, 10:30] == 3).all()  # the boundary itself is border
    assert np.array_equal(binary_to_trimap(binary, band=0) == 1, binary > 0)


@settings(max_examples=50, deadline=None)
@given(arrays(np.uint8, (12, 9), elements=st.sampled_from([0, 255])))
def test_trimap_round_trip_without_band_is_lossless(binary):
    assert np.array_equal(trimap_to_binary(binary_to_trimap(binary, band=0)), binary)


def test_trimap_to_binary_border_choice():
    tri = np.array([1, 2, 3], np.uint8)
    assert trimap_to_binary(tri).tolist() == [255, 0, 255]
    assert trimap_to_binary(tri, border_as_foreground=False).tolist() == [255, 0, 0]


def test_same_classes_compares_kind_stored_values_and_names_same_values_not_names():
    from unet_desktop.core.labels import binary_scheme, trimap_scheme

    assert not binary_scheme().same_classes(binary_scheme(("membrane", "cell")))
    assert binary_scheme().same_values(binary_scheme(("membrane", "cell")))
    assert binary_scheme().same_classes(binary_scheme(("Background", "FOREGROUND"), 128))
    assert not binary_scheme().same_classes(trimap_scheme())
    assert trimap_scheme().same_classes(trimap_scheme())
