"""A multi-layer perceptron: the image flattened to 784 numbers, then fully connected layers."""

from torch import nn


class MLP(nn.Module):
    def __init__(self, hidden=(256, 128), dropout=0.2, batch_norm=False):
        super().__init__()
        layers, width = [nn.Flatten()], 28 * 28
        for size in hidden:
            block = [nn.Linear(width, size)]
            if batch_norm:
                block.append(nn.BatchNorm1d(size))
            block.append(nn.ReLU())
            if dropout:
                block.append(nn.Dropout(dropout))
            layers.append(nn.Sequential(*block))
            width = size
        self.hidden = nn.Sequential(*layers)
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        return self.head(self.hidden(x))
