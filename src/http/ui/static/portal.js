// autoprov portal: progressive enhancement only; every page works without this file.
// - <input data-autosubmit>: its form is sent when typing pauses (search as you type).
// - <select data-autosubmit>: its form is sent when the choice changes.
// - <form data-confirm="question">: asks before sending.
(function () {
  "use strict";
  document.querySelectorAll("input[data-autosubmit]").forEach(function (input) {
    var timer = null;
    var last = input.value;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (input.value !== last && input.form) {
          last = input.value;
          input.form.requestSubmit();
        }
      }, 400);
    });
    // Keep the caret in the search field after the page comes back.
    if (input.value) {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }
  });
  // <select data-autosubmit>: its form is sent when the choice changes (the site picker).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) {
        select.form.requestSubmit();
      }
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
