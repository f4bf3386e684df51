"""The agents' console: an aiohttp web app (inbox, ticket page, reply, resolve, users).

- `app.py`: `create_app(settings)`, the pages, the JSON API and the `/ws` live updates.
- `auth.py`: console users (hashed passwords, roles), server-side sessions, login rate limit.
- `rasa.py`: the Rasa HTTP API calls (read the tracker, post agent replies, resume the bot).
- `pages.py`: the HTML (Vietnamese with English beside it); `static/` its JS and CSS.
- `commands.py`: `hotro user add|list|passwd` and `hotro console`.
Run alone: `python -m bot.console --host 127.0.0.1 --port 5080`.
"""
