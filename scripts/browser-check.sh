#!/usr/bin/env bash
# browser-check.sh runs after the test suite: the browser tests skip
# themselves when no Chromium is installed, which go test reports only with
# -v. Say so loudly here; under CI (CI=true) a missing Chromium is a failure.
for name in chromium chromium-browser google-chrome google-chrome-stable headless-shell; do
	command -v "$name" >/dev/null 2>&1 && exit 0
done
[[ -x /usr/bin/chromium ]] && exit 0
cat >&2 <<'MSG'

************************************************************************
*  WARNING: no Chromium found, so the browser tests were SKIPPED.      *
*  Install it (Debian: apt-get install -y chromium) and run make test. *
************************************************************************

MSG
if [[ -n ${CI:-} ]]; then
	echo "browser-check: CI is set, and CI must run the browser tests" >&2
	exit 1
fi
