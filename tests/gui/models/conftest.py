"""The Models fixtures: a Hugging Face cache of each test's own, and a fake hub (tests/models_hub.py)."""

from tests.models_hub import fake_hub, hf_cache  # noqa: F401
