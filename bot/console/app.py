"""The agents' console: `create_app(settings)` assembles the aiohttp application from its
feature modules; it holds no feature itself.

Routes (all but /login, /healthz and /static/ need a session; /admin/ and /api/admin/ need
the admin role; bot/console/security.py):
  GET  /login, POST /login, POST /logout      sign in and out (login.py)
  GET  /healthz                               readiness (no login)
  GET  /                                      inbox: waiting and open tickets (ticket_views.py)
  GET  /tickets/{id}                          one ticket: live transcript, assign, reply, resolve
  GET  /api/me, /api/tickets, /api/tickets/{id} (with the messages the channel could not
       deliver and the customer's conversations on other channels, transcripts.py)
  POST /api/tickets/{id}/assign | reply | resolve   (JSON; the rules are tickets.py's)
  GET  /ws                                    live updates (websocket, live.py)
  GET  /tickets, /api/tickets/search          all tickets: filters and search (search.py)
  GET|POST /api/tickets/{id}/notes            internal notes, never sent to the customer (notes.py)
  GET  /api/tickets/{id}/suggestions          agent assist: the FAQ entries matching the
       customer's latest message, with scores and answers (assist.py)
  /admin/canned, /api/canned, /api/admin/canned, /api/tickets/{id}/canned   canned replies (canned.py)
  GET  /api/agents, POST /api/tickets/{id}/transfer | handback   to a colleague, or back
       to the bot (transfer.py)
  GET|POST /api/availability                  an agent's available/away toggle (availability.py)
  GET  /admin/users, POST /admin/users        users (users.py)
  GET  /admin/shop, POST /admin/shop          the shop's name, words, hours (shop_settings.py)
  GET  /api/admin/shop, POST /api/admin/shop  the same as JSON
  GET  /dashboard, /api/dashboard, /api/dashboard/conversations.csv
                                              support metrics, leads and admins (dashboard.py)
Every POST and the websocket handshake must come from the console's own origin (CSRF).
Settings: bot/console/config.py; the database is handoff.database_url (bot/db.py).
The FAQ editor, for editors and admins: the store's API /api/faq/... (faq_editor.py), trying
a message against the draft (faq_try.py), CSV import (faq_import.py), the pages /faq...
(faq_pages.py); their unanswered questions and proposed phrasings, /unanswered and
/api/unanswered/... (unanswered.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from aiohttp import web

from bot.console import (assist, availability, canned, dashboard, faq_editor, faq_import, faq_pages,
                         faq_try, inbox_rows, live, login, notes, search, shop_settings, ticket_views,
                         transfer, unanswered, users)
from bot.console.auth import UserStore
from bot.console.config import console_config
from bot.console.rasa import RasaClient
from bot.console.security import (bounded_ids, origin_check, readable_forms, require_session,
                                  security_headers)
from bot.console.resumes import PendingResumes
from bot.console.web import (CONFIG, PROFILES, RASA, RESUME_PENDING, SETTINGS, TICKETS,
                             USERS, api_me, healthz)
from bot.db import database_url
from bot.handoff.profiles import customer_profiles
from bot.handoff.store import ticket_store

__all__ = ["create_app", "console_config", "database_url", "USERS", "TICKETS"]

STATIC_DIR = Path(__file__).resolve().parent / "static"


async def _rasa_client(app: web.Application):
    await app[RASA].start()
    yield
    await app[RASA].close()


def create_app(settings: Optional[Dict[str, Any]] = None) -> web.Application:
    if settings is None:
        from bot.settings import load_settings

        settings = load_settings()
    config = console_config(settings)
    tickets = ticket_store(database_url(settings))
    app = web.Application(middlewares=[security_headers, origin_check, require_session,
                                       bounded_ids, readable_forms],
                          client_max_size=256 * 1024)
    app[SETTINGS] = settings
    app[CONFIG] = config
    app[TICKETS] = tickets
    app[PROFILES] = customer_profiles(tickets)
    app[USERS] = UserStore(tickets.engine, session_hours=config["session_hours"],
                           max_failures=config["login_max_failures"],
                           failure_window=config["login_window_seconds"])
    app[RASA] = RasaClient(config["rasa_url"], config["rasa_token"])
    app[RESUME_PENDING] = PendingResumes(tickets.engine)
    app.cleanup_ctx.append(_rasa_client)
    live.setup_live(app)
    inbox_rows.setup(app)

    r = app.router
    r.add_get("/healthz", healthz)
    r.add_get("/login", login.login_form)
    r.add_post("/login", login.login_submit)
    r.add_post("/logout", login.logout)
    r.add_get("/", ticket_views.inbox)
    r.add_get(r"/tickets/{id:\d+}", ticket_views.ticket_view)
    r.add_get("/api/me", api_me)
    r.add_get("/api/tickets", ticket_views.api_tickets)
    r.add_get(r"/api/tickets/{id:\d+}", ticket_views.api_ticket)
    r.add_post(r"/api/tickets/{id:\d+}/assign", ticket_views.api_assign)
    r.add_post(r"/api/tickets/{id:\d+}/reply", ticket_views.api_reply)
    r.add_post(r"/api/tickets/{id:\d+}/resolve", ticket_views.api_resolve)
    r.add_get("/ws", live.websocket)
    r.add_get("/admin/users", users.users_view)
    r.add_post("/admin/users", users.users_create)
    shop_settings.add_routes(app)
    dashboard.add_routes(app)
    search.add_routes(app)
    notes.add_routes(app, tickets.engine)
    assist.add_routes(app)
    canned.add_routes(app, tickets.engine)
    transfer.add_routes(app)
    availability.add_routes(app)
    faq_editor.add_routes(app)
    faq_try.add_routes(app)
    faq_import.add_routes(app)
    faq_pages.add_routes(app)
    unanswered.add_routes(app)
    r.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
    return app
