package postrender

import (
	"fmt"
	"os"
	"runtime"
)

// echoToHelm4 works around Helm 4.3.1 discarding a post-renderer plugin's stderr: Helm
// captures it into a buffer it never shows, and reports only `plugin "peruser" exited
// with error`, so the user would never learn which document and field failed. When run
// as this Helm plugin (HELM_PLUGIN_NAME is peruser, not another plugin that happens
// to call the executable) on Linux, the message is also written to
// Helm's own stderr, opened through /proc, when that is a terminal or a pipe. A regular
// file is left alone: Helm writes to it at its own offset and would overwrite the text.
// Anywhere else, or when that fails, nothing more happens.
func echoToHelm4(msg []byte) {
	if len(msg) == 0 || os.Getenv("HELM_PLUGIN_NAME") != "peruser" || runtime.GOOS != "linux" {
		return
	}
	target := fmt.Sprintf("/proc/%d/fd/2", os.Getppid())
	if fi, err := os.Stat(target); err != nil || fi.Mode().IsRegular() {
		return
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(msg)
}
