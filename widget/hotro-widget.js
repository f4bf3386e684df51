/* hotro website chat widget: one <script> tag, no framework, no build.

   <script src="https://BOT/webhooks/widget/hotro-widget.js" defer
           data-server-url="https://BOT"   (default: where this script came from)
           data-lang="vi"                  (vi | en: the widget's own labels)
           data-color="#0b6e4f"            (header, buttons and the customer's bubbles)
           data-title="Hotro Shop"
           data-metadata-key="customData"  (the channel's metadata_key in credentials.yml)
           ></script>

   Talks to the Rasa server's socket.io channel (bot/channels/widget.py) over a plain
   WebSocket with the Engine.IO 4 / Socket.IO 5 wire format, so no client library is
   loaded. It speaks Rasa's socket.io protocol (user_uttered / bot_uttered); hotro's
   extras about a bot message (its time, the agent's name) come in a `hotro_meta` event
   just before that message's bot_uttered. The session id lives in localStorage: reloads
   and other tabs continue the same conversation, whose history comes from
   /webhooks/widget/history. A message is kept in
   an outbox until the server acknowledges it and is re-sent after a reconnect (the server
   drops a repeat by its client_id). Message text is only ever set with textContent. */
(function () {
  "use strict";
  if (window.HotroWidget) return;
  var script = document.currentScript;
  if (!script) return;

  var data = script.dataset;
  var SERVER = (data.serverUrl || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var LANG = data.lang === "en" ? "en" : "vi";
  var COLOR = /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#0b6e4f";
  var KEY = "hotro:" + SERVER + ":";
  // Where the server reads a message's metadata (Rasa's socket.io `metadata_key`).
  var METADATA_KEY = data.metadataKey || "customData";

  var TEXT = {
    vi: {
      title: "Hỗ trợ khách hàng", open: "Mở cửa sổ chat hỗ trợ", close: "Đóng cửa sổ chat",
      placeholder: "Nhập tin nhắn…", send: "Gửi", input: "Tin nhắn của bạn",
      human: "Gặp nhân viên / Talk to a person", typing: "Đang trả lời…",
      offline: "Mất kết nối, đang kết nối lại… Tin nhắn của bạn sẽ được gửi khi có mạng.",
      bot: "Trợ lý ảo", you: "Bạn", agent: " (nhân viên)", pending: "đang gửi…",
      failed: "chưa gửi được", retry: "Gửi lại", log: "Các tin nhắn", choices: "Lựa chọn nhanh",
      rating: "Đánh giá từ 1 đến 5 sao", stars: ["1 sao", "2 sao", "3 sao", "4 sao", "5 sao"],
      empty: "Chào bạn! Bạn cần hỗ trợ gì?"
    },
    en: {
      title: "Customer support", open: "Open the support chat", close: "Close the chat",
      placeholder: "Type a message…", send: "Send", input: "Your message",
      human: "Talk to a person / Gặp nhân viên", typing: "Typing…",
      offline: "Connection lost, reconnecting… Your messages will be sent once back online.",
      bot: "Assistant", you: "You", agent: " (agent)", pending: "sending…",
      failed: "not sent", retry: "Send again", log: "Messages", choices: "Quick replies",
      rating: "Rate from 1 to 5 stars", stars: ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
      empty: "Hello! How can we help you?"
    }
  }[LANG];
  var TITLE = data.title || TEXT.title;
  var HANDOFF_PAYLOAD = "/request_human";

  // --- storage (localStorage may be blocked: fall back to memory) ----------------------
  var memory = {};
  function load(name, fallback) {
    try {
      var raw = localStorage.getItem(KEY + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) { return name in memory ? memory[name] : fallback; }
  }
  function save(name, value) {
    memory[name] = value;
    try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* memory */ }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // --- a minimal Socket.IO 5 client over one WebSocket ---------------------------------
  function Socket(server, handlers) {
    this.url = server.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
    this.handlers = handlers;
    this.acks = {};
    this.nextAck = 1;
    this.connected = false;
    this.retry = 0;
    this.ws = null;
  }
  Socket.prototype.open = function () {
    var self = this;
    clearTimeout(this.retryTimer);
    if (this.ws) return;
    var ws;
    try { ws = new WebSocket(this.url); } catch (e) { return this._lost(); }
    this.ws = ws;
    ws.onmessage = function (event) { self._packet(String(event.data)); };
    ws.onclose = function () { if (self.ws === ws) self._lost(); };
    ws.onerror = function () { ws.close(); };
  };
  Socket.prototype._lost = function () {
    var wasConnected = this.connected;
    this.ws = null;
    this.connected = false;
    this.acks = {};  // unacked messages stay in the widget's outbox and are re-sent
    clearTimeout(this.heartbeat);
    if (wasConnected) this.handlers.disconnect();
    var delay = Math.min(30000, 1000 * Math.pow(2, this.retry++)) * (0.5 + Math.random() / 2);
    var self = this;
    this.retryTimer = setTimeout(function () { self.open(); }, delay);
  };
  Socket.prototype.drop = function () {  // a dead connection: close it, reconnect later
    if (this.ws) this.ws.close();
  };
  Socket.prototype.reconnectNow = function () {  // the network is back
    this.retry = 0;
    if (!this.ws) this.open();
  };
  Socket.prototype._alive = function () {
    var self = this;
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(function () { self.drop(); }, this.pingWindow || 60000);
  };
  Socket.prototype._packet = function (raw) {
    var type = raw.charAt(0), body = raw.slice(1);
    if (type === "0") {             // Engine.IO open: handshake, then join the namespace
      var info = JSON.parse(body);
      this.pingWindow = (info.pingInterval || 25000) + (info.pingTimeout || 20000);
      this._alive();
      this.ws.send("40");
    } else if (type === "2") {      // ping -> pong
      this._alive();
      this.ws.send("3");
    } else if (type === "4") {
      this._message(body);
    } else if (type === "1") {
      this.drop();
    }
  };
  Socket.prototype._message = function (raw) {
    var type = raw.charAt(0), rest = raw.slice(1), id = "";
    while (/[0-9]/.test(rest.charAt(0))) { id += rest.charAt(0); rest = rest.slice(1); }
    if (type === "0") {             // namespace joined
      this.connected = true;
      this.retry = 0;
      this.handlers.connect();
    } else if (type === "2") {      // event
      var args = JSON.parse(rest);
      var handler = this.handlers[args[0]];
      if (handler) handler(args[1]);
    } else if (type === "3") {      // ack of one of our events
      var ack = this.acks[id];
      delete this.acks[id];
      if (ack) ack(JSON.parse(rest)[0]);
    } else if (type === "4") {      // the server refused the namespace
      this.drop();
    }
  };
  Socket.prototype.emit = function (name, value, ack) {
    if (!this.connected) return false;
    var id = "";
    if (ack) { id = String(this.nextAck++); this.acks[id] = ack; }
    this.ws.send("42" + id + JSON.stringify([name, value]));
    return true;
  };

  // --- the widget's DOM (in a shadow root: the host page's CSS cannot reach it) ---------
  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;",
    "padding:14px 20px;background:var(--c);color:#fff;font-size:16px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:370px;height:560px;max-height:calc(100vh - 40px);",
    "display:flex;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3)}",
    ".panel[hidden],.launcher[hidden],.status[hidden],.typing[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--c);color:#fff}",
    "header h2{flex:1;margin:0;font-size:17px}",
    "header button{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1;padding:4px 8px}",
    ".human{margin:8px 12px 0;padding:8px;border:1px solid var(--c);border-radius:8px;background:#fff;color:var(--c);font-size:14px;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f6f7f9;display:flex;flex-direction:column;gap:8px}",
    ".msg{max-width:82%;padding:8px 12px;border-radius:14px;font-size:15px;line-height:1.4;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".msg .who{display:block;font-size:12px;opacity:.75;margin-bottom:2px}",
    ".msg .note{display:block;font-size:11px;opacity:.8;margin-top:2px}",
    ".msg .retry{margin-top:4px;border:1px solid #fff;border-radius:12px;background:transparent;color:#fff;font-size:12px;padding:2px 10px;cursor:pointer}",
    ".customer{align-self:flex-end;background:var(--c);color:#fff;border-bottom-right-radius:4px}",
    ".bot,.agent{align-self:flex-start;background:#fff;color:#1d1d1f;border:1px solid #e1e4e8;border-bottom-left-radius:4px}",
    ".agent{border-color:var(--c)}",
    ".notice{align-self:center;font-size:13px;color:#8a1f11;background:#fdecea;border-radius:8px;padding:6px 10px}",
    ".pending{opacity:.7}",
    ".typing{padding:0 14px 6px;font-size:13px;color:#555;background:#f6f7f9}",
    ".status{padding:6px 12px;font-size:13px;background:#fff4e5;color:#663c00}",
    ".choices{display:flex;flex-wrap:wrap;gap:6px;padding:8px 12px;background:#f6f7f9}",
    ".choices:empty{display:none}",
    ".choices button{border:1px solid var(--c);color:var(--c);background:#fff;border-radius:16px;padding:6px 12px;font-size:14px;cursor:pointer}",
    ".stars button{font-size:26px;border:0;background:transparent;color:#c2c2c2;padding:2px 4px;border-radius:4px}",
    ".stars button.lit{color:#f5a623}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e1e4e8;background:#fff}",
    "textarea{flex:1;resize:none;border:1px solid #c9ced6;border-radius:8px;padding:8px;font-size:15px;height:42px}",
    "form button{border:0;border-radius:8px;padding:0 16px;background:var(--c);color:#fff;font-size:15px;cursor:pointer}",
    "button:focus-visible,textarea:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}",
    ".launcher{right:12px;bottom:12px}}"
  ].join("");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var host = el("div", { id: "hotro-widget" });
  var root = host.attachShadow({ mode: "open" });
  host.style.setProperty("--c", COLOR);
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];  // not subject to the host page's style-src CSP
  } catch (e) {
    root.appendChild(el("style", {}, CSS));
  }

  var launcher = el("button", { "class": "launcher", type: "button", "aria-haspopup": "dialog",
                                "aria-controls": "hotro-panel", "aria-expanded": "false",
                                "aria-label": TEXT.open }, "💬 " + TITLE);
  var panel = el("section", { "class": "panel", id: "hotro-panel", role: "dialog",
                              "aria-modal": "false", "aria-labelledby": "hotro-title" });
  panel.hidden = true;
  var header = el("header");
  header.appendChild(el("h2", { id: "hotro-title" }, TITLE));
  var closeButton = el("button", { type: "button", "class": "close", "aria-label": TEXT.close }, "×");
  header.appendChild(closeButton);
  var humanButton = el("button", { type: "button", "class": "human" }, TEXT.human);
  var status = el("div", { "class": "status", role: "status" }, TEXT.offline);
  status.hidden = true;
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": TEXT.log,
                        tabindex: "0" });
  var typing = el("div", { "class": "typing", role: "status" }, TEXT.typing);
  typing.hidden = true;
  var choices = el("div", { "class": "choices", role: "group", "aria-label": TEXT.choices });
  var form = el("form");
  var inputLabel = el("label", { "for": "hotro-input", "class": "sr" }, TEXT.input);
  var input = el("textarea", { id: "hotro-input", rows: "1", maxlength: "4000",
                               placeholder: TEXT.placeholder, autocomplete: "off" });
  var sendButton = el("button", { type: "submit", "class": "send" }, TEXT.send);
  [inputLabel, input, sendButton].forEach(function (n) { form.appendChild(n); });
  [header, humanButton, status, log, typing, choices, form].forEach(function (n) {
    panel.appendChild(n);
  });
  root.appendChild(launcher);
  root.appendChild(panel);

  // --- conversation state ---------------------------------------------------------------
  var sessionId = load("session", null);
  // The outbox, [{client_id, message, title, time}] not yet acked, is shared by the tabs:
  // always read it from storage before changing it.
  function outbox() { return load("outbox", []); }
  function keepOutbox(keep) { save("outbox", outbox().filter(keep)); }
  var messages = [];                     // what the log shows
  var liveSince = null;                  // live messages that arrive while history loads
  var typingTimer = null;

  function bubble(m) {
    var role = m.role === "customer" || m.role === "agent" || m.role === "notice" ? m.role : "bot";
    var node = el("div", { "class": "msg " + role + (m.pending ? " pending" : "") });
    // Who speaks: shown for an agent, read out by screen readers for everyone.
    var who = { customer: TEXT.you, bot: TEXT.bot, agent: (m.agent_name || "") + TEXT.agent }[role];
    if (who) node.appendChild(el("span", { "class": role === "agent" ? "who" : "who sr" }, who + ": "));
    node.appendChild(el("span", { "class": "text" }, m.text));
    if (m.pending) node.appendChild(el("span", { "class": "note" }, m.failed ? TEXT.failed : TEXT.pending));
    if (m.failed && m.message) {  // refused (too fast, or the bot could not take it): one tap
      var again = el("button", { type: "button", "class": "retry" }, TEXT.retry);
      again.addEventListener("click", function () { retry(m); });
      node.appendChild(again);
    }
    return node;
  }

  function renderChoices() {
    choices.replaceChildren();
    var last = messages[messages.length - 1];
    if (!last || last.role === "customer" || !last.buttons || !last.buttons.length) return;
    var rating = last.buttons.every(function (b) { return /^\/rate\b/.test(b.payload); });
    if (rating) {
      choices.setAttribute("aria-label", TEXT.rating);
      choices.className = "choices stars";
      last.buttons.forEach(function (b, i) {
        var star = el("button", { type: "button", "aria-label": TEXT.stars[i] || b.title }, "★");
        star.addEventListener("mouseenter", function () { lightStars(i); });
        star.addEventListener("focus", function () { lightStars(i); });
        star.addEventListener("click", function () { send(b.payload, b.title); });
        choices.appendChild(star);
      });
    } else {
      choices.setAttribute("aria-label", TEXT.choices);
      choices.className = "choices";
      last.buttons.forEach(function (b) {
        var button = el("button", { type: "button" }, b.title);
        button.addEventListener("click", function () { send(b.payload, b.title); });
        choices.appendChild(button);
      });
    }
  }
  choices.addEventListener("mouseleave", function () { lightStars(-1); });
  function lightStars(upTo) {
    Array.prototype.forEach.call(choices.children, function (star, i) {
      star.classList.toggle("lit", i <= upTo);
    });
  }

  function renderAll() {
    log.replaceChildren();
    if (!messages.length) log.appendChild(bubble({ role: "bot", text: TEXT.empty }));
    messages.forEach(function (m) { log.appendChild(m.node = bubble(m)); });
    renderChoices();
    log.scrollTop = log.scrollHeight;
  }

  function add(m) {
    if (!messages.length) log.replaceChildren();  // the greeting goes
    messages.push(m);
    log.appendChild(m.node = bubble(m));
    renderChoices();
    log.scrollTop = log.scrollHeight;
  }

  function refresh(m) {
    var node = bubble(m);
    if (m.node && m.node.parentNode) m.node.parentNode.replaceChild(node, m.node);
    m.node = node;
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, 30000);
  }

  // --- sending --------------------------------------------------------------------------
  function deliver(item) {
    var metadata = { client_id: item.client_id };
    if (item.title) metadata.title = item.title;
    var body = { session_id: sessionId, message: item.message };
    body[METADATA_KEY] = metadata;
    return socket.emit("user_uttered", body, function (ack) {
      keepOutbox(function (o) { return o.client_id !== item.client_id; });
      var shown = messages.filter(function (m) { return m.client_id === item.client_id; })[0];
      if (shown) {
        shown.pending = !(ack && ack.ok);
        shown.failed = shown.pending;
        refresh(shown);
      }
      showTyping(false);
    });
  }

  function send(message, title) {
    message = String(message || "").trim();
    if (!message) return;
    var item = { client_id: randomId(), message: message, title: title || null,
                 time: Date.now() / 1000 };
    save("outbox", outbox().concat([item]));
    add({ role: "customer", text: title || message, client_id: item.client_id,
          pending: true, time: item.time, message: message, title: title || null });
    choices.replaceChildren();
    if (sessionId && deliver(item)) showTyping(true);
  }

  // A refused message sent again as a new one (a new client_id: the server may have
  // counted the refused id as seen), in its place at the end of the log.
  function retry(m) {
    messages = messages.filter(function (x) { return x !== m; });
    if (m.node && m.node.parentNode) m.node.parentNode.removeChild(m.node);
    send(m.message, m.title);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  humanButton.addEventListener("click", function () { send(HANDOFF_PAYLOAD, TEXT.human); });

  // --- history and live messages --------------------------------------------------------
  function loadHistory() {
    var asked = sessionId;
    liveSince = [];
    return fetch(SERVER + "/webhooks/widget/history?session_id=" + encodeURIComponent(asked),
                 { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
      .then(function (body) {
        if (asked !== sessionId) return;
        var history = Array.isArray(body.messages) ? body.messages : [];
        var newest = history.reduce(function (t, m) { return Math.max(t, m.time || 0); }, 0);
        var known = {};
        history.forEach(function (m) { if (m.client_id) known[m.client_id] = true; });
        var late = (liveSince || []).filter(function (m) { return (m.time || Infinity) > newest; });
        var waiting = outbox().filter(function (o) { return !known[o.client_id]; }).map(function (o) {
          return { role: "customer", text: o.title || o.message, client_id: o.client_id,
                   pending: true, time: o.time };
        });
        // Acked in another tab or before a reload: nothing to re-send.
        keepOutbox(function (o) { return !known[o.client_id]; });
        messages = history.concat(late, waiting);
        liveSince = null;
        renderAll();
      })
      .catch(function () { liveSince = null; });
  }

  // hotro_meta describes the bot_uttered that follows it on this socket.
  var nextMeta = null;
  function describeNext(meta) { nextMeta = meta && typeof meta === "object" ? meta : null; }

  function receive(payload) {
    var meta = nextMeta || {};
    nextMeta = null;
    if (!payload || typeof payload.text !== "string") return;
    var agentName = typeof meta.agent_name === "string" ? meta.agent_name : "";
    var m = { role: agentName ? "agent" : "bot", text: payload.text,
              agent_name: agentName, time: typeof meta.time === "number" ? meta.time : null,
              buttons: (payload.quick_replies || payload.buttons || []).map(function (b) {
                return { title: String(b.title), payload: String(b.payload) };
              }) };
    if (liveSince) liveSince.push(m);
    add(m);
    showTyping(false);
  }

  var socket = new Socket(SERVER, {
    connect: function () {
      status.hidden = true;
      socket.emit("session_request", { session_id: sessionId });
    },
    disconnect: function () { status.hidden = false; showTyping(false); nextMeta = null; },
    session_confirm: function (id) {
      if (typeof id !== "string") return;
      if (id !== sessionId) { sessionId = id; save("session", id); }
      loadHistory().then(function () {
        outbox().forEach(deliver);  // what the network dropped goes out now, once
      });
    },
    hotro_meta: describeNext,
    bot_uttered: receive,
    hotro_error: function (error) {
      if (error && typeof error.text === "string") add({ role: "notice", text: error.text });
    }
  });

  // --- opening and closing --------------------------------------------------------------
  function setOpen(open) {
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    try { sessionStorage.setItem(KEY + "open", open ? "1" : ""); } catch (e) { /* ignore */ }
    if (open) { log.scrollTop = log.scrollHeight; input.focus(); } else { launcher.focus(); }
  }
  launcher.addEventListener("click", function () { setOpen(true); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setOpen(false);
  });
  window.addEventListener("online", function () { socket.reconnectNow(); });
  window.addEventListener("offline", function () { socket.drop(); });
  document.addEventListener("visibilitychange", function () {
    // Another tab may have written meanwhile: show the whole conversation again.
    if (!document.hidden && socket.connected && sessionId) loadHistory();
  });

  function start() {
    document.body.appendChild(host);
    renderAll();
    var wasOpen = false;
    try { wasOpen = sessionStorage.getItem(KEY + "open") === "1"; } catch (e) { /* ignore */ }
    if (wasOpen) setOpen(true);
    socket.open();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);

  window.HotroWidget = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    send: function (text) { send(text); }
  };
})();
