// gen-sdk writes a package's Go and Python SDKs from its schema with the
// CLI's own code generators (pkg/codegen), for a machine whose CLI has no
// Go or Python language host to run `pulumi package gen-sdk` through.
//
//	gen-sdk <schema.json> <out dir>     writes <out>/go (a Go module) and <out>/python
package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/blang/semver"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	pygen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"

	"pulumizillizstages/sdkgencommon"
)

const tool = "pulumi-zilliz-stages gen-sdk"

func main() { sdkgencommon.Main("gen-sdk", run) }

func run(schemaPath, out string) error {
	var spec schema.PackageSpec
	if err := sdkgencommon.ReadSpec(schemaPath, &spec); err != nil {
		return err
	}
	pkg, err := schema.ImportSpec(spec, nil, noReferences{}, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	// The Go SDK as a module of its own (<out>/go/go.mod), which a program's
	// go.mod can `replace` to a local path: the generator writes go.mod only
	// for a "pack" package, which also pins the resources to the schema's
	// version. Only for Go: the Python SDK keeps its layout.
	goSpec := spec
	goSpec.Meta = &schema.MetadataSpec{SupportPack: true}
	if spec.Meta != nil {
		meta := *spec.Meta
		meta.SupportPack = true
		goSpec.Meta = &meta
	}
	goPkg, err := schema.ImportSpec(goSpec, nil, noReferences{}, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	goFiles, err := gogen.GeneratePackage(tool, goPkg, nil)
	if err != nil {
		return fmt.Errorf("go: %w", err)
	}
	if err := sdkgencommon.WriteFiles(filepath.Join(out, "go"), goFiles); err != nil {
		return err
	}
	pyFiles, err := pygen.GeneratePackage(tool, pkg, nil, nil)
	if err != nil {
		return fmt.Errorf("python: %w", err)
	}
	return sdkgencommon.WriteFiles(filepath.Join(out, "python"), pyFiles)
}

// noReferences is the loader for a schema that refers to no other package.
type noReferences struct{}

func (noReferences) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema refers to package %q; this generator loads none", pkg)
}

func (l noReferences) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return l.LoadPackage(d.Name, d.Version)
}
