"""The models' titles and descriptions the pages show come from data (model/*.json): written here for pybabel."""

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
