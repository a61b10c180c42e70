"""Contrast limits of the view: the folder's setting (owned by the workspace), shown in the
contrast dock and applied to the image on screen.

On each opened image the controller takes its stored values from the document (decoded once,
by the session), shows their histogram and
the limits in force (the folder's, set by hand, or automatic). A change in the dock becomes the
folder's setting (``Workspace.set_view``, remembered in its sidecar) and the image on screen is
drawn again with it; the document's pixels (what the smart tools see) follow the view. The dock
stays out of the way on 8-bit folders: it shows itself once per folder, at the first image that
needs contrast limits (12/16-bit, float, a composite) or when the folder has limits set by hand;
View > Contrast shows it any time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.view_settings import ViewSettings
from unet_desktop.core.io.display import (
    Limits,
    auto_channel_limits,
    auto_limits,
    histogram,
    render,
    shown_as_is,
)


class ContrastController(QObject):
    def __init__(self, session: Any, canvas: Any, dock: Any, parent: QObject | None = None):
        super().__init__(parent)
        self.session, self.canvas, self.dock = session, canvas, dock
        self._raw: np.ndarray | None = None  # stored values of the image on screen
        self._offered_in: object = None  # the folder where the dock last showed itself
        session.document_opened.connect(self._on_document_opened)
        dock.limits_changed.connect(self._on_limits_changed)
        dock.auto_requested.connect(self._on_auto_requested)

    def _on_document_opened(self) -> None:
        document, ws = self.session.document, self.session.workspace
        self._raw = None
        if document is None or ws is None:
            return
        # an 8-bit image is its own stored values: copied, as limits set by hand redraw it
        self._raw = document.image.copy() if document.stored is None else document.stored
        self._show_dock()
        needs = not shown_as_is(self._raw) or ws.view.limits is not None
        if needs and self._offered_in != ws.root:
            self._offered_in = ws.root
            self.dock.show()

    def _limits_in_force(self) -> tuple[Limits, str]:
        ws, raw = self.session.workspace, self._raw
        if ws.view.limits is not None:
            return ws.view.limits, "limits set by hand for this folder"
        if shown_as_is(raw):
            return Limits(0.0, 255.0), "8-bit image shown as stored"
        if raw.ndim == 3 and raw.shape[2] != 3:  # a composite: render() per channel
            own = auto_channel_limits(raw)
            return (Limits(min(x.low for x in own), max(x.high for x in own)),
                    "automatic per channel (" + "; ".join(
                        f"{c + 1}: {x.low:g}..{x.high:g}" for c, x in enumerate(own)) + ")")
        return auto_limits(raw), "automatic (0.5-99.5th percentiles of this image)"

    def _show_dock(self) -> None:
        raw = self._raw
        counts, edges = histogram(raw)
        limits, how = self._limits_in_force()
        channels = raw.shape[2] if raw.ndim == 3 else 1
        kind = f"{raw.dtype}, {channels} channel{'s' if channels > 1 else ''}"
        if channels not in (1, 3):
            kind += " (composite)"
        data = f"data {float(edges[0]):g}..{float(edges[-1]):g}"
        self.dock.show_image(counts, edges, limits.low, limits.high, f"{kind}; {data}; {how}")

    def _on_limits_changed(self, low: float, high: float) -> None:
        self._apply(ViewSettings(Limits(low, high)))

    def _on_auto_requested(self) -> None:
        self._apply(ViewSettings())

    def _apply(self, view: ViewSettings) -> None:
        ws, document = self.session.workspace, self.session.document
        if ws is None:
            return
        try:
            ws.set_view(view)
        except FileError as exc:
            self.session.error.emit(f"Contrast limits not remembered: {exc}")
        if document is None or self._raw is None:
            return
        shown = render(self._raw, view.limits)
        if shown is self._raw:  # an 8-bit image shown as stored: its own array, not our copy
            shown = shown.copy()
        if shown.shape == document.image.shape:
            document.show_image(shown)  # a new array: what the tools keep of the old one goes
            self.canvas.image_item.setImage(document.image, autoLevels=False, levels=(0, 255))
        self._show_dock()
