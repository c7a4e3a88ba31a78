package auth

import "context"

// AllowFiling counts one case filing by p (zero for anonymous) from ip:
// per user and per address for signed-in callers, per address for
// anonymous ones. ERATELIMITED states the real wait.
func (s *Service) AllowFiling(ctx context.Context, p Principal, ip string) error {
	const what = "提交诉求过于频繁"
	if p.UserID == "" {
		return s.limiter.AllowAs(ctx, "file-anon-ip:"+ip, s.cfg.FileAnonymousPerIP, what)
	}
	if err := s.limiter.AllowAs(ctx, "file-user:"+p.UserID, s.cfg.FilePerUser, what); err != nil {
		return err
	}
	return s.limiter.AllowAs(ctx, "file-ip:"+ip, s.cfg.FilePerIP, what)
}

// AllowUpload counts one photo upload by p from ip, per user and per
// address; ERATELIMITED states the real wait. Anonymous callers cannot
// upload, so they are not counted here (the route refuses them).
func (s *Service) AllowUpload(ctx context.Context, p Principal, ip string) error {
	if p.UserID == "" {
		return nil
	}
	const what = "上传照片过于频繁"
	if err := s.limiter.AllowAs(ctx, "upload-user:"+p.UserID, s.cfg.UploadPerUser, what); err != nil {
		return err
	}
	return s.limiter.AllowAs(ctx, "upload-ip:"+ip, s.cfg.UploadPerIP, what)
}
