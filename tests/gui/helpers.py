"""Mouse and key helpers that drive the canvas like a user would (real Qt events)."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt

LEFT = Qt.MouseButton.LeftButton


def _pos(canvas, x: float, y: float):
    return canvas.widget_pos(x, y)


def click(qtbot, canvas, x: float, y: float) -> None:
    qtbot.mouseClick(canvas.viewport(), LEFT, pos=_pos(canvas, x, y))


def double_click(qtbot, canvas, x: float, y: float) -> None:
    """What the platform sends: press, release, double-click, release (QTest's mouseDClick
    alone sends only the double-click)."""
    pos = _pos(canvas, x, y)
    qtbot.mouseClick(canvas.viewport(), LEFT, pos=pos)
    qtbot.mouseDClick(canvas.viewport(), LEFT, pos=pos)
    qtbot.mouseRelease(canvas.viewport(), LEFT, pos=pos)


def drag(qtbot, canvas, points: list[tuple[float, float]]) -> None:
    """Press at the first point, move through the others, release at the last."""
    viewport = canvas.viewport()
    qtbot.mousePress(viewport, LEFT, pos=_pos(canvas, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(viewport, pos=_pos(canvas, *p))
    qtbot.mouseRelease(viewport, LEFT, pos=_pos(canvas, *points[-1]))


def disc(shape: tuple[int, int], cx: float, cy: float, diameter: float) -> np.ndarray:
    """Pixels whose centres lie within diameter/2 of (cx, cy) (image coordinates)."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return (cols + 0.5 - cx) ** 2 + (rows + 0.5 - cy) ** 2 <= (diameter / 2) ** 2 + 1e-9


def capsule(shape, a, b, diameter: float) -> np.ndarray:
    """Pixels whose centres lie within diameter/2 of segment a-b."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    px, py = cols + 0.5, rows + 0.5
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
    return (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2 <= (diameter / 2) ** 2 + 1e-9


def block(worker) -> threading.Event:
    """Occupy the worker until the returned event is set (so that jobs queue up)."""
    from unet_desktop.gui.worker import Priority

    gate, entered = threading.Event(), threading.Event()

    def wait(token):
        entered.set()
        gate.wait(5.0)

    worker.submit(wait, Priority.CONTROL, name="gate")
    assert entered.wait(5.0)
    return gate
