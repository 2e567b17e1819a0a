package harden

import (
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/podrules"
	"github.com/peruser-dev/peruser/internal/ynode"
)

// LifetimeAnnotation is read by OSC's job-pod-reaper: pods older than its value are deleted.
const LifetimeAnnotation = "pod.kubernetes.io/lifetime"

// safeSysctls are the sysctls the restricted level allows at its latest version
// (k8s.io/pod-security-admission v0.37.2, check "sysctls"; TestSafeSysctlsMatchPSA keeps
// this list in step with the library).
var safeSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ping_group_range",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_notsent_lowat",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_slow_start_after_idle",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.tcp_wmem",
}

// containerLists are the three places containers live; all are hardened alike.
var containerLists = []string{"initContainers", "containers", "ephemeralContainers"}

// templateRun holds the state of hardening one pod template.
type templateRun struct {
	h       *Hardener
	changed bool
	errs    field.List
	// excepted lists the volumes kept because the site allows them; verification masks
	// them so that the restricted check judges everything else.
	excepted []int
}

func (r *templateRun) fail(p field.Path, format string, args ...any) {
	r.errs = append(r.errs, field.Errorf(p.String(), format, args...))
}

// mapAt returns the mapping under key, creating it when missing or null. A value of
// another type is an error, since overwriting it would hide a chart bug.
func (r *templateRun) mapAt(parent *yaml.Node, key string, p field.Path) *yaml.Node {
	n := lookup(parent, key)
	if isMap(n) {
		return n
	}
	if !isNull(n) {
		r.fail(p, "must be a mapping")
		return nil
	}
	m := ynode.Map()
	set(parent, key, m)
	r.changed = true
	return m
}

// template hardens one pod template; owner is the object that holds it, at base.
func (h *Hardener) template(t podTemplate, owner *yaml.Node, base field.Path) (bool, field.List) {
	r := &templateRun{h: h}
	specPath := t.at("spec")
	spec := lookup(t.node, "spec")
	if isNull(spec) {
		return false, nil // nothing to run, nothing to harden
	}
	if !isMap(spec) {
		return false, field.List{field.Errorf(specPath.String(), "must be a mapping")}
	}
	r.dropInitContainers(spec)
	r.refuseDowngrades(spec, specPath)
	r.refuseHostNamespaces(spec, specPath)
	r.volumes(spec, specPath)
	r.podSecurityContext(spec, specPath)
	for _, list := range containerLists {
		r.containers(spec, list, specPath.Child(list))
	}
	r.imagePullSecrets(spec, specPath.Child("imagePullSecrets"))
	r.metadata(t, owner, base)
	if len(r.errs) == 0 && h.evaluator != nil {
		r.errs = append(r.errs, h.verify(t, r.excepted)...)
	}
	return r.changed, r.errs
}

func (r *templateRun) refuseHostNamespaces(spec *yaml.Node, p field.Path) {
	for _, key := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if isTrue(lookup(spec, key)) {
			r.fail(p.Child(key), "host namespaces are not allowed: a user's pod must not share the node's %s namespace",
				strings.TrimPrefix(key, "host"))
		}
	}
}

// volumes refuses volume types the restricted level forbids, unless the site allows them.
func (r *templateRun) volumes(spec *yaml.Node, p field.Path) {
	vols := lookup(spec, "volumes")
	if isNull(vols) {
		return
	}
	if !isSeq(vols) {
		r.fail(p.Child("volumes"), "must be a list")
		return
	}
	for i, v := range vols.Content {
		vp := p.Child("volumes").Index(i)
		if !isMap(v) {
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			typ := v.Content[j].Value
			switch {
			case typ == "name" || slices.Contains(podrules.RestrictedVolumeTypes, typ):
				if typ == "image" {
					r.rewriteImage(v.Content[j+1], "reference")
				}
			case typ == "hostPath":
				hp := str(lookup(v.Content[j+1], "path"))
				if r.h.hostPathAllowed(hp) {
					r.excepted = append(r.excepted, i)
					continue
				}
				// Name the path: it is what --allow-host-path (or the Hardening's
				// exceptions.hostPathPrefixes) needs, and a chart's values rarely show it.
				allowed := "none"
				if len(r.h.hostPathPrefixes) > 0 {
					allowed = strings.Join(r.h.hostPathPrefixes, ", ")
				}
				r.fail(vp.Child("hostPath"), "hostPath %q is not allowed (allowed prefixes: %s); allow it with --allow-host-path %s or exceptions.hostPathPrefixes, or disable it in the chart's values",
					hp, allowed, path.Clean(hp))
			case r.h.volumeTypes[typ]:
				r.excepted = append(r.excepted, i)
			case slices.Contains(podrules.OtherVolumeTypes, typ):
				allowed := "none"
				if len(r.h.spec.Exceptions.VolumeTypes) > 0 {
					allowed = strings.Join(r.h.spec.Exceptions.VolumeTypes, ", ")
				}
				r.fail(vp.Child(typ), "%s volumes are not allowed by the restricted level (allowed: %s; site exceptions: %s)",
					typ, strings.Join(podrules.RestrictedVolumeTypes, ", "), allowed)
			}
		}
	}
}

// hostPathAllowed reports a path inside one of the site's allowed directories.
func (h *Hardener) hostPathAllowed(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	dir := asDirectory(p)
	for _, pre := range h.hostPathPrefixes {
		if strings.HasPrefix(dir, pre) {
			return true
		}
	}
	return false
}

// podSecurityContext forces the pod-level identity and defaults.
func (r *templateRun) podSecurityContext(spec *yaml.Node, specPath field.Path) {
	p := specPath.Child("securityContext")
	sc := r.mapAt(spec, "securityContext", p)
	if sc == nil {
		return
	}
	id := r.h.id
	r.changed = setInt(sc, "runAsUser", id.UID) || r.changed
	r.changed = setInt(sc, "runAsGroup", id.GID) || r.changed
	r.changed = setInt(sc, "fsGroup", id.GID) || r.changed
	r.changed = setBool(sc, "runAsNonRoot", true) || r.changed
	r.seccomp(sc, p, true)
	if !id.KeepGroupsPolicy {
		r.changed = setStr(sc, "supplementalGroupsPolicy", "Strict") || r.changed
	}
	r.refuseHostProcess(sc, p)

	if want := r.h.supplemental; want == nil {
		// Only the user's own groups may be used; the chart's are not the user's.
		r.changed = remove(sc, "supplementalGroups") || r.changed
	} else if !sameInts(lookup(sc, "supplementalGroups"), want) {
		items := make([]*yaml.Node, len(want))
		for i, g := range want {
			items[i] = ynode.Int(g)
		}
		set(sc, "supplementalGroups", ynode.Seq(items...))
		r.changed = true
	}

	if sysctls := lookup(sc, "sysctls"); isSeq(sysctls) {
		for i, s := range sysctls.Content {
			name := str(lookup(s, "name"))
			if !slices.Contains(safeSysctls, name) {
				r.fail(p.Child("sysctls").Index(i).Child("name"), "sysctl %q is not allowed by the restricted level (allowed: %s)",
					name, strings.Join(safeSysctls, ", "))
			}
		}
	}
}

// seccomp sets RuntimeDefault where no profile is set (at pod level; a container
// inherits the pod's) and refuses Unconfined anywhere.
func (r *templateRun) seccomp(sc *yaml.Node, p field.Path, podLevel bool) {
	prof := lookup(sc, "seccompProfile")
	switch {
	case isMap(prof):
		switch typ := str(lookup(prof, "type")); typ {
		case "Unconfined":
			r.fail(p.Child("seccompProfile").Child("type"), "Unconfined is not allowed (use RuntimeDefault or Localhost)")
		case "":
			if podLevel {
				r.changed = setStr(prof, "type", "RuntimeDefault") || r.changed
			} else {
				r.changed = remove(sc, "seccompProfile") || r.changed // inherit the pod's
			}
		}
	case isNull(prof):
		if podLevel {
			m := ynode.Map()
			set(m, "type", ynode.Str("RuntimeDefault"))
			set(sc, "seccompProfile", m)
			r.changed = true
		} else if prof != nil {
			r.changed = remove(sc, "seccompProfile") || r.changed // a null container profile inherits the pod's
		}
	default:
		r.fail(p.Child("seccompProfile"), "must be a mapping")
	}
}

func (r *templateRun) refuseHostProcess(sc *yaml.Node, p field.Path) {
	if isTrue(lookup(lookup(sc, "windowsOptions"), "hostProcess")) {
		r.fail(p.Child("windowsOptions").Child("hostProcess"), "Windows host process containers are not allowed")
	}
}

// containers hardens every container of one list.
func (r *templateRun) containers(spec *yaml.Node, list string, p field.Path) {
	cs := lookup(spec, list)
	if isNull(cs) {
		return
	}
	if !isSeq(cs) {
		r.fail(p, "must be a list")
		return
	}
	for i, c := range cs.Content {
		cp := p.Index(i)
		if !isMap(c) {
			r.fail(cp, "must be a mapping")
			continue
		}
		r.container(c, cp)
	}
}

func (r *templateRun) container(c *yaml.Node, p field.Path) {
	name := str(lookup(c, "name"))
	if ports := lookup(c, "ports"); isSeq(ports) {
		for j, port := range ports.Content {
			if hp, ok := intValue(lookup(port, "hostPort")); ok && hp != 0 {
				r.fail(p.Child("ports").Index(j).Child("hostPort"), "host ports are not allowed (container %q asks for %d)", name, hp)
			}
		}
	}
	r.rewriteImage(c, "image")

	scPath := p.Child("securityContext")
	sc := r.mapAt(c, "securityContext", scPath)
	if sc == nil {
		return
	}
	if pm := str(lookup(sc, "procMount")); pm != "" && pm != "Default" {
		r.fail(scPath.Child("procMount"), "procMount %s is not allowed (only Default)", pm)
	}
	r.seccomp(sc, scPath, false)
	r.refuseHostProcess(sc, scPath)

	r.changed = setBool(sc, "allowPrivilegeEscalation", false) || r.changed
	r.changed = setBool(sc, "privileged", false) || r.changed
	r.capabilities(sc, scPath.Child("capabilities"))

	// A container-level identity overrides the pod's: drop any that is not the user's.
	id := r.h.id
	r.changed = removeUnless(sc, "runAsUser", id.UID) || r.changed
	r.changed = removeUnless(sc, "runAsGroup", id.GID) || r.changed
	if n := lookup(sc, "runAsNonRoot"); n != nil && !isTrue(n) {
		r.changed = remove(sc, "runAsNonRoot") || r.changed // the pod's runAsNonRoot: true applies
	}
}

// keptCapability is the one added capability the restricted level allows, so the one
// hardening keeps (capabilities) and the one whose loss is no downgrade (downgrade.go).
const keptCapability = "NET_BIND_SERVICE"

// capabilities drops ALL and keeps at most keptCapability added.
func (r *templateRun) capabilities(sc *yaml.Node, p field.Path) {
	caps := r.mapAt(sc, "capabilities", p)
	if caps == nil {
		return
	}
	drop := lookup(caps, "drop")
	if !isSeq(drop) || !slices.ContainsFunc(drop.Content, func(n *yaml.Node) bool { return str(n) == "ALL" }) {
		set(caps, "drop", ynode.Seq(ynode.Str("ALL")))
		r.changed = true
	}
	add := lookup(caps, "add")
	if add == nil {
		return
	}
	var keep []*yaml.Node
	if isSeq(add) {
		for _, a := range add.Content {
			if str(a) == keptCapability && len(keep) == 0 {
				keep = append(keep, a)
			}
		}
	}
	switch {
	case len(keep) == 0:
		remove(caps, "add")
		r.changed = true
	case len(keep) != len(add.Content):
		add.Content = keep
		r.changed = true
	}
}

// rewriteImage applies the registry rewrites to the image reference under key.
func (r *templateRun) rewriteImage(m *yaml.Node, key string) {
	img := lookup(m, key)
	if img == nil || img.Kind != yaml.ScalarNode {
		return
	}
	if to, ok := r.h.rewrite.rewrite(img.Value); ok && to != img.Value {
		img.Value, img.Tag = to, "!!str" // keep the quoting the chart chose
		r.changed = true
	}
}

// imagePullSecrets appends the site's pull secrets that a pod does not list yet.
func (r *templateRun) imagePullSecrets(spec *yaml.Node, p field.Path) {
	if len(r.h.spec.ImagePullSecrets) == 0 {
		return
	}
	list := lookup(spec, "imagePullSecrets")
	if isNull(list) {
		list = ynode.Seq()
		set(spec, "imagePullSecrets", list)
	} else if !isSeq(list) {
		r.fail(p, "must be a list")
		return
	}
	for _, name := range r.h.spec.ImagePullSecrets {
		if slices.ContainsFunc(list.Content, func(n *yaml.Node) bool { return str(lookup(n, "name")) == name }) {
			continue
		}
		m := ynode.Map()
		set(m, "name", ynode.Str(name))
		blockStyle(list)
		list.Content = append(list.Content, m)
		r.changed = true
	}
}

// metadata writes the reaper's lifetime annotation and labels on the pod template, and
// the labels on the object that holds it, so both can be selected.
func (r *templateRun) metadata(t podTemplate, owner *yaml.Node, base field.Path) {
	o := r.h.spec
	if o.Lifetime == "" && len(o.Labels) == 0 {
		return
	}
	md := r.mapAt(t.node, "metadata", t.at("metadata"))
	if md == nil {
		return
	}
	if o.Lifetime != "" {
		if ann := r.mapAt(md, "annotations", t.at("metadata").Child("annotations")); ann != nil {
			r.changed = setStr(ann, LifetimeAnnotation, o.Lifetime) || r.changed
		}
	}
	r.labels(md, t.at("metadata"))
	if owner != t.node {
		if omd := r.mapAt(owner, "metadata", base.Child("metadata")); omd != nil {
			r.labels(omd, base.Child("metadata"))
		}
	}
}

func (r *templateRun) labels(md *yaml.Node, p field.Path) {
	if len(r.h.labelKeys) == 0 {
		return
	}
	ls := r.mapAt(md, "labels", p.Child("labels"))
	if ls == nil {
		return
	}
	for _, k := range r.h.labelKeys {
		r.changed = setStr(ls, k, r.h.spec.Labels[k]) || r.changed
	}
}

// sameInts reports whether seq holds exactly want, in order.
func sameInts(seq *yaml.Node, want []int64) bool {
	if !isSeq(seq) || len(seq.Content) != len(want) {
		return false
	}
	for i, n := range seq.Content {
		if v, ok := intValue(n); !ok || v != want[i] {
			return false
		}
	}
	return true
}
