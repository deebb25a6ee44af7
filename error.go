package ecs

import (
	"errors"
	"fmt"
)

// Error is a failure that the caller must see, carrying a Huawei error code
// such as "Ecs.0114". The transport maps the code to an HTTP status and the
// Huawei envelope; Message is sent to the client as it is.
type Error struct {
	Code    string
	Message string
	// Status overrides the HTTP status that the transport derives from Code;
	// zero means "the published status of Code". It is set only where ecsd
	// answers a code with a status of its own choosing (docs/compatibility.md).
	Status int
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Huawei code of err when err wraps an *Error, else "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrorMessage returns the client-visible message of err when err wraps an
// *Error, else a generic text that leaks nothing.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Huawei ECS error codes used by ecsd. The HTTP status of each code is decided
// in one place, the transport (httpapi), from the published table.
const (
	CodeGeneric            = "Ecs.0000" // generic request error
	CodeQuota              = "Ecs.0001" // instance, core or RAM quota exhausted
	CodeJobSubmit          = "Ecs.0002" // job could not be submitted (internal)
	CodeForbidden          = "Ecs.0003" // no permission
	CodeBadRequest         = "Ecs.0005" // invalid parameter or body
	CodeImageInvalid       = "Ecs.0007" // image not valid for this flavor
	CodeSameFlavor         = "Ecs.0009" // resize to the current flavor
	CodeNetworkInvalid     = "Ecs.0014" // VPC/subnet/security group inconsistent
	CodeVolumeTypeInvalid  = "Ecs.0015" // disk type not usable with this flavor
	CodeFlavorAbandoned    = "Ecs.0019" // flavor taken offline
	CodeProjectMismatch    = "Ecs.0023" // project in credentials ≠ project in URL
	CodeFlavorNotFound     = "Ecs.0029" // flavor not found or not usable
	CodeFrozen             = "Ecs.0030" // server frozen
	CodeImageNotFound      = "Ecs.0031" // image not found
	CodeSubnetNotFound     = "Ecs.0038" // subnet not found
	CodeVPCMismatch        = "Ecs.0064" // vpcid differs from the subnet's VPC
	CodeStateConflict      = "Ecs.0100" // server status does not allow the operation
	CodeServerNotFound     = "Ecs.0114" // server not found
	CodeResizeFailed       = "Ecs.0207" // resize failed inside the job
	CodeInsufficientCap    = "Ecs.0319" // insufficient capacity for the flavor
	CodeBusy               = "Ecs.0603" // another operation in progress
	CodeLocked             = "Ecs.0605" // server locked
	CodeInternal           = "Ecs.0615" // internal error
	CodeChargingNotAllowed = "Ecs.0704" // billing mode does not allow the operation
	CodeXenToKVM           = "Ecs.0811" // Xen → KVM needs drivers
)
