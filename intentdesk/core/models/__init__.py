"""Pretrained speech models: finding them (hub or folder), loading and adapting, building inputs."""
