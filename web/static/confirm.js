// Confirmations in a dialog. A form marked data-confirm does something
// that cannot be undone. Without JavaScript the server answers its post
// with a confirmation page and changes nothing until that page's button is
// pressed. With it, this script asks the server for that same page (a post
// with "X-Confirm: ask", which never performs the action), shows its words
// in a modal <dialog>, and posts the form with confirm=yes only when the
// person confirms. Cancel and Escape leave everything as it was.
(function () {
  "use strict";

  // say is one of the script's words in the page's language: the layout
  // puts them on <body> as data-t-*; the English is the fallback.
  function say(key, fallback) {
    return (document.body && document.body.getAttribute("data-t-" + key)) || fallback;
  }

  if (typeof HTMLDialogElement !== "function" || !window.fetch || !window.DOMParser) return;

  var dialog, title, question, list, cancel, confirm;
  var pending = null; // {form, submitter} while asking

  function element(tag, props) {
    var el = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) { el[k] = props[k]; });
    return el;
  }

  // build makes the one dialog the page needs, labelled by its title and
  // described by its question. Cancel comes first in focus order and takes
  // the focus when it opens: the safe choice is the one Enter picks.
  function build() {
    dialog = element("dialog", { className: "confirm-dialog" });
    dialog.setAttribute("role", "alertdialog");
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-question");
    var form = element("form", { method: "dialog" });
    title = element("h2", { id: "confirm-dialog-title" });
    question = element("p", { id: "confirm-dialog-question", className: "confirm-question" });
    list = element("ul", { className: "confirm-consequences" });
    var actions = element("div", { className: "actions confirm-actions" });
    cancel = element("button", { type: "submit", value: "cancel", className: "btn btn-secondary", textContent: say("cancel", "Cancel") });
    confirm = element("button", { type: "submit", value: "confirm", className: "btn btn-danger" });
    confirm.setAttribute("data-confirm-button", "");
    actions.append(cancel, confirm);
    form.append(title, question, list, actions);
    dialog.append(form);
    document.body.append(dialog);
    dialog.addEventListener("close", closed);
  }

  function textOf(page, sel) {
    var el = page.querySelector(sel);
    return el ? el.textContent.trim() : "";
  }

  // show fills the dialog with the confirmation page's words.
  function show(page) {
    if (!dialog) build();
    title.textContent = textOf(page, "#confirm-title");
    question.textContent = textOf(page, "#confirm-question");
    list.replaceChildren();
    page.querySelectorAll(".confirm-consequences li").forEach(function (li) {
      list.append(element("li", { textContent: li.textContent.trim() }));
    });
    list.hidden = list.children.length === 0;
    confirm.textContent = textOf(page, "[data-confirm-button]") || say("confirm", "Confirm");
    dialog.returnValue = "";
    dialog.showModal();
    cancel.focus();
  }

  function hidden(name, value) {
    var input = element("input", { type: "hidden", name: name, value: value });
    input.setAttribute("data-confirm-added", "");
    return input;
  }

  // post submits the form as the browser would have, with confirm=yes
  // when the person confirmed. submit() skips the submit event, so this
  // script does not ask again.
  function post(form, submitter, yes) {
    if (yes) form.append(hidden("confirm", "yes"));
    if (submitter && submitter.name) form.append(hidden(submitter.name, submitter.value));
    form.submit();
  }

  function closed() {
    var p = pending;
    pending = null;
    if (!p) return;
    p.form.removeAttribute("aria-busy");
    if (dialog.returnValue === "confirm") {
      post(p.form, p.submitter, true);
      return;
    }
    var back = p.submitter || p.form.querySelector("button, [type=submit]");
    if (back && back.isConnected) back.focus();
  }

  function formData(form, submitter) {
    try {
      return new FormData(form, submitter);
    } catch (e) {
      return new FormData(form);
    }
  }

  // ask fetches the confirmation page. Anything else (nothing to ask, a
  // stale session sent to /reauth, an error) falls back to posting the
  // form unconfirmed, and the server answers as it does without script.
  function ask(form, submitter) {
    pending = { form: form, submitter: submitter };
    form.setAttribute("aria-busy", "true");
    // A server that does not answer in time gets the plain post instead.
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort && setTimeout(function () { abort.abort(); }, 10000);
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(formData(form, submitter)),
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-Confirm": "ask", "Accept": "text/html" },
      signal: abort ? abort.signal : undefined,
    }).then(function (res) {
      clearTimeout(timer);
      if (res.status !== 200) throw new Error("no question");
      return res.text();
    }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html").querySelector("[data-confirm-page]");
      if (!page) throw new Error("no question");
      show(page);
    }).catch(function () {
      var p = pending;
      pending = null;
      if (!p) return;
      p.form.removeAttribute("aria-busy");
      post(p.form, p.submitter, false);
    });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    e.preventDefault();
    if (pending) return; // one question at a time
    ask(form, e.submitter || null);
  });

  // A page restored from the back/forward cache must ask again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("input[data-confirm-added]").forEach(function (input) { input.remove(); });
  });
})();
