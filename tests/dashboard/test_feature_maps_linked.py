"""Feature maps page, inside one convolution: the output channel's map as a chart whose click picks the cell
worked out by hand (the click itself is in tests/e2e), and the sizes explorer loaded from a layer of the model,
checked against the size the model computes."""

import json

import pytest
import streamlit as st

from core.analysis import conv_by_hand, feature_maps, layer_sizes
from core.io import checkpoint
from dashboard.inside import by_hand_panel
from tests.dashboard.my_pages import open_page, use_trained_model


@pytest.fixture()
def ckpt(monkeypatch, tmp_path_factory, data_dir, tmp_path):
    return use_trained_model(monkeypatch, tmp_path_factory, data_dir, tmp_path / "no-shipped")


def event(*points) -> dict:
    return {"selection": {"cell": list(points)}}


def test_a_click_on_the_map_is_a_cell():
    assert by_hand_panel.clicked_cell(event({"row": 3, "col": 5}), 8, 8) == (3, 5)
    assert by_hand_panel.clicked_cell(event({"row": 7.0, "col": 0}), 8, 8) == (7, 0)  # Vega may send floats
    assert by_hand_panel.clicked_cell(event(), 8, 8) is None  # nothing selected: nothing moves
    assert by_hand_panel.clicked_cell(None, 8, 8) is None and by_hand_panel.clicked_cell({}, 8, 8) is None
    assert by_hand_panel.clicked_cell(event({"row": 8, "col": 0}), 8, 8) is None  # not a cell of this map
    assert by_hand_panel.clicked_cell(event({"row": 1}), 8, 8) is None
    assert by_hand_panel.clicked_cell(event({"row": "x", "col": 1}), 8, 8) is None


def test_a_click_moves_the_row_and_column(monkeypatch):
    state = {"hand_row": 0, "hand_col": 0, "chart": event({"row": 4, "col": 6})}
    monkeypatch.setattr(st, "session_state", state)
    by_hand_panel._on_click("chart", 8, 8)
    assert (state["hand_row"], state["hand_col"]) == (4, 6)
    state["chart"] = event()  # a cleared selection leaves the cell where it is
    by_hand_panel._on_click("chart", 8, 8)
    assert (state["hand_row"], state["hand_col"]) == (4, 6)


def map_chart(at):
    charts = [c.proto for c in at.get("vega_lite_chart") if "(click a cell)" in c.proto.spec]
    assert len(charts) == 1
    return charts[0]


def test_the_map_is_drawn_with_the_chosen_cell(ckpt, fmnist):
    at = open_page("views/feature_maps.py", maps_test_how="Index", maps_test_index=5)
    at.selectbox(key="hand_layer").set_value("conv2.0").run()
    at.number_input(key="hand_channel").set_value(3)
    at.number_input(key="hand_row").set_value(2)
    at.number_input(key="hand_col").set_value(5).run()
    model = checkpoint.load(ckpt).model
    maps = {layer.name: layer.activations for layer in feature_maps.compute(model, fmnist.test_images[5]).layers}
    chosen = conv_by_hand.compute(model, fmnist.test_images[5], "conv2.0", 3, 2, 5)
    assert maps["conv2.0"][3, 2, 5] == pytest.approx(chosen.model_conv, abs=1e-5)
    chart = map_chart(at)
    spec = json.loads(chart.spec)
    assert spec["title"] == "Output of conv2.0, channel 3 (click a cell)"
    assert (
        f"The chosen cell, row 2, column 5, is outlined and holds {maps['conv2.0'][3, 2, 5]:.4f}."
        in (spec["description"])
    )
    assert "Heatmap of the 8×8 output map of channel 3 of conv2.0" in spec["description"]
    assert list(chart.selection_mode) == ["cell"] and "datum.row == 2 && datum.col == 5" in chart.spec
    tooltip = spec["layer"][0]["encoding"]["tooltip"]
    assert [t["field"] for t in tooltip] == ["row", "col", "value"]

    at.button(key="hand_next").click().run()  # the buttons still move the cell, and the map's outline follows
    assert "datum.row == 2 && datum.col == 6" in map_chart(at).spec
    assert not at.exception and not at.error


def test_the_sizes_explorer_loads_a_layer_of_the_model(ckpt):
    at = open_page("views/feature_maps.py")
    box = at.selectbox(key="sizes_layer")
    assert box.options[0] == "none: a 28×28 picture, settings of your own"
    assert box.options[1:] == [
        "conv1.0 · Conv2d · 5×5 kernel · 28×28 input",
        "pool1 · MaxPool2d · 2×2 kernel · 24×24 input",
        "conv2.0 · Conv2d · 5×5 kernel · 12×12 input",
        "pool2 · MaxPool2d · 2×2 kernel · 8×8 input",
    ]
    real = {x.name: x for x in layer_sizes.model_layers(checkpoint.load(ckpt).model)}
    box.set_value("conv2.0").run()
    assert [at.select_slider(key=f"sizes_{n}").value for n in ("kernel", "stride", "padding", "dilation")] == [
        5,
        1,
        0,
        1,
    ]
    text = next(m.value for m in at.markdown if m.value.startswith("Output: "))
    assert text.startswith("Output: ⌊(12 + 2×0 − 1×(5 − 1) − 1) / 1⌋ + 1 = **8×8**.") and "cells of its input" in text
    assert real["conv2.0"].output == (8, 8)
    assert at.success[-1].value.startswith(
        "In the model, **conv2.0** receives 12×12 and gives **8×8** (one forward pass of a blank picture): the "
        "same as the formula's 8×8."
    )
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert "Input, 12×12 plus 0 of padding on each side" in captions and "Output, 8×8" in captions

    at.select_slider(key="sizes_stride").set_value(2).run()  # the student's own change: told, and undone
    assert at.info[-1].value.startswith("These settings are yours, not conv2.0's (kernel 5, stride 1, padding 0")
    assert "**4×4**" in next(m.value for m in at.markdown if m.value.startswith("Output: "))
    at.button(key="sizes_reload").click().run()
    assert at.select_slider(key="sizes_stride").value == 1 and at.success[-1].value.startswith("In the model")

    box = at.selectbox(key="sizes_layer").set_value("pool1").run()
    assert at.success[-1].value.startswith("In the model, **pool1** receives 24×24 and gives **12×12**")
    at.selectbox(key="sizes_layer").set_value("").run()  # back to the free explorer on the picture
    assert at.select_slider(key="sizes_kernel").value == 3
    assert next(m.value for m in at.markdown if m.value.startswith("Output: ")).startswith("Output: ⌊(28 + 2×0")
    assert not at.exception and not at.error
