# Container image for krm-fn (a kustomize container function) and the Helm
# post-renderer. Multi-stage: a static binary on a distroless, non-root base.
#   docker build -t ghcr.io/example/peruser:v0.1.0 .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/krm-fn ./cmd/krm-fn && \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/post-renderer ./cmd/post-renderer

FROM gcr.io/distroless/static-debian12:nonroot
# kustomize runs container functions with --user nobody: the image must name nobody.
# The same passwd/group go into the FROM-scratch image the tests build (internal/containerfn).
COPY deploy/container/passwd /etc/passwd
COPY deploy/container/group /etc/group
COPY --from=build /out/krm-fn /out/post-renderer /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/krm-fn"]
