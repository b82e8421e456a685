"""The models' titles and descriptions the pages show come from data (model/*.json): written here for pybabel."""

from flask_babel import gettext

from webapp.inference.plain_names import model_title
from webapp.sentences import N_

TITLES = (
    N_("The convolutional network"),
    N_("The classic network from the notebooks"),
    N_("The wider classic network"),
)

DESCRIPTIONS = (
    N_("Convolutional network: 5 conv layers with batch normalisation, dropout, augmentation"),
    N_("The classic notebook model: dense 784-50-50-10 with sigmoid output"),
    N_("The classic dense model, wider: 784-150-50-10 with sigmoid output"),
)


def title(name: str) -> str:
    """A model's title in the request's language ("The convolutional network" -> "Das Faltungsnetz")."""
    return gettext(model_title(name))


def summary_in_words(summary: dict) -> dict:
    """A model's summary (/api/models) with its title and description in the request's language."""
    return {**summary, "title": gettext(summary["title"]) if summary.get("title") else summary.get("title"),
            "description": gettext(summary["description"]) if summary.get("description") else
            summary.get("description")}
