"""Model training, evaluation and export to ONNX (TensorFlow/Keras); the app never imports this."""
