package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	ecs "github.com/ecsd-dev/ecsd"
)

// This file holds the helpers shared by the request decoders of the wire_*.go
// files: strict JSON decoding into wire structs and the Ecs.0005 errors that
// describe what is wrong with a request.

// badRequest returns an Ecs.0005 error with a formatted message.
func badRequest(format string, args ...any) *ecs.Error {
	return ecs.Errorf(ecs.CodeBadRequest, format, args...)
}

// invalidField returns the Ecs.0005 error for a field whose value breaks a
// rule, e.g. "Invalid value for resize.flavorRef: must be a non-empty string".
func invalidField(field, rule string) *ecs.Error {
	return badRequest("Invalid value for %s: %s", field, rule)
}

// missingField returns the Ecs.0005 error for an absent required field.
func missingField(field string) *ecs.Error {
	return badRequest("Missing required field %s", field)
}

// decodeBody unmarshals a request body into v, a pointer to a wire struct.
// Unknown fields are accepted (newer SDKs may send them); a JSON type that
// does not match the wire struct, malformed JSON, trailing data and an empty
// body are Ecs.0005 errors. Keys match case-insensitively, as encoding/json
// does.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("Invalid request body: the body is empty, a JSON object is required")
	}
	return decodeJSONAt(body, v, "")
}

// decodeJSONAt is decodeBody for a nested raw value found at path prefix
// (used for fields whose shape depends on the API version).
func decodeJSONAt(data []byte, v any, prefix string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		return badRequest("Invalid request body: malformed JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if prefix != "" {
			if field == "" {
				field = prefix
			} else {
				field = prefix + "." + field
			}
		}
		want, got := jsonTypeName(typeErr.Type), typeErr.Value
		if got == "bool" {
			got = "boolean"
		}
		if field == "" {
			return badRequest("Invalid request body: expected a JSON %s, got %s", want, got)
		}
		return invalidField(field, fmt.Sprintf("expected %s, got %s", withArticle(want), got))
	default:
		// Other decoder failures (e.g. unexpected end of input) carry no
		// internals; their text is safe to show.
		return badRequest("Invalid request body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

// jsonTypeName names the JSON type that a Go type decodes from.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "value"
}

func withArticle(s string) string {
	switch s {
	case "integer", "array", "object":
		return "an " + s
	}
	return "a " + s
}

// isJSONNull reports whether raw is absent or the literal null.
func isJSONNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}
