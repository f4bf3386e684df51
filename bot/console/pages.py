"""The console's HTML: Vietnamese first, English beside it.

Every value that comes from data (names, reasons, messages) goes through `esc` here, or
is put into the page by static/console.js with textContent, never as HTML. The pages
carry no inline script or style, so the Content-Security-Policy can forbid both.
"""
from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Any, Dict, Iterable, Optional
from zoneinfo import ZoneInfo

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
        admin = ('<a href="/admin/users">Người dùng / Users</a>'
                 '<a href="/admin/shop">Cửa hàng / Shop</a>'
                 '<a href="/admin/canned">Câu trả lời mẫu / Canned replies</a>'
                 if user.is_admin else "")
        # The agent's available/away toggle (availability.py), filled in by console.js.
        toggle = ('<button type="button" id="availability" class="availability" hidden>'
                  '</button>' if user.works_tickets else "")
        if user.sees_dashboard:
            admin = '<a href="/dashboard" id="nav-dashboard">Chỉ số / Dashboard</a>' + admin
        if user.edits_faq:
            admin = ('<a href="/faq" id="nav-faq">Câu hỏi thường gặp / FAQ</a>'
                     '<a href="/unanswered" id="nav-unanswered">Câu hỏi chưa trả lời / Unanswered</a>'
                     + admin)
        nav = f"""
<nav class="top">
  <a class="brand" href="/">hotro · Bảng điều khiển / Console</a>
  <a href="/">Hộp thư / Inbox</a>
  <a href="/tickets" id="nav-search">Tất cả yêu cầu / All tickets</a>
  {admin}
  <span class="spacer"></span>
  {toggle}
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
    <th>Tin nhắn gần nhất / Latest message</th><th>Người xử lý / Assignee</th>
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
  <span class="transfer">
    <label for="transfer-to">Chuyển cho / Transfer to</label>
    <select id="transfer-to"></select>
    <button type="button" id="transfer">Chuyển / Transfer</button>
  </span>
  <button type="button" id="handback">Trả lại cho bot / Hand back to the bot</button>
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
<section class="notes" id="notes-box">
  <h2>Ghi chú nội bộ / Internal notes</h2>
  <p class="muted">Khách không bao giờ thấy ghi chú / The customer never sees notes.</p>
  <ul id="notes"></ul>
  <form id="note-form" class="composer">
    <label for="note">Thêm ghi chú / Add a note</label>
    <textarea id="note" rows="2" maxlength="2000"></textarea>
    <button type="submit" id="note-add">Lưu ghi chú / Save note</button>
  </form>
</section>
<section class="assist" id="assist-box">
  <h2>Gợi ý từ FAQ / FAQ suggestions</h2>
  <p class="muted" id="assist-status">…</p>
  <ul id="assist"></ul>
</section>
<form id="composer" class="composer">
  <label for="reply">Trả lời khách / Reply to the customer</label>
  <textarea id="reply" rows="3" maxlength="{MAX_MESSAGE_CHARS}"
    placeholder="Nhập tin nhắn… (Ctrl+Enter để gửi, / để chọn câu mẫu) / Type a message… (Ctrl+Enter sends, / picks a canned reply)"></textarea>
  <ul id="canned-picker" class="canned-picker" role="listbox" hidden></ul>
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


DAY_LABELS = ("Thứ Hai / Mon", "Thứ Ba / Tue", "Thứ Tư / Wed", "Thứ Năm / Thu",
              "Thứ Sáu / Fri", "Thứ Bảy / Sat", "Chủ nhật / Sun")


# The fields the shop form shows an error beside; any other error is shown on top.
SHOP_FORM_FIELDS = {"name", "hotline", "email", "office_hours", "office_hours.days",
                    "office_hours.open", "office_hours.close", "holidays", "greeting.vi",
                    "greeting.en", "out_of_hours.vi", "out_of_hours.en"}


def _field_error(errors: Dict[str, str], *keys: str) -> str:
    return "".join(f'<span class="field-error" role="alert" data-field="{esc(k)}">'
                   f"{esc(errors[k])}</span>" for k in keys if k in errors)


def shop_page(user: User, values: Dict[str, Any], version: int, timezone_name: str,
              updated_at: Optional[datetime], updated_by: str,
              greeting_variables: Iterable[str], out_of_hours_variables: Iterable[str],
              errors: Optional[Dict[str, str]] = None, message: str = "",
              error: str = "") -> str:
    """The admin's shop settings form. `values` as ShopProfile.editable() (or as the admin
    typed them, shown back with `errors`: field -> message)."""
    errors = errors or {}
    hours = values.get("office_hours") or {}
    days = {str(d) for d in hours.get("days") or []}
    holidays = values.get("holidays") or []
    holidays_text = holidays if isinstance(holidays, str) else "\n".join(holidays)
    if updated_at is not None:
        when = updated_at.astimezone(ZoneInfo(timezone_name)).strftime("%Y-%m-%d %H:%M")
        last = (f'<p class="muted" id="last-change">Thay đổi gần nhất / Last change: '
                f'<b>{esc(updated_by)}</b>, {esc(when)} ({esc(timezone_name)})</p>')
    else:
        last = ('<p class="muted" id="last-change">Chưa thay đổi trong bảng điều khiển: đang '
                'dùng hotro.yml. / Not changed in the console yet: hotro.yml\'s values.</p>')
    unknown = {k: v for k, v in errors.items() if k not in SHOP_FORM_FIELDS}
    notice = (f'<p class="ok" role="status" id="shop-saved">{esc(message)}</p>' if message
              else "") + (f'<p class="error" role="alert" id="shop-error">{esc(error)}</p>'
                          if error else "") + _field_error(unknown, *unknown)
    day_boxes = "".join(
        f'<label class="day"><input type="checkbox" name="days" value="{i}"'
        f'{" checked" if str(i) in days else ""}> {esc(label)}</label>'
        for i, label in enumerate(DAY_LABELS))

    def wrong(*keys: str) -> str:
        return _field_error(errors, *keys)

    time_pattern = "[0-9]{1,2}:[0-9]{2}"

    def words(key: str, language: str, label: str) -> str:
        text = (values.get(key) or {}).get(language, "")
        name = f"{key}_{language}"
        return (f'<label>{esc(label)}<textarea name="{name}" id="{name}" rows="3" '
                f'maxlength="1000">{esc(text)}</textarea></label>'
                + wrong(f"{key}.{language}"))

    def variables(names: Iterable[str]) -> str:
        return " ".join(f"<code>{{{esc(n)}}}</code>" for n in names)

    body = f"""
<h1>Cửa hàng / Shop</h1>
<p class="muted">Bot dùng các thông tin này từ tin nhắn tiếp theo, không cần huấn luyện lại
  hay khởi động lại. / The bot uses these from the next message on, without a retrain or a
  restart.</p>
{last}
{notice}
<form method="post" action="/admin/shop" class="stacked shop" id="shop-form">
  <input type="hidden" name="version" value="{version}">
  <label>Tên cửa hàng / Shop name
    <input name="name" id="name" required maxlength="100" value="{esc(values.get('name', ''))}">
  </label>{wrong("name")}
  <label>Đường dây nóng / Hotline
    <input name="hotline" id="hotline" required inputmode="tel" placeholder="1900 6868"
           value="{esc(values.get('hotline', ''))}"></label>{wrong("hotline")}
  <label>Email
    <input name="email" id="email" type="email" required
           value="{esc(values.get('email', ''))}"></label>{wrong("email")}
  <fieldset>
    <legend>Giờ làm việc / Office hours ({esc(timezone_name)})</legend>
    <div class="days">{day_boxes}</div>{wrong("office_hours.days", "office_hours")}
    <label>Mở cửa / Opens
      <input name="open" id="open" required placeholder="08:00" pattern="{time_pattern}"
             value="{esc(hours.get('open', ''))}"></label>{wrong("office_hours.open")}
    <label>Đóng cửa / Closes (24:00 = hết ngày / end of day)
      <input name="close" id="close" required placeholder="21:00" pattern="{time_pattern}"
             value="{esc(hours.get('close', ''))}"></label>{wrong("office_hours.close")}
  </fieldset>
  <label>Ngày nghỉ (cả ngày), mỗi dòng một ngày YYYY-MM-DD / Holidays (closed all day),
    one YYYY-MM-DD date a line
    <textarea name="holidays" id="holidays" rows="4">{esc(holidays_text)}</textarea>
  </label>{wrong("holidays")}
  <fieldset>
    <legend>Lời chào / Greeting</legend>
    <p class="muted">Để trống: dùng lời chào mặc định. Biến / Variables:
      {variables(greeting_variables)}. Empty: the default greeting.</p>
    {words("greeting", "vi", "Tiếng Việt / Vietnamese")}
    {words("greeting", "en", "Tiếng Anh / English")}
  </fieldset>
  <fieldset>
    <legend>Tin nhắn ngoài giờ / Out-of-hours message</legend>
    <p class="muted">Khách nhận khi cần gặp nhân viên ngoài giờ làm việc. Để trống: dùng tin
      mặc định. Biến / Variables: {variables(out_of_hours_variables)}. What a customer gets
      when asking for a person outside office hours; empty: the default message.</p>
    {words("out_of_hours", "vi", "Tiếng Việt / Vietnamese")}
    {words("out_of_hours", "en", "Tiếng Anh / English")}
  </fieldset>
  <button type="submit" id="shop-save">Lưu / Save</button>
</form>"""
    return layout("Cửa hàng / Shop", body, user, page="shop")


def error_page(title: str, detail: str, user: Optional[User] = None) -> str:
    body = f"""
<h1>{esc(title)}</h1>
<p>{esc(detail)}</p>
<p><a href="/">← Hộp thư / Inbox</a></p>"""
    return layout(title, body, user, page="error")
