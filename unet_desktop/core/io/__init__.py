"""Files in and out: images, masks, stacks, model headers, atomic writes, paths, the log."""
