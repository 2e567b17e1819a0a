package render

import (
	"encoding/json"
	"errors"
	"fmt"
)

// checkDockerConfig verifies that b is a docker config JSON with an "auths" object,
// the form kubelet reads from a kubernetes.io/dockerconfigjson Secret. It is checked
// here, where the file or variable is read, so that a bad input fails at its source
// and the generators only encode what they are given. Its errors never quote the
// content: it is a credential.
func checkDockerConfig(b []byte) error {
	var cfg struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fmt.Errorf("not valid JSON (syntax error at byte %d)", syn.Offset)
		}
		return fmt.Errorf(`not a docker config: expected a JSON object with an "auths" object`)
	}
	if cfg.Auths == nil {
		return fmt.Errorf(`not a docker config: no "auths" object (expected {"auths": {"registry.example.edu": {"auth": "..."}}})`)
	}
	if len(cfg.Auths) == 0 {
		return fmt.Errorf(`not a docker config: "auths" is empty`)
	}
	return nil
}
