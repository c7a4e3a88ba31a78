package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
)

// Devices: the cadre app names the phone it signs in from, so an
// account's sign-ins can be told apart. A sign-in is a refresh-token
// family; the device is written on the family's tokens issued so far (the
// first one stays stored, so the name outlives rotation).

// MaxDeviceName bounds a device name, in characters.
const MaxDeviceName = 64

// CheckDeviceName trims a device name and returns EINVALID when it is
// empty, too long or holds control characters.
func CheckDeviceName(name string) (string, error) {
	name = strings.TrimSpace(name)
	bad := ""
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		bad = "包含无效字符"
	case n == 0:
		bad = "必填"
	case n > MaxDeviceName:
		bad = fmt.Sprintf("不能超过%d字", MaxDeviceName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			bad = "包含无效字符"
		}
	}
	if bad != "" {
		return "", minsheng.Invalid("请检查设备名称", map[string]string{"device": bad})
	}
	return name, nil
}

// NameDevice records the device of the sign-in that issued refreshToken.
func (s *Service) NameDevice(ctx context.Context, refreshToken, device string) error {
	rt, err := s.findRefresh(ctx, refreshToken)
	if err != nil {
		return err
	}
	if _, err := s.refresh.UpdateMany(ctx, bson.D{{Key: "family", Value: rt.Family}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "device", Value: device}, {Key: "device_named_at", Value: s.cfg.Now().UTC()}}}}); err != nil {
		return fmt.Errorf("auth: unable to record device: %w", err)
	}
	return nil
}

// DeviceOf returns the device name of the sign-in that issued refreshToken
// ("" when none was given).
func (s *Service) DeviceOf(ctx context.Context, refreshToken string) (string, error) {
	rt, err := s.findRefresh(ctx, refreshToken)
	if err != nil {
		return "", err
	}
	var doc struct {
		Device string `bson:"device"`
	}
	err = s.refresh.FindOne(ctx, bson.D{{Key: "family", Value: rt.Family}, {Key: "device", Value: bson.D{{Key: "$gt", Value: ""}}}}, &doc)
	if errors.Is(err, minsheng.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("auth: unable to read device: %w", err)
	}
	return doc.Device, nil
}
