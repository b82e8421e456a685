"""What an MNIST digit is, in one place for serving, training and tests alike."""

IMAGE_SIDE = 28          # MNIST images are 28x28 grey levels
CLASSES = 10             # the digits 0-9
DIGIT_BOX = 20           # NIST digits were size-normalised to fit 20x20 ...
CENTRE = 14              # ... and centred by centre of mass at (14, 14)
