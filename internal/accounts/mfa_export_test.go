package accounts

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// SetMFAClock makes s take the TOTP time step from now.
func SetMFAClock(s *Service, now func() time.Time) {
	s.setMFA(func(d *mfaDeps) { d.now = now })
}

// WipeSecondFactors exposes wipeSecondFactors, which Claim is to call.
func WipeSecondFactors(ctx context.Context, tx pgx.Tx, userID int64) error {
	return wipeSecondFactors(ctx, tx, userID)
}
