"""A throwaway architecture, registered only for the length of a test: it proves that a new architecture
reaches the registry, the command line, sweeps and the Train form from its own record alone."""

from contextlib import contextmanager

from torch import nn

from core.models import Setting, register_model, unregister
from core.models.registry import width_setting

NAME = "toy"
DISPLAY_NAME = "Toy stack (test only)"


class Toy(nn.Module):
    """`floors` fully connected layers of 8 x width units, then the 10 class scores."""

    def __init__(self, floors=2, width=1):
        super().__init__()
        layers, size = [nn.Flatten()], 28 * 28
        for _ in range(floors):
            layers += [nn.Linear(size, 8 * width), nn.ReLU()]
            size = 8 * width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(size, 10)

    def forward(self, x):
        return self.head(self.body(x))


def parameters(floors: int, width: int) -> int:
    units = 8 * width
    return (784 * units + units) + (floors - 1) * (units * units + units) + (units * 10 + 10)


@contextmanager
def registered():
    """The toy architecture in the registry, removed afterwards whatever happens."""
    register_model(
        NAME,
        DISPLAY_NAME,
        "A stack of small fully connected layers, declared by a test to show that an architecture's own record "
        "is all the registry, the command line and the Train form need.",
        settings=[
            Setting("floors", "int", 2, "number of hidden layers", low=1, high=4, sweepable=True),
            width_setting(1, suggested=(1, 5)),
        ],
    )(Toy)
    try:
        yield
    finally:
        unregister(NAME)
