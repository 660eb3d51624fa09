/* Manager dashboard: draws the Chart.js charts from GET /dashboard/data (the page's tables hold the same numbers). */
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  var status = document.getElementById("dash-status");
  if (!root || typeof window.Chart === "undefined") { return; }

  var C = {
    green: "#1a7f37", red: "#b42318", blue: "#2563a8", navy: "#1f4e79", amber: "#c98a00", violet: "#5b3fa0",
    teal: "#11807a", gray: "#8592a3", light: "#c9d3df", grid: "#e8edf3", ink: "#4a5666"
  };
  var STATUS_COLORS = {
    registered: "#9db7d6", analysing: "#6d97c9", under_review: C.blue, plan_decided: "#11607a",
    dispatching: C.teal, in_execution: C.amber, awaiting_closure: C.violet
  };
  var SATISFACTION_COLORS = ["#1a7f37", "#6bb37e", "#c9d3df", "#e0913a", "#b42318"];

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = C.ink;
  Chart.defaults.animation = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.legend.labels.boxHeight = 12;
  Chart.defaults.maintainAspectRatio = false;

  function say(text) { if (status) { status.textContent = text; } }

  function fmt(data) {
    var n = new Intl.NumberFormat(data.labels.locale);
    var pct = new Intl.NumberFormat(data.labels.locale, { style: "percent", maximumFractionDigits: 1 });
    var yuan = new Intl.NumberFormat(data.labels.locale, { style: "currency", currency: "CNY", maximumFractionDigits: 0 });
    var short = new Intl.NumberFormat(data.labels.locale, { style: "currency", currency: "CNY", notation: "compact", maximumFractionDigits: 1 });
    return { n: function (v) { return n.format(v); }, pct: function (v) { return v === null ? "—" : pct.format(v); },
             yuan: function (v) { return yuan.format(v); }, short: function (v) { return short.format(v); } };
  }

  function weekLabels(data) {
    return data.weeks.map(function (w) { return [w.label.slice(5), w.monday.slice(5)]; });
  }

  function lbl(data, group, key) {
    if (key === null || key === undefined) { return data.labels.series.none; }
    var found = (data.labels[group] || {})[key];
    return found || key;
  }

  function percentAxis(position) {
    return { position: position, min: 0, max: 1, grid: { drawOnChartArea: position === "left" },
             ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } } };
  }

  function countAxis(stacked) {
    return { stacked: !!stacked, beginAtZero: true, grid: { color: C.grid }, ticks: { precision: 0 } };
  }

  function go(url) { if (url) { window.location.href = url; } }

  var BUILD = {
    "sla-weeks": function (d, f) {
      var s = d.labels.series;
      return {
        data: {
          labels: weekLabels(d),
          datasets: [
            { type: "bar", label: s.met, data: d.sla.weeks.map(function (w) { return w.met; }), backgroundColor: C.green, stack: "c", yAxisID: "y", order: 2 },
            { type: "bar", label: s.breached, data: d.sla.weeks.map(function (w) { return w.breached; }), backgroundColor: C.red, stack: "c", yAxisID: "y", order: 2 },
            { type: "line", label: s.rate, data: d.sla.weeks.map(function (w) { return w.rate; }), borderColor: C.navy, backgroundColor: C.navy, yAxisID: "y1", tension: 0.25, spanGaps: true, order: 1, pointRadius: 3 }
          ]
        },
        options: {
          scales: { x: { stacked: true, grid: { display: false } }, y: countAxis(true), y1: percentAxis("right") },
          plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + (c.dataset.yAxisID === "y1" ? f.pct(c.raw) : f.n(c.raw)); } } } },
          onClick: function (e, items) { if (items.length && items[0].datasetIndex === 1) { go(root.dataset.overdue); } }
        }
      };
    },
    "sla-supervisors": function (d, f) {
      var rows = d.sla.supervisors.filter(function (r) { return r.username; });
      return {
        type: "bar",
        data: {
          labels: rows.map(function (r) { return r.name || d.labels.series.not_reviewed; }),
          datasets: [{ label: d.labels.series.rate, data: rows.map(function (r) { return r.rate; }),
                       backgroundColor: rows.map(function (r) { return r.rate === null ? C.gray : r.rate >= 0.9 ? C.green : r.rate >= 0.8 ? C.amber : C.red; }) }]
        },
        options: {
          indexAxis: "y",
          scales: { x: percentAxis("left"), y: { grid: { display: false } } },
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) {
            var r = rows[c.dataIndex];
            return f.pct(r.rate) + " (" + d.labels.series.met + " " + f.n(r.met) + " · " + d.labels.series.breached + " " + f.n(r.breached) + ")";
          } } } }
        }
      };
    },
    "throughput": function (d) {
      var s = d.labels.series;
      return {
        type: "line",
        data: { labels: weekLabels(d), datasets: [
          { label: s.opened, data: d.throughput.opened, borderColor: C.blue, backgroundColor: C.blue, tension: 0.25 },
          { label: s.closed, data: d.throughput.closed, borderColor: C.green, backgroundColor: C.green, tension: 0.25 }
        ] },
        options: { scales: { y: countAxis(false), x: { grid: { display: false } } } }
      };
    },
    "ageing": function (d) {
      var rows = d.ageing.by_status;
      return {
        type: "bar",
        data: {
          labels: d.ageing.buckets.map(function (b) { return lbl(d, "bucket", b); }),
          datasets: rows.map(function (r) {
            return { label: lbl(d, "status", r.status), data: r.counts, backgroundColor: STATUS_COLORS[r.status] || C.gray };
          })
        },
        options: {
          scales: { x: { stacked: true, grid: { display: false } }, y: countAxis(true) },
          onClick: function (e, items) {
            if (items.length) { go(root.dataset.cases + "?status=" + encodeURIComponent(rows[items[0].datasetIndex].status)); }
          }
        }
      };
    },
    "backlog-steps": function (d) {
      var rows = d.backlog.steps.slice(0, 14);
      var s = d.labels.series;
      return {
        type: "bar",
        data: {
          labels: rows.map(function (r) { return lbl(d, "step", r.bpmn_id) || r.name; }),
          datasets: [
            { label: s.overdue, data: rows.map(function (r) { return r.overdue; }), backgroundColor: C.red },
            { label: s.not_due, data: rows.map(function (r) { return r.open - r.overdue; }), backgroundColor: C.blue }
          ]
        },
        options: {
          indexAxis: "y", scales: { x: countAxis(true), y: { stacked: true, grid: { display: false } } },
          onClick: function (e, items) {
            if (items.length && root.dataset.monitor) { go(root.dataset.monitor + "?step=" + encodeURIComponent(rows[items[0].index].bpmn_id)); }
          }
        }
      };
    },
    "backlog-lanes": function (d) {
      var rows = d.backlog.lanes;
      var colors = [C.blue, C.amber, C.teal, C.violet, C.green, C.red, C.gray, C.navy];
      return {
        type: "doughnut",
        data: { labels: rows.map(function (r) { return lbl(d, "lane", r.lane); }),
                datasets: [{ data: rows.map(function (r) { return r.open; }), backgroundColor: colors.slice(0, rows.length) }] },
        options: {
          cutout: "55%", plugins: { legend: { position: "right" } },
          onClick: function (e, items) {
            if (items.length && root.dataset.monitor) { go(root.dataset.monitor + "?lane=" + encodeURIComponent(rows[items[0].index].lane)); }
          }
        }
      };
    },
    "visits": function (d, f) {
      var s = d.labels.series;
      return {
        data: {
          labels: weekLabels(d),
          datasets: [
            { type: "line", label: s.fix_rate, data: d.visits.weeks.map(function (w) { return w.fix_rate; }), borderColor: C.green, backgroundColor: C.green, yAxisID: "y1", tension: 0.25, spanGaps: true, order: 1 },
            { type: "bar", label: s.escalated, data: d.escalations.escalated_visits, backgroundColor: C.amber, yAxisID: "y", order: 2 }
          ]
        },
        options: {
          scales: { x: { grid: { display: false } }, y: countAxis(false), y1: percentAxis("right") },
          plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + (c.dataset.yAxisID === "y1" ? f.pct(c.raw) : f.n(c.raw)); } } } }
        }
      };
    },
    "quality": function (d) {
      var colors = { submitted: C.amber, closed: C.green, rejected: C.gray };
      return {
        type: "bar",
        data: { labels: weekLabels(d), datasets: d.quality_feedback.by_status.map(function (r) {
          return { label: lbl(d, "qf_status", r.status), data: r.counts, backgroundColor: colors[r.status] || C.gray };
        }) },
        options: { scales: { x: { stacked: true, grid: { display: false } }, y: countAxis(true) } }
      };
    },
    "surveys": function (d) {
      var rows = d.surveys.levels;
      return {
        type: "doughnut",
        data: { labels: rows.map(function (r) { return lbl(d, "satisfaction", r.level); }),
                datasets: [{ data: rows.map(function (r) { return r.surveys; }), backgroundColor: SATISFACTION_COLORS }] },
        options: { cutout: "55%", plugins: { legend: { position: "right" } } }
      };
    },
    "cost-product": function (d, f) { return costChart(d, f, d.warranty_cost.by_product, function (r) { return r.name || d.labels.series.none; }); },
    "cost-responsibility": function (d, f) {
      return costChart(d, f, d.warranty_cost.by_responsibility, function (r) {
        return r.key ? lbl(d, "responsibility", r.key) : d.labels.series.no_responsibility;
      });
    }
  };

  function costChart(d, f, rows, name) {
    var s = d.labels.series;
    return {
      type: "bar",
      data: { labels: rows.map(name), datasets: [
        { label: s.labour, data: rows.map(function (r) { return r.labour; }), backgroundColor: C.blue },
        { label: s.parts, data: rows.map(function (r) { return r.parts; }), backgroundColor: C.amber }
      ] },
      options: {
        indexAxis: "y",
        scales: { x: { stacked: true, beginAtZero: true, grid: { color: C.grid }, ticks: { callback: function (v) { return f.short(v); } } },
                  y: { stacked: true, grid: { display: false } } },
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + f.yuan(c.raw); } } } }
      }
    };
  }

  function draw(data) {
    var f = fmt(data);
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = BUILD[canvas.dataset.chart];
      if (!build) { return; }
      var config = build(data, f);
      var old = Chart.getChart(canvas);
      if (old) { old.destroy(); }
      new Chart(canvas, config);
    });
    say("");
  }

  say(root.dataset.loading || "");
  fetch(root.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
    .then(draw)
    .catch(function (e) { say((root.dataset.failed || "") + " (" + e.message + ")"); });
})();
