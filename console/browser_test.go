package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ecsd-dev/ecsd/ecsdtest"
	"github.com/ecsd-dev/ecsd/node"
)

// chromium returns the browser to drive: $CHROMIUM, else Debian's
// /usr/bin/chromium; the test skips when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no browser at %s (install Debian's chromium package or set $CHROMIUM): %v", path, err)
	}
	return path
}

// browser starts a headless Chromium for t and returns a tab's context.
func browser(t *testing.T, ctx context.Context, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	return tab
}

// screenshots returns where the test saves its screenshots: $ECSD_SCREENSHOTS,
// or a temporary directory.
func screenshots(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ECSD_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserResize drives the console in a real browser: create a server,
// stop it, open the resize dialog (refused flavors are explained), dry-run,
// resize, and watch the job reach SUCCESS live; then the same page at a
// phone's width.
func TestBrowserResize(t *testing.T) {
	path := chromium(t)
	start := time.Now()
	env := ecsdtest.New(t, ecsdtest.WithTiming("fast"), ecsdtest.WithNodeConfig(func(c *node.Config) {
		// Long enough for the page to show the migration as it happens.
		c.PhaseOverrides = map[string]time.Duration{"resize_migrating": 1500 * time.Millisecond}
	}))
	// Neighbours, so that the list looks like one.
	env.CreateServer(t, "db-1", "m6.large.8")
	env.CreateServer(t, "cache-1", "c7.large.2")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	tab := browser(t, ctx, path)
	dir := screenshots(t)
	base := env.URL + "/console"

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// waitFor waits until a JavaScript condition on the page holds.
	waitFor := func(what, cond string) {
		t.Helper()
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			state, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("live").textContent + " | " + (document.getElementById("resize-dialog")?.innerText ?? "") + " | " + (document.querySelector("main")?.innerText ?? "")`))
			t.Fatalf("waiting until %s (%s): %v\npage: %s", what, cond, err, state)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	row := func(name string) string {
		return fmt.Sprintf(`[...document.querySelectorAll("#servers-live tbody tr")].find(r => r.querySelector("th a")?.textContent === %q)`, name)
	}

	do("open the servers page", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/servers"))
	waitFor("the live stream is on", `document.getElementById("live").textContent === "live"`)

	// Create web-1 through the form.
	do("fill the create form",
		chromedp.Click(chromedp.CSS("#create > summary")),
		chromedp.SetValue(chromedp.CSS("#c-project"), env.Tenant.ProjectID),
		chromedp.SendKeys(chromedp.CSS("#c-name"), "web-1"),
		chromedp.SetValue(chromedp.CSS("#c-flavor"), "s6.small.1"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	waitFor("web-1 is ACTIVE", row("web-1")+`?.dataset.status === "ACTIVE"`)
	id := eval(row("web-1") + `.dataset.server`)

	do("stop web-1", chromedp.Click(chromedp.CSS(`[data-action="stop"][data-server="`+id+`"]`)))
	waitFor("web-1 is SHUTOFF", row("web-1")+`?.dataset.status === "SHUTOFF"`)

	// The resize dialog lists the allowed flavors and explains the others.
	do("open the resize dialog", chromedp.Click(chromedp.CSS(`[data-resize="`+id+`"]`)))
	waitFor("the flavors are listed", `document.querySelectorAll("#resize-options input").length > 0 && Number(document.getElementById("resize-refused-count").textContent) > 0`)
	if got := eval(`document.querySelector('#resize-refused-list li[data-flavor="kc1.large.2"]').textContent`); !strings.Contains(got, "x86 and Arm flavors cannot be exchanged") {
		t.Errorf("kc1.large.2 is refused with %q", got)
	}
	if eval(`String(!!document.querySelector('#resize-options input[value="kc1.large.2"]'))`) != "false" {
		t.Error("a refused flavor is offered")
	}
	if eval(`String(document.getElementById("resize-submit").disabled)`) != "true" {
		t.Error("Resize is enabled before a dry run")
	}
	do("choose s6.medium.2 and dry-run",
		chromedp.Click(chromedp.CSS(`#resize-options input[value="s6.medium.2"]`)),
		chromedp.Click(chromedp.CSS("#resize-dry")),
	)
	waitFor("the dry run passes", `document.getElementById("resize-result").textContent.startsWith("Dry run passed") && !document.getElementById("resize-submit").disabled`)
	do("show the refused flavors", chromedp.Click(chromedp.CSS("#resize-refused > summary")))
	shot("console-resize-dialog.png")

	// Submit, then follow the job as the page shows it.
	do("resize", chromedp.Click(chromedp.CSS("#resize-submit")))
	waitFor("the job shows its migration running", `document.querySelector("#resize-job-steps .step.current")?.textContent === "resize_migrating"`)
	shot("console-resize-running.png")
	waitFor("the job reaches SUCCESS", `document.getElementById("resize-job-status").textContent === "SUCCESS"`)
	do("close the dialog", chromedp.Click(chromedp.CSS("#resize-close")))
	waitFor("the list shows the new flavor", row("web-1")+`?.querySelector(".flavor-id").textContent === "s6.medium.2" && `+row("web-1")+`.dataset.status === "SHUTOFF"`)
	do("reload the servers page", chromedp.Navigate(base+"/servers"))
	waitFor("the live stream is on again", `document.getElementById("live").textContent === "live"`)
	shot("console-servers.png")

	srv, err := env.Node.Service.FindServerByID(ctx, "", id)
	if err != nil || srv.FlavorID != "s6.medium.2" {
		t.Fatalf("server after the resize: %v %+v", err, srv)
	}

	// The server page shows the resize in its timeline.
	do("open the server page", chromedp.Navigate(base+"/servers/"+id))
	waitFor("the timeline shows the resize", `[...document.querySelectorAll(".timeline .event-head strong")].some(e => e.textContent === "resize")`)
	shot("console-server.png")

	// At a phone's width the list fits without scrolling sideways.
	do("narrow viewport", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/servers"))
	waitFor("the list is shown", row("web-1")+` !== undefined`)
	if w, _ := strconv.Atoi(eval(`String(document.documentElement.scrollWidth)`)); w > 390 {
		t.Errorf("the servers page is %d px wide at 390 px", w)
	}
	shot("console-servers-390.png")
	t.Logf("browser test took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), dir)
}
