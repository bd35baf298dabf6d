// Command deb builds the deskphone Debian package for one architecture
// with nfpm (github.com/goreleaser/nfpm) from a firmware binary already
// built for it and the files under packaging/debian. `make deb` runs it for
// amd64, arm64 and armhf.
//
//	go run ./tools/deb -arch arm64 -bin dist/arm64/deskphone -version 0.1.0 -out dist
package main

import (
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// options says what to package and where to put it.
type options struct {
	Arch    string // Debian architecture: amd64, arm64 or armhf
	Bin     string // the firmware built for Arch
	Version string // Debian upstream version, e.g. 0.1.0
	Root    string // the repository: packaging/, boards/, config/examples/, README.md
	Out     string // directory the .deb is written to
}

// machines is the ELF machine each supported architecture's binary has.
var machines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
	"armhf": elf.EM_ARM,
}

func main() {
	var o options
	flag.StringVar(&o.Arch, "arch", "amd64", "Debian architecture: amd64, arm64 or armhf")
	flag.StringVar(&o.Bin, "bin", "", "the firmware binary built for -arch (required)")
	flag.StringVar(&o.Version, "version", "0.1.0", "package version (starts with a digit)")
	flag.StringVar(&o.Root, "root", ".", "the repository's top directory")
	flag.StringVar(&o.Out, "out", "dist", "directory to write the .deb to")
	flag.Parse()
	path, err := build(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "deb: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// build writes the package and returns its path.
func build(o options) (string, error) {
	if err := o.check(); err != nil {
		return "", err
	}
	contents, err := o.contents()
	if err != nil {
		return "", err
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:          "deskphone",
		Arch:          o.Arch,
		Platform:      "linux",
		Version:       o.Version,
		VersionSchema: "none", // the version as given, not parsed as semver
		Section:       "comm",
		Priority:      "optional",
		Maintainer:    "deskphone maintainers <deskphone@localhost>",
		Description: "SIP desk phone firmware for contact-center agents\n" +
			"Registers over SIP (UDP, TCP or TLS), places and answers calls with Opus\n" +
			"or G.711 audio (SRTP optional) and DTMF, cancels the speaker's echo,\n" +
			"follows the contact center's agent status and serves a local HTTP/JSON\n" +
			"control API. Runs as the systemd service deskphone.service.",
		Overridables: nfpm.Overridables{
			// adduser: postinst creates the service user; the rest are
			// the libraries the cgo firmware links (ALSA, Opus, speexdsp).
			Depends:  []string{"adduser", "libasound2", "libopus0", "libspeexdsp1"},
			Contents: contents,
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(o.Root, "packaging", "debian", "postinst"),
				PreRemove:   filepath.Join(o.Root, "packaging", "debian", "prerm"),
				PostRemove:  filepath.Join(o.Root, "packaging", "debian", "postrm"),
			},
		},
	})
	if err := os.MkdirAll(o.Out, 0o755); err != nil { //nolint:gosec // G301: dist/ holds packages to be copied and served
		return "", err
	}
	path := filepath.Join(o.Out, deb.Default.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	err = deb.Default.Package(info, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // a half-written package; the build's error is the one to report
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return path, nil
}

// check refuses what would make a wrong package: an unknown architecture,
// a missing binary, or one built for another machine.
func (o options) check() error {
	want, ok := machines[o.Arch]
	if !ok {
		return fmt.Errorf("-arch %q: use amd64, arm64 or armhf", o.Arch)
	}
	if o.Version == "" || o.Version[0] < '0' || o.Version[0] > '9' {
		return fmt.Errorf("-version %q: a Debian version starts with a digit, e.g. 0.1.0", o.Version)
	}
	if o.Bin == "" {
		return errors.New("-bin is required: the firmware built for -arch (make deb builds it)")
	}
	f, err := elf.Open(o.Bin)
	if err != nil {
		return fmt.Errorf("-bin %s: %w (build it with GOOS=linux and the GOARCH of %s)", o.Bin, err, o.Arch)
	}
	defer func() { _ = f.Close() }() // read-only
	if f.Machine != want {
		return fmt.Errorf("-bin %s is built for %s, not %s: build it with the GOARCH of %s", o.Bin, f.Machine, o.Arch, o.Arch)
	}
	return nil
}

// contents is what the package installs.
func (o options) contents() (files.Contents, error) {
	src := func(p string) string { return filepath.Join(o.Root, p) }
	c := files.Contents{
		{Source: o.Bin, Destination: "/usr/bin/deskphone", FileInfo: &files.ContentFileInfo{Mode: 0o755}},
		{Destination: "/etc/deskphone", Type: files.TypeDir, FileInfo: &files.ContentFileInfo{Mode: 0o755}},
		// A conffile: dpkg keeps the admin's edits on upgrade.
		{Source: src("packaging/debian/phone.yaml"), Destination: "/etc/deskphone/phone.yaml", Type: files.TypeConfig},
		{Source: src("packaging/debian/deskphone.service"), Destination: "/lib/systemd/system/deskphone.service"},
		{Source: src("config/examples/phone.yaml"), Destination: "/usr/share/doc/deskphone/phone.yaml.example"},
		{Source: src("README.md"), Destination: "/usr/share/doc/deskphone/README.md"},
	}
	// The firmware embeds the profiles (boards/boards.go); these copies are
	// for reading, and for writing a new board's profile from.
	profiles, err := filepath.Glob(src("boards/*.yaml"))
	if err != nil || len(profiles) == 0 {
		return nil, fmt.Errorf("no board profiles in %s (run from the repository or pass -root)", src("boards"))
	}
	slices.Sort(profiles)
	for _, p := range profiles {
		c = append(c, &files.Content{Source: p, Destination: "/usr/share/deskphone/boards/" + filepath.Base(p)})
	}
	for _, f := range c {
		if f.Source == "" {
			continue
		}
		if _, err := os.Stat(f.Source); err != nil {
			return nil, fmt.Errorf("%s: %w (run from the repository or pass -root)", f.Source, err)
		}
		if f.FileInfo == nil {
			f.FileInfo = &files.ContentFileInfo{Mode: 0o644}
		}
	}
	return c, nil
}
