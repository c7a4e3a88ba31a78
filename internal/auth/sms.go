package auth

import (
	"context"
	"log/slog"
)

// SMSSender delivers one-time codes. Production plugs in a provider; the
// default writes the code to the log so a pilot can run without one.
type SMSSender interface {
	// Send delivers text to phone; an error is logged and reported as internal.
	Send(ctx context.Context, phone, text string) error
}

// LogSender is the default SMSSender: it logs the message.
type LogSender struct{ Logger *slog.Logger }

// Send logs the message instead of sending it.
func (s LogSender) Send(ctx context.Context, phone, text string) error {
	s.Logger.InfoContext(ctx, "sms (log sender)", "phone", phone, "text", text)
	return nil
}
