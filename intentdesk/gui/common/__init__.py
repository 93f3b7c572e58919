"""What every tab shares: background jobs, small widgets, the one microphone, the GC guard."""
