package mobileapi

import (
	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
)

type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Device names the phone ("王芳的华为 Mate 60"), shown with the sign-in.
	Device string `json:"device"`
}

// login signs a cadre (or sub-district staff) in from a named device.
// Other roles are refused after the password check and their fresh
// sign-in revoked, so the app never holds a token it cannot use.
func (a API) login(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	var b loginBody
	if err := httpkit.BindJSON(c, &b); err != nil {
		return err
	}
	device, err := auth.CheckDeviceName(b.Device)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	tok, err := a.Auth.Login(ctx, b.Username, b.Password, c.IP())
	if err != nil {
		return err
	}
	if r := tok.User.Role; r != auth.RoleCadre && r != auth.RoleSubdistrict {
		_ = a.Auth.Logout(ctx, tok.RefreshToken)
		return minsheng.Errorf(minsheng.EFORBIDDEN, "社区干部移动端仅供社区干部和街道工作人员使用，请使用管理后台")
	}
	if err := a.Auth.NameDevice(ctx, tok.RefreshToken, device); err != nil {
		return err
	}
	return c.JSON(sessionOf(tok, device))
}

// session is a sign-in as the app stores it.
type session struct {
	auth.Tokens
	Device string `json:"device"`
}

func sessionOf(t auth.Tokens, device string) session { return session{Tokens: t, Device: device} }

type refreshBody struct {
	RefreshToken string `json:"refresh_token"`
}

func (a API) refresh(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	var b refreshBody
	if err := httpkit.BindJSON(c, &b); err != nil {
		return err
	}
	ctx := c.UserContext()
	tok, err := a.Auth.Refresh(ctx, b.RefreshToken)
	if err != nil {
		return err
	}
	device, err := a.Auth.DeviceOf(ctx, tok.RefreshToken)
	if err != nil {
		return err
	}
	return c.JSON(sessionOf(tok, device))
}

func (a API) logout(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	var b refreshBody
	if err := httpkit.BindJSON(c, &b); err != nil {
		return err
	}
	if err := a.Auth.Logout(c.UserContext(), b.RefreshToken); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// meView is what the app's header and badges need.
type meView struct {
	User            auth.User    `json:"user"`
	RoleLabel       string       `json:"role_label"`
	Community       string       `json:"community,omitempty"`
	CommunityName   string       `json:"community_name,omitempty"`
	SubDistrict     string       `json:"sub_district"`
	SubDistrictName string       `json:"sub_district_name"`
	Counts          cases.Counts `json:"counts"`
	Unread          int          `json:"unread_notifications"`
}

func (a API) me(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	u, err := a.Auth.FindUserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	counts, err := a.Cases.MyCounts(ctx, p)
	if err != nil {
		return err
	}
	unread, err := a.Cases.UnreadCount(ctx, p)
	if err != nil {
		return err
	}
	v := meView{User: u, RoleLabel: p.Role.Label(), Community: p.Community, SubDistrict: p.SubDistrict, Counts: counts, Unread: unread}
	if cm, err := a.Org.Community(p.Community); err == nil {
		v.CommunityName = cm.Name
	}
	if sd, err := a.Org.SubDistrict(p.SubDistrict); err == nil {
		v.SubDistrictName = sd.Name
	}
	return c.JSON(v)
}
