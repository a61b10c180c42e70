"""Training a model: the run, its config and recipe, data, augmentation, losses, checkpoints."""
