package auth

import (
	"context"
	"log/slog"

	"minsheng/internal/sms"
)

// SMSSender delivers one-time codes: the server configures the SMS
// outbox (internal/sms, MINSHENG_SMS), which queues each code and sends it
// through the configured provider; any other SMSSender (the default, and
// tests' capture boxes) is handed the message's text at once.
type SMSSender = sms.TextSender

// LogSender is the default SMSSender: it logs the message.
type LogSender struct{ Logger *slog.Logger }

// Send logs the message instead of sending it.
func (s LogSender) Send(ctx context.Context, phone, text string) error {
	s.Logger.InfoContext(ctx, "sms (log sender)", "phone", phone, "text", text)
	return nil
}
