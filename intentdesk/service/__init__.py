"""The HTTP inference service (`intentdesk serve`) and its Ray Serve export; no Qt here."""
