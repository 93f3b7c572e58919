"""Training: settings, data preparation, quick and full modes, the epoch loop, metrics."""
