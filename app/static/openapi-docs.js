// Swagger UI on this app's own document; the key typed into "Authorize" is the one the web app keeps.
(function () {
  var init = document.getElementById("docs-init");
  var ui = SwaggerUIBundle({
    url: init.dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: false,
    onComplete: function () {
      var key = localStorage.getItem("gems.apiKey") || sessionStorage.getItem("gems.apiKey");
      if (key) { ui.preauthorizeApiKey("ApiKey", key); }
    },
  });
  window.ui = ui;
})();
