"""Training only (TensorFlow and Keras): MNIST loading, recipes, layers, augmentation, reports.

`train.py` at the top of the repository is the entry point; the server never imports this package.
"""
