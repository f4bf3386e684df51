// hotro console: unanswered questions (bot/console/unanswered.py). Groups of failed
// messages from /api/unanswered, turned into FAQ phrasings or a new entry (saved through
// the FAQ store's API with the version they start from), or ignored; the phrasings that
// picked suggestions propose, accepted in bulk. Data goes into the page with textContent.
// console.js's api() and el() are shared through window.hotroConsole.
"use strict";
(function () {
  const body = document.body;
  const shared = window.hotroConsole;
  if (body.dataset.page !== "unanswered" || !body.dataset.from || !shared) return;
  const api = shared.api, el = shared.el;

  const REASONS = {
    not_understood: "Bot không hiểu / Not understood",
    dont_know: "FAQ không biết / FAQ didn't know",
    not_picked: "Gợi ý không được chọn / Suggestions not picked",
    handoff: "Chuyển nhân viên / Handed over",
    low_rating: "Đánh giá 1–2 / Rated 1–2",
  };
  const LIMIT = 20;
  let offset = 0;

  function $(id) { return document.getElementById(id); }
  function filters() {
    const query = new URLSearchParams({ from: body.dataset.from, to: body.dataset.to });
    if (body.dataset.channel) query.set("channel", body.dataset.channel);
    return query;
  }
  function status(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "muted";
  }

  function describe(error) {
    const body = error.body || {};
    let text = error.message;
    if (body.fields) {
      text += ": " + Object.entries(body.fields).map(([k, v]) => k + ": " + [].concat(v).join(" / ")).join("; ");
    }
    if (error.status === 409 && body.current) {
      text += " (" + body.current.author + ", " + body.current.saved_at + ": " +
        Object.keys(body.changes || {}).join(", ") + ")";
    }
    return text;
  }

  function chosenKeys(card) {
    const boxes = [...card.querySelectorAll("input.example:checked")];
    return boxes.flatMap((box) => JSON.parse(box.dataset.keys));
  }
  function chosenTexts(card) {
    return [...card.querySelectorAll("input.example:checked")].map((box) => box.dataset.text);
  }

  function slug(text) {
    const plain = text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d")
      .replace(/Đ/g, "D").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    return plain.slice(0, 60) || "cau-hoi-moi";
  }

  function newEntryForm(card, group) {
    const form = el("form", "new-entry");
    form.hidden = true;
    const texts = () => chosenTexts(card);
    const field = (label, name, value, area) => {
      const wrap = el("label", "", label);
      const input = el(area ? "textarea" : "input");
      input.name = name;
      input.value = value || "";
      wrap.appendChild(input);
      form.appendChild(wrap);
      return input;
    };
    const first = group.examples[0].text;
    const id = field("Mã / Id", "id", slug(first));
    const topic = field("Chủ đề / Topic", "topic", group.nearest ? group.nearest.topic : "");
    const question = field("Câu hỏi / Question", "question", first);
    const phrasings = field("Cách hỏi khác, mỗi dòng một câu / Phrasings, one a line", "phrasings", "", true);
    const answerVi = field("Trả lời (tiếng Việt) / Answer (Vietnamese)", "answer_vi", "", true);
    const answerEn = field("Trả lời (tiếng Anh) / Answer (English)", "answer_en", "", true);
    const save = el("button", "", "Lưu câu hỏi / Save entry");
    save.type = "submit";
    save.className = "save-entry";
    form.appendChild(save);
    form.refill = function () {
      const chosen = texts();
      question.value = chosen[0] || first;
      phrasings.value = chosen.slice(1).join("\n");
      id.value = slug(question.value);
    };
    topic.placeholder = "vd. orders / e.g. orders";
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const keys = chosenKeys(card);
      try {
        await api("POST", "/api/faq/entries/" + encodeURIComponent(id.value.trim()), {
          topic: topic.value.trim(), question: question.value.trim(),
          phrasings: phrasings.value.split("\n").map((p) => p.trim()).filter(Boolean),
          answer_vi: answerVi.value, answer_en: answerEn.value, tags: [], base_version: 0,
        });
        await api("POST", "/api/unanswered/added", { entry_id: id.value.trim(), keys: keys });
        status("Đã lưu câu hỏi " + id.value.trim() + "; bấm Xuất bản để bot dùng / Saved entry " +
          id.value.trim() + "; publish for the bot to use it");
        card.classList.add("done");
        card.querySelector(".group-state").textContent = "Đã tạo câu hỏi / Entry created: " + id.value.trim();
        form.hidden = true;
      } catch (error) {
        status(describe(error), true);
      }
    });
    return form;
  }

  function groupCard(group, index) {
    const card = el("article", "group");
    card.dataset.group = group.id;
    const head = el("h3", "", (offset + index + 1) + ". " + group.examples[0].text);
    card.appendChild(head);
    const facts = el("p", "muted facts");
    facts.textContent = group.size + " tin nhắn / messages · " + group.texts +
      " câu khác nhau / distinct · " +
      Object.entries(group.channels).map(([c, n]) => c + " " + n).join(", ") + " · " +
      Object.entries(group.reasons).map(([r, n]) => (REASONS[r] || r) + " " + n).join(", ");
    card.appendChild(facts);
    const list = el("ul", "examples");
    group.examples.forEach(function (example) {
      const item = el("li");
      const label = el("label");
      const box = el("input", "example");
      box.type = "checkbox";
      box.checked = true;
      box.dataset.keys = JSON.stringify(example.keys);
      box.dataset.text = example.text;
      label.appendChild(box);
      label.appendChild(el("span", "text", example.text));
      if (example.count > 1) label.appendChild(el("span", "muted", " ×" + example.count));
      item.appendChild(label);
      list.appendChild(item);
    });
    card.appendChild(list);

    const nearest = el("p", "nearest");
    const entryInput = el("input", "entry-id");
    entryInput.setAttribute("aria-label", "Mã câu FAQ / FAQ entry id");
    if (group.nearest) {
      nearest.appendChild(el("span", "", "Câu FAQ gần nhất / Nearest entry: "));
      nearest.appendChild(el("b", "nearest-question", group.nearest.question));
      nearest.appendChild(el("span", "muted", " (" + group.nearest.id + ", " + group.nearest.score + ")"));
      entryInput.value = group.nearest.id;
      entryInput.dataset.version = group.nearest.version || "";
    } else {
      nearest.appendChild(el("span", "muted", "Không có câu FAQ gần / No nearby entry"));
    }
    card.appendChild(nearest);

    const actions = el("p", "actions");
    actions.appendChild(entryInput);
    const add = el("button", "add-phrasings", "Thêm làm cách hỏi / Add as phrasings");
    add.type = "button";
    add.addEventListener("click", async function () {
      const entryId = entryInput.value.trim();
      try {
        // the version the editor saw for the nearest entry; another entry: its latest
        let version = group.nearest && entryId === group.nearest.id ? group.nearest.version : null;
        if (!version) version = (await api("GET", "/api/faq/entries/" + encodeURIComponent(entryId))).version;
        const saved = await api("POST", "/api/unanswered/phrasings",
          { entry_id: entryId, base_version: Number(version), keys: chosenKeys(card) });
        card.classList.add("done");
        card.querySelector(".group-state").textContent = "Đã thêm " + saved.added.length +
          " cách hỏi vào / Added " + saved.added.length + " phrasings to " + entryId;
        status("Đã lưu; bấm Xuất bản để bot dùng / Saved; publish for the bot to use it");
      } catch (error) {
        status(describe(error), true);
      }
    });
    actions.appendChild(add);
    const create = el("button", "new-entry-open", "Tạo câu hỏi mới / New entry");
    create.type = "button";
    actions.appendChild(create);
    const editor = el("a", "open-editor", "Mở trình soạn FAQ / Open in the FAQ editor");
    actions.appendChild(editor);
    const ignore = el("button", "ignore", "Bỏ qua nhóm / Ignore group");
    ignore.type = "button";
    ignore.addEventListener("click", async function () {
      try {
        await api("POST", "/api/unanswered/ignore", { keys: group.keys });
        card.classList.add("done");
        card.querySelector(".group-state").textContent = "Đã bỏ qua / Ignored";
      } catch (error) {
        status(describe(error), true);
      }
    });
    actions.appendChild(ignore);
    card.appendChild(actions);
    card.appendChild(el("p", "group-state", ""));
    const form = newEntryForm(card, group);
    card.appendChild(form);
    function editorLink() {
      const chosen = chosenTexts(card);
      const query = new URLSearchParams({ question: chosen[0] || group.examples[0].text,
                                          phrasings: chosen.slice(1).join("\n") });
      editor.href = "/faq/new?" + query.toString();
    }
    editorLink();
    list.addEventListener("change", function () { editorLink(); if (!form.hidden) form.refill(); });
    create.addEventListener("click", function () {
      form.hidden = !form.hidden;
      if (!form.hidden) form.refill();
    });
    return card;
  }

  async function loadGroups() {
    const query = filters();
    query.set("offset", offset);
    query.set("limit", LIMIT);
    $("summary").textContent = "Đang nhóm câu hỏi… / Grouping messages…";
    try {
      const data = await api("GET", "/api/unanswered?" + query.toString());
      const groups = $("groups");
      groups.textContent = "";
      data.groups.forEach((group, i) => groups.appendChild(groupCard(group, i)));
      let summary = data.messages + " tin nhắn chưa trả lời, " + data.total_groups + " nhóm / " +
        data.messages + " unanswered messages in " + data.total_groups + " groups";
      if (data.grouped_texts < data.distinct_texts) {
        summary += " (nhóm " + data.grouped_texts + " câu mới nhất trong " + data.distinct_texts +
          " / grouping the latest " + data.grouped_texts + " of " + data.distinct_texts + " distinct texts)";
      }
      if (!data.events_available) summary = "Chưa đọc được sự kiện của Rasa / Rasa's events cannot be read yet";
      $("summary").textContent = summary;
      body.dataset.loaded = String(Number(body.dataset.loaded || 0) + 1);
      $("previous").hidden = offset === 0;
      $("next").hidden = offset + LIMIT >= data.total_groups;
    } catch (error) {
      $("summary").textContent = describe(error);
    }
  }

  async function loadProposals() {
    try {
      const data = await api("GET", "/api/unanswered/proposals?" + filters().toString());
      const rows = document.querySelector("#proposals tbody");
      rows.textContent = "";
      data.proposals.forEach(function (proposal) {
        const row = el("tr", "proposal");
        const cell = el("td");
        const box = el("input", "proposal-box");
        box.type = "checkbox";
        box.dataset.entry = proposal.entry_id;
        box.dataset.keys = JSON.stringify(proposal.keys);
        box.setAttribute("aria-label", proposal.text);
        cell.appendChild(box);
        row.appendChild(cell);
        row.appendChild(el("td", "text", proposal.text));
        const entry = el("td");
        entry.appendChild(el("span", "", proposal.question));
        entry.appendChild(el("span", "muted", " (" + proposal.entry_id + ")"));
        row.appendChild(entry);
        row.appendChild(el("td", "", proposal.count));
        rows.appendChild(row);
      });
      if (!data.proposals.length) {
        const row = el("tr");
        const cell = el("td", "muted", "Chưa có đề xuất / No proposals");
        cell.colSpan = 4;
        row.appendChild(cell);
        rows.appendChild(row);
      }
      body.dataset.proposals = String(data.proposals.length);
    } catch (error) {
      status(describe(error), true);
    }
  }

  function chosenProposals() {
    return [...document.querySelectorAll("#proposals input.proposal-box:checked")];
  }

  $("proposals-all").addEventListener("change", function () {
    document.querySelectorAll("#proposals input.proposal-box").forEach((box) => { box.checked = this.checked; });
  });
  $("accept").addEventListener("click", async function () {
    const items = chosenProposals().map((box) => ({ entry_id: box.dataset.entry, keys: JSON.parse(box.dataset.keys) }));
    if (!items.length) return status("Chọn ít nhất một đề xuất / Pick at least one proposal", true);
    try {
      const result = await api("POST", "/api/unanswered/proposals/accept", { items: items, publish: true });
      const failed = result.results.filter((r) => r.error);
      status("Đã chấp nhận và xuất bản phiên bản " + result.published_version + " / Accepted and published version " +
        result.published_version + (failed.length ? "; lỗi / errors: " + failed.map((r) => r.entry_id + ": " + r.error).join("; ") : ""),
        failed.length > 0);
      loadProposals();
    } catch (error) {
      status(describe(error), true);
    }
  });
  $("dismiss").addEventListener("click", async function () {
    const keys = chosenProposals().flatMap((box) => JSON.parse(box.dataset.keys));
    if (!keys.length) return;
    try {
      await api("POST", "/api/unanswered/proposals/dismiss", { keys: keys });
      loadProposals();
    } catch (error) {
      status(describe(error), true);
    }
  });
  $("publish").addEventListener("click", async function () {
    try {
      const result = await api("POST", "/api/faq/publish", {});
      status("Đã xuất bản phiên bản " + result.published_version + " / Published version " + result.published_version);
      body.dataset.published = String(result.published_version);
    } catch (error) {
      status(describe(error), true);
    }
  });
  $("previous").addEventListener("click", function () { offset = Math.max(0, offset - LIMIT); loadGroups(); });
  $("next").addEventListener("click", function () { offset += LIMIT; loadGroups(); });

  loadGroups();
  loadProposals();
})();
