"""A heatmap described in words: the ninth of the picture where evidence for and against a class is strongest."""

import numpy as np

from core.analysis import heatmap_text


def test_the_strongest_region_for_and_against_is_named():
    heatmap = np.zeros((28, 28), dtype=np.float32)
    heatmap[1:6, 11:17] = 0.8  # top centre: a collar
    heatmap[22:27, 0:5] = -0.5  # bottom left
    heatmap[14, 14] = 0.9  # one bright pixel in the centre does not outweigh the collar
    assert heatmap_text.describe(heatmap, signed=True) == (
        "evidence for the class strongest in the top centre, against it in the bottom left"
    )


def test_an_unsigned_map_says_nothing_against_and_an_empty_map_says_so():
    heatmap = np.zeros((28, 28), dtype=np.float32)
    heatmap[12:16, 12:16] = 1.0
    heatmap[0:3, 25:28] = -2.0  # ignored: the method has no sign
    assert heatmap_text.describe(heatmap, signed=False) == "evidence for the class strongest in the centre"
    assert heatmap_text.describe(np.zeros((28, 28)), signed=True) == "no evidence either way"
    only_against = np.zeros((28, 28))
    only_against[20:28, 20:28] = -1.0
    assert (
        heatmap_text.describe(only_against, signed=True) == "evidence against the class strongest in the bottom right"
    )
