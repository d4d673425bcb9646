// The prediction form: gene rows with autocomplete (GET /predict/genes), POST /predict with the
// key, the answer as a bar chart; or the gene rows filled from a finished sample's variants.
(function () {
  "use strict";
  var form, rows, template, vocab = null, timer = null;

  function renumber() {
    Array.prototype.forEach.call(rows.children, function (li, i) {
      [["gene", "gene"], ["vclass", "variant_class"], ["protein", "protein_change"]].forEach(function (pair) {
        var input = li.querySelector("." + pair[0]);
        var id = "m" + i + "-" + pair[1];
        var name = "mutations." + i + "." + pair[1];
        input.id = id;
        input.name = name;
        var field = input.closest(".field");
        field.querySelector("label").setAttribute("for", id);
        var error = field.querySelector(".field-error");
        error.id = id + "-error";
        error.setAttribute("data-error-for", name);
        input.setAttribute("aria-describedby", error.id);
      });
      li.querySelector(".remove").setAttribute("aria-label", "Remove gene " + (i + 1));
    });
  }

  function fillSelect(select, values) {
    values.forEach(function (v) { select.appendChild(gems.el("option", { value: v, text: v.replace(/_/g, " ") })); });
  }

  function addRow(mutation) {
    var li = template.content.firstElementChild.cloneNode(true);
    if (vocab) { fillSelect(li.querySelector(".vclass"), vocab.variant_classes); }
    rows.appendChild(li);
    renumber();
    if (mutation) {
      li.querySelector(".gene").value = mutation.gene || "";
      li.querySelector(".vclass").value = mutation.variant_class || "";
      li.querySelector(".protein").value = mutation.protein_change || "";
    }
    li.querySelector(".remove").addEventListener("click", function () {
      li.remove();
      if (!rows.children.length) { addRow(); }
      renumber();
      var first = rows.querySelector(".gene");
      if (first) { first.focus(); }
    });
    li.querySelector(".gene").addEventListener("input", suggest);
    return li;
  }

  function suggest(event) {
    var q = event.target.value.trim();
    clearTimeout(timer);
    if (!q) { return; }
    timer = setTimeout(function () {
      gems.api("GET", form.dataset.genesUrl + "?q=" + encodeURIComponent(q) + "&limit=20").then(function (answer) {
        var list = document.getElementById("gene-options");
        list.textContent = "";
        answer.genes.forEach(function (g) { list.appendChild(gems.el("option", { value: g })); });
      }).catch(function () { /* suggestions are a convenience; the API still checks every symbol */ });
    }, 150);
  }

  function body() {
    var out = { top: 5 };
    var mutations = [];
    Array.prototype.forEach.call(rows.children, function (li) {
      var gene = li.querySelector(".gene").value.trim();
      if (!gene) { return; }
      var m = { gene: gene };
      var cls = li.querySelector(".vclass").value;
      var protein = li.querySelector(".protein").value.trim();
      if (cls) { m.variant_class = cls; }
      if (protein) { m.protein_change = protein; }
      mutations.push(m);
    });
    if (mutations.length) { out.mutations = mutations; }
    var age = form.querySelector('[name="age_at_diagnosis"]').value;
    if (age !== "") { out.age_at_diagnosis = Number(age); }
    ["sex", "race"].forEach(function (k) { var v = form.querySelector('[name="' + k + '"]').value; if (v) { out[k] = v; } });
    var prior = form.querySelector('[name="prior_malignancy"]').value;
    if (prior) { out.prior_malignancy = prior === "true"; }
    var silent = form.querySelector('[name="n_silent"]').value;
    if (silent !== "") { out.n_silent = Number(silent); }
    return out;
  }

  function chart(prediction) {
    var el = gems.el;
    var items = prediction.top.map(function (t) {
      var pct = (100 * t.probability).toFixed(1) + "%";
      return el("li", { "class": "bar-row" }, [
        el("span", { "class": "bar-label", text: t.site }),
        el("span", { "class": "bar-track", "aria-hidden": "true" }, [el("span", { "class": "bar", style: "width: " + Math.max(0.5, 100 * t.probability) + "%" })]),
        el("span", { "class": "bar-value", text: pct }),
      ]);
    });
    return el("ol", { "class": "chart", "aria-label": "Top sites with their probabilities" }, items);
  }

  // The flag says whether the calibrated top probability reaches the model's threshold; a model
  // without calibration answers null and the line stays hidden.
  function showConfidence(p, threshold) {
    var line = document.getElementById("confidence");
    line.className = "confidence";
    if (p.confident === true || p.confident === false) {
      var pct = (100 * threshold).toFixed(0) + "%";
      line.classList.add(p.confident ? "confident" : "not-confident");
      line.textContent = p.confident
        ? "Confident: the top site's calibrated probability is at least " + pct + "."
        : "Not confident: no site reaches " + pct + "; read the ranking as a shortlist.";
      line.hidden = false;
    } else {
      line.hidden = true;
    }
  }

  function submit(event) {
    event.preventDefault();
    gems.clearErrors(form);
    var state = document.getElementById("answer-state");
    var holder = document.getElementById("chart");
    state.textContent = "Asking the model…";
    gems.api("POST", gems.url("/predict"), body()).then(function (answer) {
      var p = answer.predictions[0];
      holder.textContent = "";
      holder.appendChild(chart(p));
      state.textContent = "Most likely: " + p.top[0].site + " (" + (100 * p.top[0].probability).toFixed(1) + "%)." +
        (p.not_given && p.not_given.length ? " Not given, so averaged over: " + p.not_given.join(", ").replace(/_/g, " ") + "." : "");
      showConfidence(p, answer.confident_threshold);
      document.getElementById("model-version").textContent = "Model version " + answer.model_version + " · served by " + answer.served_by;
      var note = document.getElementById("answer-note");
      note.textContent = answer.note;
      note.hidden = false;
    }).catch(function (err) {
      state.textContent = "No prediction: see the message next to the field.";
      holder.textContent = "";
      gems.showError(form, err);
      if (!(err.body && err.body.field)) { state.textContent = err.message; }
    });
  }

  function fromJob(event) {
    event.preventDefault();
    var jobForm = document.getElementById("from-job");
    var state = document.getElementById("from-job-state");
    gems.clearErrors(jobForm);
    var key = jobForm.querySelector('[name="session_key"]').value.trim();
    var sample = jobForm.querySelector('[name="sample"]').value.trim();
    if (!key) { gems.showError(jobForm, { body: { field: "session_key", message: "give the job's key" } }); return; }
    if (!sample) { gems.showError(jobForm, { body: { field: "sample", message: "give a finished sample of that job" } }); return; }
    state.textContent = "Reading the sample's variants…";
    gems.api("GET", gems.url("/job/") + encodeURIComponent(key) + "/samples/" + encodeURIComponent(sample) + "/mutations").then(function (answer) {
      rows.textContent = "";
      answer.mutations.forEach(function (m) { addRow(m); });
      if (!answer.mutations.length) { addRow(); }
      form.querySelector('[name="n_silent"]').value = answer.n_silent;
      state.textContent = "Loaded " + answer.mutations.length + " coding variant(s) of " + sample + "; " +
        answer.n_silent + " silent, " + answer.not_counted + " non-coding or filtered not counted" +
        (answer.not_in_model.length ? "; genes the model does not know left out: " + answer.not_in_model.join(", ") : "") + "." +
        (answer.warning ? " " + answer.warning : "");
    }).catch(function (err) {
      state.textContent = "";
      gems.showError(jobForm, err);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("predict-form");
    rows = document.getElementById("mutations");
    template = document.getElementById("mutation-row");
    addRow();
    document.getElementById("add-gene").addEventListener("click", function () { addRow().querySelector(".gene").focus(); });
    form.addEventListener("submit", submit);
    document.getElementById("from-job").addEventListener("submit", fromJob);
    gems.api("GET", form.dataset.genesUrl + "?limit=1").then(function (answer) {
      vocab = answer;
      fillSelect(document.getElementById("sex"), answer.sexes);
      fillSelect(document.getElementById("race"), answer.races);
      rows.querySelectorAll(".vclass").forEach(function (s) { fillSelect(s, answer.variant_classes); });
      form.dataset.ready = "true";
    }).catch(function (err) {
      document.getElementById("answer-state").textContent = "The model's gene list is not available: " + err.message;
    }).then(function () {
      var jobForm = document.getElementById("from-job");
      if (jobForm.querySelector('[name="session_key"]').value && jobForm.querySelector('[name="sample"]').value && gems.getKey()) {
        fromJob(new Event("submit"));
      }
    });
  });
})();
