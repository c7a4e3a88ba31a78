package org

import (
	"errors"
	"strings"
	"testing"

	"minsheng"
)

func TestXichengOfficePhones(t *testing.T) {
	d := Xicheng().District()
	seen := map[string]string{}
	check := func(t *testing.T, code, phone string) {
		t.Helper()
		if !strings.HasPrefix(phone, "010-") || !ValidOfficePhone(phone) {
			t.Errorf("%s: office phone %q, want a 010- landline", code, phone)
		}
		if other, dup := seen[phone]; dup {
			t.Errorf("%s: office phone %q also belongs to %s", code, phone, other)
		}
		seen[phone] = code
	}
	for _, s := range d.SubDistricts {
		check(t, s.Code, s.OfficePhone)
		for _, c := range s.Communities {
			check(t, c.Code, c.OfficePhone)
		}
	}
	t.Run("a mobile number is refused as an office phone", func(t *testing.T) {
		for _, phone := range []string{"13800000001", "010-1380000000", "66012345", "010-6601234x"} {
			if ValidOfficePhone(phone) {
				t.Errorf("ValidOfficePhone(%q) = true, want false", phone)
			}
		}
		bad := District{Code: "d", Name: "区", SubDistricts: []SubDistrict{{Code: "s", Name: "街道",
			Communities: []Community{{Code: "s-c", Name: "社区", SubDistrictCode: "s", OfficePhone: "13800000001"}}}}}
		if _, err := NewDirectory(bad); minsheng.ErrorCode(err) != minsheng.EINVALID {
			t.Fatalf("NewDirectory with a mobile office phone: got %v, want EINVALID", err)
		}
	})
}

func TestXichengLocate(t *testing.T) {
	dir := Xicheng()
	d := dir.District()

	t.Run("every community point lies inside the district and locates to itself", func(t *testing.T) {
		for _, s := range d.SubDistricts {
			if s.Center == nil || !inPolygon(*s.Center, d.Boundary) {
				t.Errorf("%s: centre %v outside the boundary", s.Code, s.Center)
			}
			for _, c := range s.Communities {
				if c.Center == nil {
					t.Fatalf("%s: no reference point", c.Code)
				}
				got, err := dir.Locate(*c.Center)
				if err != nil {
					t.Fatalf("%s at %v: %v", c.Code, *c.Center, err)
				}
				if got.Community.Code != c.Code || got.SubDistrictCode != s.Code || got.DistanceM != 0 {
					t.Errorf("%s: got %s/%s at %d m, want itself at 0 m", c.Code, got.SubDistrictCode, got.Community.Code, got.DistanceM)
				}
			}
		}
	})

	t.Run("a point near 丰盛 finds a 金融街 community with its distance", func(t *testing.T) {
		fs, err := dir.Community("jinrongjie-fengsheng")
		if err != nil {
			t.Fatal(err)
		}
		p := Point{Lat: fs.Center.Lat + 0.0009, Lng: fs.Center.Lng} // about 100 m north
		got, err := dir.Locate(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.SubDistrictCode != "jinrongjie" || got.SubDistrictName != "金融街街道" {
			t.Errorf("sub-district: got %s %s, want jinrongjie 金融街街道", got.SubDistrictCode, got.SubDistrictName)
		}
		if got.DistanceM > 100 || got.DistanceM < 1 {
			t.Errorf("distance: got %d m, want 1..100", got.DistanceM)
		}
		if got.Community.OfficePhone == "" {
			t.Error("the located community carries no office phone")
		}
	})

	t.Run("points outside the district are refused in Chinese", func(t *testing.T) {
		for name, p := range map[string]Point{
			"王府井 (东城区)": {39.9145, 116.4110}, "中关村 (海淀区)": {39.9830, 116.3160},
			"上海": {31.2304, 121.4737}, "null island": {0, 0},
		} {
			_, err := dir.Locate(p)
			var e *minsheng.Error
			if !errors.As(err, &e) || e.Code != minsheng.EINVALID || !strings.Contains(e.Message, "不在西城区范围内") {
				t.Errorf("%s: got %v, want EINVALID 不在西城区范围内", name, err)
			}
		}
	})

	t.Run("an impossible position is invalid", func(t *testing.T) {
		if _, err := dir.Locate(Point{Lat: 91, Lng: 116}); minsheng.ErrorCode(err) != minsheng.EINVALID {
			t.Fatalf("got %v, want EINVALID", err)
		}
	})

	t.Run("the directory's points cannot be changed through a copy", func(t *testing.T) {
		c, _ := dir.Community("jinrongjie-fengsheng")
		was := *c.Center
		c.Center.Lat = 0
		again, _ := dir.Community("jinrongjie-fengsheng")
		if *again.Center != was {
			t.Fatalf("centre changed to %v through a returned copy", *again.Center)
		}
	})
}
