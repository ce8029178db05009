/**
 * Charset decoding, RFC 2047 encoded-words and raw 8-bit headers. Byte strings are the encodings of
 * the shown text in the named charset (as Python's codecs and the WHATWG tables produce them).
 */
import { describe, expect, it } from "vitest";
import {
  decodeRawHeaderBytes,
  decodeUtf8WithFallback,
  decodeWindows1252,
} from "../../../src/mime/charset.js";
import {
  decodeBytes,
  decodeEncodedWords,
  decodeFlowed,
  normaliseCharsetLabel,
} from "../../../src/mime/index.js";

const hex = (h: string) => Buffer.from(h, "hex");

describe("decodeBytes", () => {
  it.each([
    ["iso-2022-jp", "1b2442467c4b5c386c244e2546252d253925481b2842", "日本語のテキスト"],
    ["ISO-2022-JP", "1b2442467c4b5c386c244e2546252d253925481b2842", "日本語のテキスト"],
    ["shift_jis", "93fa967b8cea82cc8365834c83588367", "日本語のテキスト"],
    ["Shift-JIS", "93fa967b8cea82cc8365834c83588367", "日本語のテキスト"],
    ["cp932", "93fa967b8cea82cc8365834c83588367", "日本語のテキスト"],
    ["euc-kr", "c7d1b1b9beee20c5d8bdbac6ae", "한국어 텍스트"],
    ["ks_c_5601-1987", "8c63b9e6b0a2c7cf", "똠방각하"],
    ["windows-1251", "cff0e8e2e5f22c20ece8f0", "Привет, мир"],
    ["win-1251", "cff0e8e2e5f22c20ece8f0", "Привет, мир"],
    ["cp1251", "cff0e8e2e5f22c20ece8f0", "Привет, мир"],
    ["gb2312", "d6d0cec4b2e2cad4", "中文测试"],
    ["GB18030", "d6d0cec495328236b2e2cad4", "中文𠀀测试"],
    ["big5", "c163c5e9a4a4a4e5", "繁體中文"],
    ["koi8-r", "f0d2c9d7c5d42c20cdc9d2", "Привет, мир"],
    ["windows-1252", "9380942096206e61ef7665", "“€” – naïve"],
    ["iso-8859-1", "9380942096206e61ef7665", "“€” – naïve"],
    ["windows-1250", "5a61bff3b3e62067ea9c6cb9", "Zażółć gęślą"],
    ["utf-7", "4869204d6f6d202d2b4a6a6f2d2d21202b494b772d", "Hi Mom -☺-! €"],
    ["unicode-1-1-utf-7", "4869204d6f6d202d2b4a6a6f2d2d21202b494b772d", "Hi Mom -☺-! €"],
    ['"UTF-8"', "e282ac", "€"],
  ])("%s", (label, bytes, text) => {
    const r = decodeBytes(hex(bytes), label);
    expect(r.text).toBe(text);
    expect(r.problem).toBeUndefined();
  });

  it("decodes GB2312 labels as GBK, so GBK-only characters survive", () => {
    expect(decodeBytes(hex("caa794a1"), "gb2312")).toMatchObject({ text: "失敗", used: "gbk" });
  });

  it("falls back for unknown labels and says so", () => {
    const utf8 = decodeBytes(Buffer.from("Grüße", "utf8"), "x-unknown-charset");
    expect(utf8.text).toBe("Grüße");
    expect(utf8.problem).toBe("x-unknown-charset: unknown charset, decoded as utf-8");
    const latin = decodeBytes(hex("4772fcdf65"), "invalid-charset");
    expect(latin.text).toBe("Grüße");
    expect(latin.problem).toContain("decoded as utf-8+windows-1252");
  });

  it("never uses WHATWG's replacement decoder (iso-2022-kr, hz-gb-2312)", () => {
    const r = decodeBytes(Buffer.from("plain ascii"), "iso-2022-kr");
    expect(r.text).toBe("plain ascii");
    expect(r.problem).toContain("unknown charset");
  });

  it("reads 8-bit bytes under us-ascii as UTF-8 when valid, else windows-1252", () => {
    expect(decodeBytes(Buffer.from("café", "utf8"), "us-ascii")).toMatchObject({
      text: "café",
      used: "utf-8",
    });
    expect(decodeBytes(hex("636166e9"), "us-ascii")).toMatchObject({ text: "café" });
    expect(decodeBytes(hex("636166e9"), "us-ascii").problem).toContain("7-bit");
  });

  it("treats undeclared UTF-8 as normal and undeclared Latin-1 as a problem", () => {
    expect(decodeBytes(Buffer.from("naïve", "utf8"))).toEqual({ text: "naïve", used: "utf-8" });
    const latin = decodeBytes(hex("6e61ef7665"));
    expect(latin.text).toBe("naïve");
    expect(latin.problem).toContain("(none)");
  });

  it("repairs stray bytes in UTF-8 byte by byte instead of producing U+FFFD", () => {
    const mixed = Buffer.concat([Buffer.from("Grüße ", "utf8"), hex("e9"), Buffer.from(" ok €", "utf8")]);
    const r = decodeBytes(mixed, "utf-8");
    expect(r.text).toBe("Grüße é ok €");
    expect(r.problem).toContain("1 invalid UTF-8 byte");
    // ED A0 80 would be a UTF-16 surrogate: not UTF-8, so each byte is read as windows-1252.
    expect(decodeUtf8WithFallback(hex("eda080"))).toEqual({ text: "í\u00a0€", invalid: 3 });
  });

  it("reads mislabelled UTF-8 as UTF-8", () => {
    const r = decodeBytes(Buffer.from("日本", "utf8"), "shift_jis");
    expect(r.text).toBe("日本");
    expect(r.problem).toContain("valid UTF-8");
  });

  it("maps windows-1252 0x80-0x9F by the WHATWG table (Node's ICU gets them wrong)", () => {
    expect(decodeWindows1252(hex("80828e9299a0ff"))).toBe("€‚Ž’™\u00a0ÿ");
    expect(decodeWindows1252(hex("818d8f909d"))).toBe("\u0081\u008d\u008f\u0090\u009d");
  });

  it("normalises label spellings", () => {
    expect(normaliseCharsetLabel(' "Windows-1252" ')).toBe("windows-1252");
    expect(normaliseCharsetLabel("ISO_8859_15")).toBe("iso-8859-15");
    expect(normaliseCharsetLabel("utf8")).toBe("utf-8");
    expect(normaliseCharsetLabel("utf-8*en")).toBe("utf-8");
    expect(normaliseCharsetLabel(undefined)).toBe("");
  });
});

describe("decodeEncodedWords (RFC 2047)", () => {
  it("decodes B and Q words and drops whitespace between adjacent words", () => {
    expect(decodeEncodedWords("=?UTF-8?B?SGVsbG8=?= =?UTF-8?Q?_W=C3=B6rld?= !")).toBe("Hello Wörld !");
  });

  it("joins a multi-byte character split across two words", () => {
    expect(decodeEncodedWords("=?UTF-8?B?4oI=?=\r\n =?UTF-8?B?rA==?=")).toBe("€");
  });

  it("decodes every charset the body decoder knows, including UTF-7 and ISO-2022-JP", () => {
    expect(decodeEncodedWords("=?utf-7?Q?Price_+IKw-?=")).toBe("Price €");
    expect(decodeEncodedWords("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=")).toBe("日本語");
    expect(decodeEncodedWords("=?ks_c_5601-1987?B?wMy8urz2?=")).toBe("이성수");
    expect(decodeEncodedWords("=?windows-1250?Q?Automatyczna_odpowied=9F?=")).toBe("Automatyczna odpowiedź");
  });

  it("keeps literal 8-bit characters inside Q words (Eudora)", () => {
    expect(decodeEncodedWords("=?iso-8859-1?Q?Die_Fr\u00f6sche?=")).toBe("Die Frösche");
  });

  it("reports unknown charsets and still returns readable text", () => {
    const problems: string[] = [];
    expect(decodeEncodedWords("=?x-bogus?Q?caf=C3=A9?=", (p) => problems.push(p))).toBe("café");
    expect(problems).toEqual(["encoded-word x-bogus: unknown charset, decoded as utf-8"]);
  });

  it("leaves text without encoded-words, and malformed words, alone", () => {
    expect(decodeEncodedWords("plain = text ?= here")).toBe("plain = text ?= here");
    expect(decodeEncodedWords("=?utf-8?X?abc?=")).toBe("=?utf-8?X?abc?=");
  });
});

describe("decodeRawHeaderBytes", () => {
  it("prefers UTF-8, then the body's charset, then windows-1252", () => {
    expect(decodeRawHeaderBytes(Buffer.from("Säying", "utf8")).text).toBe("Säying");
    expect(decodeRawHeaderBytes(hex("c163c5e9"), "big5")).toMatchObject({ text: "繁體", used: "big5" });
    expect(decodeRawHeaderBytes(hex("466f726d61e7e36f"))).toMatchObject({
      text: "Formação",
      used: "windows-1252",
    });
  });
});

describe("decodeFlowed (RFC 3676)", () => {
  it("joins soft breaks, removes space-stuffing, keeps quote depth and the signature delimiter", () => {
    const text =
      "Hello, this is \r\na flowed line.\r\n From here\r\n> quoted \r\n> part\r\n>> deeper\r\n-- \r\nsig";
    expect(decodeFlowed(text, false)).toBe(
      "Hello, this is a flowed line.\nFrom here\n> quoted part\n>> deeper\n-- \nsig",
    );
  });

  it("deletes the trailing space with delsp=yes", () => {
    expect(decodeFlowed("abc \ndef", true)).toBe("abcdef");
  });
});
