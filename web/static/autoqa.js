// Machine suggestions on the scorecard form (机器建议): accept one or all, mark overrides.
// ``QaAutoqa.init()`` binds the form now on the page (again after the next call is swapped in).
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("score-form");
    if (!form) { return; }
    var boxes = Array.prototype.slice.call(form.querySelectorAll(".machine"));

    function field(name) { return form.elements.namedItem(name); }

    function differs(box) {
      var code = box.dataset.code;
      if (box.dataset.redline === "1") {
        var cb = field("violated_" + code);
        return cb ? cb.checked !== (box.dataset.violated === "1") : false;
      }
      var na = field("na_" + code), input = field("score_" + code);
      if (na && na.checked) { return true; }
      if (!input || input.value.trim() === "") { return false; }
      return Math.abs(parseFloat(input.value) - parseFloat(box.dataset.score)) > 1e-9;
    }

    function mark() {
      boxes.forEach(function (box) {
        var over = differs(box), reason = field("reason_" + box.dataset.code);
        box.classList.toggle("overridden", over);
        if (reason) { reason.required = over; }
      });
    }

    function accept(box) {
      var code = box.dataset.code;
      var cb = field("violated_" + code), input = field("score_" + code), na = field("na_" + code);
      if (cb) { cb.checked = box.dataset.violated === "1"; }
      if (input) { input.value = box.dataset.score; }
      if (na) { na.checked = false; }
      var reason = field("reason_" + code);
      if (reason) { reason.value = ""; }
      box.classList.add("accepted");
    }

    form.addEventListener("click", function (ev) {
      var one = ev.target.closest(".accept-suggestion");
      if (one) {
        var box = document.getElementById("machine-" + one.dataset.code);
        if (box) { accept(box); }
        mark();
      }
      if (ev.target.closest("#accept-all")) { boxes.forEach(accept); mark(); }
    });
    form.addEventListener("input", mark);
    form.addEventListener("change", mark);
    mark();
  }
  window.QaAutoqa = { init: init };
  init();
}());
