package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"minsheng"
)

// S3Config says where the S3 backend keeps its objects.
type S3Config struct {
	Endpoint  string // host[:port], no scheme, such as "minio:9000"
	AccessKey string
	SecretKey string
	Bucket    string
	Region    string // "" lets the client discover it
	UseSSL    bool
}

// S3 stores objects in one bucket of an S3-compatible server (MinIO in
// production). Browsers fetch objects through presigned GET URLs, so photos
// never pass through the application.
type S3 struct {
	client *minio.Client
	bucket string
}

var _ Storage = (*S3)(nil)

// NewS3 connects to the server and creates the bucket if it does not exist
// yet, so a fresh deployment needs no manual step.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("media: S3 endpoint and bucket are required")
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseSSL,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("media: unable to create S3 client for %s: %w", cfg.Endpoint, err)
	}
	s := &S3{client: client, bucket: cfg.Bucket}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *S3) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("media: unable to check bucket %s: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	switch minio.ToErrorResponse(err).Code {
	case "":
		if err != nil {
			return fmt.Errorf("media: unable to create bucket %s: %w", s.bucket, err)
		}
		return nil
	case "BucketAlreadyOwnedByYou":
		// Another instance starting at the same time created it first.
		return nil
	default:
		return fmt.Errorf("media: unable to create bucket %s: %w", s.bucket, err)
	}
}

// Save uploads r as one object; S3 makes it visible only once complete.
func (s *S3) Save(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	ct, err := contentTypeFor(key, contentType)
	if err != nil {
		return err
	}
	if size < -1 {
		size = -1
	}
	src := io.Reader(ctxReader{ctx: ctx, r: r})
	if size >= 0 {
		// minio-go stops reading at size and would store a truncated prefix
		// of a longer stream without complaint; one byte of read-ahead lets
		// us refuse instead.
		src = &exactReader{r: src, want: size}
	}
	_, err = s.client.PutObject(ctx, s.bucket, key, src, size, minio.PutObjectOptions{ContentType: ct})
	var short *errSizeMismatch
	if errors.As(err, &short) {
		return &minsheng.Error{Code: minsheng.EINVALID, Message: "上传的文件不完整",
			Err: fmt.Errorf("media: unable to save %s: %w", key, err)}
	}
	if err != nil {
		return fmt.Errorf("media: unable to save %s: %w", key, s.translate(err))
	}
	if er, ok := src.(*exactReader); ok {
		if err := er.atEnd(); errors.As(err, &short) {
			// minio-go stopped at size without asking for more (it may for
			// an empty object): the stream was longer, so do not keep a
			// silently cut file.
			s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
			return &minsheng.Error{Code: minsheng.EINVALID, Message: "上传的文件不完整",
				Err: fmt.Errorf("media: unable to save %s: %w", key, err)}
		}
	}
	return nil
}

// Open starts a GET of the object. The object's metadata is fetched first,
// so a missing key is reported here and not on the first Read.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, fmt.Errorf("media: unable to open %s: %w", key, s.translate(err))
	}
	oi, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, Info{}, fmt.Errorf("media: unable to open %s: %w", key, s.translate(err))
	}
	return obj, s.info(oi), nil
}

// Stat fetches the object's metadata with a HEAD request.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, fmt.Errorf("media: unable to stat %s: %w", key, s.translate(err))
	}
	return s.info(oi), nil
}

// Delete removes the object. S3 answers a delete of a missing key with
// success, which is the contract of Storage.Delete.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s.translate(err), minsheng.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("media: unable to delete %s: %w", key, err)
	}
	return nil
}

// URL presigns a GET for ttl. Signing is local: no request reaches the
// server, and the object is not checked for existence.
func (s *S3) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if err := checkTTL(ttl); err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, nil)
	if err != nil {
		return "", fmt.Errorf("media: unable to presign %s: %w", key, err)
	}
	return u.String(), nil
}

func (s *S3) info(oi minio.ObjectInfo) Info {
	return Info{Key: oi.Key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified.UTC()}
}

// translate maps S3 error codes to our sentinels by the code the server
// sent, never by message text, which differs between servers and versions.
func (s *S3) translate(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return minsheng.ErrNotFound
	}
	return err
}

// errSizeMismatch is returned by exactReader when the stream is shorter or
// longer than announced.
type errSizeMismatch struct {
	got, want int64
	more      bool // the stream went on past want; got is then meaningless
}

func (e *errSizeMismatch) Error() string {
	if e.more {
		return fmt.Sprintf("got more than the %d bytes announced", e.want)
	}
	return fmt.Sprintf("got %d bytes, want %d", e.got, e.want)
}

// exactReader yields exactly want bytes. On reaching want it peeks one byte
// further, so a longer stream fails the upload while minio-go is still
// reading instead of being stored cut short.
type exactReader struct {
	r      io.Reader
	want   int64
	n      int64
	done   bool
	endErr error
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n >= e.want {
		return 0, e.atEnd()
	}
	if int64(len(p)) > e.want-e.n {
		p = p[:e.want-e.n]
	}
	n, err := e.r.Read(p)
	e.n += int64(n)
	switch {
	case err == io.EOF && e.n < e.want:
		return n, &errSizeMismatch{got: e.n, want: e.want}
	case err != nil && err != io.EOF:
		return n, err
	case e.n == e.want:
		return n, e.atEnd()
	}
	return n, nil
}

// atEnd reports io.EOF when the stream ends at want, an *errSizeMismatch
// when it goes on.
func (e *exactReader) atEnd() error {
	if e.done {
		return e.endErr
	}
	e.done = true
	var b [1]byte
	m, err := io.ReadFull(e.r, b[:])
	switch {
	case m > 0:
		e.endErr = &errSizeMismatch{want: e.want, more: true}
	case err == io.EOF:
		e.endErr = io.EOF
	default:
		e.endErr = err
	}
	return e.endErr
}
