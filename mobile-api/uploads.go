package mobileapi

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/httpkit"
	"minsheng/internal/idem"
)

// Direct photo uploads with S3 (cases/casephotos/upload.go): ask, PUT to the
// bucket, confirm. On the local photo store asking is 409 with
// fields.upload = "use_raw_upload": the app then uses putPhoto.

type uploadBody struct {
	Tag         string `json:"tag"`
	ContentType string `json:"content_type"`
}

// startUpload answers a signed PUT URL for one photo (201).
func (a API) startUpload(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	var b uploadBody
	if err := httpkit.BindJSON(c, &b); err != nil {
		return err
	}
	ct := strings.ToLower(strings.TrimSpace(b.ContentType))
	if ct == "" {
		return minsheng.Invalid("请检查填写的内容", map[string]string{"content_type": "必填：image/jpeg、image/png 或 image/webp"})
	}
	up, err := a.Cases.StartPhotoUpload(c.UserContext(), p, c.Params("id"), cases.PhotoTag(b.Tag), ct)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(up)
}

// completeUpload attaches the uploaded photo under the Idempotency-Key the
// outbox keeps for the confirm; any number of confirms attach it once.
func (a API) completeUpload(c *fiber.Ctx) error {
	if err := httpkit.OnlyQuery(c); err != nil {
		return err
	}
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	key, err := httpkit.RequireIdempotencyKey(c)
	if err != nil {
		return err
	}
	id, upload := c.Params("id"), c.Params("upload")
	if err := checkUUID("upload_id", upload); err != nil {
		return err
	}
	upload = strings.ToLower(upload)
	if len(c.Body()) > 0 {
		var none struct{}
		if err := httpkit.BindJSON(c, &none); err != nil {
			return err
		}
	}
	ctx := c.UserContext()
	route := "POST " + Prefix + "/cases/photos/uploads/complete"
	r := idem.Request{ID: idem.ID(p.UserID, route, key), Route: route, Formerly: idem.Hash([]byte(id), []byte(upload))}
	ans, err := httpkit.Once(c, a.Replay, r, func() (idem.Answer, error) {
		out, err := a.Cases.CompletePhotoUpload(ctx, p, id, upload)
		if err != nil {
			return idem.Answer{}, err
		}
		return httpkit.JSONAnswer(fiber.StatusCreated, a.view(p, out))
	})
	if err != nil {
		return err
	}
	return httpkit.SendAnswer(c, ans)
}
