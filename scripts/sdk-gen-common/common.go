// Package sdkgencommon is the command line both SDK generators share:
// `<name> <schema.json> <out dir>`, the schema read into the generator's
// own PackageSpec, and the generated files written under a directory.
package sdkgencommon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Main runs generate on the command line's schema path and output
// directory, and exits as a command does: 2 for a wrong call, 1 for a
// failure (said on stderr under name).
func Main(name string, generate func(schemaPath, out string) error) {
	if len(os.Args) != 3 {
		fmt.Fprintf(os.Stderr, "usage: %s <schema.json> <out dir>\n", name)
		os.Exit(2)
	}
	if err := generate(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// ReadSpec decodes the schema at path into spec (the caller's
// schema.PackageSpec, of whichever pkg/v3 release it pins).
func ReadSpec(path string, spec any) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(text, spec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// WriteFiles writes a generator's files (names relative to dir) under dir.
func WriteFiles(dir string, files map[string][]byte) error {
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
