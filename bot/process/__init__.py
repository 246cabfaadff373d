"""Running the bot: the `jalerte` CLI, the configuration (read once), the runtime's
wiring, worker processes, the parse service's supervisor and its client, health checks."""
