package qemu

// Test hooks.
var (
	HostsOf       = hosts
	ParseMemTotal = parseMemTotal
)
