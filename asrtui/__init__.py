"""asrtui: a terminal operator console for Alibaba Cloud Live real-time ASR tasks."""

__version__ = "0.1.0"
