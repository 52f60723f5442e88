"""Everything the app does that needs no Qt and no TensorFlow."""
