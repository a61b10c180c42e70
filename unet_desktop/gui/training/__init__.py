"""Training from the window: the Fine-tune dialog, the training dock, Learn as I Correct."""
