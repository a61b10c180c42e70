"""unet-desktop: image segmentation with a human in the loop."""

__version__ = "0.1.0"

__all__ = ["__version__", "load_model"]


def load_model(path=None, device=None):
    """Load a model file (default: the shipped starter model) ready for ``.predict(image)``.

    Imported lazily so that ``import unet_desktop`` does not pull in torch.
    """
    from unet_desktop.ml.api import load_model as _load

    return _load(path, device=device)
