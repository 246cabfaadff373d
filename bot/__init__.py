"""The bot's side: its channels, the staff console and the processes that run them.

`channels/` (Telegram, the terminal, `web/`: the widget's server), `console/` (the staff
console, an application mounted at /staff), `process/` (the `jalerte` CLI, the
configuration read once, wiring, workers, the parse service's supervisor and client).
"""
