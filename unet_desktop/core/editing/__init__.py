"""Editing one mask: the document, its undo history, the edit operations and mouse tools."""
