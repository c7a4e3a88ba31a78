package httpkit

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"minsheng"
)

// StatusOf maps an error code to its HTTP status: the one place this happens.
func StatusOf(code string) int {
	switch code {
	case minsheng.EINVALID:
		return fiber.StatusBadRequest
	case minsheng.EUNAUTHORIZED:
		return fiber.StatusUnauthorized
	case minsheng.EFORBIDDEN:
		return fiber.StatusForbidden
	case minsheng.ENOTFOUND:
		return fiber.StatusNotFound
	case minsheng.ECONFLICT:
		return fiber.StatusConflict
	case minsheng.ETOOLARGE:
		return fiber.StatusRequestEntityTooLarge
	case minsheng.EUNSUPPORTED:
		return fiber.StatusUnsupportedMediaType
	case minsheng.EUNPROCESSABLE:
		return fiber.StatusUnprocessableEntity
	case minsheng.EURITOOLONG:
		return fiber.StatusRequestURITooLong
	case minsheng.EHEADERSTOOLARGE:
		return fiber.StatusRequestHeaderFieldsTooLarge
	case minsheng.ERATELIMITED:
		return fiber.StatusTooManyRequests
	}
	return fiber.StatusInternalServerError
}

// fromFiber maps Fiber's own errors (unknown route, body too large, bad
// method) onto our codes so they get the same shape.
func fromFiber(e *fiber.Error) *minsheng.Error {
	switch e.Code {
	case fiber.StatusNotFound:
		return minsheng.Errorf(minsheng.ENOTFOUND, "接口不存在")
	case fiber.StatusRequestEntityTooLarge:
		return minsheng.Errorf(minsheng.ETOOLARGE, "请求内容过大")
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return minsheng.Errorf(minsheng.EHEADERSTOOLARGE, "请求头过大（请求行与请求头合计不能超过 32 KB）")
	case fiber.StatusRequestURITooLong:
		return minsheng.Errorf(minsheng.EURITOOLONG, "请求地址过长")
	case fiber.StatusMethodNotAllowed:
		return minsheng.Errorf(minsheng.ENOTFOUND, "接口不支持该请求方法")
	case fiber.StatusUnsupportedMediaType:
		return minsheng.Errorf(minsheng.EUNSUPPORTED, "不支持的内容类型")
	case fiber.StatusBadRequest, fiber.StatusUnprocessableEntity:
		return minsheng.Errorf(minsheng.EINVALID, "请求格式不正确")
	case fiber.StatusRequestTimeout:
		return minsheng.Errorf(minsheng.EINVALID, "请求超时")
	}
	return &minsheng.Error{Code: minsheng.EINTERNAL, Message: "服务器内部错误", Err: e}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// RenderError renders err as {"error":{code,message,fields,request_id}},
// the one shape of every failure of both APIs. Internal errors are logged
// with the request id and never explained; a rate limit carries
// Retry-After. A request fasthttp refused before any middleware ran (too
// large, malformed, timed out) still gets a request id.
func RenderError(c *fiber.Ctx, err error, logger *slog.Logger) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		err = fromFiber(fe)
	}
	code := minsheng.ErrorCode(err)
	rid, _ := c.Locals("requestid").(string)
	if rid == "" {
		rid = utils.UUIDv4()
		c.Locals("requestid", rid)
		c.Set(fiber.HeaderXRequestID, rid)
	}
	if code == minsheng.EINTERNAL {
		logger.ErrorContext(c.UserContext(), "internal error", "err", err, "request_id", rid, "method", c.Method(), "path", c.Path())
	}
	if code == minsheng.ERATELIMITED {
		c.Set(fiber.HeaderRetryAfter, retryAfter(err))
	}
	return c.Status(StatusOf(code)).JSON(errorBody{Error: errorDetail{
		Code: code, Message: minsheng.ErrorMessage(err), Fields: minsheng.ErrorFields(err), RequestID: rid,
	}})
}
