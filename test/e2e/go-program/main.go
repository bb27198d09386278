// A Go program on the zillizcloud package (the same stack as
// test/e2e/yaml/Pulumi.yaml): a volume, the files of a local directory in
// it, and one import job of those files into a collection.
package main

import (
	"github.com/pulumi-zilliz-stages/sdk/go/zillizcloud"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		trigger := cfg.Get("trigger")
		if trigger == "" {
			trigger = "first"
		}
		volume, err := zillizcloud.NewVolume(ctx, "volume", &zillizcloud.VolumeArgs{
			ProjectId:  pulumi.String("proj-e2e"),
			RegionId:   pulumi.String("aws-us-west-2"),
			VolumeName: pulumi.String(cfg.Require("volumeName")),
		})
		if err != nil {
			return err
		}
		files, err := zillizcloud.NewVolumeFiles(ctx, "files", &zillizcloud.VolumeFilesArgs{
			VolumeName: volume.VolumeName,
			Source:     pulumi.String(cfg.Require("source")),
			Path:       pulumi.String("data/"),
		})
		if err != nil {
			return err
		}
		rows, err := zillizcloud.NewImportJob(ctx, "rows", &zillizcloud.ImportJobArgs{
			ClusterId:      pulumi.String("in01-emulator"),
			CollectionName: pulumi.String("quickstart"),
			VolumeName:     files.VolumeName,
			DataPaths:      files.DataPaths,
			Trigger:        pulumi.String(trigger),
		})
		if err != nil {
			return err
		}
		ctx.Export("volumeName", volume.VolumeName)
		ctx.Export("volumeStatus", volume.Status)
		ctx.Export("fileCount", files.FileCount)
		ctx.Export("dataPaths", files.DataPaths)
		ctx.Export("jobId", rows.JobId)
		ctx.Export("jobState", rows.State)
		ctx.Export("importedRows", rows.ImportedRows)
		return nil
	})
}
