package labkit

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// kamailioSQL is where Debian's kamailio-sqlite-modules puts the schemas.
const kamailioSQL = "/usr/share/kamailio/db_sqlite/"

// presenceDBURL is the SQLite URL of the presence database in dir: an
// absolute path needs four slashes.
func presenceDBURL(dir string) string {
	return "sqlite:///" + filepath.Join(dir, "kamailio.sqlite")
}

// createPresenceDB creates dir/kamailio.sqlite with the standard and
// presence tables, in WAL mode (set here once: the db_sqlite modparam for
// it left children failing with "database is locked").
func createPresenceDB(dir string) error {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		return errors.New("kamailio presence: sqlite3 not found: run `make deps`")
	}
	if _, err := os.Stat(filepath.Join(kamailioModules, "presence.so")); err != nil {
		return errors.New("kamailio presence: presence.so not found: run `make deps` (kamailio-presence-modules)")
	}
	var sql strings.Builder
	for _, f := range []string{"standard-create.sql", "presence-create.sql"} {
		b, err := os.ReadFile(filepath.Join(kamailioSQL, f))
		if err != nil {
			return fmt.Errorf("kamailio presence: %w (run `make deps`: kamailio-sqlite-modules)", err)
		}
		sql.Write(b)
		sql.WriteString("\n")
	}
	sql.WriteString("PRAGMA journal_mode=WAL;\n")
	db := filepath.Join(dir, "kamailio.sqlite")
	_ = os.Remove(db)
	cmd := exec.Command("sqlite3", db)
	cmd.Stdin = strings.NewReader(sql.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kamailio presence: creating %s: %w: %s", db, err, out)
	}
	return nil
}
