import { describe, expect, it } from "vitest";
import { rawPathTail } from "../../../src/mime/filename.js";
import { MAX_FILENAME_BYTES, sanitiseFilename, uniqueFilename } from "../../../src/mime/index.js";

describe("sanitiseFilename", () => {
  it.each([
    ["../../../etc/passwd", "passwd"],
    ["..\\..\\Windows\\system.ini", "system.ini"],
    ["C:\\Users\\Public\\report.pdf", "report.pdf"],
    [".htaccess", "htaccess"],
    ["...hidden..pdf", "hidden.pdf"],
    ["trailing dots and spaces. . ", "trailing dots and spaces"],
    ["a\u0000b\u0007c\u001fd\u007f.txt", "a_b_c_d_.txt"],
    ["invoice\u202Efdp.exe", "invoicefdp.exe"],
    ["zero\u200Bwidth\uFEFF.txt", "zerowidth.txt"],
    ['what<>:"|?*.txt', "what_______.txt"],
    ["CON", "_CON"],
    ["nul.tar.gz", "_nul.tar.gz"],
    ["COM1.txt", "_COM1.txt"],
    ["console.log", "console.log"],
    ["Cafe\u0301.pdf", "Café.pdf"],
    ["  spaced \t name .pdf", "spaced name .pdf"],
  ])("%j -> %j", (input, expected) => {
    expect(sanitiseFilename(input, "fallback.bin")).toBe(expected);
  });

  it("falls back when nothing usable is left, and sanitises the fallback too", () => {
    expect(sanitiseFilename("", "attachment-1.pdf")).toBe("attachment-1.pdf");
    expect(sanitiseFilename("../..", "attachment-2.png")).toBe("attachment-2.png");
    expect(sanitiseFilename("/", "../x")).toBe("x");
    expect(sanitiseFilename("...", "")).toBe("attachment");
  });

  it("bounds the length in UTF-8 bytes, keeps the extension and never splits a character", () => {
    const name = sanitiseFilename(`${"日本語".repeat(100)}.pdf`, "x");
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect(name.endsWith(".pdf")).toBe(true);
    expect(name).not.toContain("\uFFFD");
    expect(sanitiseFilename("a".repeat(1000), "x")).toBe("a".repeat(MAX_FILENAME_BYTES));
  });
});

describe("uniqueFilename", () => {
  it("numbers clashes before the extension, case-insensitively", () => {
    const taken = new Set<string>();
    expect(uniqueFilename("a.pdf", taken)).toBe("a.pdf");
    expect(uniqueFilename("A.PDF", taken)).toBe("A (2).PDF");
    expect(uniqueFilename("a.pdf", taken)).toBe("a (3).pdf");
    expect(uniqueFilename("noext", taken)).toBe("noext");
    expect(uniqueFilename("noext", taken)).toBe("noext (2)");
  });
});

describe("rawPathTail", () => {
  it("takes the last segment of a Windows path in a quoted filename", () => {
    expect(
      rawPathTail([
        { key: "content-disposition", line: 'Content-Disposition: inline; filename="C:\\TEMP\\nsmail.png"' },
      ]),
    ).toBe("nsmail.png");
    expect(
      rawPathTail([{ key: "content-type", line: 'Content-Type: image/png;\r\n\tname="D:\\a b\\pic.png"' }]),
    ).toBe("pic.png");
  });

  it("ignores names without path separators and RFC quoted-pairs", () => {
    expect(
      rawPathTail([
        { key: "content-disposition", line: 'Content-Disposition: attachment; filename="plain.pdf"' },
      ]),
    ).toBeUndefined();
    expect(
      rawPathTail([
        { key: "content-disposition", line: 'Content-Disposition: attachment; filename="say \\"hi\\".txt"' },
      ]),
    ).toBeUndefined();
  });
});
