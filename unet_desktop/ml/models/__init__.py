"""The networks and their files: UNet variants, ImageNet encoders, model files, export rewrites."""
