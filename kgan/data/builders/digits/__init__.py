"""`digits`: scikit-learn's 8x8 handwritten digits as a TFDS dataset (see the builder module)."""
