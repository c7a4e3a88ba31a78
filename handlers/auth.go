package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/internal/auth"
	"minsheng/internal/httpkit"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := httpkit.BindJSON(c, &req); err != nil {
		return err
	}
	tok, err := s.Auth.Login(c.UserContext(), req.Username, req.Password, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(tok)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) refresh(c *fiber.Ctx) error {
	var req refreshRequest
	if err := httpkit.BindJSON(c, &req); err != nil {
		return err
	}
	tok, err := s.Auth.Refresh(c.UserContext(), req.RefreshToken)
	if err != nil {
		return err
	}
	return c.JSON(tok)
}

func (s *Server) logout(c *fiber.Ctx) error {
	var req refreshRequest
	if err := httpkit.BindJSON(c, &req); err != nil {
		return err
	}
	if err := s.Auth.Logout(c.UserContext(), req.RefreshToken); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type otpRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code,omitempty"`
}

func (s *Server) requestOTP(c *fiber.Ctx) error {
	var req otpRequest
	if err := httpkit.BindJSON(c, &req); err != nil {
		return err
	}
	if err := s.Auth.RequestOTP(c.UserContext(), req.Phone, c.IP()); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"sent": true, "phone": auth.MaskPhone(req.Phone)})
}

func (s *Server) verifyOTP(c *fiber.Ctx) error {
	var req otpRequest
	if err := httpkit.BindJSON(c, &req); err != nil {
		return err
	}
	tok, err := s.Auth.VerifyOTP(c.UserContext(), req.Phone, req.Code, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(tok)
}

type meResponse struct {
	auth.User
	RoleLabel       string `json:"role_label"`
	SubDistrictName string `json:"sub_district_name,omitempty"`
	CommunityName   string `json:"community_name,omitempty"`
}

func (s *Server) me(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	u, err := s.Auth.FindUserByID(c.UserContext(), p.UserID)
	if err != nil {
		return err
	}
	resp := meResponse{User: u, RoleLabel: u.Role.Label()}
	if sd, err := s.Org.SubDistrict(u.SubDistrict); err == nil {
		resp.SubDistrictName = sd.Name
	}
	if cm, err := s.Org.Community(u.Community); err == nil {
		resp.CommunityName = cm.Name
	}
	return c.JSON(resp)
}

type createUserRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Scope    string `json:"scope"`
}

func (s *Server) createUser(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := p.RequireRole(auth.RoleAdmin); err != nil {
		return err
	}
	var req createUserRequest
	if err := httpkit.BindJSON(c, &req); err != nil {
		return err
	}
	u, err := s.Auth.CreateUser(c.UserContext(), auth.NewUser{
		Username: req.Username, Password: req.Password, Name: req.Name, Role: auth.Role(req.Role), Scope: req.Scope,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}
