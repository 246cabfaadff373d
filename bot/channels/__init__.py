"""Where people talk to the bot: Telegram, the terminal, the web widget's server."""
