// gen-sdk-dotnet writes a package's C# SDK from its schema with the .NET
// code generator that pkg/codegen held until v3.225 (it has since moved to
// the .NET language host, whose module the proxy here does not serve).
//
//	gen-sdk-dotnet <schema.json> <out dir>     writes <out>/dotnet
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"path/filepath"

	dotnetgen "github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"

	"pulumizillizstages/sdkgencommon"
)

const tool = "pulumi-zilliz-stages gen-sdk-dotnet"

func main() { sdkgencommon.Main("gen-sdk-dotnet", run) }

func run(schemaPath, out string) error {
	var spec schema.PackageSpec
	if err := sdkgencommon.ReadSpec(schemaPath, &spec); err != nil {
		return err
	}
	pkg, err := schema.ImportSpec(spec, nil, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	// The generator downloads the NuGet package's icon from the schema's
	// logoUrl, or from GitHub when there is none; this machine reaches
	// neither, and a build that depends on the network is not one CI can
	// repeat. Every request it makes is answered here with our own icon.
	http.DefaultTransport = localIcon{}
	files, err := dotnetgen.GeneratePackage(tool, pkg, nil, nil)
	if err != nil {
		return fmt.Errorf("dotnet: %w", err)
	}
	return sdkgencommon.WriteFiles(filepath.Join(out, "dotnet"), files)
}

// localIcon answers any HTTP request with a 64x64 PNG in Zilliz blue.
type localIcon struct{}

func (localIcon) RoundTrip(r *http.Request) (*http.Response, error) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []byte{0x17, 0x5f, 0xff, 0xff})
	}
	var body bytes.Buffer
	if err := png.Encode(&body, img); err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: http.StatusOK, Body: io.NopCloser(&body), Request: r,
		Header: http.Header{"Content-Type": {"image/png"}},
	}, nil
}
