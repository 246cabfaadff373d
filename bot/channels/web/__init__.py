"""The aiohttp application: web widget, demo page, WebSocket, uploads, Telegram webhook."""
