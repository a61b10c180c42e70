"""Smart tools that draw from the image: box to mask, magic wand, scissors, fix a region."""
