// Package console is ecsd's web console, served under /console/: pages of
// servers, one server (details, actions and jobs as a timeline, the
// driver's view of the machine), jobs, flavors, the virtual clock and the
// fault rules, rendered with html/template from embedded files, with a
// little plain JavaScript for actions and live updates.
//
// Live updates are server-sent events (GET /console/events): while at least
// one browser listens, one goroutine polls the store at Console.Poll and
// sends only what changed, so that the console also sees the work of other
// processes on the same database.
//
// Actions go through the compute service in-process, under the project of
// the server they touch, with the request ID of the console request, so
// that they appear in the history exactly like API calls.
//
// Access follows the control API's rule (control.Allowed): loopback peers,
// or, when an admin token is configured, callers that present it; a browser
// logs in once with a form that sets an HttpOnly cookie holding a signed
// proof of the token. Requests that change state are refused when they come
// from another site (http.CrossOriginProtection), and the JSON action
// endpoints also require the X-Ecsd-Console header, which a cross-site form
// cannot send.
package console
