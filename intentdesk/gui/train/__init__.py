"""The Train tab: a settings form generated from the training settings, progress, curves, results, runs."""
