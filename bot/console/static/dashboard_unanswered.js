// hotro console: the dashboard's top unanswered groups (/api/dashboard/unanswered, for
// the page's filters), each with a link to the editors' page. textContent only.
"use strict";
(function () {
  const body = document.body;
  const list = document.getElementById("unanswered-top");
  if (body.dataset.page !== "dashboard" || !body.dataset.from || !list) return;
  const query = new URLSearchParams({ from: body.dataset.from, to: body.dataset.to });
  if (body.dataset.channel) query.set("channel", body.dataset.channel);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  fetch("/api/dashboard/unanswered?" + query.toString(), { credentials: "same-origin" })
    .then((response) => response.json().then((data) => ({ ok: response.ok, data: data })))
    .then(function (result) {
      const items = list.querySelector("ol");
      const note = list.querySelector(".muted");
      if (!result.ok) { note.textContent = result.data.error || "?"; return; }
      const data = result.data;
      note.textContent = data.messages + " tin nhắn chưa trả lời, " + data.total_groups + " nhóm / " +
        data.messages + " unanswered messages in " + data.total_groups + " groups";
      data.groups.forEach(function (group) {
        const item = el("li", "unanswered-group");
        item.appendChild(el("span", "text", group.example));
        item.appendChild(el("span", "muted", " · " + group.size + " · " +
          Object.entries(group.channels).map(([c, n]) => c + " " + n).join(", ")));
        items.appendChild(item);
      });
      const link = list.querySelector("a");
      link.href = data.link;
      link.hidden = false;
      body.dataset.unansweredTop = String(data.groups.length);
    })
    .catch(function (error) { list.querySelector(".muted").textContent = String(error); });
})();
