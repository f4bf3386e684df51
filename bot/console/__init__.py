"""The agents' console: an aiohttp web app, one module per feature.

- `app.py`: `create_app(settings)` assembles the others (routes, middlewares, stores).
- `web.py`: what they share (app keys, blocking calls, responses); `config.py` the settings.
- `security.py`: headers, the origin check (CSRF), the session and admin-role checks.
- `login.py`: sign in and out; `auth.py`: users (hashed passwords, roles), server-side
  sessions, the login rate limit.
- `tickets.py`: the ticket rules as plain functions (who may take, reply, resolve; the 409s);
  `ticket_views.py`: the inbox and ticket pages and their JSON API; `transcripts.py`: a
  ticket's live transcript and the customer's other conversations; `live.py`: the `/ws`
  live updates; `resumes.py`: resolved tickets whose bot resume is still to retry.
- `users.py`: the admin's users page; `shop_settings.py`: the admin's shop page (name,
  hotline, email, office hours, holidays, greeting and out-of-hours words; bot/shop.py).
- `dashboard.py`: the leads' support dashboard (charts, filters, CSV export; bot/analytics),
  `dashboard_page.py` its HTML; `static/vendor/` the vendored Chart.js.
- `rasa.py`: the Rasa HTTP API calls (read the tracker, post agent replies, resume the bot).
- `pages.py`: the HTML (Vietnamese with English beside it); `static/` its JS and CSS.
- `commands.py`: `hotro user add|list|passwd` and `hotro console`.
Run alone: `python -m bot.console --host 127.0.0.1 --port 5080`.
"""
