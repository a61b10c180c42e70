"""Qt-free and torch-free core: label schemes, image/mask IO, workspace, edits, history."""
