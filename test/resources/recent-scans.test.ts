// What one provider process keeps between check, diff and update of a files
// resource (recent-scans.ts): pure bookkeeping, no disk.
import { RecentScans } from "../../provider/resources/recent-scans";
import { emptyManifest, encodeManifest, type SourceListing } from "../../provider/upload";

const listing: SourceListing = { root: "/src", files: [], unmatchedPatterns: [] };

describe("RecentScans", () => {
  test("the recorded manifest diff decoded is handed to update only for the same listing and the same recorded string", () => {
    const scans = new RecentScans();
    const key = RecentScans.key({ source: "/src" });
    const recorded = emptyManifest();
    recorded["a.json"] = { size: 1, sha256: "a".repeat(64), mtimeMs: 1 };
    const stored = encodeManifest(recorded);
    scans.putListing(key, "fp1", listing);
    // Only beside a hashed manifest.
    scans.putRecorded(key, "fp1", { stored, manifest: recorded });
    expect(scans.recordedManifest(key, "fp1", stored)).toBeUndefined();
    scans.putManifest(key, "fp1", emptyManifest());
    scans.putRecorded(key, "fp1", { stored, manifest: recorded });
    // The same text, deserialized again for the next call: still the same recorded manifest.
    expect(scans.recordedManifest(key, "fp1", stored.split("").join(""))).toBe(recorded);
    expect(scans.recordedManifest(key, "fp2", stored)).toBeUndefined();
    expect(scans.recordedManifest(key, "fp1", encodeManifest(emptyManifest()))).toBeUndefined();
    expect(scans.recordedManifest(key, "fp1", undefined)).toBeUndefined();
    // 0.1.0's plain object is never taken for another one.
    scans.putRecorded(key, "fp1", { stored: { "a.json": recorded["a.json"] }, manifest: recorded });
    expect(scans.recordedManifest(key, "fp1", { "a.json": recorded["a.json"] })).toBeUndefined();
    scans.remove(key);
    expect(scans.recordedManifest(key, "fp1", stored)).toBeUndefined();
  });
});
