"""PySide6 + pyqtgraph user interface."""
