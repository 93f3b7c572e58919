"""The one Models place: which base model, speech recogniser and text encoder the app uses, and getting them."""
