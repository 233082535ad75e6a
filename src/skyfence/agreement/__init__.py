"""The deconfliction agreement: parties, line, sides, zones and thresholds."""

from skyfence.agreement.load import BUILTIN, load_agreement
from skyfence.agreement.model import Agreement, RestrictedArea, SeparationThresholds, Thresholds

__all__ = ["BUILTIN", "Agreement", "RestrictedArea", "SeparationThresholds", "Thresholds", "load_agreement"]
