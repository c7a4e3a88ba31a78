package org

import (
	"errors"
	"strings"
	"testing"

	"minsheng"
)

func TestXichengShape(t *testing.T) {
	d := Xicheng().District()

	t.Run("district", func(t *testing.T) {
		if got, want := d.Code, "xicheng"; got != want {
			t.Errorf("code: got %q, want %q", got, want)
		}
		if got, want := d.Name, "西城区"; got != want {
			t.Errorf("name: got %q, want %q", got, want)
		}
	})

	t.Run("fifteen sub-districts", func(t *testing.T) {
		if got, want := len(d.SubDistricts), 15; got != want {
			t.Fatalf("sub-districts: got %d, want %d", got, want)
		}
		names := []string{"西长安街", "新街口", "德胜", "月坛", "金融街", "展览路", "什刹海", "大栅栏",
			"天桥", "椿树", "陶然亭", "广安门内", "牛街", "白纸坊", "广安门外"}
		for i, want := range names {
			if got := d.SubDistricts[i].Name; got != want+"街道" {
				t.Errorf("sub-district %d: got %q, want %q", i, got, want+"街道")
			}
		}
	})

	t.Run("unique codes", func(t *testing.T) {
		seen := map[string]bool{}
		for _, s := range d.SubDistricts {
			if seen[s.Code] {
				t.Errorf("duplicate code %q", s.Code)
			}
			seen[s.Code] = true
			for _, c := range s.Communities {
				if seen[c.Code] {
					t.Errorf("duplicate code %q", c.Code)
				}
				seen[c.Code] = true
				if !strings.HasPrefix(c.Code, s.Code+"-") {
					t.Errorf("community %q: code does not start with %q", c.Code, s.Code+"-")
				}
			}
		}
	})

	t.Run("area sums to 50.7 km² within 1", func(t *testing.T) {
		var sum int64
		for _, s := range d.SubDistricts {
			if s.AreaKM2Milli <= 0 {
				t.Errorf("%s: area %d", s.Code, s.AreaKM2Milli)
			}
			sum += s.AreaKM2Milli
		}
		if sum < 49700 || sum > 51700 {
			t.Errorf("area sum: got %d m-km², want 50700±1000", sum)
		}
	})

	t.Run("population sums to the 2020 census", func(t *testing.T) {
		var sum int64
		for _, s := range d.SubDistricts {
			if s.Population <= 0 {
				t.Errorf("%s: population %d", s.Code, s.Population)
			}
			sum += s.Population
		}
		if got, want := sum, int64(xichengCensus2020); got != want {
			t.Errorf("population sum: got %d, want %d", got, want)
		}
	})

	t.Run("communities", func(t *testing.T) {
		total, demo := 0, 0
		for _, s := range d.SubDistricts {
			if got := len(s.Communities); got < 7 {
				t.Errorf("%s: got %d communities, want at least 7", s.Code, got)
			}
			for _, c := range s.Communities {
				total++
				if c.Demo {
					demo++
				}
				if !strings.HasSuffix(c.Name, "社区") {
					t.Errorf("%s: name %q lacks 社区", c.Code, c.Name)
				}
			}
		}
		if total < 250 || total > 270 {
			t.Errorf("communities: got %d, want about 260", total)
		}
		// Every community is a real residents' committee: none invented.
		if got, want := demo, 0; got != want {
			t.Errorf("demo communities: got %d, want %d", got, want)
		}
	})
}

func TestDirectoryLookups(t *testing.T) {
	dir := Xicheng()

	t.Run("丰盛社区 is in 金融街", func(t *testing.T) {
		c, err := dir.Community("jinrongjie-fengsheng")
		if err != nil {
			t.Fatalf("Community: %v", err)
		}
		if got, want := c.Name, "丰盛社区"; got != want {
			t.Errorf("name: got %q, want %q", got, want)
		}
		if got, want := c.SubDistrictCode, "jinrongjie"; got != want {
			t.Errorf("sub-district: got %q, want %q", got, want)
		}
		if c.Demo {
			t.Errorf("丰盛社区 is real, got Demo")
		}
	})

	t.Run("SubDistrict", func(t *testing.T) {
		tests := []struct {
			code     string
			wantName string
			wantErr  bool
		}{
			{"jinrongjie", "金融街街道", false},
			{"guanganmenwai", "广安门外街道", false},
			{"dashilan", "大栅栏街道", false},
			{"chaoyang", "", true},
			{"", "", true},
		}
		for _, tt := range tests {
			t.Run(tt.code, func(t *testing.T) {
				s, err := dir.SubDistrict(tt.code)
				if tt.wantErr {
					checkNotFound(t, err)
					return
				}
				if err != nil {
					t.Fatalf("got error %v", err)
				}
				if s.Name != tt.wantName {
					t.Errorf("name: got %q, want %q", s.Name, tt.wantName)
				}
				if len(s.Communities) == 0 {
					t.Errorf("got no communities")
				}
			})
		}
	})

	t.Run("Community", func(t *testing.T) {
		tests := []struct {
			code    string
			wantSub string
			wantErr bool
		}{
			{"xichanganjie-xijiaominxiang", "xichanganjie", false},
			{"shichahai-houhai", "shichahai", false},
			{"guanganmenwai-maliandao", "guanganmenwai", false},
			{"jinrongjie-nosuch", "", true},
			{"jinrongjie", "", true}, // a sub-district code is not a community
		}
		for _, tt := range tests {
			t.Run(tt.code, func(t *testing.T) {
				c, err := dir.Community(tt.code)
				if tt.wantErr {
					checkNotFound(t, err)
					return
				}
				if err != nil {
					t.Fatalf("got error %v", err)
				}
				if c.SubDistrictCode != tt.wantSub {
					t.Errorf("sub-district: got %q, want %q", c.SubDistrictCode, tt.wantSub)
				}
			})
		}
	})

	t.Run("CommunitiesOf", func(t *testing.T) {
		got := dir.CommunitiesOf("jinrongjie")
		if len(got) != 20 {
			t.Fatalf("金融街: got %d communities, want 20", len(got))
		}
		for _, c := range got {
			if c.SubDistrictCode != "jinrongjie" {
				t.Errorf("%s: got sub-district %q", c.Code, c.SubDistrictCode)
			}
		}
		if got := dir.CommunitiesOf("nosuch"); got != nil {
			t.Errorf("unknown: got %v, want nil", got)
		}
	})

	t.Run("Contains", func(t *testing.T) {
		tests := []struct {
			sub, community string
			want           bool
		}{
			{"jinrongjie", "jinrongjie-fengsheng", true},
			{"shichahai", "jinrongjie-fengsheng", false},
			{"jinrongjie", "jinrongjie-nosuch", false},
			{"nosuch", "jinrongjie-fengsheng", false},
		}
		for _, tt := range tests {
			t.Run(tt.sub+"/"+tt.community, func(t *testing.T) {
				if got := dir.Contains(tt.sub, tt.community); got != tt.want {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
	})

	t.Run("SubDistrictOf", func(t *testing.T) {
		got, ok := dir.SubDistrictOf("niujie-fayuansi")
		if !ok || got != "niujie" {
			t.Errorf("known: got %q, %v; want %q, true", got, ok, "niujie")
		}
		got, ok = dir.SubDistrictOf("nosuch")
		if ok || got != "" {
			t.Errorf("unknown: got %q, %v; want \"\", false", got, ok)
		}
	})

	t.Run("returned values are copies", func(t *testing.T) {
		d := dir.District()
		d.SubDistricts[0].Communities[0].Name = "changed"
		d.SubDistricts[0].Name = "changed"
		s, _ := dir.SubDistrict(d.SubDistricts[0].Code)
		s.Communities[0].Name = "changed"
		cs := dir.CommunitiesOf(s.Code)
		cs[0].Name = "changed"
		again := dir.District()
		if again.SubDistricts[0].Name == "changed" || again.SubDistricts[0].Communities[0].Name == "changed" {
			t.Errorf("mutating a returned value changed the directory")
		}
	})
}

func checkNotFound(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, minsheng.ErrNotFound) {
		t.Fatalf("got %v, want an error wrapping ErrNotFound", err)
	}
	if got, want := minsheng.ErrorCode(err), minsheng.ENOTFOUND; got != want {
		t.Errorf("code: got %q, want %q", got, want)
	}
	if msg := minsheng.ErrorMessage(err); !strings.Contains(msg, "不存在") {
		t.Errorf("message: got %q, want a Chinese not-found message", msg)
	}
}

func TestNewDirectoryRejects(t *testing.T) {
	valid := func() District {
		return District{Code: "d", Name: "区", SubDistricts: []SubDistrict{
			{Code: "a", Name: "甲街道", Communities: []Community{
				{Code: "a-1", Name: "一社区", SubDistrictCode: "a"},
			}},
			{Code: "b", Name: "乙街道", Communities: []Community{
				{Code: "b-1", Name: "二社区", SubDistrictCode: "b"},
			}},
		}}
	}
	if _, err := NewDirectory(valid()); err != nil {
		t.Fatalf("valid district: got %v", err)
	}
	tests := []struct {
		name   string
		mutate func(d *District)
	}{
		{"duplicate sub-district code", func(d *District) {
			d.SubDistricts[1].Code = "a"
			d.SubDistricts[1].Communities[0].SubDistrictCode = "a"
		}},
		{"duplicate community code", func(d *District) { d.SubDistricts[1].Communities[0].Code = "a-1" }},
		{"community under wrong parent", func(d *District) { d.SubDistricts[1].Communities[0].SubDistrictCode = "a" }},
		{"empty district name", func(d *District) { d.Name = "" }},
		{"empty sub-district name", func(d *District) { d.SubDistricts[0].Name = "" }},
		{"empty community name", func(d *District) { d.SubDistricts[0].Communities[0].Name = "" }},
		{"empty code", func(d *District) { d.SubDistricts[0].Communities[0].Code = "" }},
		{"non-slug code", func(d *District) { d.SubDistricts[0].Code = "金融街" }},
		{"negative population", func(d *District) { d.SubDistricts[0].Population = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.mutate(&d)
			_, err := NewDirectory(d)
			if got, want := minsheng.ErrorCode(err), minsheng.EINVALID; got != want {
				t.Errorf("got code %q (%v), want %q", got, err, want)
			}
		})
	}
}

func TestNewDirectoryCopiesInput(t *testing.T) {
	d := District{Code: "d", Name: "区", SubDistricts: []SubDistrict{{Code: "a", Name: "甲街道"}}}
	dir, err := NewDirectory(d)
	if err != nil {
		t.Fatal(err)
	}
	d.SubDistricts[0].Name = "changed"
	s, err := dir.SubDistrict("a")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Name, "甲街道"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestXichengConcurrent(t *testing.T) {
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			dir := Xicheng()
			for _, s := range dir.District().SubDistricts {
				for _, c := range dir.CommunitiesOf(s.Code) {
					if !dir.Contains(s.Code, c.Code) {
						t.Errorf("%s not in %s", c.Code, s.Code)
					}
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}
