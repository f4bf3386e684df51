// hotro console: live inbox and ticket page. Plain JS, no framework.
// Every text from data goes into the page with textContent, never as HTML: customers can
// send "<img src=x onerror=...>" and it must show as those characters.
"use strict";
(function () {
  const body = document.body;
  const page = body.dataset.page;
  const tz = body.dataset.tz || "Asia/Ho_Chi_Minh";
  let clockOffset = 0; // server clock minus browser clock, in ms

  const STATUS = {
    waiting: "Đang chờ / Waiting",
    open: "Đang xử lý / Open",
    resolved: "Đã giải quyết / Resolved",
  };
  const REASONS = {
    request_human: "Khách muốn gặp nhân viên / Asked for a person",
    bot_failed_twice: "Bot không hiểu 2 lần / Bot failed twice",
    low_confidence: "Bot không chắc chắn / Low confidence",
    callback: "Hẹn gọi lại / Call-back request",
    undelivered: "Tin nhắn chưa gửi được tới khách / Message not delivered",
    bot_unavailable: "Bot gián đoạn, chưa trả lời khách / Bot was down, not answered",
  };
  const CHANNELS = {
    rest: "REST", socketio: "Website", widget: "Website", messenger: "Messenger",
    facebook: "Messenger", zalo: "Zalo",
  };
  const NOT_DELIVERED = "Chưa gửi được tới khách / Not delivered to the customer";
  const WINDOW_CLOSED = "Chưa gửi được tới khách (cửa sổ nhắn tin đã đóng) / " +
    "Not delivered to the customer (messaging window closed)";

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // One ticket as a table row (the inbox and the all-tickets list): `timeCell` is the
  // third column, the waiting time in the inbox and the creation time in the list.
  function ticketRow(t, timeCell) {
    const row = el("tr", "status-" + t.status);
    row.dataset.ticket = t.id;
    const idCell = el("td");
    const link = el("a", null, "#" + t.id);
    link.href = "/tickets/" + encodeURIComponent(t.id);
    idCell.appendChild(link);
    row.appendChild(idCell);
    row.appendChild(el("td", "status", statusLabel(t.status)));
    row.appendChild(timeCell);
    row.appendChild(el("td", null, channelLabel(t.channel)));
    row.appendChild(el("td", null, reasonLabel(t.reason)));
    row.appendChild(el("td", "customer", customerLabel(t.customer)));
    row.appendChild(el("td", "last-message", t.last_message || "—"));
    row.appendChild(el("td", "assignee", t.assigned_to || "—"));
    row.addEventListener("click", function (event) {
      if (event.target.tagName !== "A") location.href = link.href;
    });
    return row;
  }

  function setText(id, text) {
    const node = $(id);
    if (node) node.textContent = text === undefined || text === null || text === "" ? "—" : String(text);
  }

  function syncClock(serverNow) {
    const t = Date.parse(serverNow);
    if (!isNaN(t)) clockOffset = t - Date.now();
  }

  function formatTime(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (isNaN(date)) return String(iso);
    try {
      return date.toLocaleString("en-GB", {
        timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit",
        day: "2-digit", month: "2-digit", hour12: false,
      });
    } catch (e) {
      return date.toISOString();
    }
  }

  function formatDuration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " giây / " + seconds + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " phút / " + minutes + " min";
    const hours = Math.floor(minutes / 60), rest = minutes % 60;
    return hours + " giờ " + rest + " phút / " + hours + " h " + rest + " min";
  }

  function waitingSeconds(ticket) {
    const created = Date.parse(ticket.created_at);
    if (isNaN(created)) return 0;
    const end = ticket.resolved_at ? Date.parse(ticket.resolved_at) : Date.now() + clockOffset;
    return (end - created) / 1000;
  }

  // Who the customer is: name, else phone, else email; never the session id.
  function customerLabel(customer) {
    return (customer && customer.label) || "Khách chưa rõ tên / Unknown customer";
  }

  function reasonLabel(reason) { return REASONS[reason] || reason || "—"; }
  function channelLabel(channel) { return CHANNELS[channel] || channel || "—"; }
  function statusLabel(status) { return STATUS[status] || status || "—"; }

  function loginUrl() {
    return "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }

  async function api(method, url, data) {
    const options = { method: method, credentials: "same-origin", headers: {} };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data || {});
    }
    const response = await fetch(url, options);
    let json = {};
    try { json = await response.json(); } catch (e) { json = {}; }
    if (response.status === 401) {
      location.href = loginUrl();
      throw new Error("Cần đăng nhập / Login required");
    }
    if (!response.ok) {
      const error = new Error(json.error || ("HTTP " + response.status));
      error.body = json;
      error.status = response.status;
      throw error;
    }
    return json;
  }

  // --- websocket ---------------------------------------------------------------------
  function connect(onMessage, onOpen) {
    let delay = 1000;
    const live = $("live");
    function setLive(ok) {
      if (!live) return;
      live.textContent = ok ? "● trực tiếp / live" : "○ mất kết nối / offline";
      live.className = "live " + (ok ? "on" : "off");
    }
    function open() {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") +
                               location.host + "/ws");
      ws.onopen = function () { delay = 1000; setLive(true); if (onOpen) onOpen(ws); };
      ws.onmessage = function (event) {
        let data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        onMessage(data, ws);
      };
      ws.onclose = function (event) {
        setLive(false);
        if (event.code === 4401) { location.href = loginUrl(); return; }
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    setLive(false);
    open();
  }

  // --- inbox -------------------------------------------------------------------------
  function inboxPage() {
    let tickets = [];
    const tbody = $("tickets");

    function render() {
      tbody.replaceChildren();
      for (const t of tickets) {
        const waiting = el("td", "waiting", formatDuration(waitingSeconds(t)));
        waiting.dataset.created = t.created_at;
        tbody.appendChild(ticketRow(t, waiting));
      }
      $("empty").hidden = tickets.length > 0;
    }

    function tick() {
      const rows = tbody.querySelectorAll("tr");
      rows.forEach(function (row, i) {
        if (tickets[i]) row.querySelector(".waiting").textContent =
          formatDuration(waitingSeconds(tickets[i]));
      });
    }

    api("GET", "/api/tickets").then(function (data) {
      syncClock(data.now); tickets = data.tickets; render();
    }).catch(function () {});
    connect(function (message) {
      if (message.type === "inbox") {
        syncClock(message.now); tickets = message.tickets; render();
      }
    });
    setInterval(tick, 1000);
  }

  // --- ticket ------------------------------------------------------------------------
  function ticketPage() {
    const id = body.dataset.ticket;
    const works = body.dataset.works === "1";
    const me = ($("me") && $("me").dataset.username) || "";
    const list = $("transcript");
    let ticket = null;
    let customer = null;
    let lines = [];

    function showError(message) {
      const box = $("error");
      box.textContent = message || "";
      box.hidden = !message;
    }

    function renderTicket(t) {
      ticket = t;
      if (!t) {
        setText("t-status", "Không có yêu cầu này / No such ticket");
        return;
      }
      setText("t-status", statusLabel(t.status));
      setText("t-waiting", formatDuration(waitingSeconds(t)));
      setText("t-channel", channelLabel(t.channel));
      setText("t-reason", reasonLabel(t.reason));
      setText("t-customer", customerLabel(customer));
      setText("t-contact", t.contact);
      setText("t-language", t.language);
      setText("t-assignee", t.assigned_to === me && me ? me + " (bạn / you)" : t.assigned_to);
      const resolved = t.status === "resolved";
      $("assign").disabled = !works || resolved ||
        (t.assigned_to === me && !$("assign").dataset.retry);
      $("resolve").disabled = !works || (resolved && !$("resolve").dataset.retry);
      $("reply").disabled = !works || resolved;
      $("send").disabled = !works || resolved;
      $("transfer").disabled = !works || resolved || !$("transfer-to").options.length;
      $("handback").disabled = !works || resolved || !t.assigned_to;
    }

    function lineNode(line) {
      const item = el("li", "line role-" + (line.role || "bot"));
      const meta = el("div", "meta");
      meta.appendChild(el("span", "time", formatTime(line.time)));
      let who = line.role === "customer" ? "Khách / Customer"
        : line.role === "agent" ? "Nhân viên / Agent" + (line.agent ? " · " + line.agent : "")
        : "Bot";
      meta.appendChild(el("span", "who", who));
      if (line.role === "customer" && line.intent) {
        const confidence = typeof line.confidence === "number"
          ? " (" + line.confidence.toFixed(2) + ")" : "";
        meta.appendChild(el("span", "intent", "ý định / intent: " + line.intent + confidence));
      }
      item.appendChild(meta);
      item.appendChild(el("div", "text", line.text));
      if (line.faq) {
        const f = line.faq;
        const parts = ["FAQ"];
        if (f.kind) parts.push(f.kind);
        if (f.entry_id) parts.push(f.entry_id);
        if (typeof f.score === "number") parts.push("điểm / score " + f.score.toFixed(2));
        if (Array.isArray(f.suggestions) && f.suggestions.length)
          parts.push("gợi ý / suggestions: " + f.suggestions.join(", "));
        item.appendChild(el("div", "faq", parts.join(" · ")));
      }
      return item;
    }

    function renderLines(start, fresh, source) {
      const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
      lines = lines.slice(0, start).concat(fresh);
      while (list.children.length > start) list.removeChild(list.lastChild);
      for (const line of fresh) list.appendChild(lineNode(line));
      $("snapshot").hidden = source !== "snapshot";
      if (nearBottom && fresh.length) window.scrollTo(0, document.body.scrollHeight);
      refreshAssist();
    }

    // Agent assist (bot/console/assist.py): the FAQ entries matching the customer's latest
    // message, asked again whenever a new customer message arrives; "Use" puts the answer
    // into the composer to edit, it never sends.
    let assistKey = null;
    function refreshAssist() {
      if (!works) { $("assist-box").hidden = true; return; }
      const customerLines = lines.filter(function (l) { return l.role === "customer"; });
      const last = customerLines[customerLines.length - 1];
      const key = last ? customerLines.length + "|" + last.time + "|" + last.text : "";
      if (key === assistKey) return;
      assistKey = key;
      api("GET", "/api/tickets/" + id + "/suggestions").then(renderAssist).catch(function (e) {
        $("assist-status").textContent = e.message;
        $("assist").replaceChildren();
      });
    }
    function renderAssist(data) {
      const box = $("assist");
      box.replaceChildren();
      const status = $("assist-status");
      if (!data.message) {
        status.textContent = "Chưa có tin nhắn của khách để tìm / No customer message to search for";
        return;
      }
      if (!data.suggestions.length) {
        status.textContent = "Không có mục FAQ nào đủ khớp với “" + data.message.text +
          "” (điểm cao nhất / best score " + data.best.toFixed(2) + ") / No good FAQ match";
        return;
      }
      status.textContent = "Cho tin nhắn / For the message: “" + data.message.text + "”";
      for (const s of data.suggestions) {
        const item = el("li", "assist-item");
        item.dataset.entry = s.entry_id;
        const head = el("div");
        head.appendChild(el("span", "question", s.question));
        head.appendChild(el("span", "score", "điểm / score " + s.score.toFixed(2) +
          " · " + s.entry_id));
        item.appendChild(head);
        item.appendChild(el("div", "answer", s.answer));
        const use = el("button", "assist-use", "Dùng câu trả lời / Use this answer");
        use.type = "button";
        use.disabled = $("reply").disabled;
        use.addEventListener("click", function () {
          $("reply").value = s.answer;
          $("canned-picker").hidden = true;
          $("reply").focus();
        });
        item.appendChild(use);
        box.appendChild(item);
      }
    }

    // What the customer's channel refused (e.g. Messenger/Zalo window closed): shown on
    // top, so the agent reaches the customer another way.
    function renderUndelivered(messages) {
      const box = $("undelivered");
      box.replaceChildren();
      for (const m of messages || []) {
        const item = el("li", "line undelivered-item");
        const meta = el("div", "meta");
        meta.appendChild(el("span", "time", formatTime(m.created_at)));
        meta.appendChild(el("span", "who", m.window_closed ? WINDOW_CLOSED : NOT_DELIVERED));
        meta.appendChild(el("span", "channel", channelLabel(m.channel)));
        item.appendChild(meta);
        item.appendChild(el("div", "text", m.text));
        if (!m.window_closed && m.error) item.appendChild(el("div", "faq", m.error));
        box.appendChild(item);
      }
      $("undelivered-box").hidden = box.children.length === 0;
    }

    // The same customer's conversations on their other channel identities.
    function renderLinked(conversations) {
      const box = $("linked");
      box.replaceChildren();
      for (const c of conversations || []) {
        const part = el("details", "linked-conversation");
        part.open = true;
        const title = channelLabel(c.channel) + " · " + c.conversation_id +
          (c.source === "snapshot" ? " · bản ghi lúc chuyển / saved snapshot" : "");
        part.appendChild(el("summary", null, title));
        const lines = el("ol", "transcript");
        for (const line of c.transcript || []) lines.appendChild(lineNode(line));
        if (!lines.children.length) lines.appendChild(el("li", "muted", "Trống / Empty"));
        part.appendChild(lines);
        box.appendChild(part);
      }
      $("linked-box").hidden = box.children.length === 0;
    }

    async function load() {
      try {
        const data = await api("GET", "/api/tickets/" + id);
        syncClock(data.now);
        customer = data.customer;
        renderTicket(data.ticket);
        renderUndelivered(data.undelivered);
        renderLinked(data.linked);
        renderLines(0, data.transcript, data.source);
      } catch (e) {
        showError(e.message);
      }
    }

    async function act(button, url, data) {
      showError("");
      button.disabled = true;
      try {
        const result = await api("POST", url, data);
        if (result.ticket) renderTicket(result.ticket);
        return result;
      } catch (e) {
        showError(e.message);
        if (e.body && e.body.ticket) renderTicket(e.body.ticket);
        throw e;
      } finally {
        if (ticket) renderTicket(ticket);
      }
    }

    $("assign").addEventListener("click", function () {
      act($("assign"), "/api/tickets/" + id + "/assign", {}).then(function () {
        delete $("assign").dataset.retry;
        if (ticket) renderTicket(ticket);
      }).catch(function () {
        $("assign").dataset.retry = "1";  // taken but the bot was not paused: allow a retry
        if (ticket) renderTicket(ticket);
      });
    });
    $("resolve").addEventListener("click", function () {
      act($("resolve"), "/api/tickets/" + id + "/resolve", {}).then(function () {
        delete $("resolve").dataset.retry;
        if (ticket) renderTicket(ticket);
      }).catch(function () {
        $("resolve").dataset.retry = "1";  // the bot was not resumed: allow a retry
        if (ticket) renderTicket(ticket);
      });
    });

    async function send() {
      const box = $("reply");
      const text = box.value.trim();
      if (!text) return;
      try {
        await act($("send"), "/api/tickets/" + id + "/reply", { text: text });
        box.value = "";
        load();
      } catch (e) { /* shown; the text stays in the box to retry */ }
    }
    // Canned replies (bot/console/canned.py): "/" at the start of the box lists them,
    // filtered by what follows; picking one puts its text (filled for this ticket) into
    // the box to edit before sending.
    let canned = null;
    const picker = $("canned-picker");
    function pickCanned(reply) {
      $("reply").value = reply.text;
      picker.hidden = true;
      $("reply").focus();
    }
    async function showPicker() {
      const value = $("reply").value;
      if (!value.startsWith("/")) { picker.hidden = true; return; }
      if (canned === null) {
        try { canned = (await api("GET", "/api/tickets/" + id + "/canned")).replies; }
        catch (e) { showError(e.message); canned = []; }
      }
      const wanted = value.slice(1).toLowerCase();
      const found = canned.filter(function (r) {
        return r.shortcut.includes(wanted) || r.title.toLowerCase().includes(wanted);
      });
      picker.replaceChildren();
      for (const reply of found) {
        const item = el("li", "canned-option");
        item.setAttribute("role", "option");
        item.dataset.shortcut = reply.shortcut;
        item.appendChild(el("b", null, "/" + reply.shortcut));
        item.appendChild(el("span", null, " " + (reply.title || reply.text)));
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          pickCanned(reply);
        });
        picker.appendChild(item);
      }
      if (!found.length) picker.appendChild(el("li", "muted",
        "Không có câu mẫu / No canned reply"));
      picker.hidden = false;
      picker.dataset.first = found.length ? found[0].shortcut : "";
    }
    $("reply").addEventListener("input", showPicker);
    $("reply").addEventListener("keydown", function (event) {
      if (picker.hidden) return;
      if (event.key === "Escape") { picker.hidden = true; return; }
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && picker.dataset.first) {
        event.preventDefault();
        pickCanned(canned.find(function (r) { return r.shortcut === picker.dataset.first; }));
      }
    });

    $("composer").addEventListener("submit", function (event) {
      event.preventDefault();
      send();
    });
    $("reply").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        send();
      }
    });

    // Transfer to a colleague (bot/console/transfer.py).
    async function loadAgents() {
      const select = $("transfer-to");
      try {
        const agents = (await api("GET", "/api/agents")).agents;
        select.replaceChildren();
        for (const a of agents) {
          if (a.username === me) continue;
          const option = el("option", null, (a.display_name || a.username) + " (" +
            a.username + ")" + (a.online ? " ●" : a.available ? "" : " · vắng / away"));
          option.value = a.username;
          select.appendChild(option);
        }
      } catch (e) { showError(e.message); }
      $("transfer").disabled = !works || !select.options.length;
    }
    $("transfer").addEventListener("click", function () {
      const to = $("transfer-to").value;
      if (!to) return;
      act($("transfer"), "/api/tickets/" + id + "/transfer", { to: to })
        .then(function () { loadNotes(); }).catch(function () {});
    });
    loadAgents();
    $("handback").addEventListener("click", function () {
      act($("handback"), "/api/tickets/" + id + "/handback", {})
        .then(function () { loadNotes(); }).catch(function () {});
    });

    // Internal notes (bot/console/notes.py): never sent to the customer.
    function renderNotes(notes) {
      const box = $("notes");
      box.replaceChildren();
      for (const n of notes || []) {
        const item = el("li", "line note");
        const meta = el("div", "meta");
        meta.appendChild(el("span", "time", formatTime(n.created_at)));
        meta.appendChild(el("span", "who", n.author_name || n.author));
        item.appendChild(meta);
        item.appendChild(el("div", "text", n.text));
        box.appendChild(item);
      }
    }
    async function loadNotes() {
      try { renderNotes((await api("GET", "/api/tickets/" + id + "/notes")).notes); }
      catch (e) { showError(e.message); }
    }
    $("note-add").disabled = !works;
    $("note-form").addEventListener("submit", async function (event) {
      event.preventDefault();
      const text = $("note").value.trim();
      if (!text) return;
      showError("");
      try {
        await api("POST", "/api/tickets/" + id + "/notes", { text: text });
        $("note").value = "";
        loadNotes();
      } catch (e) { showError(e.message); }
    });
    loadNotes();

    load();
    connect(function (message) {
      if (message.type === "ticket") {
        if (message.now) syncClock(message.now);
        renderTicket(message.ticket);
      } else if (message.type === "transcript" && String(message.ticket) === String(id)) {
        renderLines(message.start, message.lines, message.source);
      } else if (message.type === "undelivered" && String(message.ticket) === String(id)) {
        renderUndelivered(message.messages);
      }
    }, function (ws) {
      ws.send(JSON.stringify({ type: "subscribe", ticket: Number(id) }));
    });
    setInterval(function () {
      if (ticket) setText("t-waiting", formatDuration(waitingSeconds(ticket)));
    }, 1000);
  }

  // --- all tickets: filters and search (bot/console/search.py) -------------------------
  function searchPage() {
    const form = $("search-form");
    const tbody = $("results");

    function showError(message) {
      $("error").textContent = message || "";
      $("error").hidden = !message;
    }

    function render(data) {
      tbody.replaceChildren();
      for (const t of data.tickets) {
        tbody.appendChild(ticketRow(t, el("td", "time", formatTime(t.created_at))));
      }
      $("search-total").textContent = data.total + " yêu cầu / tickets";
    }

    let latest = 0;  // only the newest search's answer is shown (an older one may come later)
    async function run() {
      const mine = ++latest;
      const params = new URLSearchParams();
      for (const [key, value] of new FormData(form).entries()) {
        if (String(value).trim()) params.set(key, String(value).trim());
      }
      history.replaceState(null, "", "/tickets" + (params.toString() ? "?" + params : ""));
      showError("");
      try {
        const data = await api("GET", "/api/tickets/search?" + params);
        if (mine === latest) render(data);
      } catch (e) { if (mine === latest) showError(e.message); }
    }
    form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
    run();
  }

  // The agent's available/away toggle (bot/console/availability.py), on every page.
  function availabilityToggle() {
    const button = $("availability");
    if (!button) return;
    function show(state) {
      button.dataset.available = state.available ? "1" : "0";
      button.textContent = state.available ? "● Sẵn sàng / Available" : "○ Vắng / Away";
      button.className = "availability " + (state.available ? "on" : "off");
      button.hidden = false;
    }
    api("GET", "/api/availability").then(show).catch(function () {});
    button.addEventListener("click", function () {
      api("POST", "/api/availability", { available: button.dataset.available !== "1" })
        .then(show).catch(function () {});
    });
  }
  availabilityToggle();
  // What the other page scripts (faq.js, unanswered.js) share with this one.
  window.hotroConsole = { api: api, el: el, formatTime: formatTime };

  if (page === "inbox") inboxPage();
  else if (page === "ticket") ticketPage();
  else if (page === "search") searchPage();
})();
