package handlers

import (
	"github.com/gofiber/fiber/v2"

	"minsheng/internal/httpkit"
)

// orgTree is public: residents pick their community from it when filing.
func (s *Server) orgTree(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(s.Org.District())
}

func (s *Server) communityStaff(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	users, err := s.Auth.FindStaff(c.UserContext(), p, "", c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": users})
}

func (s *Server) subDistrictStaff(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	if err := httpkit.NoQuery(c); err != nil {
		return err
	}
	if _, err := s.Org.SubDistrict(c.Params("code")); err != nil {
		return err
	}
	users, err := s.Auth.FindStaff(c.UserContext(), p, c.Params("code"), "")
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": users})
}
