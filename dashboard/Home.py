"""Fashion-MNIST Studio: `streamlit run dashboard/Home.py`."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st

from dashboard import classroom, pages, projector

st.set_page_config(page_title="Fashion-MNIST Studio", page_icon=":material/checkroom:", layout="wide")
st.set_option("client.showErrorDetails", "none")  # a user never sees a traceback
st.html(Path(__file__).parent / "style.css")  # contrast and focus where the theme cannot reach

page = st.navigation(
    [st.Page(p.path, title=p.title, icon=p.icon, default=p.default) for p in pages.PAGES],
    expanded=True,  # every page in the sidebar, none behind "View more"
)
classroom.owner_secret()
classroom.teacher_sidebar()
projector.setup()  # ?projector=1 or the sidebar toggle: large type, no sidebar
page.run()
