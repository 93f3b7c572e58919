"""IntentDesk: record, label, fine-tune and classify spoken intents."""

__version__ = "0.1.0"
