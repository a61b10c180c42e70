"""Models, inference and training (torch, no Qt)."""
