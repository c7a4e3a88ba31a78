package org

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestXichengOutline(t *testing.T) {
	dir := Xicheng()
	o := dir.Outline()
	d := dir.District()
	if o.Name != "西城区" || o.Datum != "wgs84" {
		t.Fatalf("got %q %q, want 西城区 wgs84", o.Name, o.Datum)
	}
	if got, want := len(o.Boundary), len(d.Boundary); got != want || got < 3 {
		t.Fatalf("boundary: got %d points, want %d (≥ 3)", got, want)
	}
	if got, want := len(o.SubDistricts), len(d.SubDistricts); got != want {
		t.Fatalf("sub-districts: got %d, want %d", got, want)
	}
	communities := 0
	for _, s := range d.SubDistricts {
		communities += len(s.Communities)
	}
	if got := len(o.Communities); got != communities {
		t.Fatalf("communities: got %d, want %d", got, communities)
	}
	for _, c := range o.Communities {
		if !dir.Contains(c.Parent, c.Code) {
			t.Fatalf("community %s: parent %q is not its sub-district", c.Code, c.Parent)
		}
		if !inPolygon(c.Center, o.Boundary) {
			t.Errorf("community %s (%v) lies outside the district's boundary", c.Code, c.Center)
		}
	}
	t.Run("no figures or phones", func(t *testing.T) {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"phone", "population", "area"} {
			if strings.Contains(string(b), field) {
				t.Errorf("outline carries %q", field)
			}
		}
	})
	t.Run("a copy", func(t *testing.T) {
		o.Boundary[0].Lat = 0
		if dir.Outline().Boundary[0].Lat == 0 {
			t.Fatal("changing the outline changed the directory")
		}
	})
	t.Run("places without a point are left out", func(t *testing.T) {
		d := District{Code: "d", Name: "区", SubDistricts: []SubDistrict{{Code: "s", Name: "街",
			Communities: []Community{{Code: "c", Name: "社", SubDistrictCode: "s"}}}}}
		small, err := NewDirectory(d)
		if err != nil {
			t.Fatal(err)
		}
		o := small.Outline()
		if len(o.SubDistricts) != 0 || len(o.Communities) != 0 || o.Boundary == nil {
			t.Fatalf("got %+v, want empty lists", o)
		}
	})
}
