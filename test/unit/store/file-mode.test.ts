import { chmodSync, mkdirSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../../../src/store/index.js";

describe("the state store on disk", () => {
  it("creates its folder and file for their owner only (it holds secrets)", () => {
    const root = mkdtempSync(join(tmpdir(), "ec-store-mode-"));
    const path = join(root, "state", "state.sqlite");
    const store = openSqliteStore({ path });
    store.kv.set("k", "v");
    store.close();
    expect(statSync(join(root, "state")).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("leaves the mode of a folder and file that already exist alone (the operator chose it)", () => {
    const root = mkdtempSync(join(tmpdir(), "ec-store-mode-"));
    const dir = join(root, "shared");
    mkdirSync(dir, { mode: 0o750 });
    const path = join(dir, "state.sqlite");
    openSqliteStore({ path }).close();
    chmodSync(path, 0o640);
    openSqliteStore({ path }).close();
    expect(statSync(dir).mode & 0o777).toBe(0o750);
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });
});
