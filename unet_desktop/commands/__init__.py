"""CLI subcommands, one module each (see ``unet_desktop.cli``)."""
