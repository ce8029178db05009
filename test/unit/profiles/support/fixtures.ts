/** Reads the vCard fixtures of test/fixtures/contacts and places them in a test address book. */
import { readFileSync } from "node:fs";

const DIR = new URL("../../../fixtures/contacts/", import.meta.url);

/** The address book the unit tests pretend the fixtures live in (Radicale's URL layout). */
export const BOOK = "http://127.0.0.1:5232/alice@example.test/contacts/";

export const readCard = (name: string): string => readFileSync(new URL(name, DIR), "utf8");

/** Where fixture `name` lives in BOOK. */
export const hrefOf = (name: string): string => `/alice@example.test/contacts/${name}`;
