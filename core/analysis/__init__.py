"""What a trained model does: batched inference, metrics, test-set evaluation, feature maps, explanations
(Captum) and how faithful they are, what each filter looks for and wants to see, one convolution worked out
by hand, and the learned space (2-D projections of the features).

May import `core.base`, `core.data`, `core.models` and `core.io`; nothing from `core.training`.
"""
