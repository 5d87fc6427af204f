"""The terminal app: a thin Textual layer over bptui.core."""
