/**
 * The line patterns reply stripping recognises, per client and language. Every pattern works on one
 * line (or a quote header joined from at most three wrapped lines, bounded in length), so none of
 * them can backtrack over a whole message.
 */

/** Longest (joined) line we test as a quote header; longer lines are prose. */
export const MAX_HEADER_CHARS = 400;

// "wrote" in the languages mail clients localise their attribution line into.
const VERBS = [
  "wrote",
  "writes",
  "has written",
  "a écrit",
  "a ecrit",
  "écrit",
  "escribió",
  "escribio",
  "escreveu",
  "ha scritto",
  "scritto",
  "schrieb",
  "geschrieben",
  "schreef",
  "het volgende geschreven",
  "skrev",
  "skrevet",
  "kirjoitti",
  "napisał\\(a\\)",
  "napisała",
  "napisał",
  "pisze",
  "napsal\\(a\\)",
  "napsal",
  "napísal",
  "написал\\(а\\)",
  "написала",
  "написал",
  "пишет",
  "пише",
  "написав",
  "写道",
  "寫道",
  "作成",
  "작성",
  "のメッセージ",
  "さんは書きました",
  "írta",
  "yazdı",
  "έγραψε",
  "a scris",
  "scrie",
  "kirjutas",
  "rašė",
  "rakstīja",
  "skrifaði",
  "je napisal",
  "napisao",
  "је написао",
  "kaj skribis",
  "כתב",
  "كتب",
].join("|");

// Openers of attribution lines: "On", "Le", "El", "Am", "Il", "Em", "Op", "Den", "W dniu" ...
const OPENERS =
  "On|Le|El|Am|Il|In data|Em|Op|Den|På|W dniu|Dnia|Dne|Dňa|V|В|Στις|La|Op|Pe|Den|Dana|Kl\\.|Le|At";

/** Verb at the end: "On <date>, Alice <a@x> wrote:", "---- On ... wrote ----", "... 写道：". */
const VERB_AT_END = new RegExp(`(?:${VERBS})\\s*[:：]?\\s*-*\\s*$`, "iu");
/** Verb inside, address at the end: "Den 15. jun. 2016 kl. 20.42 skrev Jeff <j@x>:". */
const VERB_THEN_ADDRESS = new RegExp(
  `(?:${VERBS})\\s.{0,200}[<[(][^<>[\\]()]*@[^<>[\\]()]*[>\\])]+\\s*[:：]\\s*$`,
  "iu",
);
const STARTS_WITH_OPENER = new RegExp(`^\\s*-*\\s*(?:${OPENERS})\\s`, "u");
/** Does a line begin the way attribution lines begin (opener word, date, weekday)? */
export function looksLikeHeaderStart(line: string): boolean {
  return STARTS_WITH_OPENER.test(line) || /^\s*-*\s*(?:\d|\p{L}{2,12}[.,]?\s+\d)/u.test(line);
}

const HAS_ADDRESS = /[<[(][^<>[\]()\s]*@[^<>[\]()\s]*[>\])]|\S@\S/;
const HAS_DATE_OR_TIME = /\b(?:19|20)\d{2}\b|\b\d{1,2}[:.]\d{2}\b/;

/**
 * Is this (possibly joined) line an attribution line that introduces quoted history? Prose that
 * merely ends in "wrote:" needs a date, time or address to count, and a verbless line needs both an
 * address and a date or time (Gmail ru/uk, Mail.ru, Yandex: "26.06.2014, 14:41, "A" <a@x>:").
 */
export function isAttribution(joined: string): boolean {
  const s = joined.trim();
  if (s.length === 0 || s.length > MAX_HEADER_CHARS || s.startsWith(">")) return false;
  if (VERB_AT_END.test(s))
    return HAS_DATE_OR_TIME.test(s) || HAS_ADDRESS.test(s) || STARTS_WITH_OPENER.test(s);
  if (!/[:：]\s*$/.test(s)) return false;
  if (VERB_THEN_ADDRESS.test(s)) return true;
  return (
    HAS_ADDRESS.test(s) &&
    HAS_DATE_OR_TIME.test(s) &&
    !/[.!?]\s.*[:：]\s*$/.test(s.slice(0, -1).replace(/\S+@\S+/g, ""))
  );
}

const ORIGINAL_MESSAGE = new RegExp(
  "^\\s*[-_=*~]*\\s*(?:original message|ursprüngliche nachricht|originalnachricht|message d'origine|mensaje original|" +
    "messaggio originale|mensagem original|oorspronkelijk bericht|origineel bericht|originalmeddelande|ursprungligt meddelande|" +
    "oprindelig besked|opprinnelig melding|alkuperäinen viesti|wiadomość oryginalna|oryginalna wiadomość|původní zpráva|pôvodná správa|" +
    "исходное сообщение|исходное письмо|оригинальное сообщение|вихідний лист|原始邮件|原始郵件|元のメッセージ|원본 메시지|" +
    "eredeti üzenet|orijinal mesaj|αρχικό μήνυμα|reply message|original email)\\s*[-_=*~]*\\s*$",
  "iu",
);

/** "-----Original Message-----" and its translations (Outlook, Yahoo, AOL, Windows Mail). */
export function isOriginalMessageMarker(line: string): boolean {
  return line.length <= 120 && ORIGINAL_MESSAGE.test(line);
}

const FORWARD = new RegExp(
  "^\\s*[-_=*~]*\\s*(?:forwarded message|forwarded e-?mail|begin forwarded message|weitergeleitete nachricht|" +
    "anfang der weitergeleiteten nachricht|message transféré|début du message réexpédié|message réexpédié|mensaje reenviado|" +
    "inicio del mensaje reenviado|messaggio inoltrato|inizio messaggio inoltrato|mensagem encaminhada|início da mensagem reencaminhada|" +
    "doorgestuurd bericht|begin doorgestuurd bericht|vidarebefordrat meddelande|videresendt meddelelse|videresendt melding|" +
    "välitetty viesti|przekazana wiadomość|wiadomość przekazana dalej|přeposlaná zpráva|пересланное сообщение|" +
    "начало переадресованного сообщения|转发的邮件|轉寄的郵件|転送されたメッセージ|전달된 메시지)\\s*[:：]?\\s*[-_=*~]*\\s*$",
  "iu",
);

/** "---------- Forwarded message ---------" (Gmail), "Begin forwarded message:" (Apple Mail) ... */
export function isForwardMarker(line: string): boolean {
  return line.length <= 120 && FORWARD.test(line);
}

const FROM_KEYS =
  "from|von|de|da|van|från|fra|frá|od|от|від|lähettäjä|feladó|kimden|από|发件人|寄件者|差出人|보낸 사람|saatja|nuo|no";
const OTHER_KEYS =
  "to|sent|date|subject|cc|bcc|reply-to|an|gesendet|datum|betreff|kopie|à|a|envoyé|envoyé le|objet|copie à|sujet|message du|" +
  "para|enviado|enviado el|fecha|asunto|inviato|data|oggetto|aan|verzonden|onderwerp|till|skickat|ämne|til|sendt|emne|dato|" +
  "do|wysłano|temat|komu|odesláno|předmět|кому|отправлено|дата|тема|копия|надіслано|vastaanottaja|lähetetty|aihe|" +
  "címzett|elküldve|tárgy|kime|gönderildi|konu|收件人|发送时间|主题|日期|抄送|收件者|傳送時間|主旨|宛先|送信日時|件名|" +
  "받는 사람|보낸 날짜|제목|προς|στάλθηκε|θέμα";

const FROM_FIELD = new RegExp(`^\\s*[*_]{0,2}(?:${FROM_KEYS})\\s?[*_]{0,2}\\s?[:：]`, "iu");
const OTHER_FIELD = new RegExp(`^\\s*[*_]{0,2}(?:${OTHER_KEYS})\\s?[*_]{0,2}\\s?[:：]`, "iu");

/** 1 = a From-like field of a header block ("From:", "*Von:*", "De :"), 2 = another field, 0 = neither. */
export function headerField(line: string): 0 | 1 | 2 {
  if (line.length > MAX_HEADER_CHARS) return 0;
  if (FROM_FIELD.test(line)) return 1;
  if (OTHER_FIELD.test(line)) return 2;
  return 0;
}

/** A line that only separates: "________", "-----", "=====", " ------------------------------". */
export function isSeparatorLine(line: string): boolean {
  return /^\s*(?:[-_=*~—–]\s*){3,}$/.test(line) && line.length <= 200;
}

/** "-- " (RFC 3676 §4.3 signature delimiter) and the common "--" without its space. */
export function isSignatureDelimiter(line: string): boolean {
  return line === "-- " || line === "--";
}

/** A line of underscores only: Outlook's reply separator and mailing-list footers start with it. */
export function isUnderscoreRule(line: string): boolean {
  return /^\s*_{2,}\s*$/.test(line);
}

const MOBILE_SIGNATURES: RegExp[] = [
  // English: "Sent from my iPhone", "Sent from Outlook Mobile<url>", "Sent via mobile", "Sent with Airmail"
  /^\(?\s*sent (?:from|via|with|using) (?:my |the )?[\p{L}\p{N} '’.\-+&]{1,48}?(?:\s*[<([].{0,200}[>)\]])?\s*\)?\.?$/iu,
  /^sent from \[[^\]]{1,60}\]\([^)]{1,200}\).{0,40}$/iu,
  /^get (?:\[)?outlook for (?:ios|android|mac|windows)(?:\]\([^)]{0,200}\)|\s*<[^>]{0,200}>|\S{0,200})?\s*$/iu,
  /^from my (?:iphone|ipad|android|mobile|samsung|blackberry)[\p{L}\p{N} ]{0,30}$/iu,
  /^<<sent by [\p{L}\p{N} ]{1,30}>>$/iu,
  // German
  /^von meinem [\p{L}\p{N} '’.-]{1,40} gesendet\.?$/iu,
  /^gesendet (?:von|mit|vom) (?:meinem |mein )?[\p{L}\p{N} '’.-]{1,48}(?:\s*<[^>]{0,200}>)?\s*$/iu,
  /^diese nachricht wurde von meinem .{1,80} gesendet\.?$/iu,
  // French, Spanish, Portuguese, Italian, Dutch, Nordic, Polish, Russian
  /^envoyé (?:de|depuis|à partir de|avec) (?:mon |ma )?[\p{L}\p{N} '’.-]{1,48}(?:\s*<[^>]{0,200}>)?\s*$/iu,
  /^télécharger outlook pour .{1,60}$/iu,
  /^enviado (?:desde|de|do|con|com) (?:mi |meu |o meu |my )?[\p{L}\p{N} '’.-]{1,48}(?:\s*<[^>]{0,200}>)?\s*$/iu,
  /^inviato (?:da|dal|con) (?:mio |il mio )?[\p{L}\p{N} '’.-]{1,48}(?:\s*<[^>]{0,200}>)?\s*$/iu,
  /^(?:verzonden|verstuurd) (?:vanaf|van|met) (?:mijn )?[\p{L}\p{N} '’.-]{1,48}(?:\s*<[^>]{0,200}>)?\s*$/iu,
  /^(?:sendt fra|skickat från|lähetetty) (?:min |mitt |minun )?[\p{L}\p{N} '’.-]{1,48}(?:\s*<[^>]{0,200}>)?\s*$/iu,
  /^wysłane z (?:mojego )?[\p{L}\p{N} '’.-]{1,48}$/iu,
  /^отправлено (?:с|из) [\p{L}\p{N} '’.-]{1,48}$/iu,
  // Chinese, Japanese
  /^(?:從我的|发自我的|來自我的|发自) ?[\p{L}\p{N} ]{1,30}(?:傳送|发送)?$/u,
  /^[\p{L}\p{N} ]{1,30}から送信$/u,
];

/** "Sent from my iPhone" and its kin, in the languages we have seen. Prose after a comma is not one. */
export function isMobileSignature(line: string): boolean {
  const s = line.trim();
  if (s.length === 0 || s.length > 240) return false;
  return MOBILE_SIGNATURES.some((re) => re.test(s));
}
