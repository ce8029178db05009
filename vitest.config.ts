import { defineConfig } from "vitest/config";

// Three tiers (../shared/STYLE.md): pure units with fixtures; integration against the real servers of
// test/stack (Dovecot, Postfix, Radicale, Xandikos; or an external stack such as Stalwart); end-to-end
// through the public API only. Integration and e2e share the stack's global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts", "test/proof/**/*.test.ts"],
          globalSetup: ["test/support/global-stack.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The servers are shared: files run one at a time so that a test stopping Dovecot or Postfix
          // does not pull the ground from under another.
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
