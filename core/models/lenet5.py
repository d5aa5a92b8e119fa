"""LeNet-5 (LeCun et al., 1998): convolution, subsampling, convolution, subsampling, three dense layers."""

from torch import nn

from core.base.settings import Setting
from core.models.registry import register_model

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


@register_model(
    "lenet5",
    "LeNet-5",
    "LeCun's 1998 network for handwritten digits: convolution (6 maps), average-pool subsampling, "
    "convolution (16 maps), subsampling, a 5x5 convolution to 120 features, then 84 and 10 units. "
    "A piece of history that still does well on small grayscale images.",
    settings=[
        Setting(
            "activation",
            "choice",
            "tanh",
            "the non-linearity after each layer: tanh as published, or ReLU",
            choices=tuple(ACTIVATIONS),
            sweepable=True,
        )
    ],
    cpu_bf16=True,
)
class LeNet5(nn.Module):
    def __init__(self, activation="tanh"):
        super().__init__()
        act = ACTIVATIONS[activation]
        self.c1 = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), act())  # 28 -> 28 (padding stands in for 32x32 input)
        self.s2 = nn.AvgPool2d(2)  # 28 -> 14
        self.c3 = nn.Sequential(nn.Conv2d(6, 16, 5), act())  # 14 -> 10
        self.s4 = nn.AvgPool2d(2)  # 10 -> 5
        self.c5 = nn.Sequential(nn.Conv2d(16, 120, 5), act())  # 5 -> 1
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(120, 84), act(), nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.c5(self.s4(self.c3(self.s2(self.c1(x))))))
