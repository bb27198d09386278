// The volumes quickstart (examples/volumes, examples/volumes-yaml) as a C#
// program on the zillizcloud package: a managed volume, its files, their
// rows imported into a collection, and that collection merged with a Parquet
// file of extra fields into a new one. This machine has no .NET, so CI only
// checks it against the generated C# SDK (test/plugin/csharp-sdk.test.ts);
// docs/package.md has the commands that run it.
using System.Collections.Generic;
using Pulumi;
using ZillizStages.Zillizcloud;
using ZillizStages.Zillizcloud.Inputs;

return await Deployment.RunAsync(() =>
{
    var config = new Config();
    var volumeName = config.Get("volumeName") ?? "quickstart_volume";
    var clusterId = config.Get("clusterId") ?? "in01-emulator";
    var collectionName = config.Get("collectionName") ?? "quickstart";

    var raw = new Volume("raw", new VolumeArgs
    {
        ProjectId = config.Get("projectId") ?? "proj-quickstart",
        RegionId = config.Get("regionId") ?? "aws-us-west-2",
        VolumeName = volumeName,
    });

    var batch = new VolumeFiles("batch", new VolumeFilesArgs
    {
        VolumeName = raw.VolumeName,
        Source = config.Get("dataSource") ?? "data",
        Path = "data/",
    });

    var load = new ImportJob("load", new ImportJobArgs
    {
        ClusterId = clusterId,
        CollectionName = collectionName,
        VolumeName = batch.VolumeName,
        DataPaths = batch.DataPaths,
    });

    // Extra fields in a Parquet file of their own folder, so that the import
    // above does not take it for rows.
    var enrich = new VolumeFiles("enrich", new VolumeFilesArgs
    {
        VolumeName = raw.VolumeName,
        Source = config.Get("enrichSource") ?? "enrich",
        Path = "enrich/",
    });

    // A new collection: every row of the first, plus genre and rating where
    // the Parquet file has the row's id. Delete leaves it in place.
    var genres = new MergeJob("genres", new MergeJobArgs
    {
        ClusterId = clusterId,
        CollectionName = collectionName,
        DestCollectionName = config.Get("destCollectionName") ?? "quickstart_genres",
        MergeField = "id",
        NewFields =
        {
            new MergeNewFieldArgs { FieldName = "genre", DataType = "VARCHAR", MaxLength = 64 },
            new MergeNewFieldArgs { FieldName = "rating", DataType = "DOUBLE" },
        },
        VolumeName = enrich.VolumeName,
        DataPath = enrich.Files.Apply(files => files[0]),
    }, new CustomResourceOptions
    {
        // The merge reads the collection: the rows must be in first.
        DependsOn = { load },
    });

    return new Dictionary<string, object?>
    {
        ["volumeName"] = raw.VolumeName,
        ["createTime"] = raw.CreateTime,
        ["fileCount"] = batch.FileCount,
        ["totalBytes"] = batch.TotalBytes,
        ["importPaths"] = batch.DataPaths,
        ["importJobId"] = load.JobId,
        ["importedRows"] = load.ImportedRows,
        ["mergeJobId"] = genres.JobId,
        ["mergedCollection"] = genres.DestCollectionName,
    };
});
