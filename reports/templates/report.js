// The report's only script, inlined into report.html: the atom explorer (search, service
// filter, pages), the finding filters, and opening cards. Text from the analysed code is
// only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";
  var PAGE = 100;
  var data = JSON.parse(document.getElementById("atoms-data").textContent);
  var search = document.getElementById("search");
  var byService = document.getElementById("filter-service");
  var byKind = document.getElementById("filter-kind");
  var bySeverity = document.getElementById("filter-severity");
  var rows = document.getElementById("atom-rows");
  var counter = document.getElementById("atom-count");
  var pageLabel = document.getElementById("atom-page");
  var prev = document.getElementById("atoms-prev");
  var next = document.getElementById("atoms-next");
  var matches = [];
  var page = 0;

  function serviceName(i) { return i < 0 ? "shared" : data.services[i]; }
  function serviceKey(i) { return i < 0 ? "shared" : String(i); }
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }

  // -- atoms ----------------------------------------------------------------------------
  function filterAtoms() {
    var query = search.value.trim().toLowerCase();
    var service = byService.value;
    matches = data.atoms.filter(function (atom) {
      if (service && serviceKey(atom[1]) !== service) { return false; }
      if (!query) { return true; }
      return atom[0].toLowerCase().indexOf(query) >= 0 ||
        serviceName(atom[1]).toLowerCase().indexOf(query) >= 0;
    });
    page = 0;
    drawAtoms();
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function drawAtoms() {
    var pages = Math.max(1, Math.ceil(matches.length / PAGE));
    page = Math.min(page, pages - 1);
    var shown = matches.slice(page * PAGE, (page + 1) * PAGE);
    var body = document.createDocumentFragment();
    shown.forEach(function (atom) {
      var tr = document.createElement("tr");
      tr.className = "atom-row";
      var code = document.createElement("code");
      code.textContent = atom[0];
      cell(tr, "").appendChild(code);
      var td = cell(tr, "");
      var link = document.createElement(atom[1] < 0 ? "span" : "a");
      if (atom[1] >= 0) {
        link.href = "#service-" + atom[1];
        td.style.borderLeft = "5px solid " + data.colors[atom[1]];
      }
      link.textContent = serviceName(atom[1]);
      td.appendChild(link);
      cell(tr, atom[2] === null ? "n/a" : atom[2].toFixed(2), "num");
      cell(tr, atom[3], "small muted");
      cell(tr, atom[4].join("; "), "small");
      body.appendChild(tr);
    });
    rows.textContent = "";
    rows.appendChild(body);
    counter.textContent = matches.length + " of " + data.atoms.length + " atoms match" +
      (matches.length > PAGE ? "; showing " + (page * PAGE + 1) + "–" +
        (page * PAGE + shown.length) : "");
    pageLabel.textContent = "page " + (page + 1) + " of " + pages;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  prev.addEventListener("click", function () { page -= 1; drawAtoms(); });
  next.addEventListener("click", function () { page += 1; drawAtoms(); });

  // -- service cards, findings, tables -----------------------------------------------------
  function filterCards() {
    var query = search.value.trim().toLowerCase();
    var service = byService.value;
    all("details.service").forEach(function (card) {
      card.hidden = Boolean(service) && card.getAttribute("data-svc") !== service;
    });
    all("tr.member").forEach(function (tr) {
      tr.hidden = Boolean(query) && tr.getAttribute("data-atom").indexOf(query) < 0;
    });
    all("table.extraction tr[data-svc], table.service-metrics tr[data-svc]").forEach(function (tr) {
      tr.hidden = Boolean(service) && tr.getAttribute("data-svc") !== service;
    });
  }

  function filterFindings() {
    var service = byService.value;
    var kind = byKind.value;
    var severity = bySeverity.value;
    var visible = 0;
    all("details.group").forEach(function (group) {
      var shown = 0;
      group.querySelectorAll("details.finding").forEach(function (finding) {
        var services = (finding.getAttribute("data-svc") || "").split(" ");
        var ok = (!kind || finding.getAttribute("data-kind") === kind) &&
          (!severity || finding.getAttribute("data-severity") === severity) &&
          (!service || services.indexOf(service) >= 0);
        finding.hidden = !ok;
        if (ok) { shown += 1; }
      });
      group.hidden = shown === 0;
      visible += shown;
    });
    document.getElementById("findings-empty").hidden = visible > 0;
  }

  function apply() { filterAtoms(); filterCards(); filterFindings(); }

  search.addEventListener("input", function () { filterAtoms(); filterCards(); });
  byService.addEventListener("change", apply);
  byKind.addEventListener("change", filterFindings);
  bySeverity.addEventListener("change", filterFindings);

  // -- opening cards ------------------------------------------------------------------------
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    while (target) {
      if (target.tagName === "DETAILS") { target.open = true; }
      target = target.parentElement;
    }
  }
  window.addEventListener("hashchange", openTarget);
  document.getElementById("expand-all").addEventListener("click", function () {
    all("details.card, details.group").forEach(function (d) { d.open = true; });
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    all("details.card, details.inner").forEach(function (d) { d.open = false; });
  });
  // Service boxes on the map (svg ids map_s<i>) lead to their cards.
  all("svg g[id^='map_s']").forEach(function (box) {
    box.addEventListener("click", function (event) {
      event.preventDefault();
      location.hash = "service-" + box.id.slice("map_s".length);
    });
  });

  apply();
  openTarget();
})();
