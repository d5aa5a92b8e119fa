"""Softmax regression: one linear layer from the 784 pixels straight to the 10 class scores."""

from torch import nn

from core.models.registry import register_model


@register_model(
    "linear",
    "Linear (softmax regression)",
    "One weight per pixel and class: each class score is a weighted sum of the 784 pixels, turned into "
    "probabilities by softmax. No hidden layer, so it can only draw straight boundaries between classes "
    "(about 84% on Fashion-MNIST): the baseline that shows what hidden layers and convolutions buy.",
)
class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.head = nn.Linear(28 * 28, 10)

    def forward(self, x):
        return self.head(self.flatten(x))
