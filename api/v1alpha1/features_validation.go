package v1alpha1

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/peruser-dev/peruser/field"
)

// Ingress annotations of ingress-nginx that restrict client addresses. peruser writes
// the first from spec.ingress.sourceRanges; the second is its newer alias.
const (
	AnnotationNginxWhitelist = "nginx.ingress.kubernetes.io/whitelist-source-range"
	AnnotationNginxAllowlist = "nginx.ingress.kubernetes.io/allowlist-source-range"
)

// PathPlaceholders are the placeholders of spec.storage.nfs.path.
var PathPlaceholders = []string{"{user}", "{uid}", "{slug}"}

// validateFeatures checks the optional features; Validate calls it.
func (s *Site) validateFeatures(spec field.Path) field.List {
	var errs field.List
	if in := s.Spec.Ingress; in != nil {
		errs = append(errs, s.validateIngress(spec.Child("ingress"), in)...)
	}
	if st := s.Spec.Storage; st != nil {
		errs = append(errs, validateStorage(spec.Child("storage"), st)...)
	}
	errs = append(errs, s.validateProfileFeatures(spec.Child("profiles"))...)
	errs = append(errs, validateReapers(spec.Child("reapers"), &s.Spec.Reapers)...)
	if ood := s.Spec.OpenOnDemand; ood != nil {
		errs = append(errs, validateOpenOnDemand(spec.Child("openOnDemand"), ood)...)
	}
	return errs
}

func (s *Site) validateIngress(p field.Path, in *Ingress) field.List {
	var errs field.List
	dp := p.Child("domain").String()
	switch {
	case strings.HasPrefix(in.Domain, "*."):
		errs = append(errs, field.Errorf(dp, "%q is a wildcard; give the parent domain (%q): peruser prepends each user's slug to it",
			in.Domain, strings.TrimPrefix(in.Domain, "*.")))
	case strings.Contains(in.Domain, "://") || strings.ContainsAny(in.Domain, "/:"):
		errs = append(errs, field.Errorf(dp, "%q is not a domain: give a bare DNS name such as pods.example.edu (no scheme, port or path)", in.Domain))
	default:
		for _, msg := range validation.IsDNS1123Subdomain(in.Domain) {
			errs = append(errs, field.Errorf(dp, "%q is not a valid DNS name for user hosts <slug>.%s: %s", in.Domain, in.Domain, msg))
		}
	}
	// The longest host is a 63-character slug, a dot and the domain.
	prefix := ""
	if s.Spec.Namespace.Prefix != nil {
		prefix = *s.Spec.Namespace.Prefix
	}
	if longest := validation.DNS1123LabelMaxLength - len(prefix) + 1 + len(in.Domain); longest > validation.DNS1123SubdomainMaxLength {
		errs = append(errs, field.Errorf(dp, "too long: a user's host <slug>.%s may reach %d characters, over the DNS limit of %d",
			in.Domain, longest, validation.DNS1123SubdomainMaxLength))
	}
	if in.TLSSecretName != "" {
		errs = append(errs, dnsSubdomain(p.Child("tlsSecretName"), in.TLSSecretName)...)
	}
	if in.ClassName != "" {
		errs = append(errs, dnsSubdomain(p.Child("className"), in.ClassName)...)
	}
	errs = append(errs, validateCIDRs(p.Child("sourceRanges"), in.SourceRanges)...)
	errs = append(errs, validateMap(p.Child("annotations"), in.Annotations, false)...)
	if len(in.SourceRanges) > 0 {
		for _, k := range []string{AnnotationNginxWhitelist, AnnotationNginxAllowlist} {
			if _, ok := in.Annotations[k]; ok {
				errs = append(errs, field.Errorf(p.Child("annotations").Key(k).String(),
					"conflicts with spec.ingress.sourceRanges, which peruser writes as %s; keep one of them", AnnotationNginxWhitelist))
			}
		}
	}
	errs = append(errs, validateBackend(p.Child("backend"), in.Backend)...)
	return errs
}

func validateBackend(p field.Path, b IngressBackend) field.List {
	var errs field.List
	if b.Service != "" {
		for _, msg := range validation.IsDNS1035Label(b.Service) {
			errs = append(errs, field.Errorf(p.Child("service").String(), "%q is not a Service name: %s", b.Service, msg))
		}
	}
	if port := b.Port; port != nil {
		pp := p.Child("port").String()
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Errorf(pp, "%q is not a port name: %s", port.Name, msg))
			}
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.Number)) {
				errs = append(errs, field.Errorf(pp, "%d: %s", port.Number, msg))
			}
		}
	}
	return errs
}

func validateStorage(p field.Path, st *Storage) field.List {
	var errs field.List
	if st.NFS != nil {
		np := p.Child("nfs")
		server := st.NFS.Server
		if net.ParseIP(server) == nil {
			for _, msg := range validation.IsDNS1123Subdomain(server) {
				errs = append(errs, field.Errorf(np.Child("server").String(), "%q is neither an IP address nor a host name: %s", server, msg))
			}
		}
		errs = append(errs, validatePathTemplate(np.Child("path"), st.NFS.Path, PathPlaceholders)...)
	}
	errs = append(errs, validateCapacity(p.Child("capacity"), st.Capacity)...)
	for i, o := range st.MountOptions {
		if strings.TrimSpace(o) == "" || strings.ContainsAny(o, " \t\n") {
			errs = append(errs, field.Errorf(p.Child("mountOptions").Index(i).String(), "%q is not a mount option (one option per item, no spaces)", o))
		}
	}
	// The PersistentVolume is named <namespace>-<claimName>, namespace ≤ 63 characters.
	cp := p.Child("claimName")
	errs = append(errs, dnsSubdomain(cp, st.ClaimName)...)
	if max := validation.DNS1123SubdomainMaxLength - validation.DNS1123LabelMaxLength - 1; len(st.ClaimName) > max {
		errs = append(errs, field.Errorf(cp.String(), "must be at most %d characters (the PersistentVolume is named <namespace>-<claimName>)", max))
	}
	return errs
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// validatePathTemplate refuses anything but a clean absolute path: the path selects
// which directory of the NFS server a user's pods mount, so a template that can climb
// out of it (..) or that a username could redirect is a security hole, not a typo.
func validatePathTemplate(p field.Path, tmpl string, known []string) field.List {
	path := p.String()
	if !strings.HasPrefix(tmpl, "/") {
		return field.List{field.Errorf(path, "%q must be an absolute path (start with /), e.g. /home/{user}", tmpl)}
	}
	var errs field.List
	for _, ph := range placeholder.FindAllString(tmpl, -1) {
		if !slices.Contains(known, ph) {
			errs = append(errs, field.Errorf(path, "unknown placeholder %s in %q (known: %s)", ph, tmpl, strings.Join(known, ", ")))
		}
	}
	if rest := placeholder.ReplaceAllString(tmpl, ""); strings.ContainsAny(rest, "{}") {
		errs = append(errs, field.Errorf(path, "unbalanced brace in %q (placeholders are %s)", tmpl, strings.Join(known, ", ")))
	}
	if strings.ContainsAny(tmpl, "\x00\n\r") {
		errs = append(errs, field.Errorf(path, "must not contain control characters"))
	}
	segments := strings.Split(strings.TrimPrefix(tmpl, "/"), "/")
	for _, seg := range segments {
		switch seg {
		case "..":
			errs = append(errs, field.Errorf(path, "%q contains a '..' segment: path traversal is not allowed", tmpl))
		case ".":
			errs = append(errs, field.Errorf(path, "%q contains a '.' segment; write the path without it", tmpl))
		case "":
			if tmpl != "/" {
				errs = append(errs, field.Errorf(path, "%q has an empty segment (// or a trailing /); write the clean path", tmpl))
			}
		}
	}
	return dedupe(errs)
}

func validateCapacity(p field.Path, q Quantity) field.List {
	v, err := ParseQuantity(q)
	if err != nil {
		return field.List{field.Errorf(p.String(), "%v", err)}
	}
	if v.Sign() <= 0 {
		return field.List{field.Errorf(p.String(), "must be greater than zero, got %s", q)}
	}
	return nil
}

// validateProfileFeatures checks profile overrides and that every user's volume fits
// the profile's storage quota (else the apiserver refuses the PersistentVolumeClaim).
func (s *Site) validateProfileFeatures(path field.Path) field.List {
	var errs field.List
	for _, n := range s.ProfileNames() {
		prof := s.Spec.Profiles[n]
		p := path.Key(n)
		if prof.Ingress != nil {
			if s.Spec.Ingress == nil {
				errs = append(errs, field.Errorf(p.Child("ingress").String(), "has no effect without spec.ingress"))
			}
			errs = append(errs, validateBackend(p.Child("ingress").Child("backend"), prof.Ingress.Backend)...)
		}
		if prof.Storage != nil {
			if s.Spec.Storage == nil {
				errs = append(errs, field.Errorf(p.Child("storage").String(), "has no effect without spec.storage"))
			}
			if prof.Storage.Capacity != "" {
				errs = append(errs, validateCapacity(p.Child("storage").Child("capacity"), prof.Storage.Capacity)...)
			}
		}
		if s.Spec.Storage == nil {
			continue
		}
		capacity := s.StorageCapacityFor(n)
		where := field.Path("spec.storage.capacity")
		if prof.Storage != nil && prof.Storage.Capacity != "" {
			where = p.Child("storage").Child("capacity")
		}
		want, err := ParseQuantity(capacity)
		if err != nil {
			continue // reported above
		}
		if hard, ok := prof.Quota["requests.storage"]; ok {
			if limit, err := ParseQuantity(hard); err == nil && want.Cmp(limit) > 0 {
				errs = append(errs, field.Errorf(where.String(),
					"volume capacity %s of profile %q exceeds its quota requests.storage %s: the apiserver would refuse each user's PersistentVolumeClaim",
					capacity, n, hard))
			}
		}
		if pvcs, ok := prof.Quota["persistentvolumeclaims"]; ok {
			if limit, err := ParseQuantity(pvcs); err == nil && limit.Sign() <= 0 {
				errs = append(errs, field.Errorf(p.Child("quota").Key("persistentvolumeclaims").String(),
					"is %s, but spec.storage gives each user of profile %q a PersistentVolumeClaim", pvcs, n))
			}
		}
	}
	return errs
}

func validateReapers(p field.Path, r *Reapers) field.List {
	var errs field.List
	jp := p.Child("jobPodReaper")
	j := r.JobPodReaper
	for i, sel := range j.ObjectLabels {
		ip := jp.Child("objectLabels").Index(i).String()
		switch {
		case strings.TrimSpace(sel) == "":
			errs = append(errs, field.Errorf(ip, "must not be empty (use objectLabels: [] to reap every pod with a lifetime)"))
		case strings.Contains(sel, ","):
			errs = append(errs, field.Errorf(ip, "%q holds a comma: job-pod-reaper splits --object-labels on commas and ORs the parts; list each selector as its own item", sel))
		default:
			if _, err := labels.Parse(sel); err != nil {
				errs = append(errs, field.Errorf(ip, "%q is not a label selector: %v", sel, err))
			}
		}
	}
	np := p.Child("namespaceReaper")
	n := r.NamespaceReaper
	errs = append(errs, validateDuration(np.Child("reapAfter"), n.ReapAfter, positive)...)
	errs = append(errs, validateDuration(np.Child("lastUsedThreshold"), n.LastUsedThreshold, positive)...)
	if n.LastUsedAnnotation != "" {
		for _, msg := range validation.IsQualifiedName(n.LastUsedAnnotation) {
			errs = append(errs, field.Errorf(np.Child("lastUsedAnnotation").String(), "%q is not an annotation key: %s", n.LastUsedAnnotation, msg))
		}
	}
	pp := np.Child("prometheusAddress").String()
	switch {
	case n.PrometheusAddress != "":
		if u, err := url.Parse(n.PrometheusAddress); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, field.Errorf(pp, "%q is not an http(s) URL such as http://prometheus.monitoring:9090", n.PrometheusAddress))
		}
	case n.Enabled:
		errs = append(errs, field.Errorf(pp, "required when the namespace reaper is enabled: k8-namespace-reaper asks Prometheus (kube-state-metrics) which namespaces ran pods recently"))
	}
	return errs
}

var oodClusterID = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_]*$`)

func validateOpenOnDemand(p field.Path, ood *OpenOnDemand) field.List {
	var errs field.List
	if !oodClusterID.MatchString(ood.Cluster) {
		errs = append(errs, field.Errorf(p.Child("cluster").String(),
			"%q cannot name an OOD cluster (its clusters.d file name, the Site's name by default): set it to letters, digits, '-' and '_'", ood.Cluster))
	}
	ep := p.Child("server").Child("endpoint").String()
	if u, err := url.Parse(ood.Server.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, field.Errorf(ep, "%q is not the API server's URL, e.g. https://k8s.example.edu:6443", ood.Server.Endpoint))
	}
	return errs
}

func dnsSubdomain(p field.Path, v string) field.List {
	var errs field.List
	for _, msg := range validation.IsDNS1123Subdomain(v) {
		errs = append(errs, field.Errorf(p.String(), "%q is not a valid name: %s", v, msg))
	}
	return errs
}

func dedupe(errs field.List) field.List {
	var out field.List
	seen := map[string]bool{}
	for _, e := range errs {
		k := e.Path + "\x00" + e.Message
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
