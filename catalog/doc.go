// Package catalog is the simulated region's catalogue as data: the flavors
// (with the extra specs the Huawei ECS API returns), the availability zones,
// the simulated hosts the sim driver places servers on, the public images,
// and the rules that decide which flavor may change into which.
//
// A Catalog is built once, by New or Default, and never changes afterwards,
// so one value may be shared by any number of goroutines. Every accessor
// returns copies; callers may modify what they get without affecting the
// catalogue or other callers. With derives a new catalogue with more
// overrides on top of an existing one. Live holds the catalogue in force
// where it changes at run time (seed documents may carry flavor overrides):
// it offers the same reads, without a lock, and swaps in a new catalogue
// atomically.
//
// # Flavors and families
//
// Every flavor belongs to a family (s6, c7, kc1, ...). The family decides the
// CPU architecture, the virtualization (KVM, "CloudCompute", or Xen,
// "FusionCompute"), the category (general, compute, memory, large-memory,
// gpu, local-disk, arm) and the resize group. Flavors are generated from a
// table of rows, one per flavor, holding the published vCPU and memory figures,
// the network limits and the sale status per availability zone. Operators may
// change, remove or add flavors with FlavorOverride values; an added flavor
// must name a family that the catalogue knows.
//
// # Resize rules
//
// CheckResize walks an ordered list of rules and returns the first refusal as
// an *ecs.Error. The rules, in order:
//
//  1. same flavor: ecs.CodeSameFlavor;
//  2. x86 and Arm flavors cannot be exchanged: ecs.CodeBadRequest;
//  3. a KVM flavor cannot go back to Xen: ecs.CodeBadRequest;
//  4. GPU flavors change only within their own family: ecs.CodeBadRequest;
//  5. local-disk flavors change only within their own family: ecs.CodeBadRequest;
//  6. large-memory and other flavors cannot be exchanged: ecs.CodeBadRequest;
//  7. the two families must share a resize group: ecs.CodeBadRequest;
//  8. Xen to KVM needs the KVM drivers in the guest: ecs.CodeXenToKVM;
//  9. an abandoned target: ecs.CodeFlavorAbandoned;
//  10. a target not on sale in the AZ (sold out): ecs.CodeInsufficientCap.
//
// The source flavor's own sale status never matters: a server may always
// leave an abandoned or sold-out flavor.
//
// # Hosts
//
// A flavor fits a host when their architectures match and the host's free
// vCPUs and memory are at least the flavor's (Host.Fits). There are no
// separate GPU or local-disk pools: the simulation does not model devices.
// The default data keeps every flavor that no host of an AZ could hold off
// sale in that AZ.
package catalog
