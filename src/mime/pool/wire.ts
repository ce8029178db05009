/**
 * What crosses the thread boundary between the channel and its conversion workers. Structured clone
 * carries plain data (Date, Uint8Array included) but not classes: errors travel as their fields and
 * are rebuilt as the same typed errors, and the AbortSignal stays on this side (the pool forwards an
 * abort as a message).
 */
import {
  AbortedError,
  EmailChannelError,
  type ErrorKind,
  type ErrorStage,
  InputError,
} from "../../errors/index.js";
import type { ConvertOptions, ParsedInbound } from "../types.js";

/** The converter's options without the signal (which cannot be cloned). */
export type WireOptions = Omit<ConvertOptions, "signal">;

/** The worker's settings (its workerData). */
export interface WorkerSettings {
  /** Conversions run at once; the other messages posted wait in the worker's queue. */
  concurrency: number;
}

export type ToWorker =
  | { type: "options"; key: number; options: WireOptions }
  | { type: "convert"; id: number; key: number; raw: Uint8Array }
  | { type: "html"; id: number; html: string }
  | { type: "abort"; id: number };

export interface WireError {
  name: string;
  message: string;
  code?: string;
  stage?: ErrorStage;
  kind?: ErrorKind;
  details?: Record<string, unknown>;
}

export type FromWorker =
  | { type: "ready" }
  | { type: "done"; id: number; parsed: ParsedInbound }
  | { type: "text"; id: number; text: string }
  | { type: "failed"; id: number; error: WireError };

export function wireOptions(options: ConvertOptions): WireOptions {
  const { signal: _signal, ...rest } = options;
  return rest;
}

/**
 * The bytes to post for a raw message: a view over part of a larger buffer (imapflow's sources are
 * often slices) is copied first, since cloning a view clones its whole underlying buffer.
 */
export function wireBytes(raw: Uint8Array): Uint8Array {
  return raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
}

export function toWireError(error: unknown): WireError {
  if (error instanceof EmailChannelError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      stage: error.stage,
      kind: error.kind,
      ...(error.details ? { details: error.details } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** Rebuilds the error the worker's converter threw, with the same class, code and stage. */
export function fromWireError(w: WireError): Error {
  if (w.kind === "aborted") return new AbortedError(w.stage ?? "mime");
  if (w.code && w.stage && w.kind) {
    const options = { code: w.code, stage: w.stage, ...(w.details ? { details: w.details } : {}) };
    if (w.kind === "input") return new InputError(w.message, options);
    return new EmailChannelError(w.message, { ...options, kind: w.kind });
  }
  const error = new Error(w.message);
  error.name = w.name;
  return error;
}
