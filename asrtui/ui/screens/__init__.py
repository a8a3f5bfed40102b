"""Screens of the console: the main view and the help screen."""
