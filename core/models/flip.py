"""Test-time flip: a network that predicts with the average of its logits for the image and its mirror image
(for models trained with horizontal flips). The wrapper says it; the network inside is unchanged."""

from torch import nn


class FlipAveraged(nn.Module):
    """`network`, predicting with the average of the logits for the image and its mirror image."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network
        self.train(network.training)

    def forward(self, x):
        return (self.network(x).float() + self.network(x.flip(-1)).float()) / 2


def network_of(model: nn.Module) -> nn.Module:
    """The network itself: what a FlipAveraged wraps, else `model`. Views of its layers (feature maps,
    Grad-CAM, embeddings) look at it, one pass per image, and its state dict is what a checkpoint holds."""
    return model.network if isinstance(model, FlipAveraged) else model


def uses_flip_averaging(model: nn.Module) -> bool:
    return isinstance(model, FlipAveraged)


def set_flip_averaging(model: nn.Module, on: bool = True) -> nn.Module:
    """The model to predict with: the network wrapped in FlipAveraged when `on`, else the bare network.
    Returns a new object around the same network (the given model is not changed)."""
    network = network_of(model)
    return FlipAveraged(network) if on else network
