// pulumi-language-go: a minimal Go language host for the Pulumi engine.
//
// Why it exists: the official host's module
// (github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3) is refused by the
// Go module proxy, so a CLI built here from Go modules cannot run a Go
// program at all. This host does what `pulumi up`, `preview`, `refresh`,
// `destroy` and `import` need from it: build the program with the Go
// toolchain on PATH and run it with the environment the Go SDK reads
// (sdk/go/pulumi/run.go, getEnvInfo). Plugin discovery, dependency
// installation, code generation, templates and packing are not supported:
// plugins come from the project's `packages:` (or `plugins:`), and
// dependencies from `go mod download`, which `go build` does itself.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"pulumizillizstages/tools/langhost"
)

type host struct {
	langhost.Base
}

// prebuilt is the `runtime: {name: go, options: {binary: ...}}` of
// Pulumi.yaml, as the official host reads it: a program the user built
// (relative to the program directory), run as is.
func prebuilt(req *pulumirpc.RunRequest) string {
	if info := req.GetInfo(); info != nil && info.GetOptions() != nil {
		if v, ok := info.GetOptions().GetFields()["binary"]; ok {
			return v.GetStringValue()
		}
	}
	return ""
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	// Where the program's main package (and go.mod) is.
	dir := langhost.ProgramDir(req)
	program := prebuilt(req)
	if program != "" {
		if !filepath.IsAbs(program) {
			program = filepath.Join(dir, program)
		}
	} else {
		// Built afresh for every run: the engine runs the program once for
		// a preview and again for the update, and the program may have
		// changed in between. GOCACHE keeps all but the link cheap.
		tmp, err := os.MkdirTemp("", "pulumi-go-program-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		program = filepath.Join(tmp, "program")
		if msg := build(ctx, dir, program); msg != "" {
			return &pulumirpc.RunResponse{Error: msg}, nil
		}
	}

	env, err := langhost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, program, req.GetArgs()...)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(os.Environ(),
		"PULUMI_MONITOR="+req.GetMonitorAddress(),
		"PULUMI_ENGINE="+h.EngineAddress,
		"PULUMI_PROJECT="+req.GetProject(),
		"PULUMI_STACK="+req.GetStack(),
		"PULUMI_ORGANIZATION="+req.GetOrganization(),
		"PULUMI_DRY_RUN="+strconv.FormatBool(req.GetDryRun()),
		"PULUMI_PARALLEL="+strconv.Itoa(int(req.GetParallel())),
	)
	cmd.Env = append(cmd.Env, env...)
	if info := req.GetInfo(); info != nil && info.GetRootDirectory() != "" {
		cmd.Env = append(cmd.Env, "PULUMI_ROOT_DIRECTORY="+info.GetRootDirectory())
	}
	return h.RunProgram(cmd), nil
}

// build compiles the main package in dir to out, and returns what went wrong
// (the compiler's messages went to stderr, which the engine shows).
func build(ctx context.Context, dir, out string) string {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "go was not found on PATH; install Go (https://go.dev/dl) to run a Go program"
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Sprintf("`go build` failed in %s: %v", dir, err)
	}
	return ""
}

func main() {
	langhost.Serve("pulumi-language-go", &host{Base: langhost.Base{VersionCommand: []string{"go", "env", "GOVERSION"}}})
}
