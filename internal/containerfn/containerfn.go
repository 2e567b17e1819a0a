// Package containerfn holds the facts the container image of krm-fn is built from, so
// that the user-facing Dockerfile and the FROM-scratch Containerfile the tests build with
// buildah agree: the same /etc/passwd and /etc/group (deploy/container/), which must name
// `nobody` because kustomize's container mode always runs `docker run --user nobody`
// (kyaml fn/runtime/container), overriding the image's USER.
package containerfn

import "fmt"

// PasswdDir is the folder, relative to the repository root, holding passwd and group.
const PasswdDir = "deploy/container"

// NonRootUser is the image's own USER (uid:gid of `nonroot` in deploy/container/passwd).
const NonRootUser = "65532:65532"

// Containerfile is a FROM-scratch recipe equivalent to the Dockerfile's final stage for
// a build context holding krmFn (the static binary) and the PasswdDir files.
func Containerfile(krmFn string) string {
	return fmt.Sprintf(`FROM scratch
COPY %[1]s/passwd /etc/passwd
COPY %[1]s/group /etc/group
COPY %[2]s /usr/local/bin/krm-fn
USER %[3]s
ENTRYPOINT ["/usr/local/bin/krm-fn"]
`, PasswdDir, krmFn, NonRootUser)
}
