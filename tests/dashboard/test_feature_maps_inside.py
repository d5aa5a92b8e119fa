"""Feature maps page, inside one convolution: a number worked out by hand (with the model's own beside it, the
cell moved by buttons), the sizes explorer, and what a filter wants to see beside its top test images."""

import numpy as np
import pytest

from core.analysis import conv_by_hand, conv_sizes, feature_vis
from core.io import checkpoint
from tests.dashboard.my_pages import open_page, use_trained_model
from tests.dashboard.studio_app import poll


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


def steps(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("1. Sum of the "))


def captions(at) -> list[str]:
    return [img.caption for e in at.get("image") for img in e.proto.imgs]


def test_a_number_by_hand(ckpt, fmnist):
    at = open_page("views/feature_maps.py", maps_test_how="Index", maps_test_index=5)
    assert "One number, worked out by hand" in [s.value for s in at.subheader]
    assert at.selectbox(key="hand_layer").options == ["conv1.0", "conv2.0"]
    at.selectbox(key="hand_layer").set_value("conv2.0").run()
    at.number_input(key="hand_channel").set_value(3)
    at.number_input(key="hand_row").set_value(2)
    at.number_input(key="hand_col").set_value(5).run()
    r = conv_by_hand.compute(checkpoint.load(ckpt).model, fmnist.test_images[5], "conv2.0", 3, 2, 5)
    text = steps(at)
    assert text.startswith(f"1. Sum of the {6 * 5 * 5} products: **{r.sum:.4f}**")
    assert f"2. Plus the bias {r.bias:.4f}: **{r.conv:.4f}**" in text and "3. ReLU (conv2.1): max(0, " in text
    assert at.success[-1].value.startswith(f"By hand: **{r.activation:.6f}**; the model's own activation: **")
    assert "equal (they differ by" in at.success[-1].value
    assert "lies on input rows 2 to 6 and columns 5 to 9. It reads 6 input channels." in " ".join(
        m.value for m in at.markdown
    )
    patch, kernel, products = (at.table[i].value for i in range(-3, 0))
    assert patch.to_numpy().tolist() == [[f"{v:.3f}" for v in row] for row in r.patch[0] + 0.0]  # 3 decimals
    assert np.allclose(kernel.to_numpy().astype(float), r.kernel[0], atol=5e-4)
    assert np.allclose(products.to_numpy().astype(float), r.products[0], atol=5e-4)
    assert list(patch.columns) == ["5", "6", "7", "8", "9"] and list(patch.index) == ["2", "3", "4", "5", "6"]
    at.selectbox(key="hand_input_conv2.0").set_value(4).run()
    assert np.allclose(at.table[-3].value.to_numpy().astype(float), r.patch[4], atol=5e-4)
    assert any("Each input channel's share of the sum" in c.proto.spec for c in at.get("vega_lite_chart"))

    at.button(key="hand_next").click().run()
    assert (at.number_input(key="hand_row").value, at.number_input(key="hand_col").value) == (2, 6)
    at.number_input(key="hand_col").set_value(7).run()
    at.button(key="hand_next").click().run()  # the end of a row: on to the next one
    assert (at.number_input(key="hand_row").value, at.number_input(key="hand_col").value) == (3, 0)
    at.button(key="hand_back").click().run()
    at.button(key="hand_back").click().run()
    assert (at.number_input(key="hand_row").value, at.number_input(key="hand_col").value) == (2, 6)

    at.selectbox(key="hand_layer").set_value("conv1.0").run()
    at.number_input(key="hand_row").set_value(20).run()
    assert "normalised" in " ".join(m.value for m in at.markdown)  # the first layer reads the normalised picture
    at.selectbox(key="hand_layer").set_value("conv2.0").run()
    assert at.number_input(key="hand_row").value == 7  # kept inside the 8×8 map
    assert not at.exception and not at.error


def test_sizes_explorer(ckpt):
    at = open_page("views/feature_maps.py")
    assert "Sizes explorer" in [s.value for s in at.subheader]
    at.select_slider(key="sizes_kernel").set_value(3)
    at.select_slider(key="sizes_stride").set_value(2)
    at.select_slider(key="sizes_padding").set_value(1)
    at.select_slider(key="sizes_dilation").set_value(2).run()
    at.slider(key="sizes_row").set_value(12).run()
    text = next(m.value for m in at.markdown if m.value.startswith("Output: "))
    assert text.startswith("Output: ⌊(28 + 2×1 − 2×(3 − 1) − 1) / 2⌋ + 1 = **13×13**. Output cell (12, 0)")
    assert "rows 23 to 27, columns -1 to 3" in text
    assert at.slider(key="sizes_row").max == 12
    assert "Input, 28×28 plus 1 of padding on each side" in captions(at) and "Output, 13×13" in captions(at)
    assert at.select_slider(key="sizes_kernel").options == [str(k) for k in conv_sizes.KERNELS]


def test_what_a_filter_wants_to_see(ckpt, fmnist):
    at = open_page("views/feature_maps.py")
    assert "What a filter wants to see" in [s.value for s in at.subheader]
    assert at.selectbox(key="wish_layer").options == ["conv1.0", "conv2.0", "the classes (their scores)"]
    at.selectbox(key="wish_layer").set_value("conv2.0").run()
    at.button(key="wish_go_conv2.0").click().run()
    poll(at, lambda at: any(m.value.startswith("Optimised in ") for m in at.markdown), timeout=300)
    found = feature_vis.cached(ckpt, "conv2.0")
    verdict = next(m.value for m in at.markdown if m.value.startswith("Optimised in "))
    assert f"for **{int((found.activations >= found.best_test).sum())} of 16**" in verdict
    shown = [c for c in captions(at) if c.startswith("channel ")]
    assert shown == [f"channel {c}: {found.activations[c]:.2f}" for c in range(8)]  # 8 shown by default
    tops = [c for c in captions(at) if c.startswith("its top 9 test images")]
    assert tops == [f"its top 9 test images: best {found.best_test[c]:.2f}" for c in range(8)]
    at.slider(key="wish_count_conv2.0").set_value(3).run()
    assert len([c for c in captions(at) if c.startswith("channel ")]) == 3
