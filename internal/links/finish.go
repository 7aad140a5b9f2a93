package links

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/postgres"
)

// FinishRequest is a callback arriving.
type FinishRequest struct {
	Provider   string
	Params     url.Values // the callback's query (or form, for form_post)
	Browser    string     // the browser-binding cookie value
	UserID     int64      // the logged-in user, 0 when anonymous
	OldSession string     // the session cookie to replace when logging in
	SessionID  int64      // the logged-in session, which a reauth dance refreshes
}

// Result is what a finished dance did.
type Result struct {
	Intent     Intent
	Provider   *oauth.Provider
	UserID     int64  // whose dance it was; for a log-in refused as accounts.ErrAccountDisabled, that account
	Session    string // a new session token after a log-in
	Next       string // where the dance asked to go afterwards
	Connection Connection
	Created    bool   // a new connection (or a new user, when logging in)
	NewUser    bool   // logging in created the user
	Message    string // a note from the Authorized hook
	// SecondStep: the user has a second factor and SecondFactorAfterLogin
	// is set, so no session was started; the caller holds the log-in until
	// the second step (accounts.HoldLogin).
	SecondStep bool
}

// Finish completes a dance from its callback. Every failure is recorded as
// connection_failed or login_failed with its reason, and stores nothing;
// that includes a callback whose state is unknown, expired or from another
// browser, which anyone can send: one event row each (see fail).
func (s *Service) Finish(ctx context.Context, r FinishRequest) (Result, error) {
	p, ok := s.Catalog.Get(r.Provider)
	if !ok {
		return Result{}, ErrUnknownProvider
	}
	lookup := r.Params.Get("state")
	if lookup == "" {
		lookup = r.Params.Get("oauth_token")
	}
	d, err := s.take(ctx, p.ID, lookup, r.Browser)
	if err != nil {
		// A forged, replayed, expired or stolen state is recorded too: as
		// the dance it names when that is known (the owner of a stolen
		// one), else as a log-in by whoever is logged in. Nothing else
		// changes: a dance found under another browser stays for its own.
		s.fail(ctx, p, d.Intent, cmp.Or(d.UserID, r.UserID), oauth.Profile{}, err)
		return Result{Provider: p}, err
	}
	res := Result{Intent: d.Intent, Provider: p, Next: d.Next, UserID: d.UserID}
	if d.Intent != IntentLogin && d.UserID != r.UserID {
		s.fail(ctx, p, d.Intent, d.UserID, oauth.Profile{}, ErrWrongBrowser)
		return res, ErrWrongBrowser
	}
	tok, prof, err := s.Client.Finish(ctx, p, s.Catalog.CallbackURL(p.ID), d.Pending, r.Params)
	if err != nil {
		s.fail(ctx, p, d.Intent, d.UserID, prof, err)
		return res, err
	}
	if s.Hooks.Authorized != nil {
		dec := s.Hooks.Authorized(ctx, Authorized{Provider: p, Intent: d.Intent, UserID: d.UserID, Token: tok, Profile: prof})
		res.Message = dec.Message
		if dec.Redirect != "" {
			res.Next = dec.Redirect
		}
		if dec.Veto {
			return res, ErrVetoed
		}
	}
	switch d.Intent {
	case IntentConnect:
		err = s.connect(ctx, &res, p, tok, prof)
	case IntentReauth:
		err = s.reauth(ctx, &res, p, tok, prof, r.SessionID)
	default:
		err = s.login(ctx, &res, p, tok, prof, r.OldSession)
	}
	if err != nil {
		s.fail(ctx, p, d.Intent, res.UserID, prof, err)
		return res, err
	}
	return res, nil
}

// connect links prof to the dance's user, or refreshes the link in place.
func (s *Service) connect(ctx context.Context, res *Result, p *oauth.Provider, tok oauth.Token, prof oauth.Profile) error {
	return postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		c, created, after, err := s.upsert(ctx, tx, res.UserID, p, tok, prof, false)
		if err != nil {
			return err
		}
		res.Connection, res.Created = c, created
		if !created {
			return nil
		}
		if err := postgres.ExecAll(ctx, tx, after...); err != nil {
			return err
		}
		return s.Accounts.Notify(ctx, tx, res.UserID, "connection_added", map[string]string{"provider": p.Name, "username": c.Username})
	})
}

// reauth counts the session as freshly authenticated when prof is one of
// the user's own linked accounts, and stores the new token.
func (s *Service) reauth(ctx context.Context, res *Result, p *oauth.Provider, tok oauth.Token, prof oauth.Profile, sessionID int64) error {
	return postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		l, err := lockLink(ctx, tx, p.ID, prof.ID)
		if errors.Is(err, ErrNotLinked) || (err == nil && l.UserID != res.UserID) {
			return ErrNotYourAccount
		}
		if err != nil {
			return err
		}
		stmts, err := s.updateLink(ctx, &l, p, tok, prof, true)
		if err != nil {
			return err
		}
		if res.Connection, err = sendUpdate(ctx, tx, stmts); err != nil {
			return err
		}
		return s.Accounts.MarkReauthenticated(ctx, tx, sessionID, res.UserID, "provider", p.ID)
	})
}

// login logs in the user linked to prof, creating one when allowed. A
// linked account's log-in (the common case) sends its connection update,
// new session and events in one round trip after the lock; a new link's
// inserts go first, and what completes them (events, the account's name)
// goes in that last round trip too.
func (s *Service) login(ctx context.Context, res *Result, p *oauth.Provider, tok oauth.Token, prof oauth.Profile, oldSession string) error {
	return postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		userID, l, stmts, err := s.loginUser(ctx, tx, res, p, prof)
		if errors.Is(err, accounts.ErrAccountDisabled) {
			res.UserID = userID // the refusal is recorded on the account it was for
		}
		if err != nil {
			return err
		}
		res.UserID = userID
		if l != nil {
			stmts, err = s.updateLink(ctx, l, p, tok, prof, true)
		} else {
			var after []postgres.Statement
			res.Connection, res.Created, after, err = s.upsert(ctx, tx, userID, p, tok, prof, true)
			stmts = append(stmts, after...)
		}
		if err != nil {
			return err
		}
		connID := res.Connection.ID
		if l != nil {
			connID = l.ID
		}
		if s.SecondFactorAfterLogin && !res.NewUser {
			if res.SecondStep, err = s.Accounts.NeedsSecondFactorTx(ctx, tx, userID); err != nil {
				return err
			}
		}
		// With a second step to pass, the log-in is not done yet: no
		// session, and login_completed is recorded when it completes.
		if !res.SecondStep {
			token, session := s.Accounts.SessionStatements(ctx, userID, oldSession)
			ev, err := events.Insert(ctx, events.Event{Kind: events.LoginCompleted, UserID: userID, Provider: p.ID,
				ProviderUserID: prof.ID, ConnectionID: connID, Data: map[string]any{"method": "provider", "new_user": res.NewUser}})
			if err != nil {
				return err
			}
			res.Session = token
			stmts = append(append(stmts, session...), ev)
		}
		if l == nil {
			return postgres.ExecAll(ctx, tx, stmts...)
		}
		res.Connection, err = sendUpdate(ctx, tx, stmts)
		return err
	})
}

// loginUser finds who logs in: the linked user; else, when allowed, the
// user with the provider's verified email (link_by_verified_email) or a new
// user. An email that belongs to an account is never attached silently.
// When the provider account is already linked, its connection row comes
// back locked; a new account comes with the statement that records it,
// for login to send. A disabled account is accounts.ErrAccountDisabled whichever way it
// was found, with its id, so the refusal shows on that account.
func (s *Service) loginUser(ctx context.Context, tx pgx.Tx, res *Result, p *oauth.Provider, prof oauth.Profile) (int64, *link, []postgres.Statement, error) {
	l, err := lockLink(ctx, tx, p.ID, prof.ID)
	switch {
	case err == nil && l.UserDisabled:
		return l.UserID, nil, nil, accounts.ErrAccountDisabled
	case err == nil:
		return l.UserID, &l, nil, nil
	case !errors.Is(err, ErrNotLinked):
		return 0, nil, nil, err
	case !s.Signup.ViaProvider && !s.Signup.LinkByVerifiedEmail:
		return 0, nil, nil, ErrNotLinked
	}
	if prof.Email != "" && prof.EmailVerified {
		u, err := s.Accounts.UserByEmail(ctx, tx, prof.Email)
		switch {
		case err == nil && u.Disabled:
			return u.ID, nil, nil, accounts.ErrAccountDisabled
		case err == nil && !u.EmailVerified:
			// Whoever made u never proved the address this log-in proves:
			// the prover gets the account, wiped (pre-account takeover).
			if err := deleteUserConnections(ctx, tx, u.ID, "account claimed by a proven owner of its email"); err != nil {
				return 0, nil, nil, err
			}
			if err := s.Accounts.Claim(ctx, tx, u, p.ID); err != nil {
				return 0, nil, nil, err
			}
			res.NewUser = true
			return u.ID, nil, nil, nil
		case err == nil && s.Signup.LinkByVerifiedEmail:
			return u.ID, nil, nil, nil
		case err == nil:
			return 0, nil, nil, ErrEmailBelongsToOther
		case !errors.Is(err, accounts.ErrNotFound):
			return 0, nil, nil, err
		}
	}
	if !s.Signup.ViaProvider {
		return 0, nil, nil, ErrNotLinked
	}
	email := ""
	if prof.EmailVerified {
		email = prof.Email // an unverified address is never claimed for the new account
	}
	u, created, err := s.Accounts.CreateProviderUser(ctx, tx, email, prof.Name, p.ID)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("create user from %s: %w", p.ID, err)
	}
	res.NewUser = true
	return u.ID, nil, []postgres.Statement{created}, nil
}

// fail records a failed dance. It uses its own transaction: the failure is
// worth keeping even though the change it was about rolled back. A dance
// whose intent is unknown (a callback with a state nobody issued) counts
// as a failed log-in, and its event carries no intent.
func (s *Service) fail(ctx context.Context, p *oauth.Provider, intent Intent, userID int64, prof oauth.Profile, cause error) {
	if s.Hooks.Error != nil {
		s.Hooks.Error(ctx, p, intent, cause)
	}
	kind := events.LoginFailed
	if intent == IntentConnect || intent == IntentReauth {
		kind = events.ConnectionFailed
	}
	data := map[string]any{}
	if intent != "" {
		data["intent"] = string(intent)
	}
	err := postgres.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		return events.Record(ctx, tx, events.Event{Kind: kind, UserID: userID, Provider: p.ID,
			ProviderUserID: prof.ID, Reason: cause.Error(), Data: data})
	})
	if err != nil {
		s.Logger.Error("record failed dance", "provider", p.ID, "err", err)
	}
	s.Logger.Info("dance failed", "provider", p.ID, "intent", intent, "reason", cause.Error())
}
