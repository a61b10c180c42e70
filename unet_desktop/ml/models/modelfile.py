"""Model files: one ``.safetensors`` file with the weights and JSON metadata in its header.

The header's ``__metadata__`` holds ``{"format": "unet-desktop", "format_version": "1",
"meta": "<ModelMeta as JSON>"}``: enough to rebuild the network, map its outputs to mask values
and colours, normalise its inputs, and know where it came from. No pickle is ever loaded from a
user file: a ``.pt``/``.pth`` file is read only with ``torch.load(weights_only=True)``, and a
file that would need more is refused.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save
from torch import nn

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.io.atomic import atomic_write_bytes
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.io.model_header import SCALES
from unet_desktop.core.labels import LabelScheme
from unet_desktop.ml.models.architecture import build_model

FORMAT = "unet-desktop"
FORMAT_VERSION = "1"
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DistributedDataParallel, torch.compile


@dataclass
class ModelMeta:
    """Everything about a model except its weights (JSON-able through :meth:`to_dict`)."""

    arch: dict
    scheme: LabelScheme
    normalization: dict  # {"mean": [...], "std": [...]} in 0..1 units, one per input channel
    train_size: int  # side of the square training crops: the model's scale in "resize" mode
    version: str
    parent_version: str | None = None
    name: str = ""
    description: str = ""
    created: str = ""
    data_summary: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    scale: str = "fit"  # one of SCALES (files from before it existed: "fit")
    # core.io.input_rule.InputRule.to_dict(); {} (files from before it existed): the legacy rule
    input_rule: dict = field(default_factory=dict)

    @property
    def rule(self) -> InputRule:
        """How this model makes its input from an image's stored values."""
        return InputRule.from_dict(self.input_rule)

    @property
    def in_channels(self) -> int:
        return int(self.arch["in_channels"])

    @property
    def num_classes(self) -> int:
        return self.scheme.num_classes

    def to_dict(self) -> dict:
        d = {name: getattr(self, name) for name in self.__dataclass_fields__}
        d["scheme"] = self.scheme.to_dict()
        return json.loads(json.dumps(d))  # a deep, JSON-clean copy

    @classmethod
    def from_dict(cls, d: dict) -> ModelMeta:
        """Validate and build; raises ``ValueError`` naming what is wrong."""
        if not isinstance(d, dict):
            raise TypeError(f"metadata must be a JSON object, got {type(d).__name__}")
        missing = [k for k in ("arch", "scheme", "normalization", "train_size", "version")
                   if k not in d]
        if missing:
            raise ValueError(f"metadata lacks {missing}")
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known["scheme"] = LabelScheme.from_dict(d["scheme"])
        meta = cls(**known)
        meta.validate()
        return meta

    def validate(self) -> None:
        arch = self.arch
        if not isinstance(arch, dict) or "in_channels" not in arch or "num_classes" not in arch:
            raise ValueError(f"architecture must give in_channels and num_classes: {arch!r}")
        if arch["in_channels"] not in (1, 3):
            raise ValueError(f"the model takes {arch['in_channels']} input channels; images are "
                             "fed to it as gray (1) or RGB (3)")
        if arch["num_classes"] != self.scheme.num_classes:
            raise ValueError(f"architecture has {arch['num_classes']} outputs but the label "
                             f"scheme has {self.scheme.num_classes} classes")
        norm = self.normalization
        for key in ("mean", "std"):
            values = norm.get(key) if isinstance(norm, dict) else None
            if not isinstance(values, list) or len(values) != self.in_channels:
                raise ValueError(f"normalization[{key!r}] must list {self.in_channels} numbers, "
                                 f"got {values!r}")
        if any(float(s) <= 0 for s in norm["std"]):
            raise ValueError(f"normalization std must be positive, got {norm['std']}")
        if isinstance(self.train_size, bool) or not isinstance(self.train_size, int) \
                or self.train_size < 1:
            raise ValueError(f"train_size must be a positive integer, got {self.train_size!r}")
        self.rule  # noqa: B018  (raises ValueError for a bad rule; 1 or 3 chosen channels
        # feed a gray or an RGB input alike, converted as any gray or RGB image is)
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")


def new_version_id() -> str:
    """A sortable, unique version id: UTC time + random suffix, e.g. ``20250101-120000-3fa2c1``."""
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{now}-{secrets.token_hex(3)}"


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def clean_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """CPU, contiguous, unwrapped (no ``module.``/``_orig_mod.`` prefixes) state dict."""
    out = {}
    for key, value in model.state_dict().items():
        for prefix in _WRAPPER_PREFIXES:
            while key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = value.detach().to("cpu").contiguous().clone()
    return out


def save_model(path: str | os.PathLike, model: nn.Module, meta: ModelMeta) -> None:
    """Write weights + metadata to one ``.safetensors`` file, atomically."""
    meta.validate()
    if not meta.created:
        meta.created = now_iso()
    header = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "meta": json.dumps(meta.to_dict())}
    data = save(clean_state_dict(model), metadata=header)
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise ModelFileError(path, f"cannot write the model file: {exc.strerror or exc}") from exc


def _parse_meta(path: str | os.PathLike, header: dict | None) -> ModelMeta:
    if not header or header.get("format") != FORMAT or "meta" not in header:
        raise ModelFileError(path, "not a unet-desktop model (no unet-desktop metadata in it)")
    try:
        return ModelMeta.from_dict(json.loads(header["meta"]))
    except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
        raise ModelFileError(path, f"invalid model metadata: {exc}") from exc


def _check_exists(path: Path) -> None:
    """Raise naming what ``path`` is when it is no model file the app reads."""
    if not path.exists():
        raise ModelFileError(path, "no such file")
    if not path.is_file():
        raise ModelFileError(path, "not a file")
    if path.suffix.lower() == ".onnx":
        raise ModelFileError(path, "an ONNX export, which the app does not read back: open the "
                                   ".safetensors model it was exported from")
    if path.suffix.lower() == ".ckpt" and _is_safetensors(path):
        raise ModelFileError(path, "a training checkpoint, kept to continue an interrupted run "
                                   f"(train ... --out {path.with_suffix('.safetensors').name} "
                                   "--resume), not a model: the model is the .safetensors file "
                                   "beside it")


def _is_safetensors(path: Path) -> bool:
    """The file starts as safetensors do: an 8-byte header length, then a JSON header."""
    with path.open("rb") as f:
        start = f.read(9)
    if len(start) < 9:
        return False
    return 2 <= int.from_bytes(start[:8], "little") <= path.stat().st_size and start[8:] == b"{"


def read_meta(path: str | os.PathLike) -> ModelMeta:
    """Read only the metadata of a model file (fast: the weights are not loaded)."""
    path = Path(path)
    _check_exists(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return _load_pickle(path, "cpu")[1]
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata()
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(path, f"not a readable .safetensors file ({exc})") from exc
    return _parse_meta(path, header)


def tensor_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in a ``.safetensors`` file, read from its header."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(path, f"not a readable .safetensors file ({exc})") from exc


def _load_pickle(path: Path, map_location) -> tuple[dict[str, torch.Tensor], ModelMeta]:
    """A ``{"meta": {...}, "state_dict": {...}}`` checkpoint, tensors and plain data only."""
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # any failure means "refused", never a fallback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(
            path, "refused: a pickle file may only hold tensors and plain data "
                  f"(torch.load weights_only=True failed: {first[:200]})"
        ) from exc
    state = obj.get("state_dict") if isinstance(obj, dict) else None
    if not isinstance(state, dict) or not isinstance(obj.get("meta"), dict) \
            or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFileError(path, "not a unet-desktop checkpoint (needs 'meta' and "
                                   "'state_dict' entries); convert it to .safetensors")
    try:
        meta = ModelMeta.from_dict(obj["meta"])
    except (ValueError, TypeError) as exc:
        raise ModelFileError(path, f"invalid model metadata: {exc}") from exc
    return obj["state_dict"], meta


def _describe_mismatch(model: nn.Module, state: dict[str, torch.Tensor]) -> str | None:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    wrong = [f"{k} {got[k]} (expected {expected[k]})" for k in sorted(set(got) & set(expected))
             if got[k] != expected[k]]
    if not (missing or unexpected or wrong):
        return None
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected),
                         ("wrong shape", wrong)):
        if items:
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            parts.append(f"{len(items)} {label}: {', '.join(items[:3])}{more}")
    return "weights do not match the declared architecture: " + "; ".join(parts)


def load_model_file(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, ModelMeta]:
    """Rebuild the model from its metadata and load its weights; returns (model.eval(), meta)."""
    path = Path(path)
    _check_exists(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        state, meta = _load_pickle(path, map_location)
    else:
        meta = read_meta(path)
        try:
            state = load_file(str(path), device=str(map_location))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise ModelFileError(path, f"cannot read the weights ({exc})") from exc
    try:
        model = build_model(meta.arch, pretrained=False)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(path, f"invalid architecture in metadata: {exc}") from exc
    problem = _describe_mismatch(model, state)
    if problem:
        raise ModelFileError(path, problem)
    model.load_state_dict(state)
    return model.to(map_location).eval(), meta
