"""The Classify tab as panels: model, clips, ranking bars, microphone (record/live), serve; tab.py wires them."""
