/* Dashboard: the five charts (Chart.js, vendored as chart.umd.js) fed by the JSON the page embeds,
   the Período filter (charts only: the counters are fixed in the page), Refresh and Expandir. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("pabx-data").textContent);
  var LOCALE = "pt-BR";
  var money = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "BRL" });
  var integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
  var oneDecimal = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var percent = new Intl.NumberFormat(LOCALE, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });

  function fmtMoney(v) { return money.format(v); }
  function fmtCalls(v) { return integer.format(v); }
  function fmtMinutes(v) { return oneDecimal.format(v) + " min"; }
  function dateBr(iso) { return iso.slice(8, 10) + "/" + iso.slice(5, 7) + "/" + iso.slice(0, 4); }
  function two(n) { return (n < 10 ? "0" : "") + n; }

  function daysBetween(from, to) {
    var out = [];
    var day = new Date(from + "T00:00:00Z");
    var end = new Date(to + "T00:00:00Z");
    while (day <= end) {
      out.push(day.toISOString().slice(0, 10));
      day.setUTCDate(day.getUTCDate() + 1);
    }
    return out;
  }

  // -- indexes over the embedded data --------------------------------------------------------
  var daily = {};
  data.daily.forEach(function (row) { daily[row.date + "|" + row.type] = row; });
  var peaks = data.concurrency; // date -> 24 hourly peaks

  function typesWith(field) {
    return data.types.filter(function (type) {
      return data.daily.some(function (row) { return row.type === type.key && row[field] > 0; });
    });
  }

  // -- Período --------------------------------------------------------------------------------
  var state = { from: data.from, to: data.to };
  var inputFrom = document.getElementById("periodo-de");
  var inputTo = document.getElementById("periodo-ate");
  var periodText = document.getElementById("periodo-texto");
  var periodError = document.getElementById("periodo-erro");

  function validDate(iso) { return /^\d{4}-\d{2}-\d{2}$/.test(iso) && iso >= data.from && iso <= data.to; }

  (function readHash() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var from = params.get("de");
    var to = params.get("ate");
    if (from && to && validDate(from) && validDate(to) && from <= to) {
      state.from = from;
      state.to = to;
    }
    inputFrom.value = state.from;
    inputTo.value = state.to;
  })();

  // -- tooltip (Informação Pontual) and legend (Tipos de Chamadas) as HTML ------------------------
  function externalTooltip(context) {
    var chart = context.chart;
    var tip = context.tooltip;
    var box = chart.canvas.parentNode.querySelector(".chart-tooltip");
    if (!tip || tip.opacity === 0 || !tip.dataPoints || !tip.dataPoints.length) {
      box.hidden = true;
      return;
    }
    box.replaceChildren();
    var title = document.createElement("div");
    title.className = "chart-tooltip-title";
    title.textContent = (tip.title || []).join(" ");
    box.appendChild(title);
    tip.body.forEach(function (body, i) {
      var line = document.createElement("div");
      line.className = "chart-tooltip-line";
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = tip.labelColors[i].backgroundColor;
      line.appendChild(swatch);
      line.appendChild(document.createTextNode(body.lines.join(" ")));
      box.appendChild(line);
    });
    box.hidden = false;
    var left = Math.min(Math.max(tip.caretX, 80), chart.width - 80);
    box.style.left = left + "px";
    box.style.top = tip.caretY + "px";
  }

  var htmlLegend = {
    id: "htmlLegend",
    afterUpdate: function (chart) {
      var list = chart.canvas.closest(".chart-card").querySelector(".chart-legend");
      list.replaceChildren();
      var items = chart.options.plugins.legend.labels.generateLabels(chart);
      items.forEach(function (item) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.setAttribute("aria-pressed", item.hidden ? "false" : "true");
        button.title = item.hidden ? "Mostrar" : "Ocultar";
        button.dataset.label = item.text;
        var swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = item.fillStyle;
        button.appendChild(swatch);
        button.appendChild(document.createTextNode(item.text));
        button.addEventListener("click", function () {
          if (chart.config.type === "pie") {
            chart.toggleDataVisibility(item.index);
          } else {
            chart.setDatasetVisibility(item.datasetIndex, !chart.isDatasetVisible(item.datasetIndex));
          }
          chart.update();
        });
        li.appendChild(button);
        list.appendChild(li);
      });
      if (!items.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = "Sem chamadas no período";
        list.appendChild(none);
      }
    }
  };

  Chart.defaults.locale = LOCALE;
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
  Chart.defaults.color = "#334155";

  function canvasOf(key) { return document.querySelector('[data-chart="' + key + '"] canvas'); }

  function cartesianOptions(format, title, stacked) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { display: false },
        tooltip: {
          enabled: false,
          external: externalTooltip,
          callbacks: {
            title: title,
            label: function (ctx) { return ctx.dataset.label + ": " + format(ctx.parsed.y); }
          }
        }
      },
      scales: {
        x: { stacked: !!stacked, grid: { display: false } },
        y: { stacked: !!stacked, beginAtZero: true, ticks: { callback: function (v) { return format(v); } } }
      }
    };
  }

  function dayTitle(items) { return items.length ? dateBr(items[0].label) : ""; }
  function dayTick(value) {
    var label = this.getLabelForValue(value);
    return label.slice(8, 10) + "/" + label.slice(5, 7);
  }

  function seriesChart(key, kind, field, format, stacked) {
    var types = typesWith(field === "cost" ? "cost" : field === "minutes" ? "minutes" : "calls");
    var options = cartesianOptions(format, dayTitle, stacked);
    options.scales.x.ticks = { callback: dayTick, maxRotation: 0, autoSkip: true };
    return new Chart(canvasOf(key), {
      type: kind,
      data: {
        labels: [],
        datasets: types.map(function (type) {
          return {
            label: type.label,
            typeKey: type.key,
            data: [],
            borderColor: type.color,
            backgroundColor: type.color,
            pointRadius: 3,
            pointHoverRadius: 6,
            cubicInterpolationMode: "monotone"
          };
        })
      },
      options: options,
      plugins: [htmlLegend]
    });
  }

  var charts = {};
  charts.simultaneas = new Chart(canvasOf("simultaneas"), {
    type: "line",
    data: {
      labels: Array.from({ length: 24 }, function (_, h) { return two(h) + "h"; }),
      datasets: [{
        label: "Chamadas simultâneas",
        data: [],
        borderColor: "#2563eb",
        backgroundColor: "#2563eb",
        pointRadius: 3,
        pointHoverRadius: 6,
        cubicInterpolationMode: "monotone"
      }]
    },
    options: (function () {
      var o = cartesianOptions(fmtCalls, function (items) {
        if (!items.length) { return ""; }
        var h = items[0].dataIndex;
        return dateBr(state.to) + " " + two(h) + ":00 às " + two(h) + ":59";
      });
      o.scales.y.ticks.precision = 0;
      return o;
    })(),
    plugins: [htmlLegend]
  });
  charts["consumo-reais"] = seriesChart("consumo-reais", "line", "cost", fmtMoney, false);
  charts["consumo-minutos"] = seriesChart("consumo-minutos", "line", "minutes", fmtMinutes, false);
  charts.ligacoes = seriesChart("ligacoes", "bar", "calls", fmtCalls, true);
  charts.uf = new Chart(canvasOf("uf"), {
    type: "pie",
    data: {
      labels: data.ufs.map(function (u) { return u.uf; }),
      datasets: [{
        label: "Chamadas",
        data: [],
        backgroundColor: data.ufs.map(function (u) { return u.color; }),
        borderColor: "#ffffff"
      }]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          enabled: false,
          external: externalTooltip,
          callbacks: {
            title: function () { return dateBr(state.from) + " a " + dateBr(state.to); },
            label: function (ctx) {
              var total = ctx.dataset.data.reduce(function (sum, v, i) {
                return ctx.chart.getDataVisibility(i) ? sum + v : sum;
              }, 0);
              var share = total ? ctx.parsed / total : 0;
              return ctx.label + ": " + fmtCalls(ctx.parsed) + " chamadas (" + percent.format(share) + ")";
            }
          }
        }
      }
    },
    plugins: [htmlLegend]
  });

  // -- applying a period ------------------------------------------------------------------------
  function apply() {
    var dates = daysBetween(state.from, state.to);
    [["consumo-reais", "cost"], ["consumo-minutos", "minutes"], ["ligacoes", "calls"]].forEach(function (pair) {
      var chart = charts[pair[0]];
      chart.data.labels = dates;
      chart.data.datasets.forEach(function (dataset) {
        dataset.data = dates.map(function (d) {
          var row = daily[d + "|" + dataset.typeKey];
          return row ? row[pair[1]] : 0;
        });
      });
      chart.update();
    });
    charts.simultaneas.data.datasets[0].data = Array.from({ length: 24 }, function (_, h) {
      return (peaks[state.to] || [])[h] || 0;
    });
    charts.simultaneas.update();
    document.querySelector('[data-chart="simultaneas"] [data-chart-note]').textContent =
      "24 horas de " + dateBr(state.to) + ", a última data do período";
    var byUf = {};
    Object.keys(data.by_uf).forEach(function (date) {
      if (date < state.from || date > state.to) { return; }
      var day = data.by_uf[date];
      Object.keys(day).forEach(function (uf) { byUf[uf] = (byUf[uf] || 0) + day[uf]; });
    });
    charts.uf.data.datasets[0].data = data.ufs.map(function (u) { return byUf[u.uf] || 0; });
    charts.uf.update();
    periodText.textContent = dateBr(state.from) + " a " + dateBr(state.to);
    document.body.dataset.period = state.from + "/" + state.to;
  }

  function onPeriodChange() {
    var from = inputFrom.value;
    var to = inputTo.value;
    var problem = "";
    if (!validDate(from) || !validDate(to)) {
      problem = "Escolha datas entre " + dateBr(data.from) + " e " + dateBr(data.to) + ".";
    } else if (from > to) {
      problem = "A data inicial é posterior à final.";
    }
    periodError.textContent = problem;
    periodError.hidden = !problem;
    if (problem) { return; }
    state.from = from;
    state.to = to;
    history.replaceState(null, "", "#de=" + from + "&ate=" + to);
    apply();
  }

  inputFrom.addEventListener("change", onPeriodChange);
  inputTo.addEventListener("change", onPeriodChange);
  document.getElementById("periodo").addEventListener("submit", function (event) {
    event.preventDefault();
    onPeriodChange();
  });

  // -- Refresh and Expandir ---------------------------------------------------------------------
  document.getElementById("refresh").addEventListener("click", function () { window.location.reload(); });
  var expand = document.getElementById("expandir");
  if (!document.fullscreenEnabled) {
    expand.disabled = true;
    expand.title = "Tela cheia indisponível neste navegador";
  }
  expand.addEventListener("click", function () {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else {
      document.documentElement.requestFullscreen().catch(function () {
        expand.title = "O navegador recusou a tela cheia";
      });
    }
  });
  document.addEventListener("fullscreenchange", function () {
    var full = !!document.fullscreenElement;
    expand.textContent = full ? "Sair da tela cheia" : "Expandir";
    document.body.classList.toggle("fullscreen", full);
  });

  apply();
  window.pabxDashboard = { charts: charts, state: state, apply: apply };
})();
