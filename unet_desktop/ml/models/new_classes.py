"""Give a trained model another label scheme: keep every weight but the final 1x1 classifier.

Fine-tuning a trimap model (foreground / background / border) on binary masks (background /
foreground) rebuilds ``model.head`` for the new classes; each new class whose name matches a
parent class (case-insensitively) starts from that class's row of the parent's head, the others
start freshly initialised. Both architectures (``ml.models.unet``, ``ml.models.resnet_unet``) end in ``head``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from unet_desktop.core.labels import LabelScheme


@dataclass(frozen=True)
class ClassTransfer:
    """What :func:`replace_head` did: ``carried`` maps new class name -> parent class name."""

    parent_scheme: LabelScheme
    carried: dict[str, str]
    fresh: list[str]

    @property
    def complete(self) -> bool:
        """Every new class came from a parent class (the adapted model is a real zero-shot)."""
        return not self.fresh

    def to_dict(self) -> dict:
        return {"parent_scheme": self.parent_scheme.to_dict(), "carried_over": self.carried,
                "fresh": self.fresh}


def class_mapping(parent: LabelScheme, new: LabelScheme) -> dict[int, int]:
    """New class index -> parent class index, for classes with the same name (any case)."""
    by_name = {name.casefold(): i for i, name in enumerate(parent.names)}
    return {i: by_name[name.casefold()] for i, name in enumerate(new.names)
            if name.casefold() in by_name}


def value_mapping(parent: LabelScheme, new: LabelScheme) -> dict[int, int]:
    """New class index -> parent class index, for classes with the same stored value: the
    task's own classes renamed and reordered keep their rows by what the masks store."""
    by_value = {value: i for i, value in enumerate(parent.stored_values)}
    return {i: by_value[value] for i, value in enumerate(new.stored_values) if value in by_value}


def replace_head(model: nn.Module, parent: LabelScheme, new: LabelScheme,
                 by_value: bool = False) -> ClassTransfer:
    """Swap ``model.head`` for one with ``new``'s classes, in place; rows carried by name (or
    ``by_value``: by stored value, for the task's own classes renamed).

    The fresh rows use PyTorch's default initialisation from the global generator: seed it
    first for a reproducible head.
    """
    old = getattr(model, "head", None)
    if not isinstance(old, nn.Conv2d) or old.kernel_size != (1, 1):
        raise ValueError(f"a {type(model).__name__} has no 1x1 'head' classifier to replace")
    head = nn.Conv2d(old.in_channels, new.num_classes, kernel_size=1, bias=old.bias is not None)
    head = head.to(device=old.weight.device, dtype=old.weight.dtype)
    mapping = value_mapping(parent, new) if by_value else class_mapping(parent, new)
    with torch.no_grad():
        for new_index, parent_index in mapping.items():
            head.weight[new_index] = old.weight[parent_index]
            if old.bias is not None:
                head.bias[new_index] = old.bias[parent_index]
    model.head = head
    if hasattr(model, "num_classes"):
        model.num_classes = new.num_classes
    return ClassTransfer(
        parent_scheme=parent,
        carried={new.names[n]: parent.names[p] for n, p in mapping.items()},
        fresh=[name for i, name in enumerate(new.names) if i not in mapping],
    )
