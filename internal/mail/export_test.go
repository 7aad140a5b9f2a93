package mail

import "context"

// ClaimAndAbandon claims due mail as SendDue does and then does nothing
// with it, as a sender that crashed right after claiming. It returns how
// many it claimed.
func (s *Sender) ClaimAndAbandon(ctx context.Context) (int, error) {
	batch, err := s.claim(ctx, 0)
	return len(batch), err
}

// HashToken is the hash stored for token.
var HashToken = hashToken
