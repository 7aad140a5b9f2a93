package accounts

import (
	"context"
	"fmt"
	"strings"
)

// SetLanguage stores the language the user chose for pages and mail, or
// forgets the choice when lang is "". Which codes exist is the web layer's
// business; this only refuses what cannot be a language tag.
func (s *Service) SetLanguage(ctx context.Context, userID int64, lang string) error {
	if len(lang) > 35 || strings.ContainsFunc(lang, func(r rune) bool {
		return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return &FieldError{Field: "lang", Message: "Choose a language from the list.", MessageID: "field_error.language"}
	}
	var arg any
	if lang != "" {
		arg = lang
	}
	tag, err := s.db.Exec(ctx, `UPDATE users SET language = $2 WHERE id = $1`, userID, arg)
	if err != nil {
		return fmt.Errorf("set language: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
