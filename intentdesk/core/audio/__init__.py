"""Audio in and out: decoding and checking clips, voice activity, the microphone."""
