package auth

import "context"

// AllowSearch counts one search (a similar-case search, a case list
// filtered by free text): per user and per address for signed-in callers,
// per address for anonymous ones, each under its own key so a stranger's
// searches never use up a signed-in resident's. ERATELIMITED states the
// real wait. A search costs a scan and, were it ever to depend on text the
// caller may not read, would be an oracle; the limit bounds both.
func (s *Service) AllowSearch(ctx context.Context, a Attempt) error {
	const what = "搜索过于频繁"
	if a.Principal.UserID == "" {
		return s.allowAttempt(ctx, "", "", 0, what,
			keyedLimit{"search-anon-ip:" + a.IP, s.cfg.SearchAnonymousPerIP})
	}
	return s.allowAttempt(ctx, "", "", 0, what,
		keyedLimit{"search-user:" + a.Principal.UserID, s.cfg.SearchPerUser},
		keyedLimit{"search-ip:" + a.IP, s.cfg.SearchPerIP})
}
