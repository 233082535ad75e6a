"""Detected events against the simulator's ground truth: precision, recall, timing."""
