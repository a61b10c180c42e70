"""Learning while the user corrects: the loop's rounds, its score and gate, the folder's model versions."""
