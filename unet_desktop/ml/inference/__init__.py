"""Predicting: one image (eager or ONNX Runtime, tiled), a folder in batch, memory fallbacks."""
