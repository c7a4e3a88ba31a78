package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
)

// Account administration (admin only; the rules live in auth.Service).

func (s *Server) listUsers(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	bad := httpkit.ListQuery(c, "role", "sub_district")
	f := auth.UserFilter{Role: auth.Role(c.Query("role")), SubDistrict: c.Query("sub_district")}
	f.Cursor, f.Limit = httpkit.QueryPage(c, bad)
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	items, next, err := s.Auth.FindUsers(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

type updateUserRequest struct {
	Disabled *bool   `json:"disabled"`
	Role     *string `json:"role"`
	Scope    *string `json:"scope"`
	Name     *string `json:"name"`
}

func (s *Server) updateUser(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := p.RequireRole(auth.RoleAdmin); err != nil {
		return err
	}
	var req updateUserRequest
	if err := httpkit.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Disabled == nil && req.Role == nil && req.Scope == nil && req.Name == nil {
		return minsheng.Invalid("没有要修改的内容", map[string]string{"disabled": "可修改 disabled、role、scope、name"})
	}
	upd := auth.UserUpdate{Disabled: req.Disabled, Scope: req.Scope, Name: req.Name}
	if req.Role != nil {
		r := auth.Role(*req.Role)
		upd.Role = &r
	}
	u, err := s.Auth.UpdateUser(c.UserContext(), p, c.Params("id"), upd)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

type setPasswordRequest struct {
	Password string `json:"password"`
}

func (s *Server) setPassword(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := p.RequireRole(auth.RoleAdmin); err != nil {
		return err
	}
	var req setPasswordRequest
	if err := httpkit.BindJSON(c, &req); err != nil {
		return err
	}
	if err := s.Auth.SetPassword(c.UserContext(), p, c.Params("id"), req.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
