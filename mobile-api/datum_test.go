package mobileapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases"
)

// TestGPSDatum: a filed position keeps its datum in location.datum —
// wgs84 when the app says nothing (the browser's Geolocation API), gcj02
// when it says so — the view spells it out, an unknown datum is refused
// in Chinese, and a position stored before the field is shown as wgs84.
func TestGPSDatum(t *testing.T) {
	f := newFixture(t)
	type located struct {
		Location struct {
			Lat       *float64 `json:"lat"`
			Datum     string   `json:"datum"`
			AccuracyM *int     `json:"accuracy_m"`
		} `json:"location"`
		ID          string `json:"id"`
		Description string `json:"description"`
		Datum       string `json:"location_datum"`
		DatumLabel  string `json:"location_datum_label"`
	}
	file := func(t *testing.T, extra map[string]any) (int, located, apiError) {
		t.Helper()
		b := caseBody()
		for k, v := range extra {
			b[k] = v
		}
		var raw []byte
		st := f.call(t, "wangfang", "PUT", "/mobile/v1/cases/"+uuid.NewString(), b, &raw)
		var out located
		var e apiError
		decode(t, raw, &out)
		decode(t, raw, &e)
		return st, out, e
	}
	for _, tc := range []struct {
		name, datum, want string
	}{
		{"no datum is the browser's wgs84", "", cases.DatumWGS84},
		{"wgs84", "wgs84", cases.DatumWGS84},
		{"gcj02 from a map SDK", "gcj02", cases.DatumGCJ02},
		{"upper case is accepted", "GCJ02", cases.DatumGCJ02},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := map[string]any{"lat": 39.9, "lng": 116.37, "gps_accuracy": 12}
			if tc.datum != "" {
				extra["datum"] = tc.datum
			}
			st, got, _ := file(t, extra)
			if st != http.StatusCreated {
				t.Fatalf("status %d, want 201", st)
			}
			if got.Location.Datum != tc.want || got.Datum != tc.want {
				t.Errorf("location.datum = %q, location_datum = %q, want %q", got.Location.Datum, got.Datum, tc.want)
			}
			// The accuracy is the location's, never the resident's words.
			if got.Location.AccuracyM == nil || *got.Location.AccuracyM != 12 {
				t.Errorf("location.accuracy_m = %v, want 12", got.Location.AccuracyM)
			}
			if got.Description != caseBody()["description"] {
				t.Errorf("description = %q, want the resident's text unchanged", got.Description)
			}
			if got.DatumLabel != cases.DatumLabel(tc.want) {
				t.Errorf("location_datum_label = %q, want %q", got.DatumLabel, cases.DatumLabel(tc.want))
			}
			stored, err := f.cases.FindByID(context.Background(), got.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Location.Datum != tc.want {
				t.Errorf("stored datum = %q, want %q", stored.Location.Datum, tc.want)
			}
		})
	}
	t.Run("unknown datum", func(t *testing.T) {
		st, _, e := file(t, map[string]any{"lat": 39.9, "lng": 116.37, "datum": "bd09"})
		if st != http.StatusBadRequest || e.Error.Fields["datum"] == "" {
			t.Fatalf("status %d, fields %v, want 400 naming datum", st, e.Error.Fields)
		}
		if got := e.Error.Fields["datum"]; got != "坐标系须为 wgs84（GPS）或 gcj02（国测局）" {
			t.Errorf("message %q, want the Chinese explanation", got)
		}
	})
	t.Run("no position, no datum", func(t *testing.T) {
		st, got, _ := file(t, map[string]any{"datum": "gcj02"})
		if st != http.StatusCreated {
			t.Fatalf("status %d, want 201", st)
		}
		if got.Location.Datum != "" || got.Datum != "" {
			t.Errorf("datum = %q / %q without a position, want none", got.Location.Datum, got.Datum)
		}
		st, got, _ = file(t, map[string]any{"gps_accuracy": 30})
		if st != http.StatusCreated || got.Location.AccuracyM != nil {
			t.Errorf("status %d, accuracy %v without a position, want 201 and none", st, got.Location.AccuracyM)
		}
	})
	t.Run("old data without the field reads as wgs84", func(t *testing.T) {
		_, got, _ := file(t, map[string]any{"lat": 39.9, "lng": 116.37})
		// A case stored before the field existed.
		if _, err := f.st.Collection("cases").UpdateOne(context.Background(), bson.M{"_id": got.ID},
			bson.M{"$unset": bson.M{"location.datum": ""}}); err != nil {
			t.Fatal(err)
		}
		var v located
		if st := f.call(t, "wangfang", "GET", "/mobile/v1/cases/"+got.ID, nil, &v); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		if v.Location.Datum != "" || v.Datum != cases.DatumWGS84 {
			t.Errorf("location.datum = %q, location_datum = %q, want none and wgs84", v.Location.Datum, v.Datum)
		}
	})
}
