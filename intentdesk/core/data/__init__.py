"""The dataset: its store on disk, importers, the train/eval split and health checks."""
