// Package migrations embeds the numbered golang-migrate files so the server
// binary carries its own schema and needs nothing beside it to migrate.
package migrations

import "embed"

// FS holds every *.sql migration, named NNNNNN_title.{up,down}.sql.
//
//go:embed *.sql
var FS embed.FS
