// The new-job form: list the samples under the prefix (GET /samples), then POST /job with the key.
(function () {
  "use strict";
  var form, lookups = 0;

  function value(name) {
    var input = form.querySelector('[name="' + name + '"]');
    return input ? input.value.trim() : "";
  }

  function findSamples() {
    gems.clearErrors(form);
    var state = document.getElementById("samples-state");
    var list = document.getElementById("samples-list");
    list.textContent = "";
    state.textContent = "Looking under the prefix…";
    var ticket = ++lookups;  // only the latest lookup may fill the list
    var url = form.dataset.samplesUrl + "?bucket=" + encodeURIComponent(value("bucket")) + "&prefix=" + encodeURIComponent(value("prefix"));
    return gems.api("GET", url).then(function (found) {
      if (ticket !== lookups) { return; }
      state.textContent = found.count + " sample" + (found.count === 1 ? "" : "s") + " under s3://" + found.bucket + "/" + found.prefix;
      found.samples.forEach(function (s) {
        var id = "sample-" + s.name.replace(/[^A-Za-z0-9_-]/g, "_");
        var box = gems.el("input", { type: "checkbox", id: id, name: "sample", value: s.name, checked: "checked" });
        list.appendChild(gems.el("label", { "for": id, "class": "check" }, [
          box, gems.el("span", { text: " " + s.name }),
          gems.el("span", { "class": "muted", text: " — " + s.pairs + " pair" + (s.pairs === 1 ? "" : "s") + ", " + (s.size / 1048576).toFixed(1) + " MB" }),
        ]));
      });
      // Pairs whose names cannot be a sample (POST /job refuses them): said, never offered.
      (found.skipped || []).forEach(function (s) {
        list.appendChild(gems.el("p", { "class": "muted skipped", text: "Skipped " + s.name + ": " + s.reason }));
      });
    }).catch(function (err) {
      if (ticket !== lookups) { return; }
      state.textContent = "";
      gems.showError(form, err);
    });
  }

  function body() {
    var out = { bucket: value("bucket"), prefix: value("prefix") };
    var hla = form.querySelector('[name="hla_class"]:checked');
    out.hla_class = hla ? parseInt(hla.value, 10) : null;
    var boxes = form.querySelectorAll('[name="sample"]');
    if (boxes.length) {
      out.samples = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).map(function (b) { return b.value; });
    }
    if (value("workers")) { out.workers = Number(value("workers")); }
    if (value("reference")) { out.reference = value("reference"); }
    var options = {};
    ["annotation", "targets"].forEach(function (k) { if (value("options." + k)) { options[k] = value("options." + k); } });
    if (value("options.threads")) { options.threads = Number(value("options.threads")); }
    if (form.querySelector('[name="options.trim"]').checked) { options.trim = true; }
    if (Object.keys(options).length) { out.options = options; }
    return out;
  }

  function submit(event) {
    event.preventDefault();
    gems.clearErrors(form);
    var payload = body();
    if (payload.samples && !payload.samples.length) {
      gems.showError(form, { body: { field: "samples", message: "tick at least one sample" } });
      return;
    }
    var button = document.getElementById("launch");
    button.disabled = true;
    gems.api("POST", gems.url("/job"), payload).then(function (job) {
      window.location.href = gems.url("/jobs/") + encodeURIComponent(job.session_key);
    }).catch(function (err) {
      button.disabled = false;
      gems.showError(form, err);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("job-form");
    document.getElementById("find-samples").addEventListener("click", findSamples);
    form.addEventListener("submit", submit);
    // With a key and a prefix already there (the embedded stack's demo), list the samples at once.
    if (gems.getKey() && value("bucket") && value("prefix")) { findSamples(); }
  });
})();
