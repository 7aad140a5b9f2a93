package httpserver

import (
	"cmp"
	_ "embed"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
)

//go:embed openapi.json
var openapiDoc []byte

// handleOpenAPI serves the API description. It is public: it describes the
// API and holds no data, and client generators fetch it without a token.
func (s *Server) handleOpenAPI() echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return c.Blob(http.StatusOK, "application/json", openapiDoc)
	}
}

type apiMe struct {
	ID            int64     `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	IsAdmin       bool      `json:"is_admin"`
	HasPassword   bool      `json:"has_password"`
	CreatedAt     time.Time `json:"created_at"`
	MFA           apiMFA    `json:"mfa"`
	Auth          apiAuthOf `json:"auth"`
}

// apiMFA is the caller's second factors, as the contract names them.
type apiMFA struct {
	TOTP              bool `json:"totp"`
	Passkeys          int  `json:"passkeys"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

type apiAuthOf struct {
	Type    string         `json:"type"` // session or token
	Scope   accounts.Scope `json:"scope"`
	TokenID int64          `json:"token_id,omitempty"`
}

func (s *Server) handleAPIMe() echo.HandlerFunc {
	return func(c echo.Context) error {
		cl := callerFrom(c)
		auth := apiAuthOf{Type: "session", Scope: cl.Scope}
		if cl.TokenID != 0 {
			auth = apiAuthOf{Type: "token", Scope: cl.Scope, TokenID: cl.TokenID}
		}
		mfa, err := s.opts.Accounts.MFAStatus(c.Request().Context(), cl.User.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, apiMe{ID: cl.User.ID, Email: cl.User.Email, EmailVerified: cl.User.EmailVerified, IsAdmin: cl.User.IsAdmin,
			HasPassword: cl.User.HasPassword, CreatedAt: cl.User.CreatedAt, Auth: auth,
			MFA: apiMFA{TOTP: mfa.TOTP, Passkeys: mfa.Passkeys, RecoveryCodesLeft: mfa.RecoveryCodesLeft}})
	}
}

// apiConnection is a connection as the API shows it: never a token.
type apiConnection struct {
	ID             int64      `json:"id"`
	UserID         int64      `json:"user_id"`
	Provider       string     `json:"provider"`
	ProviderUserID string     `json:"provider_user_id"`
	Username       string     `json:"username"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	EmailVerified  bool       `json:"email_verified"`
	ProfileURL     string     `json:"profile_url"`
	AvatarURL      string     `json:"avatar_url"`
	Status         string     `json:"status"`
	Scopes         []string   `json:"scopes"`
	Rank           int        `json:"rank"`
	TokenExpiresAt *time.Time `json:"token_expires_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
}

func newAPIConnection(c links.Connection) apiConnection {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return apiConnection{ID: c.ID, UserID: c.UserID, Provider: c.Provider, ProviderUserID: c.ProviderUserID,
		Username: c.Username, Name: c.Name, Email: c.Email, EmailVerified: c.EmailVerified,
		ProfileURL: c.ProfileURL, AvatarURL: c.AvatarURL, Status: string(c.Status), Scopes: scopes,
		Rank: c.Rank, TokenExpiresAt: c.ExpiresAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, LastUsedAt: c.LastUsedAt}
}

// handleAPIConnections pages through the caller's connections by id.
func (s *Server) handleAPIConnections() echo.HandlerFunc {
	return func(c echo.Context) error {
		conns, err := s.opts.Links.Connections(c.Request().Context(), callerFrom(c).UserID)
		if err != nil {
			return err
		}
		slices.SortFunc(conns, func(a, b links.Connection) int { return cmp.Compare(a.ID, b.ID) })
		items := make([]apiConnection, len(conns))
		for i, cn := range conns {
			items[i] = newAPIConnection(cn)
		}
		return writeIDPage(c, "my_connections", false, items, func(a apiConnection) int64 { return a.ID })
	}
}

func (s *Server) handleAPIConnectionDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if err := s.opts.Links.Disconnect(c.Request().Context(), callerFrom(c).UserID, id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// apiToken is a personal access token as the API lists it.
type apiToken struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Scope      accounts.Scope `json:"scope"`
	Prefix     string         `json:"prefix"`
	CreatedAt  time.Time      `json:"created_at"`
	ExpiresAt  *time.Time     `json:"expires_at"`
	LastUsedAt *time.Time     `json:"last_used_at"`
	Token      string         `json:"token,omitempty"` // only in the answer to its creation
}

func newAPIToken(t accounts.APIToken) apiToken {
	return apiToken{ID: t.ID, Name: t.Name, Scope: t.Scope, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt}
}

// handleAPITokens pages through the caller's tokens, newest first.
func (s *Server) handleAPITokens() echo.HandlerFunc {
	return func(c echo.Context) error {
		toks, err := s.opts.Accounts.Tokens(c.Request().Context(), callerFrom(c).UserID)
		if err != nil {
			return err
		}
		items := make([]apiToken, len(toks))
		for i, t := range toks {
			items[i] = newAPIToken(t)
		}
		return writeIDPage(c, "my_tokens", true, items, func(t apiToken) int64 { return t.ID })
	}
}

type tokenRequest struct {
	Name      string     `json:"name"`
	Scope     string     `json:"scope"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (s *Server) handleAPITokenCreate() echo.HandlerFunc {
	return func(c echo.Context) error {
		cl := callerFrom(c)
		if cl.Session == nil {
			return errSessionRequired
		}
		var req tokenRequest
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		t, secret, err := s.opts.Accounts.CreateToken(c.Request().Context(), cl.User,
			accounts.NewToken{Name: req.Name, Scope: accounts.Scope(req.Scope), ExpiresAt: req.ExpiresAt})
		if err != nil {
			return err
		}
		out := newAPIToken(t)
		out.Token = secret
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusCreated, out)
	}
}

func (s *Server) handleAPITokenDelete() echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if err := s.opts.Accounts.RevokeToken(c.Request().Context(), callerFrom(c).UserID, id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
