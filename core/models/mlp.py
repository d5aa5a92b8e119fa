"""A multi-layer perceptron: the image flattened to 784 numbers, then fully connected layers."""

from torch import nn

from core.base.settings import Setting
from core.models.registry import batch_norm_setting, dropout_setting, register_model


@register_model(
    "mlp",
    "MLP (fully connected)",
    "Flattens the 28x28 image into 784 numbers and passes them through fully connected layers. "
    "It has no notion of neighbouring pixels, so a shift of one pixel looks like a new image to it: "
    "a useful baseline that shows why convolutions help.",
    settings=[
        Setting(
            "hidden",
            "sizes",
            (256, 128),
            "hidden layer sizes, comma separated, e.g. 512,256,128",
            label="Hidden layer sizes",
            noun="hidden sizes",
            cap=4096,
            sweepable=True,
        ),
        dropout_setting(0.2),
        batch_norm_setting(False),
    ],
)
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
