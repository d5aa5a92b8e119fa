"""What a trained model does: batched inference, metrics, test-set evaluation, feature maps.

May import `core.data`, `core.models` and `core.io`; nothing from `core.training`.
"""
