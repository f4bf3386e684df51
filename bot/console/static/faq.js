// hotro console: the FAQ editor's pages (bot/console/faq_pages.py) over the FAQ API
// (faq_editor.py, faq_try.py, faq_import.py). Plain JS, no framework; console.js's api()
// and el() are shared through window.hotroConsole. Entry text goes into the page with
// textContent or .value only: an answer may contain "<script>" and must show as text.
"use strict";
(function () {
  const shared = window.hotroConsole;
  if (!shared) return;
  const api = shared.api, el = shared.el, formatTime = shared.formatTime;
  const page = document.body.dataset.page;
  const XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

  const KINDS = {
    answer: "Trả lời / Answer",
    suggest: "Gợi ý / Suggest",
    abstain: "Không biết / Don't know",
  };
  const FIELD_LABELS = {
    topic: "Chủ đề / Topic", question: "Câu hỏi / Question", phrasings: "Cách hỏi khác / Phrasings",
    answer_vi: "Trả lời (VI) / Answer (VI)", answer_en: "Trả lời (EN) / Answer (EN)", tags: "Thẻ / Tags",
  };

  function $(id) { return document.getElementById(id); }

  function show(id, text) {
    const node = $(id);
    if (!node) return;
    node.textContent = text || "";
    node.hidden = !text;
  }

  function link(text, href) {
    const a = el("a", null, text);
    a.href = href;
    return a;
  }

  function entryHref(id) { return "/faq/entries/" + encodeURIComponent(id); }

  function fieldText(value) {
    if (value === null || value === undefined || value === "") return "—";
    return Array.isArray(value) ? value.join("\n") : String(value);
  }

  // {field: {before, after}} as a table: field, before, after (all text).
  function diffTable(changes) {
    const table = el("table", "diff");
    const head = el("tr");
    ["Trường / Field", "Trước / Before", "Sau / After"].forEach(function (t) { head.appendChild(el("th", null, t)); });
    table.appendChild(head);
    Object.keys(changes || {}).forEach(function (key) {
      const row = el("tr");
      row.appendChild(el("td", "field", FIELD_LABELS[key] || key));
      row.appendChild(el("td", "before", fieldText(changes[key].before)));
      row.appendChild(el("td", "after", fieldText(changes[key].after)));
      table.appendChild(row);
    });
    return table;
  }

  // --- the list: search, topics, publish, try it --------------------------------------
  function listPage() {
    const params = new URLSearchParams(location.search);
    const q = params.get("q") || "", mode = params.get("mode") || "text", topic = params.get("topic") || "";
    $("faq-q").value = q;
    $("faq-mode").value = mode === "meaning" ? "meaning" : "text";

    function status(data) {
      const pub = data.published_version;
      $("faq-status").textContent =
        (pub ? "Đang phục vụ phiên bản / Serving version " + pub : "Chưa xuất bản / Not published yet") +
        " · " + data.unpublished + " thay đổi chưa xuất bản / unpublished saves";
      $("publish").disabled = !data.unpublished;
    }

    function topics(list) {
      const select = $("faq-topic");
      list.forEach(function (t) {
        const option = el("option", null, t);
        option.value = t;
        select.appendChild(option);
      });
      select.value = topic;
    }

    function render(rows, scored) {
      const body = $("faq-entries");
      body.replaceChildren();
      $("score-head").hidden = !scored;
      rows.forEach(function (e) {
        const row = el("tr");
        row.dataset.entry = e.id;
        const cell = el("td", "question");
        cell.appendChild(link(e.question, entryHref(e.id)));
        row.appendChild(cell);
        row.appendChild(el("td", null, e.topic));
        row.appendChild(el("td", "id", e.id));
        const version = el("td", null, e.version === undefined ? "—" : "v" + e.version);
        if (e.unpublished) version.appendChild(el("span", "draft", "bản nháp / draft"));
        row.appendChild(version);
        row.appendChild(el("td", null, e.author || "—"));
        row.appendChild(el("td", "time", formatTime(e.saved_at)));
        if (scored) row.appendChild(el("td", "score", e.score.toFixed(3)));
        body.appendChild(row);
      });
      $("faq-empty").hidden = rows.length > 0;
    }

    async function load() {
      show("faq-error", "");
      try {
        const textQuery = mode === "meaning" ? "" : q;
        const data = await api("GET", "/api/faq/entries?" + new URLSearchParams({ q: textQuery, topic: topic }));
        status(data);
        if (!$("faq-topic").dataset.filled) { topics(data.topics); $("faq-topic").dataset.filled = "1"; }
        if (mode === "meaning" && q.trim()) {
          const known = {};
          data.entries.forEach(function (e) { known[e.id] = e; });
          const similar = await api("GET", "/api/faq/similar?" + new URLSearchParams({ q: q, topic: topic }));
          render(similar.entries.map(function (h) { return Object.assign({}, known[h.id] || {}, h); }), true);
        } else {
          render(data.entries, false);
        }
        document.body.dataset.loaded = "1";
      } catch (e) { show("faq-error", e.message); }
    }

    $("publish").addEventListener("click", async function () {
      show("faq-error", "");
      $("publish").disabled = true;
      try {
        const done = await api("POST", "/api/faq/publish", {});
        show("faq-message", "Đã xuất bản phiên bản " + done.published_version + " (" + done.entries +
             " câu hỏi); bot trả lời theo bản này trong vài giây. / Published version " +
             done.published_version + " (" + done.entries + " entries); the bot answers from it within seconds.");
      } catch (e) {
        const fields = (e.body && e.body.fields) || {};
        show("faq-error", e.message + (fields.corpus ? ": " + fields.corpus.join("; ") : ""));
      }
      load();
    });

    $("try-form").addEventListener("submit", function (event) {
      event.preventDefault();
      tryMessage($("try-text").value);
    });
    load();
  }

  async function tryMessage(text) {
    const out = $("try-result");
    out.replaceChildren(el("p", "muted", "Đang tìm… / Searching…"));
    try {
      const r = await api("POST", "/api/faq/try", { text: text });
      out.replaceChildren();
      const verdict = el("p", "decision decision-" + r.kind);
      verdict.id = "try-decision";
      verdict.dataset.kind = r.kind;
      verdict.appendChild(el("b", null, "Bot sẽ / The bot would: " + (KINDS[r.kind] || r.kind)));
      verdict.appendChild(document.createTextNode(
        " · độ tin cậy / confidence " + r.confidence.toFixed(3) +
        " · bản nháp phiên bản / draft version " + r.store_version +
        (r.published_version === r.store_version ? " (= đang phục vụ / served)" :
          " (đang phục vụ / served: " + (r.published_version || "—") + ")")));
      out.appendChild(verdict);
      if (r.restored) out.appendChild(el("p", "muted", "Đọc là / Read as: " + r.restored));
      const chosen = r.kind === "answer" ? [r.entry_id] : r.suggestions;
      const list = el("ol", "try-hits");
      list.id = "try-hits";
      r.hits.forEach(function (h) {
        const item = el("li", chosen.indexOf(h.id) >= 0 ? "chosen" : null);
        item.dataset.entry = h.id;
        item.appendChild(link(h.question, entryHref(h.id)));
        item.appendChild(el("span", "score", " " + h.score.toFixed(3) +
          " (nghĩa / meaning " + h.dense.toFixed(2) + ", chữ / words " + h.lexical.toFixed(2) + ")"));
        if (r.kind === "answer" && h.id === r.entry_id) item.appendChild(el("div", "answer", h.answer));
        list.appendChild(item);
      });
      out.appendChild(list);
    } catch (e) {
      out.replaceChildren(el("p", "error", e.message));
    }
  }

  // --- one entry: the form, conflicts, history and restore ----------------------------
  function entryPage() {
    const form = $("entry-form");
    let entryId = document.body.dataset.entry || "";
    let version = 0; // the version this form was loaded from (0: new)

    function field(name) { return form.elements[name]; }

    function fill(stored) {
      const e = stored.entry;
      version = stored.version;
      field("id").value = e.id;
      field("id").readOnly = true;
      field("topic").value = e.topic || "";
      field("question").value = e.question || "";
      field("phrasings").value = (e.phrasings || []).join("\n");
      field("answer_vi").value = e.answer_vi || "";
      field("answer_en").value = e.answer_en || "";
      field("tags").value = (e.tags || []).join(", ");
      $("entry-meta").textContent = "Phiên bản / Version " + stored.version + " · " + stored.author + " · " +
        formatTime(stored.saved_at) + (stored.deleted ? " · ĐÃ XÓA / DELETED (khôi phục ở Lịch sử / restore it from History)" : "");
    }

    function lines(text) { return text.split("\n").map(function (s) { return s.trim(); }).filter(Boolean); }

    // An id from the question: its words without accents ("phi-giao-hang").
    function slug(text) {
      return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase()
        .match(/[a-z0-9]+/g)?.slice(0, 6).join("-") || "";
    }

    function values() {
      return {
        topic: field("topic").value.trim(), question: field("question").value.trim(),
        phrasings: lines(field("phrasings").value), answer_vi: field("answer_vi").value,
        answer_en: field("answer_en").value, note: field("note").value,
        tags: field("tags").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean),
      };
    }

    function clearErrors() {
      form.querySelectorAll(".field-error").forEach(function (n) { n.textContent = ""; n.hidden = true; });
      show("entry-error", "");
    }

    // 400 {fields: {"question": [...], "phrasings.2": [...]}}: each message beside its field.
    function fieldErrors(fields) {
      const other = [];
      Object.keys(fields || {}).forEach(function (key) {
        const base = key.split(".")[0];
        const slot = form.querySelector('.field-error[data-field="' + base + '"]');
        const text = (key !== base ? "Cách hỏi / Phrasing " + (Number(key.split(".")[1]) + 1) + ": " : "") +
          fields[key].join(" / ");
        if (slot) {
          slot.textContent = (slot.textContent ? slot.textContent + " · " : "") + text;
          slot.hidden = false;
        } else other.push(key + ": " + text);
      });
      show("entry-error", "Có trường chưa hợp lệ, xem bên dưới. / Some fields are not valid, see below." +
        (other.length ? " " + other.join("; ") : ""));
    }

    // 409: who saved meanwhile, what they changed, and the editor's two ways on.
    function conflict(body, mine) {
      const box = $("conflict");
      box.replaceChildren();
      const cur = body.current;
      box.appendChild(el("p", null, body.message || body.error));
      if (cur) {
        box.appendChild(el("p", "who", "Phiên bản / Version " + cur.version + " · " + cur.author + " · " +
          formatTime(cur.saved_at) + (cur.deleted ? " · đã xóa / deleted" : "")));
        box.appendChild(el("p", null, "Họ đã thay đổi / They changed:"));
        box.appendChild(diffTable(body.changes));
      }
      const actions = el("div", "actions");
      if (!entryId) { // a new entry whose id is taken: nothing of theirs to load or save over
        actions.appendChild(el("p", null, "Mã này đã được dùng; đổi mã rồi lưu lại. / This id is already used; " +
          "change the id and save again."));
        if (cur) actions.appendChild(link("Mở câu hỏi đó / Open that entry", entryHref(cur.id)));
      } else {
        const theirs = el("button", "secondary", "Tải bản của họ (bỏ thay đổi của tôi) / Load theirs (drop my changes)");
        theirs.type = "button";
        theirs.id = "conflict-load";
        theirs.addEventListener("click", function () { box.hidden = true; load(); });
        actions.appendChild(theirs);
        if (cur) {
          const keep = el("button", null, "Giữ nội dung của tôi, lưu lên bản của họ / Keep mine, save over theirs");
          keep.type = "button";
          keep.id = "conflict-keep";
          keep.addEventListener("click", function () { box.hidden = true; version = cur.version; save(mine); });
          actions.appendChild(keep);
        }
      }
      box.appendChild(actions);
      box.hidden = false;
      box.scrollIntoView();
    }

    async function save(body) {
      clearErrors();
      if (!entryId) {
        const typed = field("id").value.trim() || slug(body.question);
        if (!typed) { fieldErrors({ id: ["Cần mã hoặc câu hỏi / An id or a question is needed"] }); return; }
        field("id").value = typed;
      }
      const id = entryId || field("id").value.trim();
      try {
        const saved = await api("POST", "/api/faq/entries/" + encodeURIComponent(id),
                                Object.assign({}, body, { base_version: version }));
        show("entry-saved", "Đã lưu phiên bản " + saved.version + " (bản nháp: bấm Xuất bản ở trang FAQ để bot dùng). / " +
             "Saved version " + saved.version + " (a draft: press Publish on the FAQ page for the bot to use it).");
        field("note").value = "";
        if (!entryId) {
          entryId = id;
          history.replaceState(null, "", entryHref(id));
          document.body.dataset.entry = id;
        }
        fill(saved);
        loadHistory();
      } catch (e) {
        if (e.body && e.body.error === "conflict") conflict(e.body, body);
        else if (e.body && e.body.fields) fieldErrors(e.body.fields);
        else show("entry-error", e.message);
      }
    }

    // ?phrasings=...: phrasings to add to an existing entry (e.g. from the unanswered
    // questions), shown in the form for the editor to review and save.
    function addPhrasingsFromUrl() {
      const have = lines(field("phrasings").value);
      const added = new URLSearchParams(location.search).getAll("phrasings")
        .flatMap(lines).filter(function (p) { return have.indexOf(p) < 0; });
      if (!added.length) return;
      field("phrasings").value = have.concat(added).join("\n");
      show("entry-saved", "Đã thêm " + added.length + " cách hỏi vào biểu mẫu, chưa lưu. / Added " + added.length +
           " phrasings to the form, not saved yet.");
    }

    async function load(fromUrl) {
      if (!entryId) return;
      try {
        fill(await api("GET", "/api/faq/entries/" + encodeURIComponent(entryId)));
        if (fromUrl) addPhrasingsFromUrl();
        loadHistory();
      } catch (e) { show("entry-error", e.message); }
    }

    async function loadHistory() {
      const list = $("history");
      if (!list || !entryId) return;
      try {
        const data = await api("GET", "/api/faq/entries/" + encodeURIComponent(entryId) + "/history");
        list.replaceChildren();
        $("history-box").hidden = false;
        $("entry-delete").hidden = false;
        data.versions.forEach(function (v, i) {
          const item = el("li", "version");
          item.dataset.version = v.version;
          item.appendChild(el("b", null, "v" + v.version));
          item.appendChild(document.createTextNode(" · " + v.author + " · " + formatTime(v.saved_at) +
            (v.deleted ? " · đã xóa / deleted" : "") + (v.note ? " · " + v.note : "")));
          if (Object.keys(v.diff || {}).length) item.appendChild(diffTable(v.diff));
          if (i > 0 && !v.deleted) {
            const restore = el("button", "secondary restore", "Khôi phục bản này / Restore this version");
            restore.type = "button";
            restore.addEventListener("click", async function () {
              clearErrors();
              try {
                fill(await api("POST", "/api/faq/entries/" + encodeURIComponent(entryId) + "/restore",
                               { version: v.version, base_version: version }));
                show("entry-saved", "Đã khôi phục phiên bản " + v.version + " (bản nháp). / Restored version " +
                     v.version + " (a draft).");
                loadHistory();
              } catch (e) {
                if (e.body && e.body.error === "conflict") conflict(e.body, values());
                else show("entry-error", e.message);
              }
            });
            item.appendChild(restore);
          }
          list.appendChild(item);
        });
      } catch (e) { show("entry-error", e.message); }
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); save(values()); });
    $("entry-delete").addEventListener("click", async function () {
      if (!confirm("Xóa câu hỏi này? Có thể khôi phục từ Lịch sử. / Delete this entry? It can be restored from History.")) return;
      clearErrors();
      try {
        fill(await api("POST", "/api/faq/entries/" + encodeURIComponent(entryId) + "/delete", { base_version: version }));
        show("entry-saved", "Đã xóa (bản nháp). / Deleted (a draft).");
        loadHistory();
      } catch (e) {
        if (e.body && e.body.error === "conflict") conflict(e.body, values());
        else show("entry-error", e.message);
      }
    });
    load(true);
  }

  // --- CSV import: preview, then apply -------------------------------------------------
  function importPage() {
    let plan = null;
    const SECTIONS = [
      ["add", "Thêm mới / To add"], ["change", "Thay đổi / To change"],
      ["conflict", "Xung đột, sẽ không lưu / Conflicts, not saved"], ["unchanged", "Không đổi / Unchanged"],
    ];

    function rowOf(r, kind) {
      const item = el("li", "import-row");
      item.dataset.entry = r.id;
      const title = el("div", null);
      title.appendChild(el("b", null, r.entry.question));
      title.appendChild(document.createTextNode(" · " + r.id + " · dòng / line " + r.line));
      item.appendChild(title);
      if (kind === "change" || (kind === "conflict" && r.base_version)) item.appendChild(diffTable(r.changes));
      if (r.stale) {
        item.appendChild(el("p", "warning", "Đã được " + r.stale.author + " sửa trong bảng điều khiển lúc " +
          formatTime(r.stale.saved_at) + ", sau khi tệp được xuất; nhập sẽ xóa thay đổi đó. / Changed in the console by " +
          r.stale.author + " after this sheet was exported; importing would undo that change."));
      }
      Object.keys(r.fields || {}).forEach(function (key) {
        item.appendChild(el("p", "field-error", (FIELD_LABELS[key.split(".")[0]] || key) + ": " + r.fields[key].join(" / ")));
      });
      return item;
    }

    function render(p) {
      plan = p;
      $("import-summary").textContent = p.rows + " dòng / rows: " + p.add.length + " thêm / to add, " +
        p.change.length + " thay đổi / to change, " + p.conflict.length + " xung đột / conflicts, " +
        p.unchanged.length + " không đổi / unchanged" + (p.errors.length ? " · " + p.errors.join("; ") : "");
      const holder = $("import-sections");
      holder.replaceChildren();
      SECTIONS.forEach(function ([kind, label]) {
        if (!p[kind].length) return;
        const box = el(kind === "unchanged" ? "details" : "section", "import-" + kind);
        box.id = "import-" + kind;
        box.appendChild(el(kind === "unchanged" ? "summary" : "h3", null, label + " (" + p[kind].length + ")"));
        const list = el("ul");
        p[kind].forEach(function (r) { list.appendChild(rowOf(r, kind)); });
        box.appendChild(list);
        holder.appendChild(box);
      });
      const n = p.add.length + p.change.length;
      $("import-apply").textContent = "Áp dụng " + n + " thay đổi / Apply " + n + " changes";
      $("import-apply").disabled = n === 0;
      $("import-plan").hidden = false;
    }

    $("import-form").addEventListener("submit", async function (event) {
      event.preventDefault();
      show("import-error", "");
      show("import-done", "");
      $("import-plan").hidden = true;
      const file = $("import-file").files[0];
      if (!file) { show("import-error", "Chọn một tệp .xlsx hoặc CSV / Choose an .xlsx or CSV file"); return; }
      const xlsx = /\.xlsx$/i.test(file.name);
      try {
        const response = await fetch("/api/faq/import/preview?name=" + encodeURIComponent(file.name), {
          method: "POST", credentials: "same-origin", headers: { "Content-Type": xlsx ? XLSX_TYPE : "text/csv" }, body: file,
        });
        const body = await response.json().catch(function () { return {}; });
        if (!response.ok) {
          show("import-error", (body.error || "HTTP " + response.status) +
               (body.problems ? ": " + body.problems.join("; ") : ""));
          return;
        }
        render(body);
      } catch (e) { show("import-error", e.message); }
    });

    $("import-apply").addEventListener("click", async function () {
      if (!plan) return;
      $("import-apply").disabled = true;
      const rows = plan.add.concat(plan.change).map(function (r) {
        return Object.assign({}, r.entry, { id: r.id, base_version: r.base_version });
      });
      try {
        const done = await api("POST", "/api/faq/import/apply", { entries: rows });
        $("import-plan").hidden = true;
        let text = "Đã lưu " + done.saved.length + " câu hỏi (bản nháp: bấm Xuất bản ở trang FAQ). / Saved " +
          done.saved.length + " entries (a draft: press Publish on the FAQ page).";
        if (done.conflict.length || done.invalid.length) {
          text += " Không lưu / Not saved: " + done.conflict.concat(done.invalid).map(function (c) { return c.id; }).join(", ") +
            " (đã bị sửa trong lúc xem trước hoặc không hợp lệ / changed meanwhile or invalid).";
        }
        show("import-done", text);
      } catch (e) { show("import-error", e.message); $("import-apply").disabled = false; }
    });
  }

  if (page === "faq") listPage();
  else if (page === "faq-entry") entryPage();
  else if (page === "faq-import") importPage();
})();
