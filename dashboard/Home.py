"""Fashion-MNIST Studio: `streamlit run dashboard/Home.py`."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st

from dashboard import classroom

st.set_page_config(page_title="Fashion-MNIST Studio", page_icon=":material/checkroom:", layout="wide")
st.set_option("client.showErrorDetails", "none")  # a user never sees a traceback

VIEWS = Path(__file__).resolve().parent / "views"
pages = [
    st.Page(VIEWS / "home.py", title="Home", icon=":material/home:", default=True),
    st.Page(VIEWS / "data.py", title="Data", icon=":material/photo_library:"),
    st.Page(VIEWS / "train.py", title="Train", icon=":material/model_training:"),
    st.Page(VIEWS / "evaluate.py", title="Evaluate", icon=":material/grid_on:"),
    st.Page(VIEWS / "feature_maps.py", title="Feature maps", icon=":material/layers:"),
    st.Page(VIEWS / "explain.py", title="Explain", icon=":material/lightbulb:"),
    st.Page(VIEWS / "embedding.py", title="Embedding", icon=":material/scatter_plot:"),
    st.Page(VIEWS / "classify.py", title="Classify", icon=":material/draw:"),
    st.Page(VIEWS / "compare.py", title="Compare runs", icon=":material/stacked_line_chart:"),
    st.Page(VIEWS / "models.py", title="Models", icon=":material/deployed_code:"),
]
page = st.navigation(pages)
classroom.owner_secret()
classroom.teacher_sidebar()
page.run()
