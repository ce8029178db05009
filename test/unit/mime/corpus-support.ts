/**
 * Access to the shared real-world corpus (/work/shared/corpus, i.e. ../shared/corpus from the repo;
 * see its README.md). The corpus is not part of the repository: suites skip when it is absent.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const CORPUS = path.resolve(REPO, "../shared/corpus");
export const corpusPresent = existsSync(path.join(CORPUS, "MANIFEST.json"));

export interface ManifestEntry {
  file: string;
  source: string;
  kind: "message" | "body" | "html-body";
  tags: string[];
  charsets?: string[];
  line_endings: string;
  expected?: Record<string, string>;
}

export function manifest(): ManifestEntry[] {
  if (!corpusPresent) return [];
  return (JSON.parse(readFileSync(path.join(CORPUS, "MANIFEST.json"), "utf8")) as { files: ManifestEntry[] })
    .files;
}

export function corpusBytes(file: string): Buffer {
  return readFileSync(path.join(CORPUS, file));
}

export function corpusText(file: string, encoding: BufferEncoding = "utf8"): string {
  return readFileSync(path.join(CORPUS, file), encoding);
}

/** EXPECTED.json of a source folder ({} when the corpus is absent). */
export function expectedOf<T>(source: string): {
  cases: Record<string, T>;
  constants?: Record<string, string>;
} {
  if (!corpusPresent) return { cases: {} };
  return JSON.parse(corpusText(`${source}/EXPECTED.json`));
}

/** Pass counts per source, printed when a suite ends (the brief asks for them in the report). */
export class Tally {
  private readonly counts = new Map<string, { pass: number; total: number }>();

  /** Registers a case; call the returned function once every assertion of the case has passed. */
  start(source: string): () => void {
    const entry = this.counts.get(source) ?? { pass: 0, total: 0 };
    entry.total++;
    this.counts.set(source, entry);
    return () => {
      entry.pass++;
    };
  }

  print(title: string): void {
    if (this.counts.size === 0) return;
    const rows = [...this.counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, c]) => `  ${s.padEnd(34)} ${c.pass}/${c.total}`);
    console.info(`${title}\n${rows.join("\n")}`);
  }
}

/** Collapses whitespace runs and trims: the comparison several upstream suites use. */
export const squash = (s: string): string => s.replace(/\s+/g, " ").trim();
/** Removes all whitespace: talon's comparison. */
export const noSpace = (s: string): string => s.replace(/\s+/g, "");
