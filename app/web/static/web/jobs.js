// The jobs list refreshes itself (GET /job) while any listed job is PENDING or RUNNING.
(function () {
  "use strict";
  var ACTIVE = { PENDING: 1, RUNNING: 1 };
  var EVERY_MS = 3000;

  function params() {
    var form = document.getElementById("job-filters");
    var data = new FormData(form);
    return { status: data.get("status") || "", bucket: (data.get("bucket") || "").trim(), since: data.get("since") || "", until: data.get("until") || "" };
  }

  function progress(job) {
    var done = 0, total = 0;
    (job.workers || []).forEach(function (w) {
      var parts = String(w.progress || "").split("/");
      done += parseInt(parts[0], 10) || 0;
      total += parseInt(parts[1], 10) || 0;
    });
    return [done, total];
  }

  // Same figure as the server renders (app.web.joblist.duration/ended).
  function elapsed(job) {
    var end = job.finished;
    if (!end && !ACTIVE[job.overall_status]) {
      end = (job.workers || []).map(function (w) { return w.updated || ""; }).sort().pop();
    }
    var a = Date.parse(job.created), b = end ? Date.parse(end) : Date.now();
    if (isNaN(a)) { return ""; }
    var s = Math.max(0, Math.floor((b - a) / 1000));
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (s >= 3600) { return Math.floor(s / 3600) + " h " + pad(Math.floor(s % 3600 / 60)) + " min"; }
    if (s >= 60) { return Math.floor(s / 60) + " min " + pad(s % 60) + " s"; }
    return s + " s";
  }

  function row(job) {
    var el = gems.el;
    var p = progress(job);
    var bar = el("div", { "class": "progress", role: "progressbar", "aria-label": "samples finished", "aria-valuemin": "0", "aria-valuemax": String(p[1]), "aria-valuenow": String(p[0]) },
      [el("div", { "class": "fill", style: "width: " + (p[1] ? (100 * p[0] / p[1]) : 0) + "%" })]);
    var created = String(job.created || "").replace("T", " ").replace("Z", "");
    return el("tr", { "data-status": job.overall_status }, [
      el("td", { "data-label": "Job" }, [el("a", { href: gems.url("/jobs/") + encodeURIComponent(job.session_key) }, [el("code", { text: job.session_key.slice(0, 12) })])]),
      el("td", { "data-label": "Status" }, [gems.badge(job.overall_status)]),
      el("td", { "data-label": "Bucket / prefix" }, [el("code", { text: job.bucket + "/" + job.prefix })]),
      el("td", { "data-label": "Created", text: created }),
      el("td", { "data-label": "Samples done" }, [bar, el("span", { "class": "muted", text: " " + p[0] + "/" + p[1] })]),
      el("td", { "data-label": "Time", text: elapsed(job) }),
    ]);
  }

  function render(jobs) {
    var body = document.getElementById("jobs-body");
    var f = params();
    jobs = jobs.filter(function (j) {
      var day = String(j.created || "").slice(0, 10);
      return (!f.since || day >= f.since) && (!f.until || day <= f.until);
    }).sort(function (a, b) { return String(b.created).localeCompare(String(a.created)); });
    body.textContent = "";
    if (!jobs.length) {
      body.appendChild(gems.el("tr", { "class": "empty" }, [gems.el("td", { colspan: "6", text: "No jobs match." })]));
    }
    jobs.forEach(function (j) { body.appendChild(row(j)); });
    return jobs.some(function (j) { return ACTIVE[j.overall_status]; });
  }

  function refresh() {
    var f = params();
    var q = [];
    if (f.status) { q.push("status=" + encodeURIComponent(f.status)); }
    if (f.bucket) { q.push("bucket=" + encodeURIComponent(f.bucket)); }
    var state = document.getElementById("jobs-state");
    gems.api("GET", gems.url("/job") + (q.length ? "?" + q.join("&") : "")).then(function (jobs) {
      var active = render(jobs);
      state.textContent = active ? "Refreshing every few seconds while jobs run." : "Updated " + new Date().toLocaleTimeString() + ".";
      if (active) { setTimeout(refresh, EVERY_MS); }
    }).catch(function (err) {
      state.textContent = err.message;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.getElementById("jobs-body");
    var active = body.querySelector('tr[data-status="PENDING"], tr[data-status="RUNNING"]');
    if (active || body.dataset.needsKey === "true") { setTimeout(refresh, active ? EVERY_MS : 0); }
    document.addEventListener("gems:key", refresh);
  });
})();
