package postgres

import (
	"errors"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports an error that says the database could not be reached
// or dropped the connection (a restart, a failover, a partition) rather
// than anything about the request: trying again in a moment may work.
func Unavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgerrcode.AdminShutdown, pgerrcode.CrashShutdown, pgerrcode.CannotConnectNow:
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection exception
	}
	return false
}
