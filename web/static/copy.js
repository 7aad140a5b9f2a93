// Copy buttons: a <button data-copy="#id" hidden> copies the text of the
// element #id (or its data-copy-text) to the clipboard and says so. The
// buttons start hidden, so a page without JavaScript shows none.
(function () {
  "use strict";

  // say is one of the script's words in the page's language: the layout
  // puts them on <body> as data-t-*; the English is the fallback.
  function say(key, fallback) {
    return (document.body && document.body.getAttribute("data-t-" + key)) || fallback;
  }

  function init() {
    document.querySelectorAll("button[data-copy]").forEach(function (btn) {
      if (!navigator.clipboard) return;
      var label = btn.textContent;
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var target = document.querySelector(btn.getAttribute("data-copy"));
        if (!target) return;
        var text = target.getAttribute("data-copy-text") || target.innerText;
        navigator.clipboard.writeText(text).then(function () {
          btn.textContent = say("copied", "Copied");
          var status = document.getElementById(btn.getAttribute("aria-describedby") || "");
          if (status) status.textContent = say("copied-status", "Copied to the clipboard.");
          setTimeout(function () { btn.textContent = label; }, 2000);
        }, function () {
          btn.textContent = say("copy-failed", "Copy failed: select the text instead");
        });
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
