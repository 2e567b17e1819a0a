package harden

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
)

// This file is the "no silent breakage" rule. Hardening turns every container into an
// unprivileged one running as the user with all capabilities dropped. A container that
// asks for privileged: true, for root (runAsUser 0, its own or the pod's) or for added
// capabilities other than NET_BIND_SERVICE does so because its job needs it — a chart's
// volume-permissions init container runs chown -R as root, an init-sysctl container
// writes /proc/sys — and the rewritten container would fail at run time, after the
// release looked fine. So such a container is refused unless the site accepts the
// downgrade (spec.allowDowngrade) or drops the init container
// (spec.dropInitContainers); the chart's values can also turn it off.

// dropInitContainers removes the init containers named in the options.
func (r *templateRun) dropInitContainers(spec *yaml.Node) {
	if len(r.h.spec.DropInitContainers) == 0 {
		return
	}
	cs := lookup(spec, "initContainers")
	if !isSeq(cs) {
		return // a malformed list is reported by containers
	}
	kept := slices.DeleteFunc(slices.Clone(cs.Content), func(c *yaml.Node) bool {
		return isMap(c) && slices.Contains(r.h.spec.DropInitContainers, str(lookup(c, "name")))
	})
	if len(kept) == len(cs.Content) {
		return
	}
	r.changed = true
	if len(kept) == 0 {
		remove(spec, "initContainers")
		return
	}
	cs.Content = kept
}

// refuseDowngrades reports every container the hardening would break. It runs before
// anything is rewritten, on the template as the chart wrote it.
func (r *templateRun) refuseDowngrades(spec *yaml.Node, specPath field.Path) {
	if r.h.spec.AllowDowngrade {
		return
	}
	uid := r.h.id.UID
	podRoot := false
	if v, ok := intValue(lookup(lookup(spec, "securityContext"), "runAsUser")); ok && v == 0 {
		podRoot = true
	}
	var rootByPod, rootByPodInit []string // containers the pod's runAsUser 0 applies to
	for _, list := range containerLists {
		cs := lookup(spec, list)
		if !isSeq(cs) {
			continue
		}
		for i, c := range cs.Content {
			if !isMap(c) {
				continue
			}
			name := str(lookup(c, "name"))
			init := list == "initContainers"
			scPath := specPath.Child(list).Index(i).Child("securityContext")
			sc := lookup(c, "securityContext")
			if isTrue(lookup(sc, "privileged")) {
				r.fail(scPath.Child("privileged"), "container %q asks for privileged: true, which hardening would turn off (it would run unprivileged as uid %d)%s",
					name, uid, remedy(init, name))
			}
			if v, ok := intValue(lookup(sc, "runAsUser")); ok && v == 0 {
				r.fail(scPath.Child("runAsUser"), "container %q runs as root (runAsUser: 0), which hardening would change to uid %d%s",
					name, uid, remedy(init, name))
			} else if !ok && podRoot {
				rootByPod = append(rootByPod, name)
				if init {
					rootByPodInit = append(rootByPodInit, name)
				}
			}
			if lost := lostCapabilities(lookup(lookup(sc, "capabilities"), "add")); len(lost) > 0 {
				r.fail(scPath.Child("capabilities").Child("add"), "container %q adds capabilities %s, which hardening would drop (only %s is kept)%s",
					name, strings.Join(lost, ", "), keptCapability, remedy(init, name))
			}
		}
	}
	if len(rootByPod) > 0 {
		noun := "container "
		if len(rootByPod) > 1 {
			noun = "containers "
		}
		msg := "runAsUser: 0 (root) applies to " + noun + quoteAll(rootByPod) + fmt.Sprintf(", which hardening would run as uid %d", uid)
		if len(rootByPodInit) == len(rootByPod) {
			msg += remedy(true, rootByPodInit...)
		} else {
			msg += remedy(false)
		}
		r.fail(specPath.Child("securityContext").Child("runAsUser"), "%s", msg)
	}
}

// lostCapabilities returns the added capabilities the hardening removes.
func lostCapabilities(add *yaml.Node) []string {
	if !isSeq(add) {
		return nil
	}
	var lost []string
	for _, a := range add.Content {
		if c := str(a); c != keptCapability {
			lost = append(lost, c)
		}
	}
	return lost
}

// remedy says what to do about a refused container: an init container can be dropped,
// any container can be turned off in the chart or downgraded on purpose.
func remedy(init bool, names ...string) string {
	accept := "accept the downgrade with --allow-downgrade (allowDowngrade: true)"
	if !init {
		return "; disable it in the chart's values or " + accept
	}
	drop := make([]string, len(names))
	for i, n := range names {
		drop[i] = "--drop-init-container " + n
	}
	return "; disable it in the chart's values, drop the init container with " + strings.Join(drop, " ") +
		" (dropInitContainers), or " + accept
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
