# syntax=docker/dockerfile:1

# Build a static server binary. go.mod and go.sum are copied first so the module
# download layer is reused until the dependencies change.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server

# Distroless static: CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /server
USER nonroot:nonroot
ENV DANCECARD_ADDR=0.0.0.0:8080
EXPOSE 8080
# No HEALTHCHECK: distroless has no shell or curl to run one. The orchestrator probes
# GET /healthz (process up) and GET /readyz (database reachable) over HTTP instead.
ENTRYPOINT ["/server"]
CMD ["serve"]
