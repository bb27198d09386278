// What the two SDK generators (scripts/sdk-gen, scripts/sdk-gen-dotnet) share:
// their command line, reading the schema and writing the files. A module of
// its own with no dependency, because the two generators pin different
// releases of pkg/v3 and so cannot share a module that imports it.
module pulumizillizstages/sdkgencommon

go 1.26.6
