import { describe, expect, it } from "vitest";
import { normaliseSubject, replySubject, stripReplyPrefixes } from "../../../src/threading/index.js";

describe("replySubject", () => {
  it.each([
    ["Offsite planning", "Re: Offsite planning"],
    ["Re: Offsite planning", "Re: Offsite planning"],
    ["RE: Offsite planning", "Re: Offsite planning"],
    ["re: Offsite planning", "Re: Offsite planning"],
    ["Re: AW: Re: Offsite planning", "Re: Offsite planning"],
    ["AW: Termin", "Re: Termin"],
    ["SV: Möte", "Re: Möte"],
    ["Sv: Møde", "Re: Møde"],
    ["VS: Kokous", "Re: Kokous"],
    ["Antw: Vergadering", "Re: Vergadering"],
    ["Odp: Spotkanie", "Re: Spotkanie"],
    ["R: R: R: I: Riunione", "Re: I: Riunione"],
    ["Rif: Riunione", "Re: Riunione"],
    ["Réf : Réunion", "Re: Réunion"],
    ["Ynt: Toplantı", "Re: Toplantı"],
    ["回复：会议", "Re: 会议"],
    ["答复: 会议", "Re: 会议"],
    ["Re[2]: Offsite", "Re: Offsite"],
    ["Re(3): Offsite", "Re: Offsite"],
    ["Re : Offsite", "Re: Offsite"],
    ["Fwd: Offsite", "Re: Fwd: Offsite"],
    ["", "Re:"],
  ])("%j -> %j", (input, expected) => {
    expect(replySubject(input)).toBe(expected);
  });

  it("leaves words that only start like a prefix alone", () => {
    expect(replySubject("Reunion: dinner")).toBe("Re: Reunion: dinner");
    expect(replySubject("Review of Q1")).toBe("Re: Review of Q1");
    expect(replySubject("Rest day")).toBe("Re: Rest day");
  });

  it("keeps an English 'Ref:' subject whole (it is not a reply prefix)", () => {
    expect(replySubject("Ref: Invoice 4411")).toBe("Re: Ref: Invoice 4411");
    expect(replySubject("Re: Ref: Invoice 4411")).toBe("Re: Ref: Invoice 4411");
    expect(replySubject("Réf: dossier 12")).toBe("Re: dossier 12");
  });
});

describe("stripReplyPrefixes", () => {
  it("removes stacked prefixes only at the start", () => {
    expect(stripReplyPrefixes("Re: Re: the Re: word")).toBe("the Re: word");
  });
});

describe("normaliseSubject", () => {
  it("removes reply and forward prefixes and list tags wherever they are stacked at the start", () => {
    expect(normaliseSubject("[Hiking] Re: Fwd: AW:  Feldberg   loop")).toBe("feldberg loop");
    expect(normaliseSubject("WG: TR: RV: Agenda")).toBe("agenda");
    expect(normaliseSubject("Re: [skynet-help][60666] How are files handled?")).toBe(
      "how are files handled?",
    );
  });

  it("applies NFKC so full-width forms compare equal", () => {
    expect(normaliseSubject("Ｒｅ： Ｏｆｆｓｉｔｅ")).toBe(normaliseSubject("Offsite"));
  });

  it("keeps different subjects different", () => {
    expect(normaliseSubject("Re: Offsite planning")).not.toBe(normaliseSubject("Re: Offsite catering"));
  });
});
