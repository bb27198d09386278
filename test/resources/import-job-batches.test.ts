// `check` refuses an inner list of dataPaths the service would refuse with
// code 2100 (several Parquet or JSON files in one list), naming the entry;
// the .npy files of one set of rows stay one list.
import { crossFieldFailures } from "../../provider/resources/import-job-inputs";

const base = { clusterId: "in01-x", collectionName: "books", volumeName: "raw" };

describe("dataPaths batches at check", () => {
  test("several Parquet files in one inner list are refused, naming the list and the file", () => {
    const failures = crossFieldFailures({ ...base, dataPaths: [["a.parquet"], ["b.parquet", "c.parquet"]] });
    expect(failures).toEqual([{ property: "dataPaths[1]", reason: expect.stringMatching(/^dataPaths\[1\] holds "b\.parquet" among 2 paths: .*own list/) }]);
  });

  test("a JSON file or a folder beside .npy files is refused too (the stricter reading)", () => {
    expect(crossFieldFailures({ ...base, dataPaths: [["x/a.npy", "x/b.json"]] })[0]?.property).toBe("dataPaths[0]");
    expect(crossFieldFailures({ ...base, dataPaths: [["x/a.npy", "folder/"]] })[0]?.reason).toMatch(/"folder\/"/);
  });

  test("one file, one folder, or the .npy files of one set of rows per list pass", () => {
    expect(crossFieldFailures({ ...base, dataPaths: [["a.parquet"], ["folder/"], ["x/id.npy", "x/vector.npy"]] })).toEqual([]);
  });
});
