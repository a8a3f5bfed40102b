"""Widgets of the console, each owning one piece of the screen."""
