"""The editor in the window: canvas, overlays, tools, the session, the file list, contrast."""
