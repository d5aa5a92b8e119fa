"""The speed ladder: each rung is a recipe, the test accuracy it must reach and the time it may take.

A rung's time is the whole process (`python -m core.train --preset NAME`: start-up, data, training, test), as a
multiple of ONE epoch of the classic loop (`bench.usual_way` as tutorials write it) timed in the same run, or
in minutes of the 2-core CPU where `minutes` is given.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rung:
    recipe: str
    accuracy: float  # test accuracy to reach, at least
    classic_epochs: float | None = None  # whole process at most this many classic epochs
    minutes: float | None = None  # or at most this many minutes

    def budget(self, classic_epoch_s: float | None) -> float | None:
        """Seconds the whole process may take (None where the classic epoch is unknown)."""
        if self.minutes is not None:
            return self.minutes * 60
        return None if classic_epoch_s is None else self.classic_epochs * classic_epoch_s

    @property
    def limit_text(self) -> str:
        return f"≤ {self.minutes:g} min" if self.minutes is not None else f"≤ {self.classic_epochs:g}x"


RUNGS = (
    Rung("quick_demo", 0.91, classic_epochs=2.5),
    Rung("quick_93", 0.93, classic_epochs=6),
    Rung("quick_94", 0.94, classic_epochs=30),
    Rung("quick_95", 0.95, minutes=25),
)
RACE_TARGETS = (0.90, 0.91, 0.92, 0.93, 0.94, 0.95)


def rung(recipe: str) -> Rung | None:
    return next((r for r in RUNGS if r.recipe == recipe), None)
