"""The classic small CNN: two 5x5 convolutions, each followed by max pooling, then three linear layers."""

from torch import nn

from core.models.registry import batch_norm_setting, dropout_setting, register_model, width_setting


def _conv_block(cin, cout, batch_norm):
    layers = [nn.Conv2d(cin, cout, 5, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cout))
    return layers + [nn.ReLU()]


@register_model(
    "simple_cnn",
    "Simple CNN (2 conv + 2 pool + 3 FC)",
    "Two 5x5 convolutions, each followed by ReLU and 2x2 max pooling, learn local edge and texture "
    "detectors; three fully connected layers (120, 84, 10) combine them. Small and fast: the classic "
    "first CNN. `width` multiplies the channels (6 and 16).",
    settings=[width_setting(1, suggested=(1, 2, 3, 4, 6, 8)), batch_norm_setting(False), dropout_setting(0.0)],
    cpu_bf16=True,
)
class SimpleCNN(nn.Module):
    def __init__(self, width=1, batch_norm=False, dropout=0.0, fc=(120, 84)):
        super().__init__()
        c1, c2 = 6 * width, 16 * width
        self.conv1 = nn.Sequential(*_conv_block(1, c1, batch_norm))  # 28 -> 24
        self.pool1 = nn.MaxPool2d(2)  # 24 -> 12
        self.conv2 = nn.Sequential(*_conv_block(c1, c2, batch_norm))  # 12 -> 8
        self.pool2 = nn.MaxPool2d(2)  # 8 -> 4
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * 4 * 4, fc[0]),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fc[0], fc[1]),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fc[1], 10),
        )

    def forward(self, x):
        return self.classifier(self.pool2(self.conv2(self.pool1(self.conv1(x)))))
