"""`stacked_mnist`: three MNIST digits as the R, G, B channels, 1,000 modes (see the builder module)."""
