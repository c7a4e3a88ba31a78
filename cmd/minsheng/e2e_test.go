package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"minsheng/cases/casestest"
)

// TestResidentFilesWithPhoto runs the wired server the way a resident's
// phone does: SMS sign-in (the default sender logs the code), filing, a
// photo upload, and fetching the photo through its signed link, which must
// come back without EXIF.
func TestResidentFilesWithPhoto(t *testing.T) {
	data := filepath.Join(shortTempDir(t), "data")
	srv := startServer(t, map[string]string{"MINSHENG_DATA": data, "MINSHENG_ADMIN_PASSWORD": "admin-password-1"})

	const phone = "13912345678"
	if code := postJSON(t, srv.base+"/api/v1/auth/otp", "", map[string]string{"phone": phone}, nil); code != 202 {
		t.Fatalf("otp: %d", code)
	}
	var smsCode string
	for deadline := time.Now().Add(5 * time.Second); smsCode == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`验证码是 (\d{6})`).FindStringSubmatch(srv.out.String()); m != nil {
			smsCode = m[1]
		}
	}
	if smsCode == "" {
		t.Fatal("SMS code not in the log")
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if code := postJSON(t, srv.base+"/api/v1/auth/otp/verify", "", map[string]string{"phone": phone, "code": smsCode}, &tok); code != 200 {
		t.Fatalf("verify: %d", code)
	}

	var filed struct {
		ID     string `json:"id"`
		Number string `json:"number"`
	}
	body := map[string]any{
		"area": "SQ", "title": "10号院旱厕地面不平", "description": "丰盛社区10号院旱厕地面不平，需要人工清掏，老人如厕不便",
		"community": "jinrongjie-fengsheng", "address": "丰盛胡同10号院", "households": 12, "contact_phone": phone,
	}
	if code := postJSON(t, srv.base+"/api/v1/cases", tok.AccessToken, body, &filed); code != 201 {
		t.Fatalf("file: %d", code)
	}
	if ok, _ := regexp.MatchString(`^XC\d{4}-\d{6}$`, filed.Number); !ok {
		t.Errorf("number = %q", filed.Number)
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("tag", "before")
	fw, _ := mw.CreateFormFile("photo", "toilet.jpg")
	_, _ = fw.Write(casestest.JPEGWithGPS(t, 640, 480))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", srv.base+"/api/v1/cases/"+filed.ID+"/photos", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("photo upload: %d", resp.StatusCode)
	}

	var got struct {
		Photos []struct {
			URL string `json:"url"`
		} `json:"photos"`
	}
	if code := getJSON(t, srv.base+"/api/v1/cases/"+filed.ID, tok.AccessToken, &got); code != 200 || len(got.Photos) != 1 || got.Photos[0].URL == "" {
		t.Fatalf("case: %d %+v", code, got)
	}
	photo, err := http.Get(srv.base + got.Photos[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := io.ReadAll(photo.Body)
	photo.Body.Close()
	if photo.StatusCode != 200 || !bytes.HasPrefix(img, []byte{0xFF, 0xD8}) {
		t.Fatalf("photo: %d, %d bytes", photo.StatusCode, len(img))
	}
	if bytes.Contains(img, []byte("Exif")) {
		t.Error("served photo still carries EXIF")
	}
	var anon map[string]any
	if code := getJSON(t, srv.base+"/api/v1/cases/"+filed.ID, "", &anon); code != 401 {
		t.Errorf("anonymous read of a case: %d, want 401", code)
	}
}
