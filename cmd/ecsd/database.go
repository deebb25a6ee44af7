package main

import "net/url"

// redactURL returns a database URL fit for messages and logs: its password,
// if any, is replaced by "xxxxx". A string that is not a URL is returned as
// "(not a URL)".
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}
