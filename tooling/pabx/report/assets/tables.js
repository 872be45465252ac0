/* List screens: search box and sortable columns (text, number and date aware). No dependencies. */
(function () {
  "use strict";

  var collator = new Intl.Collator("pt-BR", { numeric: true, sensitivity: "base" });

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function plural(n) {
    return n.toLocaleString("pt-BR") + (n === 1 ? " registro" : " registros");
  }

  function setup(section) {
    var table = section.querySelector("table");
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var search = section.querySelector("input[type=search]");
    var count = section.querySelector("[data-count]");
    var empty = section.querySelector("[data-empty]");
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var texts = rows.map(function (row) { return fold(row.textContent); });

    function filter() {
      var terms = fold(search.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, i) {
        var match = terms.every(function (term) { return texts[i].indexOf(term) >= 0; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      count.textContent = terms.length ? shown.toLocaleString("pt-BR") + " de " + plural(rows.length) : plural(rows.length);
      empty.hidden = shown > 0;
    }

    function key(row, index, kind) {
      var cell = row.cells[index];
      var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
      if (kind === "number") {
        var n = parseFloat(raw);
        return isNaN(n) ? Number.NEGATIVE_INFINITY : n;
      }
      return raw;
    }

    function sortBy(index) {
      var th = headers[index];
      var kind = th.getAttribute("data-type") || "text";
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var keyed = rows.map(function (row, i) { return { row: row, key: key(row, index, kind), i: i }; });
      keyed.sort(function (a, b) {
        var c;
        if (kind === "number") { c = a.key - b.key; }
        else if (kind === "date") { c = a.key < b.key ? -1 : a.key > b.key ? 1 : 0; }
        else { c = collator.compare(a.key, b.key); }
        if (!ascending) { c = -c; }
        return c || a.i - b.i;
      });
      var fragment = document.createDocumentFragment();
      keyed.forEach(function (item) { fragment.appendChild(item.row); });
      tbody.appendChild(fragment);
    }

    headers.forEach(function (th, index) {
      var button = th.querySelector("button");
      if (button) { button.addEventListener("click", function () { sortBy(index); }); }
    });
    search.addEventListener("input", filter);
    if (search.value) { filter(); }
  }

  document.querySelectorAll("[data-table]").forEach(setup);
})();
