"""The Label tab: record takes, tag them, curate the clip list, import audio."""
