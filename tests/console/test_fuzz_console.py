"""Fuzz every console route as a signed-in admin (the role that reaches them all): the same
EXAMPLES hostile cases (path ids, query strings, bodies: JSON, forms, raw bytes, wrong
content types), drawn by hypothesis, are sent to every route, four at a time, and must get
an answer below 500; the console must keep serving. Routes are read from the app's router,
so a new route is fuzzed without anyone listing it here."""
from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

import pytest
import requests
from hypothesis import given, strategies as st

from tests.console.conftest import ConsoleServer
from tests.console.test_api import seed
from tests.fuzzing import EXAMPLES, FUZZ_SETTINGS, hostile_text, json_values

# Not fuzzed: sign-out would end the fuzzing session; the websocket is not HTTP (its
# handshake refusals are tested in test_api.py); static files are aiohttp's own.
SKIPPED = {"/logout", "/ws"}

PARAM = re.compile(r"\{[^}]+\}")
# What an HTTP client can send at all: lone surrogates cannot be encoded in a URL.
sendable = hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
path_ids = st.one_of(st.sampled_from(["1", "0", "999999999", "-1", "1e9", "%2e%2e", "%00"]),
                     sendable.map(lambda t: quote(t, safe="")))
queries = st.dictionaries(st.sampled_from(["q", "status", "channel", "agent", "from", "to", "topic",
                                           "page", "limit", "next", "id", "mode", "question"]),
                          sendable, max_size=4)


@st.composite
def bodies(draw: Any) -> Tuple[Dict[str, str], bytes]:
    """(headers, body) as a browser, a script or an attacker might post them."""
    kind = draw(st.sampled_from(["json"] * 4 + ["form", "raw", "empty"]))
    if kind == "json":
        return {"Content-Type": "application/json"}, json.dumps(draw(json_values)).encode()
    if kind == "form":
        fields = draw(st.dictionaries(st.sampled_from(["username", "password", "role", "text", "name",
                                                       "display_name", "hotline", "csrf", "file"]),
                                      sendable, max_size=4))
        return ({"Content-Type": "application/x-www-form-urlencoded"},
                "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()).encode())
    if kind == "raw":
        content_type = draw(st.sampled_from(["application/json", "text/plain", "multipart/form-data",
                                             "application/octet-stream"]))
        return {"Content-Type": content_type}, draw(st.binary(max_size=300))
    return {}, b""


def routes(console: ConsoleServer) -> List[Tuple[str, str]]:
    found = []
    for route in console.app.router.routes():
        info = route.resource.get_info()
        path = info.get("path") or info.get("formatter") or ""
        if route.method in ("HEAD", "*") or not path or path in SKIPPED or "prefix" in info:
            continue
        found.append((route.method, path))
    return sorted(set(found))


@pytest.fixture
def admin_session(console: ConsoleServer, admin: str) -> requests.Session:
    return console.login(admin)


def hostile_requests() -> List[Tuple[str, Dict[str, str], Tuple[Dict[str, str], bytes]]]:
    """EXAMPLES (path id, query, body) cases, drawn once by hypothesis for every route."""
    drawn: list = []

    @FUZZ_SETTINGS
    @given(path_ids, queries, bodies())
    def collect(path_id: str, query: Dict[str, str], body: Tuple[Dict[str, str], bytes]) -> None:
        drawn.append((path_id, query, body))

    collect()
    return drawn


def test_fuzz_every_console_route(console, store, rasa, admin_session):
    ticket = seed(store, rasa)
    checked = routes(console)
    assert len(checked) >= 25, checked
    cases = hostile_requests()
    assert len(cases) >= EXAMPLES
    local = threading.local()

    def session() -> requests.Session:  # one per thread, signed in as the admin
        if not hasattr(local, "session"):
            local.session = console.client()
            local.session.cookies.update(admin_session.cookies)
        return local.session

    def send(method: str, template: str, case) -> Optional[tuple]:
        path_id, query, (headers, data) = case
        ident = str(ticket) if path_id == "1" else path_id
        url = console.url + PARAM.sub(ident.replace("\\", "\\\\"), template)
        if method != "POST":
            headers, data = {}, b""
        reply = session().request(method, url, params=query, data=data, headers=headers,
                                  allow_redirects=False, timeout=60)
        if reply.status_code >= 500:
            return method, url, query, data[:200], reply.status_code, reply.text[:300]
        return None

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:  # a few browsers at once, as in real use
        for method, template in checked:
            failures = [f for f in pool.map(lambda c: send(method, template, c), cases) if f]
            assert not failures, failures[:3]
    print(f"console fuzz: {len(checked)} routes x {len(cases)} requests, "
          f"{time.monotonic() - started:.0f} s")
    # Still serving, and the session still works.
    assert admin_session.get(f"{console.url}/api/tickets/{ticket}", timeout=30).status_code == 200
