package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"deskphone/boards"
	"deskphone/config"
)

const repo = "../.." // tests run in tools/deb

// buildFirmware builds the firmware for amd64 the way make deb does.
func buildFirmware(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "deskphone")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./firmware")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux", "GOARCH=amd64") // as make deb: ALSA, Opus, speexdsp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the firmware: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The amd64 package as make deb builds it: control data, files, a conffile,
// maintainer scripts, and a unit systemd accepts.
func TestPackage(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb is not installed (apt-get install dpkg)")
	}
	tmp := t.TempDir()
	bin := buildFirmware(t, tmp)
	pkg, err := build(options{Arch: "amd64", Bin: bin, Version: "1.2.3", Root: repo, Out: filepath.Join(tmp, "dist")})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(pkg) != "deskphone_1.2.3_amd64.deb" {
		t.Errorf("package file is %s, want deskphone_1.2.3_amd64.deb", filepath.Base(pkg))
	}

	info := run(t, "dpkg-deb", "--info", pkg)
	for _, want := range []string{
		" Package: deskphone\n", " Version: 1.2.3\n", " Architecture: amd64\n", " Depends: adduser, libasound2, libopus0, libspeexdsp1\n",
		" postinst ", " prerm ", " postrm ", " conffiles ",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb --info lacks %q:\n%s", want, info)
		}
	}
	if got := run(t, "dpkg-deb", "--info", pkg, "conffiles"); got != "/etc/deskphone/phone.yaml\n" {
		t.Errorf("conffiles = %q, want only /etc/deskphone/phone.yaml", got)
	}

	contents := run(t, "dpkg-deb", "--contents", pkg)
	want := map[string]string{ // path → mode and owner
		"./usr/bin/deskphone":                          "-rwxr-xr-x root/root",
		"./etc/deskphone/phone.yaml":                   "-rw-r--r-- root/root",
		"./lib/systemd/system/deskphone.service":       "-rw-r--r-- root/root",
		"./usr/share/doc/deskphone/phone.yaml.example": "-rw-r--r-- root/root",
		"./usr/share/doc/deskphone/README.md":          "-rw-r--r-- root/root",
	}
	for _, b := range boards.Names() {
		want["./usr/share/deskphone/boards/"+b+".yaml"] = "-rw-r--r-- root/root"
	}
	for path, mode := range want {
		found := false
		for _, l := range strings.Split(contents, "\n") {
			if strings.HasSuffix(l, " "+path) {
				found = true
				if !strings.HasPrefix(l, mode) {
					t.Errorf("%s: %q, want %s", path, l, mode)
				}
			}
		}
		if !found {
			t.Errorf("the package lacks %s:\n%s", path, contents)
		}
	}

	// Unpacked: the unit and the config are the ones in packaging/debian.
	root := filepath.Join(tmp, "root")
	run(t, "dpkg", "-x", pkg, root)
	for dst, src := range map[string]string{
		"lib/systemd/system/deskphone.service": "packaging/debian/deskphone.service",
		"etc/deskphone/phone.yaml":             "packaging/debian/phone.yaml",
		"usr/share/deskphone/boards/sim.yaml":  "boards/sim.yaml",
	} {
		got, err := os.ReadFile(filepath.Join(root, dst))
		if err != nil {
			t.Fatal(err)
		}
		if wantB, _ := os.ReadFile(filepath.Join(repo, src)); !bytes.Equal(got, wantB) {
			t.Errorf("/%s differs from %s", dst, src)
		}
	}

	// The default config is valid once the admin's password file exists,
	// and the packaged binary says so when it does not.
	conf := filepath.Join(root, "etc/deskphone/phone.yaml")
	out, err := exec.Command(filepath.Join(root, "usr/bin/deskphone"), "-config", conf).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "account.password_file: cannot read /etc/deskphone/sip-password") {
		t.Errorf("the packaged binary with the default config and no password file: %v\n%s", err, out)
	}
	pw := filepath.Join(tmp, "sip-password")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(conf)
	withPW := filepath.Join(tmp, "phone.yaml")
	if err := os.WriteFile(withPW, bytes.ReplaceAll(body, []byte("/etc/deskphone/sip-password"), []byte(pw)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(withPW)
	if err != nil {
		t.Fatalf("the default config with a password file does not load: %v", err)
	}
	if cfg.API.Listen != "127.0.0.1:8080" || cfg.API.Token != "" {
		t.Errorf("the default config's API listens on %s (token %q), want 127.0.0.1:8080 without a token", cfg.API.Listen, cfg.API.Token)
	}
	if cfg.Account.Password != "secret" || !strings.HasPrefix(cfg.Account.Cache, "/var/lib/deskphone/") {
		t.Errorf("default config: password from the file %q, cache %s (want under /var/lib/deskphone, the StateDirectory)", cfg.Account.Password, cfg.Account.Cache)
	}

	// systemd accepts the unit (verify insists ExecStart exists: point it at
	// the unpacked binary).
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd): unit not verified")
	}
	unit, _ := os.ReadFile(filepath.Join(root, "lib/systemd/system/deskphone.service"))
	for _, want := range []string{"Type=notify\n", "NotifyAccess=main\n", "WatchdogSec=30s\n", "ExecReload=/bin/kill -HUP $MAINPID\n", "User=deskphone\n", "StateDirectory=deskphone\n", "DevicePolicy=closed\n"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	vdir := filepath.Join(tmp, "verify")
	if err := os.Mkdir(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	vunit := filepath.Join(vdir, "deskphone.service")
	unit = bytes.Replace(unit, []byte("ExecStart=/usr/bin/deskphone "), []byte("ExecStart="+filepath.Join(root, "usr/bin/deskphone")+" "), 1)
	if err := os.WriteFile(vunit, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", vunit).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// A binary for another machine, an unknown architecture or a version
// dpkg would refuse is caught before anything is written.
func TestRefusesWrongInput(t *testing.T) {
	tmp := t.TempDir()
	notELF := filepath.Join(tmp, "deskphone")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable() // this test binary: an ELF for the host
	if err != nil {
		t.Fatal(err)
	}
	other := map[string]string{"amd64": "arm64", "arm64": "armhf", "armhf": "amd64"}[hostArch(t, self)]
	for _, c := range []struct {
		o    options
		want string
	}{
		{options{Arch: "i386", Bin: self, Version: "1.0"}, `-arch "i386": use amd64, arm64 or armhf`},
		{options{Arch: other, Bin: self, Version: "1.0"}, "not " + other},
		{options{Arch: "amd64", Bin: notELF, Version: "1.0"}, "build it with GOOS=linux"},
		{options{Arch: "amd64", Bin: self, Version: "v1.0"}, "starts with a digit"},
		{options{Arch: "amd64", Version: "1.0"}, "-bin is required"},
	} {
		c.o.Root, c.o.Out = repo, filepath.Join(tmp, "dist")
		_, err := build(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.o, err, c.want)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(tmp, "dist")); len(ents) > 0 {
		t.Errorf("refused builds left %d files in the output directory", len(ents))
	}
}

// hostArch is the Debian architecture a binary is built for.
func hostArch(t *testing.T, path string) string {
	t.Helper()
	for arch := range machines {
		if (options{Arch: arch, Bin: path, Version: "1"}).check() == nil {
			return arch
		}
	}
	t.Skip("the test binary is for a machine the package does not support")
	return ""
}
