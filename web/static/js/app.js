/* Aftersales BPM — small progressive enhancements; every page works without this file. */
(function () {
  "use strict";

  // Forms marked data-once: disable the submit buttons after the first submit (no double completion).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });

  // Character counters under text areas with a maxlength.
  document.querySelectorAll("textarea[data-counter][maxlength]").forEach(function (area) {
    var max = parseInt(area.getAttribute("maxlength"), 10);
    var out = document.createElement("span");
    out.className = "counter";
    out.setAttribute("aria-hidden", "true");
    var help = area.nextElementSibling;
    if (help && help.classList.contains("help")) { help.prepend(out); } else { area.insertAdjacentElement("afterend", out); }
    function update() {
      out.textContent = area.value.length + " / " + max;
      out.classList.toggle("near", area.value.length > max * 0.9);
    }
    area.addEventListener("input", update);
    update();
  });

  // Registration: the SO# is required only for a quality complaint (§4.2).
  var kind = document.querySelector("select[data-kind-select]");
  if (kind) {
    var marks = document.querySelectorAll("[data-required-for]");
    var sync = function () {
      marks.forEach(function (m) { m.classList.toggle("is-off", m.getAttribute("data-required-for") !== kind.value); });
    };
    kind.addEventListener("change", sync);
    sync();
  }

  // After a failed submit, bring the error summary into view for keyboard and screen-reader users.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
