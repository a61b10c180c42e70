"""Inference: image (uint8 array) in, labels + probabilities + uncertainty out.

Two modes:

- ``resize``: the image is resized so that its shorter side equals the model's training scale
  (``meta.train_size``), keeping the aspect ratio (an image more than 8 times longer than wide
  is scaled by its longer side, see :func:`resize_shape`); the network pads internally; the
  logits are upsampled (bilinear) to the image size.
- ``tile``: native resolution, overlap-tiles blended with a cosine window (see
  :mod:`unet_desktop.ml.inference.tiling`), streamed row by row so huge images fit in memory.

A model trained at the native scale (``meta.scale == "native"``) predicts in tiles in both
modes: native resolution *is* its training scale.

Speed-ups that keep the outputs equal within float tolerance: BatchNorm folded into the
convolutions, ``torch.inference_mode``, channels-last memory format, optional
``torch.compile``; on the CPU, ONNX Runtime where it is installed (``engine="auto"``, see
:mod:`unet_desktop.ml.inference.onnx_engine`); on a GPU, bf16 (or fp16) autocast. bf16 on CPU is opt-in
(``amp=True``): about twice as fast where the CPU has bf16 instructions, but its probabilities
differ from fp32 by up to a few percent.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from unet_desktop.ml.device import pick_device
from unet_desktop.ml.inference.prediction_result import Prediction
from unet_desktop.ml.inference.tiling import blend_tiles
from unet_desktop.ml.models.fuse import fold_batchnorm
from unet_desktop.ml.models.modelfile import ModelMeta, load_model_file

Mode = Literal["resize", "tile"]
Engine = Literal["auto", "torch", "onnxruntime"]
_EPS = 1e-12
MAX_ASPECT = 8  # resize mode: the longer side is at most this many times the training scale


def as_model_channels(image: np.ndarray, in_channels: int) -> np.ndarray:
    """An H x W x in_channels uint8 view of ``image`` (gray <-> RGB converted, alpha dropped)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3) \
            or min(image.shape[:2]) < 1:
        raise ValueError(f"expected an H x W or H x W x 3 image, got shape {image.shape}")
    if in_channels == 1:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        return gray[:, :, None]
    if in_channels == 3:
        return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image
    raise ValueError(f"models with {in_channels} input channels are not supported (1 or 3)")


def resize_shape(height: int, width: int, train_size: int) -> tuple[int, int]:
    """Shape with the shorter side scaled to ``train_size``, aspect ratio kept, and the longer
    side at most :data:`MAX_ASPECT` times ``train_size``: an image longer than that (a line
    scan, 1 x 4000) is scaled by its longer side instead, so that its one forward pass stays
    the size of a squarer image's (1 x 4000 would become 320 x 1,280,000)."""
    scale = min(train_size / min(height, width), MAX_ASPECT * train_size / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == shape:
        return image
    shrinking = shape[0] < image.shape[0]
    out = cv2.resize(image, (shape[1], shape[0]),
                     interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return out.reshape(*shape, image.shape[2])


_STRIP_PIXELS = 1 << 21  # pixels per strip of upsampled logits (C x 8 MB in float32)


def upsampled_strips(logits: torch.Tensor, size: tuple[int, int],
                     strip_pixels: int) -> Iterator[tuple[int, torch.Tensor]]:
    """(top row, C x rows x W strip) of ``F.interpolate(logits[None], size, "bilinear")[0]``
    (align_corners False) for contiguous CPU ``logits``, a few rows at a time.

    The columns are interpolated once at the input's height (C x h x W); each output row is
    then its two source rows weighted as torch weights them: the weights are torch's own (read
    from a 0/1 pattern interpolated to the output height) and combined as torch's CPU kernel
    combines them on several threads, one fused multiply-add: the same values as that kernel
    (torch's single-thread kernel rounds differently, by up to a few 1e-6). A shrinking
    interpolation (a small image), or one whose source rows are not matched to torch's
    weights, is done whole, as before."""
    height, width = size
    rows_per_strip = max(1, strip_pixels // max(1, width))
    if tuple(logits.shape[-2:]) == (height, width):
        for top in range(0, height, rows_per_strip):
            yield top, logits[:, top:top + rows_per_strip]
        return
    shrinking = height < logits.shape[1] or width < logits.shape[2]
    rows = None if shrinking or logits.shape[1] < 2 else _row_weights(logits.shape[1], height)
    if rows is None:  # a small image (shrunk logits, one row), or torch's weights not matched
        yield 0, F.interpolate(logits[None], size=size, mode="bilinear", align_corners=False)[0]
        return
    columns = F.interpolate(logits[None], size=(logits.shape[1], width), mode="bilinear",
                            align_corners=False)[0]
    for top in range(0, height, rows_per_strip):
        yield top, _rows_of(columns, rows, slice(top, top + rows_per_strip))


def _rows_of(columns: torch.Tensor, rows, span: slice) -> torch.Tensor:
    """Output rows ``span`` of ``columns`` (C x h x W) interpolated with :func:`_row_weights`."""
    first, second, first_weight, second_weight = rows
    upper = columns[:, first[span]].double().mul_(first_weight[span, None])
    lower = columns[:, second[span]].mul_(second_weight[span, None].float())
    return upper.add_(lower).float()  # = fma(w0, upper, w1 * lower) in float32


def _row_weights(source: int, target: int):
    """torch's bilinear source rows and weights (align_corners False) for ``target`` output
    rows from ``source`` rows: (first, second, first weight as float64, second weight), or
    None when the rows cannot be matched to torch's weights."""
    def interpolated(column: torch.Tensor) -> torch.Tensor:
        return F.interpolate(column.view(1, 1, source, 1), size=(target, 1), mode="bilinear",
                             align_corners=False).view(target)

    odd = (torch.arange(source) % 2).float()
    at_odd, at_even = interpolated(odd), interpolated(1 - odd)
    scale = np.float32(source) / np.float32(target)
    half = np.arange(target, dtype=np.float32) + np.float32(0.5)
    for real in (scale * half - np.float32(0.5),  # with and without a fused multiply-add
                 (np.float64(scale) * half - 0.5).astype(np.float32)):
        real = np.maximum(real, np.float32(0))
        first = np.minimum(np.floor(real).astype(np.int64), source - 1)
        expected = np.clip(real - first.astype(np.float32), 0, 1)
        even = torch.from_numpy(first % 2 == 0)
        second_weight = torch.where(even, at_odd, at_even)
        first_weight = torch.where(even, at_even, at_odd)
        inside = first < source - 1  # past the last row both are that row: not told apart
        if np.array_equal(second_weight.numpy()[inside], expected[inside]):
            last = torch.from_numpy(~inside)
            second_weight[last] = torch.from_numpy(expected[~inside])
            first_weight[last] = 1 - second_weight[last]
            second = torch.from_numpy(first + inside)
            return torch.from_numpy(first), second, first_weight.double(), second_weight
    return None


def entropy(probs: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Entropy normalised by log(C): 0 for a one-hot distribution, 1 for a uniform one."""
    classes = probs.shape[dim]
    if classes < 2:
        return torch.zeros_like(probs.select(dim, 0))
    return torch.special.entr(probs).sum(dim).div_(math.log(classes)).clamp_(0.0, 1.0)


def argmax_classes(scores: torch.Tensor) -> torch.Tensor:
    """``scores.argmax(0)`` of a (C, H, W) tensor as uint8 (first maximum wins).

    A loop over the few classes is several times faster on CPU than ``torch.argmax`` over the
    outer dimension (32 ms against 2 ms for 3 x 512 x 512).
    """
    best = scores[0].clone()
    index = torch.zeros(scores.shape[1:], dtype=torch.uint8, device=scores.device)
    for c in range(1, scores.shape[0]):
        index.masked_fill_(scores[c] > best, c)
        torch.maximum(best, scores[c], out=best)
    return index


def _amp_dtype(device: torch.device, amp: bool | None) -> torch.dtype | None:
    """Autocast dtype: on GPUs unless ``amp`` is False; on CPU only when ``amp`` is True
    (bf16: about 2x faster where the CPU has bf16 instructions, but not equal to fp32)."""
    if amp is False:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.bfloat16 if amp else None


def _compiled(model: nn.Module, device: torch.device) -> nn.Module:
    """``torch.compile`` for inference: on CPU with weight freezing (lets oneDNN prepack the
    weights and fuse convolution + ReLU), on CUDA with CUDA graphs (``reduce-overhead``).
    Compiles on the first call of each new input shape (seconds to a minute)."""
    if device.type == "cuda":
        return torch.compile(model, mode="reduce-overhead")
    if device.type == "cpu":
        return torch.compile(model, options={"freezing": True})
    return torch.compile(model)


class Predictor:
    """Runs a segmentation model on uint8 images; see the module docstring for the modes.

    ``device``: a torch device or a name for :func:`pick_device` (None = auto).
    ``batch_size``: images (resize mode) or tiles (tile mode) per forward pass.
    ``tile_size``/``tile_overlap``: tile mode geometry in pixels (the tile is rounded down to
    the model's size multiple). ``fuse_bn``, ``channels_last``, ``compile``: speed-ups;
    ``amp``: None = autocast on GPUs only, True = also bf16 on CPU, False = never.
    ``engine``: what runs the network; "auto" = ONNX Runtime on the CPU (fp32, not compiled)
    when installed, else PyTorch. :attr:`engine` tells which one runs.
    """

    def __init__(
        self,
        model: nn.Module,
        meta: ModelMeta,
        device: str | torch.device | None = None,
        mode: Mode = "resize",
        tta: bool = False,
        *,
        batch_size: int = 4,
        tile_size: int = 512,
        tile_overlap: int = 64,
        fuse_bn: bool = True,
        channels_last: bool = True,
        amp: bool | None = None,
        compile: bool = False,
        engine: Engine = "auto",
        source: str | os.PathLike | None = None,
    ):
        if engine not in ("auto", "torch", "onnxruntime"):
            raise ValueError(f"engine must be auto, torch or onnxruntime, got {engine!r}")
        if mode not in ("resize", "tile"):
            raise ValueError(f"mode must be 'resize' or 'tile', got {mode!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.meta = meta
        self.source = source  # the model's file, named by errors (None: made in memory)
        self.device = device if isinstance(device, torch.device) else pick_device(device or "auto")
        self.mode: Mode = mode
        self.tta = tta
        self.batch_size = batch_size
        self.tile_size = tile_size
        self.tile_overlap = tile_overlap
        self.multiple = int(getattr(model, "size_multiple", 1))
        model = model.eval()
        if fuse_bn:
            model = fold_batchnorm(model)[0]
        model = model.to(self.device)
        self.amp_dtype = _amp_dtype(self.device, amp)
        self.onnx = self._onnx_network(model, engine, compile)
        self.engine = "onnxruntime" if self.onnx is not None else "torch"
        self.memory_format = torch.channels_last if channels_last and self.onnx is None \
            else torch.contiguous_format
        model = model.to(memory_format=self.memory_format)
        self.model = _compiled(model, self.device) if compile else model
        norm = meta.normalization
        shape = (1, meta.in_channels, 1, 1)
        self._mean = torch.tensor(norm["mean"], dtype=torch.float32).view(shape).to(self.device)
        self._std = torch.tensor(norm["std"], dtype=torch.float32).view(shape).to(self.device)

    def _onnx_network(self, model: nn.Module, engine: Engine, compile: bool):
        if engine == "torch":
            return None
        usable = self.device.type == "cpu" and self.amp_dtype is None and not compile
        if engine == "onnxruntime" and not usable:
            raise ValueError("the onnxruntime engine runs fp32 on the CPU only, without compile")
        if not usable:
            return None
        from unet_desktop.core.io.paths import user_cache_dir
        from unet_desktop.ml.inference.onnx_engine import onnx_network

        network = onnx_network(model, self.meta.in_channels, cache_dir=user_cache_dir() / "onnx")
        if network is None and engine == "onnxruntime":
            raise ValueError("ONNX Runtime cannot run this model (is onnxruntime installed? "
                             "see the log for the export error)")
        return network

    @classmethod
    def from_file(cls, path: str | os.PathLike | None = None,
                  device: str | torch.device | None = None, **kwargs) -> Predictor:
        """Load a model file (default: the shipped model) into a predictor."""
        from unet_desktop.core.io.paths import default_model_path

        path = path or default_model_path()
        model, meta = load_model_file(path, map_location="cpu")
        return cls(model, meta, device, source=path, **kwargs)

    @property
    def num_classes(self) -> int:
        return self.meta.num_classes

    @property
    def tiled(self) -> bool:
        """Predictions go through native-resolution tiles (tile mode, or a native-scale model)."""
        return self.mode == "tile" or self.meta.scale == "native"

    # --- the network --------------------------------------------------------------------------
    def _prepare(self, batch: np.ndarray) -> torch.Tensor:
        """(B, H, W, C) uint8 -> normalised float (B, C, H, W) on the device."""
        x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        x = (x - self._mean) / self._std
        return x.contiguous(memory_format=self.memory_format)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.bfloat16,
                            enabled=self.amp_dtype is not None):
            if self.onnx is not None:
                return self.onnx(x)
            return self.model(x).float()

    def scores(self, batch: np.ndarray) -> torch.Tensor:
        """Logits (B, C, H, W) for a uint8 batch; with TTA, log of the flip-averaged softmax.

        Raises ``ValueError`` naming the model when they are not all finite: a damaged file
        (a bad copy) can hold weights that overflow, and NaN logits would become a mask of
        class 0 everywhere without a word."""
        x = self._prepare(batch)
        if not self.tta:
            return self._finite(self._run(x))
        probs = self._run(x).softmax(1)
        for dims in ((3,), (2,)):  # horizontal and vertical flips
            probs += self._run(x.flip(dims)).softmax(1).flip(dims)
        return self._finite((probs / 3).clamp_min_(_EPS).log_())

    def _finite(self, logits: torch.Tensor) -> torch.Tensor:
        if not bool(torch.isfinite(logits).all()):
            raise ValueError(f"{self._model_words()}: the model's output is not a number: its "
                             "file may be damaged (copy it again, or use another model)")
        return logits

    def _model_words(self) -> str:
        """The model's file, or without one its name and version."""
        if self.source is not None:
            return str(self.source)
        return f"{self.meta.name or 'the model'} (version {self.meta.version})"

    # --- public API ---------------------------------------------------------------------------
    def predict(self, image: np.ndarray, *, probs: bool = True) -> Prediction:
        """Predict one image: its stored values (any bit depth, gray or channels last), made
        into the model's input by the model's input rule (``meta.rule``); an 8-bit gray or RGB
        image is the input as it is under every rule but ``percentile``."""
        return self.predict_batch([image], probs=probs)[0]

    def predict_batch(self, images: list[np.ndarray], *, probs: bool = True,
                      uncertainty: bool = True,
                      probs_dtype: type[np.floating] = np.float32) -> list[Prediction]:
        """Predict several images; in resize mode same-size inputs share a forward pass. Each
        image is made into the model's input only when its turn comes (resize mode: and
        shrunk at once), so the full-size inputs of a batch are not held together.
        ``uncertainty=False``: the uncertainty map is not made (an empty array), only its
        mean, the score (4 bytes a pixel less); ``probs_dtype=np.float16`` halves the
        probabilities (filled strip by strip, as ``probs.astype(np.float16)`` would give)."""
        rule, channels = self.meta.rule, self.meta.in_channels
        return self._predict(images, lambda im: as_model_channels(rule.apply(im), channels),
                             _Wanted(probs, uncertainty, probs_dtype))

    def predict_inputs(self, inputs: list[np.ndarray], *, probs: bool = True) -> list[Prediction]:
        """Predict images that are the model's input already (H x W x in_channels uint8, the
        input rule applied: e.g. training samples)."""
        return self._predict(inputs, lambda im: im, _Wanted(probs))

    def _predict(self, images: list[np.ndarray], to_input: Callable[[np.ndarray], np.ndarray],
                 wanted: _Wanted) -> list[Prediction]:
        with torch.inference_mode():
            if self.tiled:
                return [self._predict_tiled(to_input(im), wanted) for im in images]
            return self._predict_resized(images, to_input, wanted)

    def _predict_resized(self, images: list[np.ndarray],
                         to_input: Callable[[np.ndarray], np.ndarray],
                         wanted: _Wanted) -> list[Prediction]:
        sizes, resized = [], []
        for image in images:  # one full-size input at a time
            model_input = to_input(image)
            sizes.append(model_input.shape[:2])
            resized.append(_resize(model_input,
                                   resize_shape(*model_input.shape[:2], self.meta.train_size)))
        groups: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(resized):
            groups.setdefault(im.shape[:2], []).append(i)
        results: list[Prediction | None] = [None] * len(images)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start:start + self.batch_size]
                logits = self.scores(np.stack([resized[i] for i in chunk]))
                for row, i in enumerate(chunk):
                    results[i] = self._finish(logits[row], sizes[i], wanted)
        return results  # type: ignore[return-value]

    def _finish(self, logits: torch.Tensor, size: tuple[int, int],
                wanted: _Wanted) -> Prediction:
        """(C, h, w) logits -> labels, probabilities, uncertainty at ``size``: upsampled and
        reduced one strip of rows at a time into the outputs (the whole C x H x W in float32
        took gigabytes for an 8000 x 8000 image)."""
        outputs = _Outputs(size, self.num_classes, wanted)
        logits = logits.float().cpu().contiguous()  # small: C x the model's input size
        for top, strip in upsampled_strips(logits, size, _STRIP_PIXELS):
            strip = strip.contiguous()
            strip_probs = strip.softmax(0)
            outputs.put(top, self.meta.scheme.to_stored(argmax_classes(strip).numpy()),
                        entropy(strip_probs).numpy(), strip_probs.numpy())
        return outputs.prediction()

    def _predict_tiled(self, image: np.ndarray, wanted: _Wanted) -> Prediction:
        height, width = image.shape[:2]
        outputs = _Outputs((height, width), self.num_classes, wanted)
        tile = max(self.multiple, self.tile_size // self.multiple * self.multiple)
        tile_h, tile_w = min(tile, height), min(tile, width)

        def predict_tiles(origins):
            batch = np.stack([image[y:y + tile_h, x:x + tile_w] for y, x in origins])
            return self.scores(batch).contiguous().softmax(1).cpu().numpy()

        for top, strip in blend_tiles(height, width, self.num_classes, predict_tiles,
                                      tile, min(self.tile_overlap, tile // 2), self.batch_size):
            strip_t = torch.from_numpy(strip)
            outputs.put(top, self.meta.scheme.to_stored(argmax_classes(strip_t).numpy()),
                        entropy(strip_t).numpy(), strip)
        return outputs.prediction()


@dataclass(frozen=True)
class _Wanted:
    """Which full-size outputs a prediction keeps, besides the labels and the score."""

    probs: bool
    uncertainty: bool = True
    probs_dtype: type[np.floating] = np.float32


class _Outputs:
    """One image's outputs, filled a strip of rows at a time; the score is the mean of the
    uncertainty, summed strip by strip (in float64), whether its map is kept or not."""

    def __init__(self, size: tuple[int, int], classes: int, wanted: _Wanted):
        self.labels = np.empty(size, np.uint8)
        self.uncertainty = np.empty(size, np.float32) if wanted.uncertainty else None
        self.probs = (np.empty((classes, *size), wanted.probs_dtype) if wanted.probs
                      else None)
        self._total = 0.0
        self._pixels = size[0] * size[1]

    def put(self, top: int, labels: np.ndarray, uncertainty: np.ndarray,
            probs: np.ndarray) -> None:
        rows = slice(top, top + labels.shape[0])
        self.labels[rows] = labels
        self._total += float(uncertainty.sum(dtype=np.float64))
        if self.uncertainty is not None:
            self.uncertainty[rows] = uncertainty
        if self.probs is not None:
            self.probs[:, rows] = probs

    def prediction(self) -> Prediction:
        uncertainty = self.uncertainty if self.uncertainty is not None \
            else np.empty((0, 0), np.float32)
        return Prediction(self.labels, self.probs, uncertainty, self._total / self._pixels)
