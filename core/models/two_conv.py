"""Two 3x3 convolution blocks with pooling, then a single linear layer: few parameters, strong results."""

from torch import nn

from core.models.registry import batch_norm_setting, dropout_setting, register_model, width_setting


def _block(cin, cout, batch_norm):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers, nn.ReLU())


@register_model(
    "two_conv",
    "2-conv CNN (2 conv + 1 linear)",
    "Two 3x3 convolution blocks (32 and 64 channels, batch norm, ReLU, 2x2 max pooling) keep more spatial "
    "detail than 5x5 kernels, and a single linear layer reads the 7x7 maps. Few layers, strong accuracy.",
    settings=[width_setting(1, suggested=(1, 2, 3, 4)), batch_norm_setting(True), dropout_setting(0.25)],
    cpu_bf16=True,
)
class TwoConv(nn.Module):
    def __init__(self, width=1, batch_norm=True, dropout=0.25):
        super().__init__()
        c1, c2 = 32 * width, 64 * width
        self.conv1 = _block(1, c1, batch_norm)  # 28x28
        self.pool1 = nn.MaxPool2d(2)  # 14x14
        self.conv2 = _block(c1, c2, batch_norm)  # 14x14
        self.pool2 = nn.MaxPool2d(2)  # 7x7
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * 7 * 7, 10))

    def forward(self, x):
        return self.classifier(self.pool2(self.conv2(self.pool1(self.conv1(x)))))
