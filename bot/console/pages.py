"""The console's HTML: Vietnamese first, English beside it.

Every value that comes from data (names, reasons, messages) goes through `esc` here, or
is put into the page by static/console.js with textContent, never as HTML. The pages
carry no inline script or style, so the Content-Security-Policy can forbid both.
"""
from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Iterable, Optional

from bot.console.auth import ROLES, User
from bot.limits import MAX_MESSAGE_CHARS

ROLE_LABELS = {
    "agent": "Nhân viên / Agent",
    "editor": "Biên tập / Editor",
    "lead": "Trưởng nhóm / Lead",
    "admin": "Quản trị / Admin",
}


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _time(value: Optional[datetime]) -> str:
    if value is None:
        return "—"
    return value.replace(tzinfo=timezone.utc).strftime("%Y-%m-%d %H:%M")


def layout(title: str, body: str, user: Optional[User] = None, page: str = "",
           data: Optional[dict] = None) -> str:
    attrs = "".join(f' data-{esc(k)}="{esc(v)}"' for k, v in (data or {}).items())
    nav = ""
    if user is not None:
        admin = ('<a href="/admin/users">Người dùng / Users</a>' if user.is_admin else "")
        nav = f"""
<nav class="top">
  <a class="brand" href="/">hotro · Bảng điều khiển / Console</a>
  <a href="/">Hộp thư / Inbox</a>
  {admin}
  <span class="spacer"></span>
  <span class="me" id="me" data-username="{esc(user.username)}">{esc(user.display_name)}
    · {esc(ROLE_LABELS.get(user.role, user.role))}</span>
  <form method="post" action="/logout" class="inline">
    <button type="submit" id="logout">Đăng xuất / Log out</button>
  </form>
</nav>"""
    return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · hotro</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body data-page="{esc(page)}"{attrs}>
{nav}
<main>
{body}
</main>
</body>
</html>
"""


def login_page(next_path: str = "/", error: str = "", username: str = "") -> str:
    message = f'<p class="error" id="login-error" role="alert">{esc(error)}</p>' if error else ""
    body = f"""
<section class="login">
  <h1>Đăng nhập / Log in</h1>
  {message}
  <form method="post" action="/login" id="login-form">
    <input type="hidden" name="next" value="{esc(next_path)}">
    <label>Tên đăng nhập / Username
      <input name="username" id="username" autocomplete="username" required
             value="{esc(username)}" autofocus></label>
    <label>Mật khẩu / Password
      <input name="password" id="password" type="password" autocomplete="current-password"
             required></label>
    <button type="submit" id="login-submit">Đăng nhập / Log in</button>
  </form>
</section>"""
    return layout("Đăng nhập / Log in", body, page="login")


def inbox_page(user: User, tz: str) -> str:
    body = """
<h1>Hộp thư / Inbox <span class="live" id="live">…</span></h1>
<p class="muted">Yêu cầu đang chờ và đang xử lý / Waiting and open tickets.
  Cập nhật tự động / Updates live.</p>
<table class="tickets">
  <thead><tr>
    <th>#</th><th>Trạng thái / Status</th><th>Thời gian chờ / Waiting</th>
    <th>Kênh / Channel</th><th>Lý do / Reason</th><th>Khách / Customer</th>
    <th>Người xử lý / Assignee</th>
  </tr></thead>
  <tbody id="tickets"></tbody>
</table>
<p class="muted" id="empty" hidden>Không có yêu cầu nào / No tickets waiting.</p>"""
    return layout("Hộp thư / Inbox", body, user, page="inbox", data={"tz": tz})


def ticket_page(user: User, ticket_id: int, tz: str) -> str:
    body = f"""
<p><a href="/">← Hộp thư / Inbox</a></p>
<h1>Yêu cầu / Ticket #{ticket_id} <span class="live" id="live">…</span></h1>
<dl class="ticket-info">
  <dt>Trạng thái / Status</dt><dd id="t-status">…</dd>
  <dt>Thời gian chờ / Waiting</dt><dd id="t-waiting">…</dd>
  <dt>Kênh / Channel</dt><dd id="t-channel">…</dd>
  <dt>Lý do / Reason</dt><dd id="t-reason">…</dd>
  <dt>Khách / Customer</dt><dd id="t-customer">…</dd>
  <dt>Liên hệ / Contact</dt><dd id="t-contact">…</dd>
  <dt>Ngôn ngữ / Language</dt><dd id="t-language">…</dd>
  <dt>Người xử lý / Assignee</dt><dd id="t-assignee">…</dd>
</dl>
<div class="actions">
  <button type="button" id="assign">Nhận xử lý / Assign to me</button>
  <button type="button" id="resolve">Đã giải quyết / Resolve</button>
</div>
<p class="error" id="error" role="alert" hidden></p>
<p class="warning" id="snapshot" hidden>Không kết nối được Rasa: đang hiện bản ghi lúc chuyển
  cho nhân viên. / Rasa unreachable: showing the transcript saved at handoff.</p>
<section class="undelivered" id="undelivered-box" hidden>
  <h2>Tin nhắn chưa gửi được / Undelivered messages</h2>
  <ul id="undelivered"></ul>
</section>
<section class="linked" id="linked-box" hidden>
  <h2>Cuộc trò chuyện trước trên kênh khác / Earlier conversations on other channels</h2>
  <p class="muted">Cùng số điện thoại hoặc email / Same phone number or email.</p>
  <div id="linked"></div>
</section>
<h2>Hội thoại / Transcript</h2>
<ol class="transcript" id="transcript"></ol>
<form id="composer" class="composer">
  <label for="reply">Trả lời khách / Reply to the customer</label>
  <textarea id="reply" rows="3" maxlength="{MAX_MESSAGE_CHARS}"
    placeholder="Nhập tin nhắn… (Ctrl+Enter để gửi) / Type a message… (Ctrl+Enter sends)"></textarea>
  <button type="submit" id="send">Gửi / Send</button>
</form>"""
    return layout(f"Yêu cầu / Ticket #{ticket_id}", body, user, page="ticket",
                  data={"ticket": ticket_id, "tz": tz,
                        "works": "1" if user.works_tickets else "0"})


def users_page(user: User, users: Iterable[User], message: str = "", error: str = "",
               form: Optional[dict] = None) -> str:
    form = form or {}
    rows = "\n".join(
        f"<tr><td>{esc(u.username)}</td><td>{esc(u.display_name)}</td>"
        f"<td>{esc(ROLE_LABELS.get(u.role, u.role))}</td>"
        f"<td>{'✓' if u.active else '✗'}</td>"
        f"<td class=\"time\">{esc(_time(u.created_at))}</td>"
        f"<td class=\"time\">{esc(_time(u.last_login_at))}</td></tr>"
        for u in users)
    options = "".join(
        f'<option value="{esc(r)}"{" selected" if form.get("role", "agent") == r else ""}>'
        f"{esc(ROLE_LABELS[r])}</option>" for r in ROLES)
    notice = (f'<p class="ok" role="status">{esc(message)}</p>' if message else "") + (
        f'<p class="error" role="alert">{esc(error)}</p>' if error else "")
    body = f"""
<h1>Người dùng / Users</h1>
{notice}
<table class="users">
  <thead><tr><th>Tên đăng nhập / Username</th><th>Tên hiển thị / Display name</th>
    <th>Vai trò / Role</th><th>Hoạt động / Active</th><th>Tạo lúc / Created (UTC)</th>
    <th>Đăng nhập gần nhất / Last login (UTC)</th></tr></thead>
  <tbody>{rows}</tbody>
</table>
<h2>Thêm người dùng / Add a user</h2>
<form method="post" action="/admin/users" class="stacked" id="add-user">
  <label>Tên đăng nhập / Username
    <input name="username" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{{1,63}}"
           value="{esc(form.get('username', ''))}"></label>
  <label>Tên hiển thị / Display name
    <input name="display_name" value="{esc(form.get('display_name', ''))}"></label>
  <label>Vai trò / Role <select name="role">{options}</select></label>
  <label>Mật khẩu / Password
    <input name="password" type="password" autocomplete="new-password" required
           minlength="8"></label>
  <button type="submit">Thêm / Add</button>
</form>"""
    return layout("Người dùng / Users", body, user, page="users")


def error_page(title: str, detail: str, user: Optional[User] = None) -> str:
    body = f"""
<h1>{esc(title)}</h1>
<p>{esc(detail)}</p>
<p><a href="/">← Hộp thư / Inbox</a></p>"""
    return layout(title, body, user, page="error")
