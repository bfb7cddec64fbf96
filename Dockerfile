# syntax=docker/dockerfile:1
# ksguard: a static binary on distroless, non-root. Build with `make docker-build`.
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY internal/ internal/
COPY policies/ policies/
COPY certs/ certs/
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ksguard ./cmd/webhook

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ksguard /ksguard
USER 65532:65532
ENTRYPOINT ["/ksguard"]
CMD ["serve"]
