package auth_test

import (
	"testing"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/org"
)

func TestSubDistrictScope(t *testing.T) {
	dir := org.Xicheng()
	staff := auth.Principal{UserID: "s", Role: auth.RoleSubdistrict, SubDistrict: "xinjiekou"}
	cadre := auth.Principal{UserID: "c", Role: auth.RoleCadre, SubDistrict: "xinjiekou", Community: "xinjiekou-yude"}
	finance := auth.Principal{UserID: "f", Role: auth.RoleFinance}
	admin := auth.Principal{UserID: "a", Role: auth.RoleAdmin}
	resident := auth.Principal{UserID: "r", Role: auth.RoleResident}
	tests := []struct {
		name      string
		p         auth.Principal
		requested string
		want      string
		code      string
	}{
		{"staff default to their own", staff, "", "xinjiekou", ""},
		{"staff naming their own", staff, "xinjiekou", "xinjiekou", ""},
		{"staff naming another", staff, "desheng", "", minsheng.EFORBIDDEN},
		{"staff naming an unknown one", staff, "nowhere", "", minsheng.EINVALID},
		{"cadre default to their community's", cadre, "", "xinjiekou", ""},
		{"cadre naming another", cadre, "desheng", "", minsheng.EFORBIDDEN},
		{"finance: whole district", finance, "", "", ""},
		{"finance naming any", finance, "desheng", "desheng", ""},
		{"finance naming an unknown one", finance, "nowhere", "", minsheng.EINVALID},
		{"admin naming any", admin, "xinjiekou", "xinjiekou", ""},
		{"resident", resident, "", "", minsheng.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.SubDistrictScope(dir, tt.requested)
			if code := minsheng.ErrorCode(err); got != tt.want || code != tt.code {
				t.Errorf("SubDistrictScope(%q) = %q, %q; want %q, %q", tt.requested, got, code, tt.want, tt.code)
			}
			if tt.code == minsheng.EINVALID && minsheng.ErrorFields(err)["sub_district"] == "" {
				t.Errorf("error %v does not name sub_district", err)
			}
		})
	}
}
