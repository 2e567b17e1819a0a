package harden

import (
	"bytes"
	"fmt"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/peruser-dev/peruser/api/v1alpha1"
)

// benchDocs is the size of the benchmark stream (the target: a 10,000-document stream).
const benchDocs = 10000

// benchTemplates is one round of the benchmark stream: four workloads in the shapes
// Helm charts render (Deployment, StatefulSet with an init container, Job hook, CronJob)
// and six plain objects. %d makes every name unique.
var benchTemplates = []string{
	`---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-%d
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/instance: rel
    app.kubernetes.io/managed-by: Helm
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      serviceAccountName: web
      securityContext: {}
      containers:
        - name: web
          image: "nginx:1.27"
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          livenessProbe:
            httpGet:
              path: /
              port: http
          resources:
            limits:
              cpu: 500m
              memory: 256Mi
          volumeMounts:
            - name: config
              mountPath: /etc/web
      volumes:
        - name: config
          configMap:
            name: web-config
`,
	`---
# Source: app/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web-%d
  labels:
    app.kubernetes.io/name: web
spec:
  type: ClusterIP
  ports:
    - port: 80
      targetPort: http
      protocol: TCP
      name: http
  selector:
    app.kubernetes.io/name: web
`,
	`---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-%d
data:
  app.conf: |
    listen 8080;
    root /srv;
  LOG_LEVEL: info
`,
	`---
# Source: app/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db-%d
spec:
  serviceName: db
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      initContainers:
        - name: init
          image: busybox:1.36
          command: ["sh", "-c", "chown -R 999 /data"]
          securityContext:
            runAsUser: 0
      containers:
        - name: db
          image: postgres:16
          securityContext:
            capabilities:
              add: ["NET_ADMIN", "NET_BIND_SERVICE"]
          volumeMounts:
            - name: data
              mountPath: /var/lib/postgresql
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        resources:
          requests:
            storage: 1Gi
`,
	`---
# Source: app/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa-%d
automountServiceAccountToken: false
`,
	`---
# Source: app/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: secret-%d
type: Opaque
stringData:
  password: hunter2
`,
	`---
# Source: app/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate-%d
  annotations:
    helm.sh/hook: pre-install
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: ghcr.io/example/migrate:2
          args: ["--up"]
`,
	`---
# Source: app/templates/role.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: role-%d
rules:
  - apiGroups: [""]
    resources: ["pods", "configmaps"]
    verbs: ["get", "list", "watch"]
`,
	`---
# Source: app/templates/cronjob.yaml
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report-%d
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: ghcr.io/example/report:1
`,
	`---
# Source: app/templates/rolebinding.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: binding-%d
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: role
subjects:
  - kind: ServiceAccount
    name: sa
`,
}

// mixedStream renders n documents cycling through benchTemplates.
func mixedStream(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, benchTemplates[i%len(benchTemplates)], i)
	}
	return b.Bytes()
}

// benchHardener allows the downgrade: the stream's database StatefulSet has a root init
// container and an added capability, which the benchmark measures being rewritten
// (without it they are refused, and nothing would be measured).
func benchHardener(b *testing.B) *Hardener {
	h, err := New(v1alpha1.HardeningSpec{Lifetime: "8h", AllowDowngrade: true}, Identity{UID: 20001, GID: 20001, SupplementalGroups: []int64{30001}})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkPostRender10kDocs hardens a 10,000-document stream, verification included.
// Compare with BenchmarkKyamlPassthrough10kDocs: the target is at most 1.5× its time.
func BenchmarkPostRender10kDocs(b *testing.B) {
	in := mixedStream(benchDocs)
	h := benchHardener(b)
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for range b.N {
		out, st, err := h.Stream(in)
		if err != nil || st.Documents != benchDocs || len(out) == 0 {
			b.Fatalf("documents %d, err %.500v", st.Documents, err) // the first problems suffice
		}
	}
}

// BenchmarkKyamlPassthrough10kDocs is the baseline: kyaml reads the same stream into
// nodes and writes it back, doing nothing in between.
func BenchmarkKyamlPassthrough10kDocs(b *testing.B) {
	in := mixedStream(benchDocs)
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for range b.N {
		nodes, err := kio.FromBytes(in)
		if err != nil || len(nodes) != benchDocs {
			b.Fatalf("nodes %d, err %v", len(nodes), err)
		}
		var out bytes.Buffer
		if err := (kio.ByteWriter{Writer: &out}).Write(nodes); err != nil {
			b.Fatal(err)
		}
	}
}
