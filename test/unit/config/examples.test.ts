import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV_KEYS, loadConfig } from "../../../src/config/index.js";

const root = new URL("../../../", import.meta.url);
const envExample = readFileSync(new URL(".env.example", root), "utf8");
const parseEnv = (text: string) =>
  Object.fromEntries(
    text
      .split("\n")
      .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

describe("the shipped examples stay true", () => {
  it("config.example.yaml loads", async () => {
    const cfg = await loadConfig({
      file: new URL("config.example.yaml", root).pathname,
      env: { IMAP_PASSWORD: "x-secret-1" },
    });
    expect(cfg.accounts[0]!.address).toBe("hello@cassey.ai");
    expect(cfg.timezone).toBe("Europe/Berlin");
  });

  it(".env.example loads and documents every EMAIL_* key", async () => {
    const env = parseEnv(envExample);
    for (const name of ENV_KEYS.keys()) expect(Object.keys(env), name).toContain(name);
    const { EMAIL_CHANNEL_CONFIG: _ignored, ...rest } = env;
    const cfg = await loadConfig({ env: rest });
    expect(cfg.imap).toEqual({ host: "localhost", port: 993, tls: "implicit" });
    expect(cfg.rateLimits.perSender).toEqual([
      { max: 10, windowSeconds: 600 },
      { max: 60, windowSeconds: 3600 },
    ]);
  });
});
