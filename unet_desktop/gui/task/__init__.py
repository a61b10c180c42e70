"""The folder's task in the window: New Task, classes, the task's models, the banner."""
