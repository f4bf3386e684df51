// hotro console: the leads' support dashboard. Reads /api/dashboard for the page's
// filters and draws the charts with the vendored Chart.js (static/vendor/chart.umd.js).
// Data goes into the page with textContent only.
"use strict";
(function () {
  const body = document.body;
  if (body.dataset.page !== "dashboard" || !body.dataset.from) return;

  const REASONS = {
    request_human: "Khách yêu cầu / Asked for a person",
    low_confidence: "Bot không chắc / Low confidence",
    bot_failed_twice: "Bot không hiểu 2 lần / Failed twice",
    bot_unavailable: "Bot gián đoạn / Bot was down",
  };
  const COLORS = ["#0b5cad", "#e07a1f", "#2a9d8f", "#c0392b", "#8e44ad", "#7f8c8d"];
  const charts = {};
  window.hotroCharts = charts; // for the browser test and the curious

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function percent(value) { return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + "%"; }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.abs(seconds);
    const sign = seconds < 0 ? "-" : "";
    if (s < 60) return sign + s.toFixed(1) + " s";
    if (s < 3600) return sign + Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
    return sign + Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function count(value) { return value === null || value === undefined ? "–" : String(value); }
  function pct(value) { return value === null || value === undefined ? null : Math.round(value * 1000) / 10; }
  function minutes(value) { return value === null || value === undefined ? null : Math.round(value / 6) / 10; }

  // Summary cards: this period, the previous one and the change; `better` says which
  // direction is good news (1 up, -1 down, 0 neither).
  const CARDS = [
    ["conversations", "Cuộc trò chuyện / Conversations", count, 0],
    ["containment_rate", "Bot tự giải quyết / Bot resolution", percent, 1],
    ["handoff_rate", "Chuyển nhân viên / Handoff rate", percent, -1],
    ["faq_answered", "FAQ trả lời / FAQ answered", count, 0],
    ["bot_response_p95_s", "Bot trả lời p95 / Bot response p95", duration, -1],
    ["first_human_response_median_s", "Nhân viên trả lời đầu / First human response", duration, -1],
    ["first_human_response_office_median_s", "…trong giờ làm việc / …in office hours", duration, -1],
    ["csat", "CSAT", percent, 1],
    ["survey_response_rate", "Trả lời khảo sát / Survey response", percent, 1],
  ];

  function change(value, kind) {
    if (value === null || value === undefined) return "–";
    const plus = value > 0 ? "+" : "";
    if (kind === percent) return plus + (value * 100).toFixed(1) + " pt";
    if (kind === duration) return plus + duration(value);
    return plus + String(value);
  }

  function renderCards(result) {
    const box = $("kpis");
    box.replaceChildren();
    for (const [key, label, kind, better] of CARDS) {
      const card = el("div", "kpi");
      card.dataset.metric = key;
      card.appendChild(el("div", "kpi-label", label));
      card.appendChild(el("div", "kpi-value", kind(result.totals[key])));
      const delta = result.trend[key];
      const trend = el("div", "kpi-trend",
        "kỳ trước / previous: " + kind(result.previous[key]) + " · " + change(delta, kind));
      if (delta && better) trend.classList.add(delta * better > 0 ? "good" : "bad");
      card.appendChild(trend);
      box.appendChild(card);
    }
  }

  function draw(id, config) {
    const canvas = $(id);
    if (!canvas) return;
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({
      animation: false, responsive: true, maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
    }, config.options || {});
    charts[id] = new window.Chart(canvas, config);
  }

  function line(label, data, color, extra) {
    return Object.assign({ label: label, data: data, borderColor: color, backgroundColor: color,
      tension: 0, spanGaps: true, pointRadius: 3 }, extra || {});
  }

  function renderCharts(data) {
    const result = data.metrics;
    const days = result.by_day;
    const labels = days.map(function (d) { return d.date.slice(5); });
    const before = data.previous_by_day;
    const series = function (key, fn) { return days.map(function (d) { return fn ? fn(d[key]) : d[key]; }); };
    const percentAxis = { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } } };

    draw("chart-conversations", { type: "bar", data: { labels: labels, datasets: [
      { label: "Kỳ này / This period", data: series("conversations"), backgroundColor: COLORS[0],
        order: 1 },
      line("Kỳ trước / Previous period", before.map(function (d) { return d.conversations; }),
        COLORS[5], { type: "line", borderDash: [6, 4], pointRadius: 2, order: 0 }),
    ] }, options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });

    draw("chart-containment", { type: "line", data: { labels: labels, datasets: [
      line("Kỳ này / This period", series("containment_rate", pct), COLORS[2]),
      line("Kỳ trước / Previous period", before.map(function (d) { return pct(d.containment_rate); }),
        COLORS[5], { borderDash: [6, 4], pointRadius: 2 }),
    ] }, options: { scales: percentAxis } });

    const reasons = Object.keys(result.totals.handoff_rate_by_reason);
    draw("chart-handoff", { type: "bar", data: { labels: labels, datasets: reasons.map(function (r, i) {
      return { label: REASONS[r] || r, backgroundColor: COLORS[(i + 1) % COLORS.length],
        data: days.map(function (d) { return pct(d.handoff_rate_by_reason[r]); }) };
    }) }, options: { scales: { x: { stacked: true }, y: { stacked: true, min: 0, max: 100,
      ticks: { callback: function (v) { return v + "%"; } } } } } });

    draw("chart-faq", { type: "bar", data: { labels: labels, datasets: [
      { label: "Trả lời / Answered", data: series("faq_answered"), backgroundColor: COLORS[2] },
      { label: "Gợi ý / Suggested", data: series("faq_suggested"), backgroundColor: COLORS[0] },
      { label: "Khách chọn gợi ý / Picked", data: series("faq_picked"), backgroundColor: COLORS[4] },
      { label: "Không biết / Don't know", data: series("faq_dont_know"), backgroundColor: COLORS[3] },
    ] }, options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });

    draw("chart-bot-response", { type: "line", data: { labels: labels, datasets: [
      line("p50", series("bot_response_p50_s"), COLORS[0]),
      line("p95", series("bot_response_p95_s"), COLORS[1]),
    ] }, options: { scales: { y: { beginAtZero: true } } } });

    draw("chart-human-response", { type: "line", data: { labels: labels, datasets: [
      line("Theo đồng hồ / Clock", series("first_human_response_median_s", minutes), COLORS[3]),
      line("Trong giờ làm việc / Office hours", series("first_human_response_office_median_s", minutes), COLORS[2]),
    ] }, options: { scales: { y: { beginAtZero: true } } } });

    draw("chart-csat", { type: "line", data: { labels: labels, datasets: [
      line("CSAT", series("csat", pct), COLORS[4]),
    ] }, options: { scales: percentAxis } });

    const stars = ["1", "2", "3", "4", "5"];
    draw("chart-ratings", { type: "bar", data: { labels: stars.map(function (s) { return s + " ★"; }), datasets: [
      { label: "Kỳ này / This period", backgroundColor: COLORS[1],
        data: stars.map(function (s) { return result.totals.rating_distribution[s]; }) },
      { label: "Kỳ trước / Previous period", backgroundColor: COLORS[5],
        data: stars.map(function (s) { return result.previous.rating_distribution[s]; }) },
    ] }, options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
  }

  function renderChannels(channels) {
    const select = $("channel");
    const present = new Set([...select.options].map(function (o) { return o.value; }));
    for (const name of channels) {
      if (present.has(name)) continue;
      const option = el("option", "", name);
      option.value = name;
      select.appendChild(option);
    }
  }

  function render(data) {
    const result = data.metrics;
    renderChannels(data.channels);
    const note = $("events-note");
    note.hidden = !data.note;
    note.textContent = data.note || "";
    $("period").textContent = "Kỳ này / This period: " + result.from + " → " + result.to +
      " · kỳ trước / previous: " + result.previous.from + " → " + result.previous.to +
      " (" + result.timezone + ")";
    renderCards(result);
    renderCharts(data);
    body.dataset.loaded = "1";
  }

  function fail(message) {
    const note = $("events-note");
    note.hidden = false;
    note.textContent = message;
  }

  const query = new URLSearchParams({ from: body.dataset.from, to: body.dataset.to });
  if (body.dataset.channel) query.set("channel", body.dataset.channel);
  fetch("/api/dashboard?" + query.toString(), { credentials: "same-origin" })
    .then(function (reply) {
      if (reply.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); return null; }
      return reply.json().then(function (data) {
        if (!reply.ok) throw new Error(data.error || reply.statusText);
        return data;
      });
    })
    .then(function (data) { if (data) render(data); })
    .catch(function (error) {
      fail("Không tải được số liệu / Could not load the metrics: " + error.message);
    });
})();
