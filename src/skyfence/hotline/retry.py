"""Retry with exponential backoff, then the dead letter: the outbox's rule for a message that did not leave."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Wait ``first`` s after the first failure, ``factor`` times longer after each next one, at most ``cap``
    s, give or take ``jitter`` (a fraction); after ``attempts`` failed attempts the message is dead-lettered."""

    first: float = 1.0
    factor: float = 2.0
    cap: float = 300.0
    attempts: int = 10
    jitter: float = 0.1

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``failures``-th failure (1, 2, ...)."""
        base = min(self.cap, self.first * self.factor ** max(0, failures - 1))
        spread = (rng or random).uniform(-self.jitter, self.jitter) if self.jitter else 0.0
        return max(0.0, base * (1 + spread))

    def dead(self, failures: int) -> bool:
        """Whether a message that failed this often goes to the dead letter."""
        return failures >= self.attempts
