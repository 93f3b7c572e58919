"""The Qt-free engine: dataset store, audio I/O, training, evaluation and inference.

Nothing under this package may import Qt: the CLI, the service and the tests use it headless.
"""
