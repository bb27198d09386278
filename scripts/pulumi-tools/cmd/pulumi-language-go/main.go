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
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Version reports the Pulumi module version this host was built with;
// scripts/pulumi sets it with -ldflags, as it does the CLI's.
var Version = "dev"

// The Go SDK exits with this code (constant.ExitStatusLoggedError) when it
// has already reported the error to the engine.
const loggedErrorExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string

	mu       sync.Mutex
	programs map[*exec.Cmd]struct{} // running programs, killed if the engine goes away
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// The official host asks the program itself (PULUMI_PLUGINS=true) which
// plugins its SDKs need, to download them; nothing is downloaded here, and
// the engine loads a provider plugin when the program first uses it.
func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// `go build` downloads what go.mod lists on its own; `pulumi install` has
// nothing to add.
func (h *host) InstallDependencies(*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	return nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(goBin, "env", "GOVERSION").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: goBin, Version: strings.TrimSpace(string(out))}, nil
}

// programDir is where the program's main package (and go.mod) is.
func programDir(req *pulumirpc.RunRequest) string {
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	return req.GetPwd()
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
	dir := programDir(req)
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

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, program, req.GetArgs()...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(),
		"PULUMI_MONITOR="+req.GetMonitorAddress(),
		"PULUMI_ENGINE="+h.engineAddress,
		"PULUMI_PROJECT="+req.GetProject(),
		"PULUMI_STACK="+req.GetStack(),
		"PULUMI_ORGANIZATION="+req.GetOrganization(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PULUMI_DRY_RUN="+strconv.FormatBool(req.GetDryRun()),
		"PULUMI_PARALLEL="+strconv.Itoa(int(req.GetParallel())),
	)
	if info := req.GetInfo(); info != nil && info.GetRootDirectory() != "" {
		cmd.Env = append(cmd.Env, "PULUMI_ROOT_DIRECTORY="+info.GetRootDirectory())
	}
	err = cmd.Start()
	if err == nil {
		h.track(cmd, true)
		err = cmd.Wait()
		h.track(cmd, false)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == loggedErrorExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
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

func (h *host) track(cmd *exec.Cmd, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if running {
		h.programs[cmd] = struct{}{}
	} else {
		delete(h.programs, cmd)
	}
}

func main() {
	h := &host{programs: map[*exec.Cmd]struct{}{}}
	// The engine passes its address as the last positional argument.
	for _, arg := range os.Args[1:] {
		if !strings.HasPrefix(arg, "-") {
			h.engineAddress = arg
		}
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-go: %v\n", err)
		os.Exit(1)
	}
	server := grpc.NewServer(grpc.MaxRecvMsgSize(400 * 1024 * 1024))
	pulumirpc.RegisterLanguageRuntimeServer(server, h)
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)
	go h.exitWithParent(server)
	if err := server.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-go: %v\n", err)
		os.Exit(1)
	}
}

// exitWithParent stops the host when the engine that started it is gone. A
// CLI killed with SIGKILL closes no connection the server would notice, so
// without this the host, reparented, idles forever; the program goes with
// it, as nothing would read what it registers.
func (h *host) exitWithParent(server *grpc.Server) {
	parent := os.Getppid()
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() == parent {
			continue
		}
		fmt.Fprintln(os.Stderr, "pulumi-language-go: the engine exited; stopping")
		h.mu.Lock()
		for cmd := range h.programs {
			_ = cmd.Process.Kill()
		}
		h.mu.Unlock()
		server.Stop()
		os.Exit(1)
	}
}
