"""Latency per model: classify one drawn image end to end, all feature maps of one image, the whole test set."""

from bench.drawing import tshirt_rgba
from bench.timing import latency_ms
from core.analysis import feature_maps, inference
from core.io import preprocess


def classify(model, rgba):
    """What the Classify page does with a drawing: preprocess, then one forward pass."""
    prepared = preprocess.from_canvas(rgba)
    return inference.probabilities(model, prepared.tensor[None])[0].tolist()


def measure(models, data, repeats: int, test_repeats: int, test_images=None) -> list[dict]:
    """One row per model: p50/p95 ms of classify, feature maps and test-set evaluation."""
    rgba = tshirt_rgba()
    image = data.test_images[0]
    test_images = data.test_images if test_images is None else test_images
    rows = []
    for label, model in models:
        rows.append(
            {
                "model": label,
                "classify": latency_ms(lambda: classify(model, rgba), repeats),
                "feature_maps": latency_ms(lambda: feature_maps.compute(model, image), repeats),
                "test_set": latency_ms(lambda: inference.probabilities(model, test_images), test_repeats, warmup=0),
                "test_images": len(test_images),
            }
        )
    return rows
