package sms

import (
	"testing"

	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
