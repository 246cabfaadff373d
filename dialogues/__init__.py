"""The channel-neutral dialogue: events in, replies and a new state out.

Nothing here imports Telegram, aiohttp or Rasa: the engine talks to small Protocols
for understanding text, finding advice sheets and storing conversations.
"""
