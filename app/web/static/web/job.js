// A job page: the workers section refreshes (server-rendered fragment) while the job runs, and the
// results (pre-signed links, reports, step timings) load with the user's key as samples finish.
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var section, key, lastFinished = -1;

  function finishedCount() {
    return section.querySelectorAll('tr[data-status="COMPLETE"], tr[data-status="FAILED"]').length;
  }

  function isActive() {
    var summary = document.getElementById("job-summary");
    return !summary || summary.dataset.active === "true";
  }

  function refresh() {
    var headers = { "Accept": "text/html" };
    if (gems.getKey()) { headers["Authorization"] = "Bearer " + gems.getKey(); }
    fetch(section.dataset.fragment, { headers: headers }).then(function (r) {
      if (!r.ok) { throw new Error("could not refresh the job (HTTP " + r.status + ")"); }
      return r.text();
    }).then(function (html) {
      section.innerHTML = html;
      gems.fills(section);
      after();
    }).catch(function (err) {
      document.getElementById("job-message").textContent = err.message;
      setTimeout(refresh, EVERY_MS * 3);
    });
  }

  function after() {
    var active = isActive();
    document.getElementById("stop-job").hidden = !active;
    var done = finishedCount();
    if (done !== lastFinished) { lastFinished = done; loadResults(); }
    document.getElementById("job-message").textContent = active ? "Refreshing every few seconds while the job runs." : "";
    if (active) { setTimeout(refresh, EVERY_MS); }
  }

  function size(n) {
    if (n >= 1048576) { return (n / 1048576).toFixed(1) + " MB"; }
    if (n >= 1024) { return (n / 1024).toFixed(1) + " kB"; }
    return n + " B";
  }

  function stepsTable(sample, steps) {
    var el = gems.el;
    if (!steps || !steps.length) { return null; }
    var rows = steps.map(function (s) {
      return el("tr", {}, [
        el("th", { scope: "row", text: s.step }),
        el("td", { text: s.status || "" }),
        el("td", { "class": "num", text: s.seconds != null ? Number(s.seconds).toFixed(1) + " s" : "" }),
        el("td", { text: s.reason || "" }),
      ]);
    });
    return el("table", { "class": "steps" }, [
      el("caption", { text: "Steps of " + sample }),
      el("thead", {}, [el("tr", {}, ["Step", "Status", "Time", "Note"].map(function (h) {
        return el("th", { scope: "col", "class": h === "Time" ? "num" : "", text: h });
      }))]),
      el("tbody", {}, rows),
    ]);
  }

  function renderResults(results, reports) {
    var el = gems.el;
    var list = document.getElementById("results-list");
    var state = document.getElementById("results-state");
    var samples = Object.keys(results.samples || {}).sort();
    list.textContent = "";
    state.textContent = samples.length ? "Links are valid for an hour." : "No result files yet.";
    if (reports.multiqc_url) {
      list.appendChild(el("p", { "class": "actions" }, [el("a", { "class": "button report-link", id: "multiqc-link", href: reports.multiqc_url, target: "_blank", rel: "noopener", text: "Open the job's QC report (MultiQC)" })]));
    }
    samples.forEach(function (sample) {
      var files = results.samples[sample];
      var report = (reports.samples || {})[sample] || {};
      var links = [];
      if (report.report_url) {
        links.push(el("a", { "class": "button report-link", href: report.report_url, target: "_blank", rel: "noopener", text: "Open report" }));
      }
      if (files.some(function (f) { return f.name === "variants.tsv"; })) {
        links.push(el("a", { "class": "button secondary", href: gems.url("/predict/form?job=") + encodeURIComponent(section.dataset.sessionKey) + "&sample=" + encodeURIComponent(sample), text: "Predict from variants" }));
      }
      var items = files.map(function (f) {
        return el("li", {}, [el("a", { href: f.url, download: f.name, text: f.name }), el("span", { "class": "muted", text: " " + size(f.size) })]);
      });
      list.appendChild(el("article", { "class": "result", "data-sample": sample, "aria-label": "Results of " + sample }, [
        el("h3", { text: sample }),
        el("div", { "class": "actions" }, links),
        stepsTable(sample, report.steps),
        el("details", {}, [el("summary", { text: files.length + " files" }), el("ul", { "class": "files" }, items)]),
      ]));
    });
  }

  function fmt(v, digits) {
    if (v === null || v === undefined || v === "") { return "–"; }
    return typeof v === "number" && digits !== undefined ? v.toFixed(digits) : String(v);
  }

  function renderTable(t) {
    var el = gems.el;
    var body = document.getElementById("run-table-body");
    var state = document.getElementById("run-table-state");
    var genes = t.hla_genes || [];
    var head = ["Sample", "Status", "Read pairs", "Mapped", "Mean depth", "Variants (SNV / indel)", "Cost"].concat(
      genes.map(function (g) { return "HLA-" + g; }), ["Report"]);
    var rows = (t.samples || []).map(function (r) {
      var cells = [
        el("th", { scope: "row", text: r.sample }),
        el("td", { text: r.status + (r.reason ? ": " + r.reason : ""), "data-status": r.status }),
        el("td", { "class": "num", text: fmt(r.read_pairs) }),
        el("td", { "class": "num", text: r.mapping_rate == null ? "–" : (100 * r.mapping_rate).toFixed(1) + "%" }),
        el("td", { "class": "num", text: r.mean_coverage == null ? "–" : fmt(r.mean_coverage, 1) + "×" }),
        el("td", { "class": "num", text: r.variants == null ? "–" : r.variants + " (" + fmt(r.snvs) + " / " + fmt(r.indels) + ")" }),
        el("td", { "class": "num", text: r.cost_usd == null ? "–" : "$" + fmt(r.cost_usd, 4) }),
      ];
      genes.forEach(function (g) {
        var c = (r.hla || {})[g];
        var text = c && c.allele1 ? c.allele1 + " / " + (c.allele2 || "?") : "–";
        if (c && c.confidence != null) { text += " (" + fmt(c.confidence, 2) + ")"; }
        if (c && c.flag && c.flag !== "ok") { text += " " + c.flag; }
        cells.push(el("td", { text: text, "data-gene": g }));
      });
      cells.push(el("td", {}, [r.report_url ? el("a", { href: r.report_url, target: "_blank", rel: "noopener", text: "report" }) : el("span", { "class": "muted", text: "–" })]));
      return el("tr", { "data-sample": r.sample }, cells);
    });
    body.textContent = "";
    body.appendChild(el("table", { "class": "run-table" }, [
      el("caption", { text: "Each sample: status, figures and HLA types (confidence in brackets)" }),
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      el("tbody", {}, rows),
    ]));
    state.firstChild.textContent = rows.length ? "" : "No samples yet. ";
  }

  function downloadTsv(ev) {
    ev.preventDefault();
    var base = gems.url("/job/") + encodeURIComponent(section.dataset.sessionKey);
    fetch(base + "/summary.tsv", { headers: { "Authorization": "Bearer " + gems.getKey() } }).then(function (r) {
      if (!r.ok) { throw new Error("could not get summary.tsv (HTTP " + r.status + ")"); }
      return r.blob();
    }).then(function (blob) {
      var a = gems.el("a", { href: URL.createObjectURL(blob), download: "gems-" + section.dataset.sessionKey + "-summary.tsv" });
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(function (err) { document.getElementById("job-message").textContent = err.message; });
  }

  function loadResults() {
    var state = document.getElementById("results-state");
    if (!gems.getKey()) { state.textContent = "Enter your API key at the top of the page to see the results."; return; }
    var base = gems.url("/job/") + encodeURIComponent(section.dataset.sessionKey);
    Promise.all([gems.api("GET", base + "/results"), gems.api("GET", base + "/reports")]).then(function (answers) {
      renderResults(answers[0], answers[1]);
    }).catch(function (err) { state.textContent = err.message; });
    gems.api("GET", base + "/summary.json").then(function (t) {
      renderTable(t);
      document.getElementById("run-table-tsv").hidden = false;
    }).catch(function (err) { document.getElementById("run-table-state").firstChild.textContent = err.message + " "; });
  }

  function stop() {
    if (!window.confirm("Stop this job? Unfinished samples will not run.")) { return; }
    gems.api("POST", gems.url("/job/") + encodeURIComponent(section.dataset.sessionKey) + "/stop").then(function () {
      refresh();
    }).catch(function (err) { document.getElementById("job-message").textContent = err.message; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    section = document.getElementById("workers");
    document.getElementById("stop-job").addEventListener("click", stop);
    document.getElementById("run-table-tsv").addEventListener("click", downloadTsv);
    document.getElementById("run-table-tsv").href = "#";
    document.addEventListener("gems:key", function () { lastFinished = -1; refresh(); });
    if (!document.getElementById("job-summary")) { refresh(); return; }
    after();
  });
})();
