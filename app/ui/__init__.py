"""The PySide6 desktop app: shows what `app.core` returns; never runs inference on the UI thread."""
