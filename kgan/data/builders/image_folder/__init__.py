"""A folder of the user's images read through TFDS (see the builder module)."""
