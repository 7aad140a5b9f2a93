// Passkeys: the buttons of the profile ("Add a passkey") and of the log-in
// pages ("Log in with a passkey"). The server sends the options as JSON with
// binary fields in base64url; the browser's API wants ArrayBuffers, and its
// answer goes back as JSON with base64url again.
(function () {
  "use strict";

  // say is one of the script's words in the page's language: the layout
  // puts them on <body> as data-t-*; the English is the fallback.
  function say(key, fallback) {
    return (document.body && document.body.getAttribute("data-t-" + key)) || fallback;
  }

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function toBuffer(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toBase64url(buf) {
    if (!buf) return undefined;
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // go navigates to next, loading the page again even when only its
  // fragment differs from the current address.
  function go(next) {
    var u = new URL(next || "/profile", window.location.href);
    if (u.pathname === window.location.pathname && u.search === window.location.search) {
      window.location.hash = u.hash;
      window.location.reload();
      return;
    }
    window.location.assign(u.href);
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: toBuffer(d.id) });
    });
  }

  // post sends body as JSON; a redirect (the session needs a fresh proof of
  // identity first) is followed by navigating to where it went.
  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" },
      body: body === undefined ? "{}" : JSON.stringify(body),
    }).then(function (res) {
      if (res.redirected) {
        window.location.assign(res.url);
        return new Promise(function () {});
      }
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) throw new Error(data.error || say("error", "Something went wrong. Try again."));
        return data;
      });
    });
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      out.response.userHandle = toBase64url(r.userHandle);
    }
    return out;
  }

  function showError(form, err) {
    var box = form.querySelector("[data-passkey-error]");
    var msg = err && err.name === "NotAllowedError" ? say("passkey-cancelled", "The passkey request was cancelled or timed out.") : (err && err.message) || String(err);
    if (box) {
      box.textContent = msg;
      box.hidden = false;
    }
  }

  function busy(form, on) {
    var b = form.querySelector("button[type=submit]");
    if (b) b.disabled = on;
  }

  function register(form) {
    var name = form.querySelector('[name="name"]');
    var ceremony;
    return post("/profile/passkeys/options").then(function (res) {
      ceremony = res.ceremony;
      var pk = res.options.publicKey;
      pk.challenge = toBuffer(pk.challenge);
      pk.user.id = toBuffer(pk.user.id);
      pk.excludeCredentials = descriptors(pk.excludeCredentials);
      return navigator.credentials.create({ publicKey: pk });
    }).then(function (cred) {
      return post("/profile/passkeys", { ceremony: ceremony, name: name ? name.value : "", credential: credentialJSON(cred) });
    }).then(function (data) {
      go(data.next);
    });
  }

  // login asks for a passkey and posts the answer to the form's action
  // (/login/passkey or /reauth/passkey), whose options come from action +
  // "/options". With mediation "conditional" the browser offers the
  // passkeys in the email field's autofill instead of a dialog, and the
  // request waits until one is picked or signal aborts it.
  function login(form, mediation, signal) {
    var next = form.querySelector('[name="next"]');
    var action = form.getAttribute("action");
    var ceremony;
    return post(action + "/options").then(function (res) {
      ceremony = res.ceremony;
      var pk = res.options.publicKey;
      pk.challenge = toBuffer(pk.challenge);
      pk.allowCredentials = descriptors(pk.allowCredentials);
      var req = { publicKey: pk };
      if (mediation) {
        req.mediation = mediation;
        req.signal = signal;
      }
      return navigator.credentials.get(req);
    }).then(function (cred) {
      return post(action, { ceremony: ceremony, next: next ? next.value : "", credential: credentialJSON(cred) });
    }).then(function (data) {
      go(data.next);
    });
  }

  // autofill starts a conditional request for a form marked
  // data-passkey-autofill, where the browser supports one; it returns the
  // controller that cancels it, so the button's own request can take over.
  function autofill(form) {
    var controller = new AbortController();
    var pkc = window.PublicKeyCredential;
    if (!pkc || !pkc.isConditionalMediationAvailable) return controller;
    pkc.isConditionalMediationAvailable().then(function (ok) {
      if (!ok || controller.signal.aborted) return;
      login(form, "conditional", controller.signal).catch(function (err) {
        if (controller.signal.aborted || (err && err.name === "AbortError")) return;
        showError(form, err);
      });
    });
    return controller;
  }

  function wire(selector, run) {
    document.querySelectorAll(selector).forEach(function (form) {
      if (!window.PublicKeyCredential) {
        showError(form, new Error(say("passkey-unsupported", "This browser does not support passkeys.")));
        busy(form, true);
        return;
      }
      var pending = form.hasAttribute("data-passkey-autofill") ? autofill(form) : null;
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        if (pending) {
          pending.abort();
          pending = null;
        }
        busy(form, true);
        run(form).catch(function (err) {
          busy(form, false);
          showError(form, err);
        });
      });
    });
  }

  function init() {
    wire("form[data-passkey-register]", register);
    wire("form[data-passkey-login]", function (form) { return login(form); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
