// Package langhost is what this project's two minimal language hosts
// (cmd/pulumi-language-nodejs and cmd/pulumi-language-go) share: the gRPC
// server the engine talks to, the calls a host that only runs programs
// answers the same way, running a program so that it dies with the engine,
// and the program's exit code read as the engine expects.
package langhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Version reports the Pulumi module version the hosts were built with;
// scripts/pulumi sets it with -ldflags, as it does the CLI's.
var Version = "dev"

// Both SDKs exit with this code (the Go SDK's constant.ExitStatusLoggedError,
// the Node.js run entry point's bail code) when they have already reported
// the error to the engine.
const loggedErrorExitCode = 32

// Base answers the calls both hosts answer alike; a host embeds it, sets
// VersionCommand and adds Run.
type Base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	// VersionCommand is the language's command (found on PATH) and the
	// arguments that make it print its version, for About.
	VersionCommand []string
	// EngineAddress is where the engine listens, for the program's SDK.
	EngineAddress string

	mu       sync.Mutex
	programs map[*exec.Cmd]struct{} // running programs, killed if the engine goes away
}

func (b *Base) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		b.EngineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// GetRequiredPlugins answers none: the official hosts ask the program which
// plugins its SDKs need, to download them; nothing is downloaded here, and
// the engine loads a provider plugin when the program first uses it.
func (b *Base) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (b *Base) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (b *Base) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// InstallDependencies does nothing: npm (`npm ci`) and `go build` install
// what a program needs, not the engine.
func (b *Base) InstallDependencies(*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	return nil
}

// About names the language's command on PATH and the version it prints.
func (b *Base) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	path, err := exec.LookPath(b.VersionCommand[0])
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(path, b.VersionCommand[1:]...).Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: path, Version: strings.TrimSpace(string(out))}, nil
}

// ProgramDir is the program's directory (Pulumi.yaml's, or its `main:`),
// or the working directory when the engine names none.
func ProgramDir(req *pulumirpc.RunRequest) string {
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	return req.GetPwd()
}

// ConfigEnv is the stack's config as the SDKs read it from the environment.
func ConfigEnv(req *pulumirpc.RunRequest) ([]string, error) {
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	return []string{"PULUMI_CONFIG=" + string(config), "PULUMI_CONFIG_SECRET_KEYS=" + string(secretKeys)}, nil
}

// RunProgram runs cmd with its output on the host's (which the engine
// shows), killed if the engine goes away, and answers as the engine
// expects: a bail when the SDK already reported the error.
func (b *Base) RunProgram(cmd *exec.Cmd) *pulumirpc.RunResponse {
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err := cmd.Start()
	if err == nil {
		b.track(cmd, true)
		err = cmd.Wait()
		b.track(cmd, false)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == loggedErrorExitCode {
				return &pulumirpc.RunResponse{Bail: true}
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}
		}
		return &pulumirpc.RunResponse{Error: err.Error()}
	}
	return &pulumirpc.RunResponse{}
}

func (b *Base) track(cmd *exec.Cmd, running bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.programs == nil {
		b.programs = map[*exec.Cmd]struct{}{}
	}
	if running {
		b.programs[cmd] = struct{}{}
	} else {
		delete(b.programs, cmd)
	}
}

// Host is a language host built on Base.
type Host interface {
	pulumirpc.LanguageRuntimeServer
	base() *Base
}

func (b *Base) base() *Base { return b }

// Serve runs the host for the engine: the address it passes as the last
// positional argument, the port on the first line of stdout, and an exit
// when the engine is gone. It returns only on failure.
func Serve(name string, h Host) {
	b := h.base()
	for _, arg := range os.Args[1:] {
		if !strings.HasPrefix(arg, "-") {
			b.EngineAddress = arg
		}
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	server := grpc.NewServer(grpc.MaxRecvMsgSize(400 * 1024 * 1024))
	pulumirpc.RegisterLanguageRuntimeServer(server, h)
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)
	go b.exitWithParent(name, server)
	if err := server.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// exitWithParent stops the host when the engine that started it is gone. A
// CLI killed with SIGKILL (or a second Ctrl-C) closes no connection the
// server would notice, so without this the host, reparented, idles forever.
// The programs it runs go with it: nothing would read what they register.
func (b *Base) exitWithParent(name string, server *grpc.Server) {
	parent := os.Getppid()
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() == parent {
			continue
		}
		fmt.Fprintf(os.Stderr, "%s: the engine exited; stopping\n", name)
		b.mu.Lock()
		for cmd := range b.programs {
			_ = cmd.Process.Kill()
		}
		b.mu.Unlock()
		server.Stop()
		os.Exit(1)
	}
}
