"""Handing IntentDesk over: one-file archives of an app folder, and apps that carry one trained model."""
