"""The pure model of clusterfund: no file access, no CLI, no plotting."""

from simulator.model import RunResult, simulate
from simulator.scenario import Scenario

__all__ = ["RunResult", "Scenario", "simulate"]
