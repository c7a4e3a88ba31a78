# Production image: a static minsheng binary on a small base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces FerretDB with the patched copy, so it must be there first.
COPY third_party ./third_party
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/minsheng ./cmd/minsheng \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/minsheng /usr/local/bin/minsheng
# The data dir must exist, owned by nonroot, before the volume is mounted:
# a new named volume takes the image directory's owner and mode.
COPY --from=build --chown=nonroot:nonroot --chmod=700 /out/data /data
ENV MINSHENG_ADDR=:8080 MINSHENG_DATA=/data
VOLUME ["/data"]
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/usr/local/bin/minsheng"]
CMD ["serve"]
