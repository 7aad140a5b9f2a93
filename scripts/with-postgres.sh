#!/usr/bin/env bash
# with-postgres.sh finds or starts a PostgreSQL, exports DATABASE_URL and runs a command.
#
#   scripts/with-postgres.sh [--db NAME] -- CMD [ARGS...]
#
# It tries, in this order:
#   a. DATABASE_URL already set: used as is (--db is ignored).
#   b. a server answering on 127.0.0.1:5432: DATABASE_URL becomes
#      postgres://postgres@127.0.0.1:5432/NAME?sslmode=disable, and database NAME is
#      created with psql if it is missing (the Go program creates no database).
#      A password can be supplied with PGPASSWORD, which both psql and pgx read.
#   c. a private throwaway cluster started from the machine's own initdb and pg_ctl
#      (on PATH, else the newest /usr/lib/postgresql/*/bin) on a free port from 54329
#      upwards; it is stopped and its directory deleted when this script exits.
#   d. otherwise one sentence on how to get PostgreSQL, and exit status 1.
# NAME defaults to "dancecard". CMD runs in the foreground (not exec'd, so the private
# cluster can be cleaned up afterwards); this script exits with CMD's exit status.
#
# Environment overrides, mainly for testing the branches by hand:
#   WITH_POSTGRES_SKIP_LOCAL=1        skip branch b as if nothing answered on 5432.
#   WITH_POSTGRES_PGLIB=DIR           where versioned bin dirs are searched for in branch c
#                                     (default /usr/lib/postgresql); with PATH stripped of
#                                     initdb/pg_ctl, a missing DIR exercises branch d.
#   WITH_POSTGRES_KEEP=1              leave the private cluster's directory in place.
set -euo pipefail

readonly self="with-postgres"
readonly local_host=127.0.0.1
readonly local_port=5432

usage() {
	echo "usage: $0 [--db NAME] -- CMD [ARGS...]" >&2
	exit 2
}

say() { echo "$self: $*" >&2; }

die() {
	say "$*"
	exit 1
}

# mask_url hides the password in a URL (user:secret@host) or key/value DSN (password=secret).
mask_url() {
	sed -E -e 's#^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@?]*):[^@/?]*@#\1:****@#' \
		-e 's#(^|[ &?])password=[^ &]*#\1password=****#g' <<<"$1"
}

# tcp_open reports whether something accepts TCP connections on 127.0.0.1:PORT.
tcp_open() {
	local port=$1
	if command -v timeout >/dev/null 2>&1; then
		timeout 2 bash -c ": </dev/tcp/$local_host/$port" 2>/dev/null
	else
		(: </dev/tcp/"$local_host"/"$port") 2>/dev/null
	fi
}

# local_server_ready reports whether a PostgreSQL server accepts connections on 5432.
local_server_ready() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$local_host" -p "$local_port" -t 3
	else
		tcp_open "$local_port"
	fi
}

# sq quotes one word for a POSIX shell (used for su -c).
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# as_owner runs a command as the owner of the private cluster, from inside its directory
# so the server binaries never trip over an unreadable working directory.
as_owner() {
	if [[ -z $run_user ]]; then
		(cd "$tmp" && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd "$tmp" && runuser -u "$run_user" -- "$@")
	else
		local cmdline="" arg
		for arg in "$@"; do cmdline+="$(sq "$arg") "; done
		(cd "$tmp" && su "$run_user" -s /bin/sh -c "$cmdline")
	fi
}

# find_pg_bindir prints the directory holding initdb and pg_ctl, or fails.
find_pg_bindir() {
	local initdb pg_ctl dir
	if initdb=$(command -v initdb) && pg_ctl=$(command -v pg_ctl); then
		# pg_ctl and initdb look for postgres next to their resolved selves.
		initdb=$(readlink -f "$initdb")
		pg_ctl=$(readlink -f "$pg_ctl")
		if [[ ${initdb%/*} == "${pg_ctl%/*}" ]]; then
			echo "${initdb%/*}"
			return 0
		fi
	fi
	dir=$(printf '%s\n' "${WITH_POSTGRES_PGLIB:-/usr/lib/postgresql}"/*/bin 2>/dev/null |
		sort -V | while read -r d; do
			[[ -x $d/initdb && -x $d/pg_ctl ]] && echo "$d"
		done | tail -n 1)
	[[ -n $dir ]] || return 1
	echo "$dir"
}

# find_psql prints a psql to use, preferring the one on PATH.
find_psql() {
	local bindir=${1:-}
	if command -v psql >/dev/null 2>&1; then
		command -v psql
	elif [[ -n $bindir && -x $bindir/psql ]]; then
		echo "$bindir/psql"
	else
		return 1
	fi
}

# database_exists prints 1 when database NAME exists; fails when the server cannot be asked.
database_exists() {
	local psql=$1 port=$2
	PGCONNECT_TIMEOUT=5 "$psql" -X -w -h "$local_host" -p "$port" -U postgres -d postgres \
		-tAc "SELECT 1 FROM pg_database WHERE datname='$db'"
}

create_database() {
	local psql=$1 port=$2 out
	out=$(PGCONNECT_TIMEOUT=5 "$psql" -X -w -q -h "$local_host" -p "$port" -U postgres \
		-d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" 2>&1) && return 0
	# Another run may have created it between the check and here.
	[[ $(database_exists "$psql" "$port" 2>/dev/null) == 1 ]] && return 0
	die "could not create database $db on $local_host:$port: $out"
}

use_local_server() {
	export DATABASE_URL="postgres://postgres@$local_host:$local_port/$db?sslmode=disable"
	local psql exists
	if ! psql=$(find_psql); then
		say "note: psql not found, so database $db was not checked or created; create it if it is missing."
	elif ! exists=$(database_exists "$psql" "$local_port" 2>&1); then
		say "note: could not check for database $db as user postgres (${exists//$'\n'/ }); set DATABASE_URL or PGPASSWORD if the server needs a password."
	elif [[ $exists != 1 ]]; then
		create_database "$psql" "$local_port"
		say "created database $db on $local_host:$local_port"
	fi
	say "using the PostgreSQL server on $local_host:$local_port: $(mask_url "$DATABASE_URL")"
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	if [[ -n ${started:-} ]]; then
		as_owner "$bindir/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null 2>&1 ||
			say "warning: could not stop the private PostgreSQL in $tmp"
	fi
	if [[ -n ${tmp:-} && -d $tmp ]]; then
		if [[ ${WITH_POSTGRES_KEEP:-} == 1 ]]; then
			say "kept $tmp"
		else
			rm -rf -- "$tmp" || true
		fi
	fi
}

# start_private_cluster runs initdb and pg_ctl start on the first free port from 54329.
start_private_cluster() {
	local base=${TMPDIR:-/tmp} port version psql
	run_user=""
	if [[ $(id -u) == 0 ]]; then
		# initdb refuses to run as root; the cluster belongs to an unprivileged user.
		base=/tmp
		if id postgres >/dev/null 2>&1; then run_user=postgres; else run_user=nobody; fi
		command -v runuser >/dev/null 2>&1 || command -v su >/dev/null 2>&1 ||
			die "running as root, but neither runuser nor su is available to start PostgreSQL as $run_user."
	fi
	# Unix socket paths are limited to about 100 bytes.
	((${#base} <= 60)) || base=/tmp
	tmp=$(mktemp -d "$base/tmp-pg.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	[[ -z $run_user ]] || chown "$run_user:" "$tmp"

	if ! as_owner "$bindir/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 \
		--no-instructions >"$tmp/initdb.log" 2>&1; then
		cat "$tmp/initdb.log" >&2
		die "initdb from $bindir failed (output above)."
	fi

	# Without any psql, create the database in single-user mode before the server starts.
	if ! psql=$(find_psql "$bindir"); then
		psql=""
		if ! echo "CREATE DATABASE \"$db\"" | as_owner "$bindir/postgres" --single \
			-D "$tmp/data" postgres >"$tmp/single.log" 2>&1; then
			cat "$tmp/single.log" >&2
			die "could not create database $db in single-user mode (output above)."
		fi
	fi

	for ((port = 54329; port < 54429; port++)); do
		tcp_open "$port" && continue
		if as_owner "$bindir/pg_ctl" -D "$tmp/data" -w -l "$tmp/log" \
			-o "-p $port -k '$tmp' -c listen_addresses=$local_host -c fsync=off" \
			start >/dev/null 2>&1; then
			started=1
			break
		fi
		# Lost a race for the port to another process: try the next one.
		tcp_open "$port" && continue
		tail -n 20 "$tmp/log" >&2 || true
		die "could not start a private PostgreSQL from $bindir (log above)."
	done
	[[ -n ${started:-} ]] || die "no free port between 54329 and 54428 for a private PostgreSQL."

	if [[ -n $psql ]]; then
		create_database "$psql" "$port"
	fi

	export DATABASE_URL="postgres://postgres@$local_host:$port/$db?sslmode=disable"
	version=$("$bindir/postgres" --version 2>/dev/null | awk '{print $3}') || version=""
	say "started a private PostgreSQL ${version:+$version }from $bindir on $local_host:$port in $tmp (removed on exit): $DATABASE_URL"
}

db=dancecard
while (($# > 0)); do
	case $1 in
	--db)
		(($# >= 2)) || usage
		db=$2
		shift 2
		;;
	--db=*)
		db=${1#--db=}
		shift
		;;
	--)
		shift
		break
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done
(($# > 0)) || usage
[[ $db =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "invalid database name '$db': use letters, digits and underscores."

tmp=""
started=""
run_user=""
bindir=""

if [[ -n ${DATABASE_URL:-} ]]; then
	say "using DATABASE_URL from the environment: $(mask_url "$DATABASE_URL")"
elif [[ ${WITH_POSTGRES_SKIP_LOCAL:-} != 1 ]] && local_server_ready; then
	use_local_server
elif bindir=$(find_pg_bindir); then
	start_private_cluster
else
	echo "No PostgreSQL found: set DATABASE_URL, start a server on 127.0.0.1:5432, or install PostgreSQL (apt-get install postgresql) so a private one can be started." >&2
	exit 1
fi

set +e
"$@"
rc=$?
set -e
exit "$rc"
