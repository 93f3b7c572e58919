"""The Qt layer: thin widgets over `intentdesk.core`; all long work runs off the GUI thread."""
