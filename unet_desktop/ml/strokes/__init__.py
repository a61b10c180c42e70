"""Sparse strokes: the fast pixel classifier and the live prediction it gives."""
