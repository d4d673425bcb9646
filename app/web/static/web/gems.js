// Shared by every page: the API key kept in the browser, JSON calls, errors shown next to fields.
(function () {
  "use strict";
  var KEY = "gems.apiKey";

  function getKey() {
    return sessionStorage.getItem(KEY) || localStorage.getItem(KEY) || "";
  }

  function setKey(value, remember) {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
    if (value) { (remember ? localStorage : sessionStorage).setItem(KEY, value); }
  }

  // fetch() with the key; resolves to the parsed JSON, rejects with {status, body} on an error answer.
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    var key = getKey();
    if (key) { headers["Authorization"] = "Bearer " + key; }
    var init = { method: method, headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var read = type.indexOf("json") >= 0 ? response.json() : response.text();
      return read.then(function (data) {
        if (!response.ok) {
          var err = new Error((data && data.message) || ("HTTP " + response.status));
          err.status = response.status;
          err.body = typeof data === "object" ? data : { message: String(data) };
          throw err;
        }
        return data;
      });
    });
  }

  // Behind API Gateway the app lives under a stage (/prod): every hand-written path goes through here.
  function url(path) {
    return (document.body.dataset.root || "") + path;
  }

  function clearErrors(root) {
    root.querySelectorAll(".field-error").forEach(function (p) { p.textContent = ""; });
    root.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var box = root.querySelector(".error-box");
    if (box) { box.hidden = true; box.textContent = ""; }
  }

  // marshmallow's {"mutations": {"0": {"gene": ["..."]}}} -> {"mutations.0.gene": "..."}
  function flatten(messages, prefix, out) {
    Object.keys(messages || {}).forEach(function (k) {
      var v = messages[k], path = prefix ? prefix + "." + k : k;
      if (Array.isArray(v)) { out[path] = k === "_schema" ? v.join(" ") : path + ": " + v.join(" "); }
      else if (v && typeof v === "object") { flatten(v, path, out); }
      else { out[path] = path + ": " + String(v); }
    });
    return out;
  }

  // Put an API error next to the field it names (`field`), or in the form's error box; when the
  // API lists several invalid fields (details.fields), each goes next to its own input.
  function showError(root, err) {
    var body = err.body || {};
    var others = flatten((body.details || {}).fields, "", {});
    Object.keys(others).forEach(function (path) {
      if (path === body.field) { return; }
      var p = root.querySelector('[data-error-for="' + CSS.escape(path) + '"]');
      var i = root.querySelector('[name="' + CSS.escape(path) + '"]');
      if (p) { p.textContent = others[path]; }
      if (i) { i.setAttribute("aria-invalid", "true"); }
    });
    var field = body.field || "";
    var message = body.message || err.message || "something went wrong";
    var target = field ? root.querySelector('[data-error-for="' + CSS.escape(field) + '"]') : null;
    var input = field ? root.querySelector('[name="' + CSS.escape(field) + '"]') : null;
    if (!target && input) {
      var holder = input.closest(".field");
      target = holder && holder.querySelector(".field-error");
    }
    if (err.status === 401) {
      message += " — enter your API key at the top of the page.";
      var keyInput = document.getElementById("api-key");
      if (keyInput) { keyInput.setAttribute("aria-invalid", "true"); }
    }
    if (target) {
      target.textContent = message;
      if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
      return;
    }
    var box = root.querySelector(".error-box");
    if (box) { box.textContent = message; box.hidden = false; box.focus && box.focus(); }
    else { alert(message); }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "class") { node.className = attrs[k]; }
      // Through the CSSOM: the pages' CSP refuses style attributes written as markup.
      else if (k === "style") { node.style.cssText = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function badge(status) {
    return el("span", { "class": "badge s-" + String(status || "unknown").toLowerCase(), text: status || "—" });
  }

  function keyForm() {
    var form = document.getElementById("key-form");
    if (!form) { return; }
    var input = document.getElementById("api-key");
    var remember = document.getElementById("key-remember");
    var state = document.getElementById("key-state");
    function show() {
      var has = !!getKey();
      state.textContent = has ? "key saved" + (localStorage.getItem(KEY) ? " on this device" : " for this tab") : "no key";
      input.value = "";
      remember.checked = !!localStorage.getItem(KEY);
      input.placeholder = has ? "••••••••" : "paste your key";
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.value.trim()) { input.focus(); return; }
      setKey(input.value.trim(), remember.checked);
      input.removeAttribute("aria-invalid");
      show();
      document.dispatchEvent(new CustomEvent("gems:key"));
    });
    document.getElementById("key-forget").addEventListener("click", function () { setKey(""); show(); });
    show();
  }

  // Server-rendered progress bars carry their width in data-fill (a style attribute would break the CSP).
  function fills(root) {
    (root || document).querySelectorAll("[data-fill]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.fill) || 0)) + "%";
    });
  }

  window.gems = { url: url, getKey: getKey, setKey: setKey, api: api, clearErrors: clearErrors, showError: showError, el: el, badge: badge, fills: fills };
  document.addEventListener("DOMContentLoaded", function () { keyForm(); fills(document); });
})();
