"""Audio in and out: decoding and checking clips, voice activity, the microphone."""

# The app's rate: microphone takes are recorded at it, speech models and the speech recogniser read it.
# The one definition (io re-exports it); here so that modules needing only the number import no decoder.
SAMPLE_RATE = 16000
