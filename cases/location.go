package cases

import "strings"

// Coordinate datums (坐标系) a case's position may be given in. Browsers'
// Geolocation API and camera EXIF give WGS-84; Chinese map SDKs (AMap,
// Tencent) give GCJ-02, which is offset from WGS-84 by up to several
// hundred metres, so a position is meaningless without its datum.
const (
	DatumWGS84 = "wgs84"
	DatumGCJ02 = "gcj02"
)

// DatumLabel names a datum for the app; "" for an unknown one.
func DatumLabel(d string) string {
	switch d {
	case DatumWGS84:
		return "WGS-84（GPS 原始坐标）"
	case DatumGCJ02:
		return "GCJ-02（国测局坐标）"
	}
	return ""
}

// DatumOf is the datum of l's coordinates: its own field, or WGS-84 for a
// position stored before the field existed (every source then — browsers
// and photo EXIF — gave WGS-84). "" when l has no position.
func DatumOf(l Location) string {
	if l.Lat == nil {
		return ""
	}
	if l.Datum == "" {
		return DatumWGS84
	}
	return l.Datum
}

// checkDatum normalises in.Datum and names a bad one in f: WGS-84 when a
// position comes without one (what browsers give), nothing without a
// position.
func checkDatum(f map[string]string, in *NewCase) {
	in.Datum = strings.ToLower(strings.TrimSpace(in.Datum))
	switch in.Datum {
	case "", DatumWGS84, DatumGCJ02:
	default:
		f["datum"] = "坐标系须为 wgs84（GPS）或 gcj02（国测局）"
		return
	}
	switch {
	case in.Lat == nil:
		in.Datum = ""
	case in.Datum == "":
		in.Datum = DatumWGS84
	}
}
