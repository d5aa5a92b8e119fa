"""Softmax regression: one linear layer from the 784 pixels straight to the 10 class scores."""

from torch import nn


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.head = nn.Linear(28 * 28, 10)

    def forward(self, x):
        return self.head(self.flatten(x))
