"""From image bytes to 28x28 MNIST-like digits: decoding, preprocessing, segmentation. No Flask here."""
