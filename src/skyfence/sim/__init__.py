"""The scenario simulator: plausible traffic with ground truth of every event it injects."""
