"""Every page of the studio, declared once: its view file, title, icon and one-line description.

The sidebar navigation (Home.py), Home's list of pages and every link between pages (`link`) are built from
`PAGES`, so they cannot disagree.

To add a page: write its script as `dashboard/views/<name>.py` and add one `Page` record to `PAGES` at the place
it should take in the sidebar. Its URL path and the name other pages link it by (`link("<name>")`) are the
file's name without `.py`. Nothing else needs to change: the page appears in the sidebar and on Home.
"""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

DASHBOARD = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Page:
    view: str  # the page's script, relative to dashboard/ (as st.page_link wants it): "views/<name>.py"
    title: str  # in the sidebar, on Home and as the default label of a link to it
    icon: str  # a Material Symbols icon, ":material/<icon_name>:"
    description: str  # one line on Home, after the link
    default: bool = False  # the page the app opens on (Home); it is not listed on itself

    @property
    def name(self) -> str:
        """The page's URL path and the name `link` and `named` know it by: its file name without `.py`."""
        return Path(self.view).stem

    @property
    def path(self) -> Path:
        return DASHBOARD / self.view


PAGES = (
    Page(
        "views/home.py",
        "Home",
        ":material/home:",
        "what the studio is, where the dataset is and which models exist",
        default=True,
    ),
    Page(
        "views/data.py",
        "Data",
        ":material/photo_library:",
        "browse samples of each class, the class balance, mean images and augmentation",
    ),
    Page(
        "views/data_lab.py",
        "Data lab",
        ":material/science:",
        "suspect labels found by cross-validation, training without them, and test images leaked into training",
    ),
    Page(
        "views/train.py",
        "Train",
        ":material/model_training:",
        "choose an architecture and hyperparameters, then watch it learn live",
    ),
    Page(
        "views/evaluate.py",
        "Evaluate",
        ":material/grid_on:",
        "test accuracy, the confusion matrix and the images a model gets wrong",
    ),
    Page(
        "views/feature_maps.py",
        "Feature maps",
        ":material/layers:",
        "what each convolution layer responds to in an image",
    ),
    Page(
        "views/explain.py",
        "Explain",
        ":material/lightbulb:",
        "why a model gave its answer on one picture, four attribution methods side by side",
    ),
    Page(
        "views/embedding.py",
        "Embedding",
        ":material/scatter_plot:",
        "every test image placed by the features a model learned, squashed to two dimensions",
    ),
    Page(
        "views/classify.py",
        "Classify",
        ":material/draw:",
        "draw or upload a picture and see what a model thinks it is",
    ),
    Page(
        "views/teach.py",
        "Teach",
        ":material/new_label:",
        "draw or upload a few pictures of something new, name it, and teach a model an eleventh class in seconds",
    ),
    Page(
        "views/challenge.py",
        "Challenge",
        ":material/sports_score:",
        "beat the model: the whole class answers the same hard pictures against the clock",
    ),
    Page(
        "views/compare.py",
        "Compare runs",
        ":material/stacked_line_chart:",
        "overlay the learning curves and settings of several trainings",
    ),
    Page(
        "views/models.py",
        "Models",
        ":material/deployed_code:",
        "every model's recipe and results; download as ONNX or TorchScript; import a checkpoint",
    ),
    Page(
        "views/leaderboard.py",
        "Class",
        ":material/groups:",
        "for the teacher: every student's trainings and taught classes as a leaderboard; pin a run for all",
    ),
)


def named(name: str) -> Page:
    """The page whose file is `views/<name>.py`; a KeyError names the known pages."""
    for page in PAGES:
        if page.name == name:
            return page
    raise KeyError(f"no page named {name!r}; the pages are {', '.join(p.name for p in PAGES)}")


def link(name: str, label: str | None = None, where=st, **options) -> None:
    """A link to the page `name`, with its icon and (unless `label` says otherwise) its title, drawn in `where`
    (a column or container; the page itself by default); `options` go to st.page_link (query_params, help...)."""
    page = named(name)
    where.page_link(page.view, label=label or page.title, icon=page.icon, **options)
