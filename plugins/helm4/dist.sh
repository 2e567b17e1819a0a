#!/bin/sh
# dist.sh OUTDIR OS/ARCH... packages the Helm 4 plugin for release: OUTDIR/peruser-VERSION.tgz
# (VERSION from plugin.yaml; Helm 4 derives the folder it looks for in a local archive from
# the file name with "-VERSION.tgz" removed, so the name must stay so), holding
# peruser/plugin.yaml and peruser/bin/<os>-<arch>/post-renderer for each platform given;
# the plugin's platformCommand picks the binary for the platform Helm runs on, so one
# archive (one URL) serves all of them. The archive is deterministic for a commit: names
# sorted, mtime 0, owner 0:0, gzip without a name or time stamp, binaries built with
# -trimpath and without cgo. The binaries are built in OUTDIR/.build/<os>-<arch> and kept
# there: go build leaves an output that is already current as it is, so a second run relinks
# only what changed.
# Used by `make helm4-plugin-dist` and by the test that installs the archive with Helm 4.
set -eu
[ $# -gt 1 ] || { echo "usage: $0 OUTDIR OS/ARCH..." >&2; exit 2; }
outdir=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^version: *//p' "$here/peruser/plugin.yaml")
out=$outdir/peruser-$version.tgz
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/peruser/bin"
cp "$here/peruser/plugin.yaml" "$work/peruser/plugin.yaml"
mkdir -p "$outdir"
build=$(cd "$outdir" && pwd)/.build
for platform in "$@"; do
	os=${platform%/*}
	arch=${platform#*/}
	(cd "$root" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch ${GO:-go} build -trimpath \
		-o "$build/$os-$arch/post-renderer" ./cmd/post-renderer)
	mkdir -p "$work/peruser/bin/$os-$arch"
	cp "$build/$os-$arch/post-renderer" "$work/peruser/bin/$os-$arch/post-renderer"
done
chmod -R u=rwX,go=rX "$work/peruser"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf - peruser | gzip -n >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
