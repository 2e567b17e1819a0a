package krmfn

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// runInstall copies the running executable into dir. It exists for Argo CD's
// repo-server init container: the image is distroless, so there is no shell or cp to
// copy the binary with.
func runInstall(dir string, stdout io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install: finding own executable: %w", err)
	}
	src, err := os.Open(self)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	defer src.Close()
	dst := filepath.Join(dir, "krm-fn")
	tmp, err := os.CreateTemp(dir, ".krm-fn-*")
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("install: copying to %s: %w", dir, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("install: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	// Rename last, so a half-copied binary is never run.
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "installed %s\n", dst)
	return err
}
