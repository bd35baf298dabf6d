# deskphone — see README.md. `make run` and `make test` are the two entry points.
GO      ?= go
BIN     := bin/deskphone
# Debian packages the lab, the tests and the cgo build need (systemd: the
# package test runs systemd-analyze verify on the unit).
APT_PKGS := kamailio kamailio-presence-modules kamailio-sqlite-modules kamailio-tls-modules sip-tester sipsak baresip-core sqlite3 sox alsa-utils \
            libopus-dev libopusfile-dev libasound2-dev libspeexdsp-dev pkg-config iproute2 util-linux \
            systemd chromium
# The real peers run in a private network namespace: baresip binds RTP on the
# wildcard address whatever its config says, and fixed ports cannot collide.
NETNS   := unshare -n -- bash -c
# libopus through cgo (gopkg.in/hraban/opus.v2) without libopusfile, which the
# phone does not need: every go command here builds with this tag. A plain
# `go vet ./...` or `go build` without it asks pkg-config for opusfile, so
# libopusfile-dev is in APT_PKGS too (headers only: nothing links it here).
GOTAGS  := -tags=nolibopusfile
export GOFLAGS := $(GOTAGS)
# Inside the namespace there is no network: modules must already be cached.
OFFLINE := GOFLAGS="-mod=mod $(GOTAGS)" GOPROXY=off

.PHONY: all deps modules build run test vet lint lint-tool bench bench-side fuzz soak-restart deb clean firmware-cross deps-cross test-arm

all: build

# A package counts as installed for this machine's architecture (with
# multiarch, `make deps-cross`, plain `dpkg -s` is ambiguous). A mirror that
# is mid-sync makes `apt-get update` fail for some index (seen for armhf):
# the install is tried anyway and fails itself if it really cannot proceed.
deps: lint-tool
	@arch=$$(dpkg --print-architecture); missing=""; \
	for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || dpkg -s $$p:$$arch >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq || echo "deps: apt-get update reported errors (see above); installing with the indexes it has"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

modules:
	$(GO) mod download

build: modules
	$(GO) build -o $(BIN) ./firmware

# The phone on the simulated board, registered to a local lab (Kamailio +
# a baresip far end). Type digits then c to call, e to hang up, h for hook;
# Ctrl-D or Ctrl-C ends it all. The API (127.0.0.1:8080 in the namespace)
# reaches the host through run/lab/api.sock (UNIX socket paths cross network
# namespaces): `lab host` serves it on 127.0.0.1:$(API_PORT) or the next free port.
API_PORT ?= 8080
run: deps build
	@mkdir -p run/lab
	$(GO) build -o bin/lab ./tools/lab
	@bin/lab host -port $(API_PORT) -socket run/lab/api.sock -- \
	  $(NETNS) 'ip link set lo up && exec bin/lab -dir run/lab -socket run/lab/api.sock -- $(BIN) -config run/lab/phone.yaml -console'

vet: modules
	$(GO) vet ./...

# golangci-lint, pinned, in a project-local dir (.golangci.yml: the linters and
# why each exclusion is there). Installed once; again only if the version differs.
GOLANGCI_LINT_VERSION := 2.15.0
GOLANGCI_LINT := bin/tools/golangci-lint
lint-tool:
	@if [ "$$($(GOLANGCI_LINT) version --short 2>/dev/null)" != "$(GOLANGCI_LINT_VERSION)" ]; then \
	  echo "installing golangci-lint v$(GOLANGCI_LINT_VERSION) into bin/tools"; \
	  GOBIN=$(CURDIR)/bin/tools $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v$(GOLANGCI_LINT_VERSION); \
	fi

lint: lint-tool modules
	$(GOLANGCI_LINT) run ./...

# Everything: vet, unit tests and the end-to-end tests against real
# Kamailio and baresip, all with the race detector.
test: deps modules vet lint
	$(GO) test -race -count=1 -run '^$$' ./... >/dev/null   # compile (and cache) outside the namespace
	$(NETNS) 'ip link set lo up && DESKPHONE_E2E=1 $(OFFLINE) $(GO) test -race -count=1 -timeout 20m ./...'

bench: modules
	$(GO) test -run '^$$' -bench . -benchmem ./phone/media/... ./hal/...

# The phone and baresip side by side (tools/bench; not part of make test):
# CPU, peak RSS, the phone's allocations per frame and its own delay, per
# codec, as a markdown table (also in run/bench/report.md). Each codec takes
# the idle baseline plus two calls (default 30 s + 2 × 60 s); a quick run:
# make bench-side BENCH_ARGS='-duration 10s -idle 5s'.
BENCH_ARGS ?=
bench-side: deps build
	$(GO) build -o bin/bench ./tools/bench
	$(NETNS) 'ip link set lo up && bin/bench -firmware $(BIN) -dir run/bench -out run/bench/report.md $(BENCH_ARGS)'

# Each native fuzz target for FUZZTIME (not part of make test, which runs
# their seed corpora). A crasher is written to the package's
# testdata/fuzz/NAME/ and then fails make test: keep it as the regression.
# Minimizing a new input is capped so the time goes to fuzzing. Go 1.26's
# coordinator may end a clean run with a bare "context deadline exceeded"
# (golang/go#75804, fixed in 1.27): without a written input that is not a finding.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./phone/sipua:FuzzSIPMessage ./phone/sipua:FuzzReferTo ./phone/sipua:FuzzInfoDTMF \
                ./phone/sipua:FuzzParseReginfo ./phone/sipua/wirefuzz:FuzzUAReceive ./phone:FuzzParseReplaces \
                ./phone/agent/presence:FuzzDecode ./phone/media:FuzzSDP ./phone/media:FuzzRTPReceive \
                ./phone/media:FuzzDTMFPayload ./phone/media:FuzzRTCP ./phone/media:FuzzParseCrypto ./config:FuzzParse ./phone/control:FuzzRequestBody ./phone/console:FuzzServe
fuzz: modules
	@failed=""; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "== $$name ($$pkg, $(FUZZTIME))"; start=$$(date +%s); \
	  out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg 2>&1); rc=$$?; echo "$$out" | tail -n 25; \
	  if [ $$rc -ne 0 ]; then if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'input written'; then \
	    echo "== $$name: the Go fuzz deadline race (golang/go#75804), not a finding"; else failed="$$failed $$name"; fi; fi; \
	  echo "== $$name: $$(( $$(date +%s) - start ))s"; \
	done; if [ -n "$$failed" ]; then echo "fuzz: found something in:$$failed (crashers in testdata/fuzz/)"; exit 1; fi

# Debian packages for amd64, arm64 and armhf in dist/ (tools/deb, with nfpm;
# README: installing). The firmware is a cgo build (ALSA, libopus,
# libspeexdsp), like firmware-%: arm64 and armhf through Debian's crossbuild
# toolchains (make deps-cross; see /work/shared/notes/platform.md), and the
# package depends on those libraries. armhf is ARMv7.
DEB_VERSION ?= 0.1.0
DEB_ARCHS   := amd64 arm64 armhf
GOARCH_amd64 := GOARCH=amd64
GOARCH_arm64 := GOARCH=arm64
GOARCH_armhf := GOARCH=arm GOARM=7
deb: $(DEB_ARCHS:%=deb-%)
CGO_amd64 := CGO_ENABLED=1
deb-%: modules
	$(CGO_$*) GOOS=linux $(GOARCH_$*) $(GO) build -trimpath -ldflags='-s -w' -o dist/$*/deskphone ./firmware
	$(GO) run ./tools/deb -arch $* -bin dist/$*/deskphone -version $(DEB_VERSION) -out dist

# The firmware for real boards, cross-built into bin/deskphone-ARCH: arm64
# (Pi 3/4/5 and Zero 2 W on a 64-bit OS), armhf (32-bit Raspberry Pi OS,
# ARMv7) and armv6 (Pi Zero W, Pi 1: GOARM=6). arm64 and armhf build with
# cgo (ALSA, libopus) through Debian's crossbuild toolchains (make
# deps-cross); Debian has no ARMv6 one, so armv6 is pure Go: no ALSA sound
# (calls report -1302/-1321) and no libopus. STRIP=1 drops the symbol
# tables (-ldflags='-s -w').
GOARCH_armv6 := GOARCH=arm GOARM=6
CGO_arm64 := CGO_ENABLED=1 CC=aarch64-linux-gnu-gcc PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
CGO_armhf := CGO_ENABLED=1 CC=arm-linux-gnueabihf-gcc PKG_CONFIG_LIBDIR=/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig
CGO_armv6 := CGO_ENABLED=0
FIRMWARE_ARCHS := arm64 armhf armv6
firmware-cross: $(FIRMWARE_ARCHS:%=firmware-%)
firmware-%: modules
	$(CGO_$*) GOOS=linux $(GOARCH_$*) $(GO) build -trimpath $(if $(STRIP),-ldflags='-s -w') -o bin/deskphone-$* ./firmware

# For the cgo firmware-arm64/armhf (ALSA, Opus, speexdsp): the crossbuild
# toolchains with their C libraries (libc6-dev-*-cross: without them even
# runtime/cgo misses its headers) and the :arm64/:armhf libraries
# (multiarch), found through PKG_CONFIG_LIBDIR=/usr/lib/<triplet>/pkgconfig.
# Debian has no ARMv6 toolchain: armv6 stays pure Go. apt-get update may
# warn about some index files; the installs still work.
CROSS_PKGS := gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross \
              libasound2-dev:arm64 libopus-dev:arm64 libspeexdsp-dev:arm64 libasound2-dev:armhf libopus-dev:armhf libspeexdsp-dev:armhf
deps-cross:
	dpkg --add-architecture arm64 && dpkg --add-architecture armhf
	@missing=""; for p in $(CROSS_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq || true; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The pure-Go packages' tests on ARM, under qemu-user (installed here, not by
# make deps: make test does not need it). A hung emulator is killed.
ARM_TEST_PKGS := ./hal/... ./boards/... ./phone/agent/... ./config/...
test-arm: modules
	@dpkg -s qemu-user >/dev/null 2>&1 || { apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user; }
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) test -count=1 -exec 'timeout -s KILL 900 qemu-aarch64' $(ARM_TEST_PKGS)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 $(GO) test -count=1 -exec 'timeout -s KILL 900 qemu-arm' $(ARM_TEST_PKGS)

clean:
	rm -rf bin run dist

# The registrar restart test, 10 restarts instead of make test's one: the
# figures (launch → registered, median and worst) are in its log.
soak-restart: deps modules
	$(GO) test -race -count=1 -c -o bin/firmware.test ./firmware/
	$(NETNS) 'set -o pipefail; ip link set lo up && cd firmware && DESKPHONE_E2E=1 DESKPHONE_RESTARTS=10 ../bin/firmware.test -test.run "^TestRegistrarRestart$$" -test.v -test.timeout 20m' | grep -E "restart_e2e|^(---|PASS|FAIL|ok)"

# The SIPp flood test for 30 s instead of make test's 8: 200 INVITEs and
# 200 OPTIONS a second from an untrusted address; figures in its log.
flood: deps modules
	$(GO) test -race -count=1 -c -o bin/firmware.test ./firmware/
	$(NETNS) 'set -o pipefail; ip link set lo up && cd firmware && DESKPHONE_E2E=1 DESKPHONE_FLOOD_SECONDS=30 ../bin/firmware.test -test.run "^TestSIPpFloodFromUntrustedHost$$" -test.v -test.timeout 10m' | grep -E "flood_e2e|^(---|PASS|FAIL|ok)"

# The link-cut test with a 60 s cut instead of make test's 15 s: the
# figures (loss noticed after, registered again after) are in its log.
soak-linkcut: deps modules
	$(GO) test -race -count=1 -c -o bin/firmware.test ./firmware/
	$(NETNS) 'set -o pipefail; ip link set lo up && cd firmware && DESKPHONE_E2E=1 DESKPHONE_LINKCUT_SECONDS=60 ../bin/firmware.test -test.run "^TestLinkCut$$" -test.v -test.timeout 10m' | grep -E "linkcut_e2e|^(---|PASS|FAIL|ok)"
