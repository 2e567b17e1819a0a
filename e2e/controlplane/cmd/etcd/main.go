// Command etcd is etcd's own server entry point, built from go.etcd.io/etcd/server/v3 at the
// version k8s.io/kubernetes pins, because etcd's main package lives in a module
// (go.etcd.io/etcd/v3) that cannot be required alongside Kubernetes' pins.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
