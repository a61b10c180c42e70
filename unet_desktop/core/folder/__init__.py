"""A folder being labelled: its images and masks, manifest, journal, task, learning record, lock."""
