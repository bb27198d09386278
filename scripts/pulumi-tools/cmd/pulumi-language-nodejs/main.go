// pulumi-language-nodejs: a minimal Node.js language host for the Pulumi
// engine.
//
// Why it exists: the official host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), which
// the Go module proxy does not serve, and the CLI's release tarballs cannot
// be downloaded here. This host does the one thing `pulumi up`, `preview`,
// `refresh`, `destroy` and `import` need from it: run a Node.js program with
// the @pulumi/pulumi SDK's own entry point (`@pulumi/pulumi/cmd/run`), with
// the arguments and environment that entry point reads. Dependency
// installation, plugin discovery, templates and packing are not supported:
// the engine falls back when a call is unimplemented, and this project needs
// no plugin but the dynamic provider, which the engine finds on PATH.
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

// programPath is what the SDK's run entry point takes as its positional argument.
func programPath(req *pulumirpc.RunRequest) string {
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		entry := info.GetEntryPoint()
		if entry == "" {
			entry = "."
		}
		if entry == "." {
			return "."
		}
		return filepath.Join(info.GetProgramDirectory(), entry)
	}
	if req.GetProgram() != "" {
		return req.GetProgram()
	}
	return "."
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	pwd := langhost.ProgramDir(req)
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "node was not found on PATH; install Node.js"}, nil
	}
	// The entry point comes from the program's own @pulumi/pulumi, so the
	// program and the engine protocol always agree on the SDK version.
	resolve := exec.CommandContext(ctx, node, "-e", `process.stdout.write(require.resolve("@pulumi/pulumi/cmd/run"))`)
	resolve.Dir = pwd
	runScript, err := resolve.Output()
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf(
			"could not find @pulumi/pulumi from %s; run `npm install` there (%v)", pwd, err)}, nil
	}

	args := []string{string(runScript),
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.EngineAddress,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", pwd,
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	}
	if req.GetOrganization() != "" {
		args = append(args, "--organization", req.GetOrganization())
	}
	if info := req.GetInfo(); info != nil && info.GetRootDirectory() != "" {
		args = append(args, "--root-directory", info.GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetQueryMode() {
		args = append(args, "--query-mode")
	}
	args = append(args, programPath(req))
	args = append(args, req.GetArgs()...)

	env, err := langhost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = pwd
	cmd.Env = append(os.Environ(), env...)
	// TypeScript programs run through the SDK's ts-node support, as with the
	// official host's default `typescript: true` option.
	if os.Getenv("PULUMI_NODEJS_TYPESCRIPT") == "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	return h.RunProgram(cmd), nil
}

func main() {
	langhost.Serve("pulumi-language-nodejs", &host{Base: langhost.Base{VersionCommand: []string{"node", "--version"}}})
}
