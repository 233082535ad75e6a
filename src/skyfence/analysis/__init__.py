"""The batch pipeline: read, clean, identify, detect, write."""
