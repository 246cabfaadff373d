"""Channels (terminal, Telegram, web widget), the web application and the CLI."""
