"""The Textual console: app, screens, widgets and the view models behind them."""
