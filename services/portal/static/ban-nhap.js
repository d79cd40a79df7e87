/* Autosave of the report form as the unit's draft (bản nháp), while the clerk types.
 *
 * Progressive enhancement: without this script the "Lưu bản nháp" button posts the form
 * and the page comes back. With it, the same form is posted in the background a moment
 * after the last keystroke, and the status line says when it was saved. No inline script:
 * the portal's Content-Security-Policy allows scripts from the portal itself only.
 */
(function () {
  "use strict";
  var DELAY_MS = 2000;
  var form = document.getElementById("bieu-mau");
  var status = document.getElementById("trang-thai-ban-nhap");
  if (!form || !status || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-draft-url");
  var timer = null;
  var saving = false;
  var pending = false;
  var sending = false;

  function show(text, kind) {
    status.textContent = text;
    status.className = "draft-status" + (kind ? " draft-status-" + kind : "");
  }

  function save() {
    timer = null;
    if (sending) {
      return;
    }
    if (saving) {
      pending = true;
      return;
    }
    saving = true;
    pending = false;
    show("Đang lưu bản nháp…", "");
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-Tu-Dong-Luu": "1" }
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          show(answer.text, answer.saved ? "ok" : "error");
        });
      })
      .catch(function () {
        show("Chưa lưu được bản nháp (mất kết nối); nội dung vẫn còn trên trang, hệ thống sẽ thử lại khi bạn nhập tiếp.", "error");
      })
      .then(function () {
        saving = false;
        if (pending) {
          schedule();
        }
      });
  }

  function schedule() {
    if (timer !== null) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(save, DELAY_MS);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function () {
    // Sending or a button's own save: no background save races with it.
    sending = true;
    if (timer !== null) {
      window.clearTimeout(timer);
    }
  });
})();
