package generators

import (
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
)

// This file lets users' pods mount the site's home and project directories (spec.mounts)
// without giving up the Pod Security "restricted" level. Pod Security Admission has no
// allow list of paths: the only levels that admit nfs and hostPath volumes (baseline,
// privileged) drop the other restricted rules too. So with mounts listed, the namespace
// gets the lowest level that admits them, and the ValidatingAdmissionPolicy below enforces
// the rest of the restricted level itself, plus the paths each user may mount, which
// the namespace's AnnotationMounts lists.

// PodRestrictionsPolicy names the ValidatingAdmissionPolicy and binding of the
// restricted rules and the mount paths.
const PodRestrictionsPolicy = "peruser-pod-restrictions"

// AnnotationMounts lists, one per line, the volumes the namespace's pods may mount:
// "nfs SERVER PATH MODE" or "hostPath - PATH MODE", MODE rw or ro. A pod may mount PATH
// or a directory beneath it.
const AnnotationMounts = "peruser.dev/mounts"

// restrictedVolumeTypes are the volume types Pod Security "restricted" allows.
var restrictedVolumeTypes = []string{"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"}

// safeSysctls are the sysctls Pod Security "baseline" allows (k8s.io/pod-security-admission, check_sysctls.go).
var safeSysctls = []string{
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat",
}

// podSecurityLevel is the Pod Security level of user namespaces: the site's, lowered to
// the one that admits the listed mounts (baseline for nfs, privileged for hostPath)
// when it would refuse them. The restrictions policy then enforces what was dropped.
func (g *generator) podSecurityLevel() string {
	level := *g.site.Spec.Namespace.PodSecurity
	if level == "" || level == "privileged" {
		return level
	}
	for _, m := range g.site.Spec.Mounts {
		if m.HostPath != nil {
			return "privileged"
		}
	}
	if len(g.site.Spec.Mounts) > 0 {
		return "baseline"
	}
	return level
}

// MountPaths are the paths template expands to for user u: {user}, {uid} and {slug}
// as in NFSPath, and one path per group of u for {group} (none when u has no group).
func MountPaths(template string, u identity.User) []string {
	p := NFSPath(template, u)
	if !strings.Contains(p, "{group}") {
		return []string{p}
	}
	names := u.GroupNames()
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.ReplaceAll(p, "{group}", n))
	}
	return out
}

// mountLines are user u's AnnotationMounts lines, sorted.
func (g *generator) mountLines(u identity.User) []string {
	var lines []string
	for _, m := range g.site.Spec.Mounts {
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		kind, server := "hostPath", "-"
		if m.NFS != nil {
			kind, server = "nfs", m.NFS.Server
		}
		for _, p := range MountPaths(m.Path(), u) {
			lines = append(lines, kind+" "+server+" "+p+" "+mode)
		}
	}
	sort.Strings(lines)
	return lines
}

// checkMounts refuses users whose name or groups would move a mount path: the templates
// were checked by the spec loader, but {user} and {group} come from the spec or the
// directory and may hold '/', whitespace or be a dot name.
func (g *generator) checkMounts(users []identity.User) error {
	var errs field.List
	for i, m := range g.site.Spec.Mounts {
		t := m.Path()
		for _, u := range users {
			var values []string
			if strings.Contains(t, "{user}") {
				values = append(values, u.Name)
			}
			if strings.Contains(t, "{group}") {
				values = append(values, u.GroupNames()...)
			}
			for _, v := range values {
				if v == "" || v == "." || v == ".." || strings.ContainsAny(v, "/ \t\r\n\x00") {
					errs = append(errs, field.Errorf(field.Path("spec").Child("mounts").Index(i).String(),
						"user %q: %q cannot be put in the path template %q: it is empty, a dot name, or holds '/' or whitespace, which would point the volume elsewhere", u.Name, v, t))
				}
			}
		}
	}
	return errs.ErrOrNil()
}

// podRestrictionsPolicy is the policy and binding, when the site lists mounts.
func (g *generator) podRestrictionsPolicy() []*yaml.Node {
	if len(g.site.Spec.Mounts) == 0 {
		return nil
	}
	return policyObjects(g.siteLabels, PodRestrictionsPolicy, PodRestrictionsVariables, PodRestrictionsValidations)
}

// readOnlyEverywhere is CEL: volume v is mounted read-only by the volume itself or by
// every container that mounts it.
const readOnlyEverywhere = `(v.?nfs.?readOnly.orValue(false) || variables.containers.all(c, c.?volumeMounts.orValue([]).all(m, m.name != v.name || m.?readOnly.orValue(false))))`

// cleanPath is CEL: p is absolute, without empty, '.' or '..' segments.
func cleanPath(p string) string {
	return `(` + p + `.matches('^(/[^/]+)+$') && !` + p + `.matches('(^|/)[.][.]?(/|$)'))`
}

// allowedBy is CEL: volume v's path p is a listed entry's path or beneath it, the entry
// is of kind and (for nfs) of v's server, and read-only entries are mounted read-only.
func allowedBy(kind, p, server string) string {
	return `variables.mounts.exists(e, e.size() == 4 && e[0] == '` + kind + `' && ` + server + ` && (` + p + ` == e[2] || ` + p + `.startsWith(e[2] + '/')) && (e[3] == 'rw' || ` + readOnlyEverywhere + `))`
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// PodRestrictionsVariables are the policy's named expressions.
var PodRestrictionsVariables = []PolicyVariable{
	{"ann", `namespaceObject.metadata.?annotations.orValue({})`},
	{"mounts", `variables.ann[?'` + AnnotationMounts + `'].orValue('').split('\n').filter(l, l != '').map(l, l.split(' '))`},
	{"containers", `object.spec.containers + object.spec.?initContainers.orValue([]) + object.spec.?ephemeralContainers.orValue([])`},
	{"volumes", `object.spec.?volumes.orValue([])`},
	{"badVolumeTypes", `variables.volumes.filter(v, !(` + hasAny("v", append(append([]string{}, restrictedVolumeTypes...), "nfs", "hostPath")) + `)).map(v, v.name)`},
	{"badNFS", `variables.volumes.filter(v, has(v.nfs) && !(` + cleanPath("v.nfs.path") + ` && ` + allowedBy("nfs", "v.nfs.path", "e[1] == v.nfs.server") + `)).map(v, v.name + ' (' + v.nfs.server + ':' + v.nfs.path + ')')`},
	{"badHostPath", `variables.volumes.filter(v, has(v.hostPath) && !(` + cleanPath("v.hostPath.path") + ` && ` + allowedBy("hostPath", "v.hostPath.path", "true") + `)).map(v, v.name + ' (' + v.hostPath.path + ')')`},
	{"privileged", `variables.containers.filter(c, c.?securityContext.?privileged.orValue(false)).map(c, c.name)`},
	{"badCapabilities", `variables.containers.filter(c, !('ALL' in c.?securityContext.?capabilities.?drop.orValue([])) || c.?securityContext.?capabilities.?add.orValue([]).exists(a, a != 'NET_BIND_SERVICE')).map(c, c.name)`},
	{"seccompOK", `['RuntimeDefault', 'Localhost']`},
	{"badSeccomp", `variables.containers.filter(c, c.?securityContext.?seccompProfile.?type.optMap(t, !(t in variables.seccompOK)).orValue(!(object.spec.?securityContext.?seccompProfile.?type.orValue('') in variables.seccompOK))).map(c, c.name)`},
	{"rootContainers", `variables.containers.filter(c, c.?securityContext.?runAsUser.orValue(1) == 0 || !c.?securityContext.?runAsNonRoot.orValue(object.spec.?securityContext.?runAsNonRoot.orValue(false))).map(c, c.name)`},
	{"hostPorts", `variables.containers.filter(c, c.?ports.orValue([]).exists(p, p.?hostPort.orValue(0) != 0)).map(c, c.name)`},
	{"badSysctls", `object.spec.?securityContext.?sysctls.orValue([]).filter(s, !(s.name in ` + quoteList(safeSysctls) + `)).map(s, s.name)`},
	{"hostProcess", `object.spec.?securityContext.?windowsOptions.?hostProcess.orValue(false) || variables.containers.exists(c, c.?securityContext.?windowsOptions.?hostProcess.orValue(false))`},
	{"procMount", `variables.containers.filter(c, c.?securityContext.?procMount.orValue('Default') != 'Default').map(c, c.name)`},
	{"seLinuxOK", `['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']`},
	{"badSELinux", `[object.spec.?securityContext.?seLinuxOptions].filter(o, o.hasValue()).map(o, o.value()).exists(o, !(o.?type.orValue('') in variables.seLinuxOK) || o.?user.orValue('') != '' || o.?role.orValue('') != '') || variables.containers.exists(c, c.?securityContext.?seLinuxOptions.optMap(o, !(o.?type.orValue('') in variables.seLinuxOK) || o.?user.orValue('') != '' || o.?role.orValue('') != '').orValue(false))`},
	{"badAppArmor", `object.spec.?securityContext.?appArmorProfile.?type.orValue('RuntimeDefault') == 'Unconfined' || variables.containers.exists(c, c.?securityContext.?appArmorProfile.?type.orValue('RuntimeDefault') == 'Unconfined')`},
}

func hasAny(v string, fields []string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = "has(" + v + "." + f + ")"
	}
	return strings.Join(parts, " || ")
}

// listed is CEL: the names a variable holds, for a message.
func listed(variable string) string { return `variables.` + variable + `.join(', ')` }

// PodRestrictionsValidations are the rules, in the order the apiserver reports them.
// allowPrivilegeEscalation is pinned by the identity policy (admission.go).
var PodRestrictionsValidations = []PolicyValidation{
	{Expression: `variables.badVolumeTypes.size() == 0`,
		Message:           "spec.volumes: only the restricted volume types and the site's listed nfs and hostPath mounts are allowed",
		MessageExpression: `'spec.volumes: volume(s) ' + ` + listed("badVolumeTypes") + ` + ' use a type Pod Security restricted forbids; allowed: ` + strings.Join(restrictedVolumeTypes, ", ") + `, and the nfs and hostPath mounts the site lists'`},
	{Expression: `variables.badNFS.size() == 0`,
		Message:           "spec.volumes[].nfs: not a server and directory this user may mount",
		MessageExpression: `'spec.volumes[].nfs: volume(s) ' + ` + listed("badNFS") + ` + ' not a server and directory namespace ' + namespaceObject.metadata.name + ' may mount (or not read-only where the site says so); allowed: ' + variables.ann[?'` + AnnotationMounts + `'].orValue('none').replace('\n', '; ')`},
	{Expression: `variables.badHostPath.size() == 0`,
		Message:           "spec.volumes[].hostPath: not a directory this user may mount",
		MessageExpression: `'spec.volumes[].hostPath: volume(s) ' + ` + listed("badHostPath") + ` + ' not a directory namespace ' + namespaceObject.metadata.name + ' may mount (or not read-only where the site says so); allowed: ' + variables.ann[?'` + AnnotationMounts + `'].orValue('none').replace('\n', '; ')`},
	{Expression: `!object.spec.?hostNetwork.orValue(false) && !object.spec.?hostPID.orValue(false) && !object.spec.?hostIPC.orValue(false)`,
		Message: "spec.hostNetwork, spec.hostPID and spec.hostIPC must be unset or false"},
	{Expression: `variables.privileged.size() == 0`,
		Message:           "securityContext.privileged must be unset or false",
		MessageExpression: `'container(s) ' + ` + listed("privileged") + ` + ': securityContext.privileged must be unset or false'`},
	{Expression: `variables.badCapabilities.size() == 0`,
		Message:           "securityContext.capabilities must drop ALL and add nothing but NET_BIND_SERVICE",
		MessageExpression: `'container(s) ' + ` + listed("badCapabilities") + ` + ': securityContext.capabilities must drop ALL and add nothing but NET_BIND_SERVICE'`},
	{Expression: `variables.badSeccomp.size() == 0`,
		Message:           "securityContext.seccompProfile.type must be RuntimeDefault or Localhost (on the pod or on every container)",
		MessageExpression: `'container(s) ' + ` + listed("badSeccomp") + ` + ': securityContext.seccompProfile.type must be RuntimeDefault or Localhost (set spec.securityContext.seccompProfile or each container\'s)'`},
	{Expression: `variables.rootContainers.size() == 0`,
		Message:           "securityContext.runAsNonRoot must be true and runAsUser must not be 0",
		MessageExpression: `'container(s) ' + ` + listed("rootContainers") + ` + ': securityContext.runAsNonRoot must be true and runAsUser must not be 0'`},
	{Expression: `variables.hostPorts.size() == 0`,
		Message:           "ports[].hostPort must be unset or 0",
		MessageExpression: `'container(s) ' + ` + listed("hostPorts") + ` + ': ports[].hostPort must be unset or 0'`},
	{Expression: `variables.badSysctls.size() == 0`,
		Message:           "spec.securityContext.sysctls: only the sysctls Pod Security baseline allows",
		MessageExpression: `'spec.securityContext.sysctls: ' + ` + listed("badSysctls") + ` + ' not allowed (only the sysctls Pod Security baseline allows)'`},
	{Expression: `!variables.hostProcess`,
		Message: "securityContext.windowsOptions.hostProcess must be unset or false"},
	{Expression: `variables.procMount.size() == 0`,
		Message:           "securityContext.procMount must be unset or Default",
		MessageExpression: `'container(s) ' + ` + listed("procMount") + ` + ': securityContext.procMount must be unset or Default'`},
	{Expression: `!variables.badSELinux`,
		Message: "securityContext.seLinuxOptions: type must be container_t, container_init_t, container_kvm_t or container_engine_t, user and role unset"},
	{Expression: `!variables.badAppArmor`,
		Message: "securityContext.appArmorProfile.type must not be Unconfined"},
}

// policyObjects is a ValidatingAdmissionPolicy of pod creation and ephemeral
// containers in user namespaces (any namespace labelled peruser.dev/user), and its
// Deny binding.
func policyObjects(labels map[string]string, name string, vars []PolicyVariable, vals []PolicyValidation) []*yaml.Node {
	userNamespaces := mapping("matchExpressions", seq(mapping("key", LabelUser, "operator", "Exists")))
	variables := make([]*yaml.Node, len(vars))
	for i, v := range vars {
		variables[i] = mapping("expression", celNode(v.Expression), "name", v.Name)
	}
	validations := make([]*yaml.Node, len(vals))
	for i, v := range vals {
		var msgExpr *yaml.Node
		if v.MessageExpression != "" {
			msgExpr = celNode(v.MessageExpression)
		}
		validations[i] = mapping("expression", celNode(v.Expression), "message", v.Message, "messageExpression", msgExpr, "reason", "Forbidden")
	}
	podRule := func(operation, resource string) *yaml.Node {
		return mapping("apiGroups", []string{""}, "apiVersions", []string{"v1"}, "operations", []string{operation}, "resources", []string{resource})
	}
	policy := object(admissionAPI, "ValidatingAdmissionPolicy", meta(name, "", labels, nil),
		"spec", mapping(
			"failurePolicy", "Fail",
			"matchConstraints", mapping(
				"namespaceSelector", userNamespaces,
				"resourceRules", seq(podRule("CREATE", "pods"), podRule("UPDATE", "pods/ephemeralcontainers")),
			),
			"validations", seq(validations...),
			"variables", seq(variables...),
		))
	binding := object(admissionAPI, "ValidatingAdmissionPolicyBinding", meta(name, "", labels, nil),
		"spec", mapping(
			"matchResources", mapping("namespaceSelector", userNamespaces),
			"policyName", name,
			"validationActions", []string{"Deny"},
		))
	return []*yaml.Node{policy, binding}
}

// mountAnnotation adds AnnotationMounts to a user namespace's annotations when the
// site lists mounts.
func (g *generator) mountAnnotation(u identity.User, annotations map[string]string) {
	if len(g.site.Spec.Mounts) > 0 {
		annotations[AnnotationMounts] = strings.Join(g.mountLines(u), "\n")
	}
}
