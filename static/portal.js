// Enhancements only: every flow of the page works without this file.
(function () {
  "use strict";
  var doc = document;

  function enhance(root) {
    // Show-password switches need JavaScript, so only JavaScript adds them.
    root.querySelectorAll("input[type=password]").forEach(function (field) {
      var owner = field.closest("[data-show]");
      if (!owner) return;
      var label = doc.createElement("label");
      var box = doc.createElement("input");
      label.className = "show";
      box.type = "checkbox";
      label.append(box, owner.getAttribute("data-show"));
      field.parentNode.append(label);
      box.addEventListener("change", function () {
        field.type = box.checked ? "text" : "password";
      });
    });
    // "Other network": only the fields the chosen security needs, and those required.
    root.querySelectorAll("select[name=security]").forEach(function (select) {
      var form = select.form;
      function update() {
        var option = select.options[select.selectedIndex];
        var needs = (option.getAttribute("data-fields") || "").split(" ");
        form.querySelectorAll("[data-field]").forEach(function (block) {
          var on = needs.indexOf(block.getAttribute("data-field")) >= 0;
          var input = block.querySelector("input:not([type=checkbox])");
          block.hidden = !on;
          input.disabled = !on;
          input.required = on;
        });
        var hint = form.querySelector(".f-pw small");
        if (hint) hint.textContent = option.getAttribute("data-hint");
        // The chosen security's password rule, as the listed networks carry it in their markup.
        var password = form.querySelector("input[name=passphrase]");
        ["minlength", "maxlength", "pattern"].forEach(function (rule) {
          var value = option.getAttribute("data-" + rule);
          if (value) password.setAttribute(rule, value);
          else password.removeAttribute(rule);
        });
      }
      select.addEventListener("change", update);
      update();
    });
    // An SSID is limited in bytes, which maxlength cannot count.
    root.querySelectorAll("input[data-max-bytes]").forEach(function (input) {
      var max = Number(input.getAttribute("data-max-bytes"));
      input.addEventListener("input", function () {
        var size = new TextEncoder().encode(input.value).length;
        input.setCustomValidity(size > max ? input.getAttribute("data-too-long") : "");
      });
    });
  }

  // Scan again without leaving the page: ask for a scan, then take the new list from "/".
  function liveRescan(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      var label = button.textContent;
      button.disabled = true;
      button.textContent = form.getAttribute("data-busy");
      fetch("/rescan", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"})
        .then(function (response) {
          // A failed scan goes the form's way, whose answer page says why.
          if (!response.ok) throw new Error(response.statusText);
          return fetch("/", {headers: {Accept: "text/html"}});
        })
        .then(function (response) {
          if (!response.ok) throw new Error(response.statusText);
          return response.text();
        })
        .then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.getElementById("networks");
          var list = doc.getElementById("networks");
          list.replaceWith(fresh);
          enhance(fresh);
          button.disabled = false;
          button.textContent = label;
        })
        .catch(function () {
          form.submit();
        });
    });
  }

  // After a submission: follow the flow; when the hotspot is back after a failure, show why.
  function follow(live) {
    var left = false;
    function again(delay) {
      setTimeout(tick, delay);
    }
    function tick() {
      fetch(live.getAttribute("data-poll"), {cache: "no-store"})
        .then(function (response) {
          return response.json();
        })
        .then(function (status) {
          if (status.state === "connecting" || status.state === "checking") {
            left = true;
          } else if (status.state === "connected") {
            live.textContent = live.getAttribute("data-connected");
            return;
          } else if (left) {
            location.href = "/";
            return;
          }
          again(2000);
        }, function () {
          left = true;
          live.textContent = live.getAttribute("data-lost");
          again(3000);
        });
    }
    tick();
  }

  enhance(doc);
  doc.querySelectorAll("form.rescan").forEach(liveRescan);
  var live = doc.getElementById("live");
  if (live) follow(live);
})();
