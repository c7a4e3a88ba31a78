package cases

import "minsheng/cases/caseinput"

// Coordinate datums (坐标系) a case's position may be given in; what a
// filing may give is caseinput's rule (CheckDatum).
const (
	DatumWGS84 = caseinput.DatumWGS84
	DatumGCJ02 = caseinput.DatumGCJ02
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
