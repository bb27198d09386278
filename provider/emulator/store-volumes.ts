/**
 * The emulator's volumes (a stage is a managed volume, so both APIs share
 * these records) and the temporary credentials it issued for them, kept in
 * the data directory's state.json so that a restart mid-run invalidates
 * neither. The object side of the store (store.ts) extends it.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";

import type { VolumeType } from "../client/volume-schemas";
import { writeAtomic } from "./data-dir";
import { type Cloud, type CredentialRecord, stateSchema, type VolumeRecord } from "./store-records";

export abstract class VolumeRegistry {
  private volumes = new Map<string, VolumeRecord>();
  private credentials = new Map<string, CredentialRecord>();
  private credentialsByToken = new Map<string, CredentialRecord>();
  private stateWrite: Promise<void> = Promise.resolve();

  protected constructor(readonly dataDir: string) {}

  /** Reads state.json (a store's first start has none). */
  protected async loadState(): Promise<void> {
    try {
      const state = stateSchema.parse(JSON.parse(await fs.readFile(path.join(this.dataDir, "state.json"), "utf8")));
      for (const s of state.stages) {
        const { projectId, regionId, stageName, prefix, createdAt } = s;
        this.volumes.set(stageName, { projectId, regionId, volumeName: stageName, type: "MANAGED", prefix, createdAt });
      }
      for (const v of state.volumes) this.volumes.set(v.volumeName, v);
      for (const c of state.credentials) this.remember(c);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  /** What goes when a managed volume goes: its objects and pending uploads. */
  protected abstract removeObjectsUnder(prefix: string): Promise<void>;

  private persistState(): Promise<void> {
    // Serialized so that two quick changes never write out of order.
    this.stateWrite = this.stateWrite.then(() =>
      writeAtomic(
        path.join(this.dataDir, "state.json"),
        JSON.stringify({ volumes: [...this.volumes.values()], credentials: [...this.credentials.values()] }),
      ),
    );
    return this.stateWrite;
  }

  // --- volumes (and stages, which are managed volumes) ---------------------

  volume(name: string): VolumeRecord | undefined {
    return this.volumes.get(name);
  }

  /** The project's volumes, oldest first; only those of `type` when given. */
  volumesOf(projectId: string, type?: VolumeType): VolumeRecord[] {
    return [...this.volumes.values()]
      .filter((v) => v.projectId === projectId && (type === undefined || v.type === type))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  volumeNames(type?: VolumeType): string[] {
    return [...this.volumes.values()]
      .filter((v) => type === undefined || v.type === type)
      .map((v) => v.volumeName)
      .sort();
  }

  async addVolume(record: VolumeRecord): Promise<void> {
    // Defence in depth behind the name rules: no managed volume may see
    // another's objects through its prefix.
    if (record.prefix !== "") {
      for (const v of this.volumes.values()) {
        if (v.prefix !== "" && (v.prefix.startsWith(record.prefix) || record.prefix.startsWith(v.prefix))) {
          throw new Error(`the key prefix ${record.prefix} overlaps ${v.prefix} of volume ${v.volumeName}`);
        }
      }
    }
    this.volumes.set(record.volumeName, record);
    await this.persistState();
  }

  /** Changes what may change after creation (the description, the status); the record's other fields stay. */
  async updateVolume(name: string, change: Partial<Pick<VolumeRecord, "description" | "status">>): Promise<VolumeRecord | undefined> {
    const volume = this.volumes.get(name);
    if (!volume) return undefined;
    Object.assign(volume, change);
    await this.persistState();
    return volume;
  }

  /** Removes the volume, its credentials and, for a managed one, its objects and pending uploads. */
  async removeVolume(name: string): Promise<void> {
    const volume = this.volumes.get(name);
    if (!volume) return;
    this.volumes.delete(name);
    for (const c of [...this.credentials.values()]) if (c.volumeName === name) this.forget(c);
    await this.persistState();
    if (volume.type === "MANAGED") await this.removeObjectsUnder(volume.prefix);
  }

  // --- credentials ----------------------------------------------------------

  async issueCredential(volume: VolumeRecord, ttlSeconds: number, cloud: Cloud): Promise<CredentialRecord> {
    const record: CredentialRecord = {
      accessKeyId: "ZSTMP" + randomBytes(8).toString("hex").toUpperCase(),
      secretAccessKey: randomBytes(24).toString("base64url"),
      sessionToken: randomBytes(48).toString("base64url"),
      expireTime: Date.now() + ttlSeconds * 1000,
      volumeName: volume.volumeName,
      prefix: volume.prefix,
      cloud,
    };
    // Forget long-expired keys so the state file does not grow forever.
    for (const c of [...this.credentials.values()]) if (c.expireTime < Date.now() - 3_600_000) this.forget(c);
    this.remember(record);
    await this.persistState();
    return record;
  }

  protected remember(c: CredentialRecord): void {
    this.credentials.set(c.accessKeyId, c);
    this.credentialsByToken.set(c.sessionToken, c);
  }

  private forget(c: CredentialRecord): void {
    this.credentials.delete(c.accessKeyId);
    this.credentialsByToken.delete(c.sessionToken);
  }

  /** The credential whose session token was sent as a Bearer token (GCS style). */
  credentialByToken(sessionToken: string): CredentialRecord | undefined {
    return this.credentialsByToken.get(sessionToken);
  }

  credential(accessKeyId: string): CredentialRecord | undefined {
    return this.credentials.get(accessKeyId);
  }
}
