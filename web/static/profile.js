// The profile used to be one page, and its parts had addresses such as
// /profile#tokens. It is now a page per section, /profile (connections)
// first: this script, loaded there only, sends such an old address on to
// the section that now holds what it pointed at. Without JavaScript the old
// address shows the connections page, with the section navigation in view.
(function () {
  "use strict";

  var moved = {
    "#account": "/profile/account",
    "#your-data": "/profile/account#your-data",
    "#password": "/profile/security#password",
    "#mfa": "/profile/security#mfa",
    "#passkeys": "/profile/security#passkeys",
    "#sessions": "/profile/security#sessions",
    "#tokens": "/profile/tokens",
    "#new-token": "/profile/tokens"
  };

  var to = moved[window.location.hash];
  if (to && window.location.pathname === "/profile") window.location.replace(to);
})();
