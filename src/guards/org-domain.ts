/**
 * Organisational domains for DMARC-style relaxed alignment (RFC 7489 §3.2): the registrable domain,
 * i.e. one label below the public suffix. `mail.example.co.uk` -> `example.co.uk`.
 *
 * Limitation: this is not the Public Suffix List. It knows every single-label TLD implicitly and the
 * common multi-label suffixes below. Under a multi-label suffix missing here the organisational
 * domain comes out one label too short: for `shop.example.xx.yy` it is `xx.yy`, so two unrelated
 * domains under that unknown suffix would count as aligned (too lenient, never too strict).
 * Private suffixes (github.io, herokuapp.com, blogspot.com) are not listed: people rarely send mail
 * from them. A host that needs exactness passes its own function (SenderAuthOptions.orgDomain).
 */
import { normaliseDomain } from "./address.js";

const SUFFIX_TABLE = `
  # United Kingdom
  co.uk org.uk me.uk ltd.uk plc.uk net.uk sch.uk ac.uk gov.uk nhs.uk police.uk
  # Australia, New Zealand
  com.au net.au org.au edu.au gov.au asn.au id.au
  co.nz net.nz org.nz ac.nz govt.nz school.nz geek.nz kiwi.nz
  # Japan, Korea, China, Taiwan, Hong Kong
  co.jp ne.jp or.jp ac.jp ad.jp ed.jp go.jp gr.jp lg.jp
  co.kr or.kr ne.kr ac.kr go.kr re.kr
  com.cn net.cn org.cn edu.cn gov.cn ac.cn
  com.tw net.tw org.tw edu.tw gov.tw idv.tw
  com.hk net.hk org.hk edu.hk gov.hk idv.hk
  # South and South-East Asia
  co.in net.in org.in firm.in gen.in ind.in ac.in edu.in gov.in res.in
  com.sg net.sg org.sg edu.sg gov.sg
  com.my net.my org.my edu.my gov.my
  co.id or.id ac.id go.id web.id
  co.th in.th ac.th go.th or.th
  com.ph net.ph org.ph edu.ph gov.ph
  com.vn net.vn org.vn edu.vn gov.vn
  com.pk net.pk org.pk edu.pk gov.pk
  com.bd net.bd org.bd
  com.lk org.lk
  # Middle East, Africa
  co.il org.il ac.il gov.il net.il
  com.tr net.tr org.tr edu.tr gov.tr gen.tr
  com.sa net.sa org.sa edu.sa gov.sa
  co.ae net.ae org.ae gov.ae
  com.eg edu.eg gov.eg
  co.za org.za net.za ac.za gov.za web.za
  co.ke or.ke ac.ke go.ke
  com.ng org.ng edu.ng gov.ng
  # Americas
  com.br net.br org.br gov.br edu.br art.br blog.br
  com.mx org.mx net.mx edu.mx gob.mx
  com.ar net.ar org.ar gob.ar edu.ar
  com.co net.co org.co edu.co gov.co
  com.pe net.pe org.pe edu.pe gob.pe
  co.ve com.ve org.ve
  com.uy org.uy edu.uy
  com.ec org.ec
  # Europe
  com.ua net.ua org.ua edu.ua gov.ua kiev.ua
  com.pl net.pl org.pl edu.pl gov.pl
  co.at or.at ac.at gv.at
  com.es org.es nom.es gob.es edu.es
  com.pt org.pt edu.pt gov.pt
  com.gr org.gr edu.gr gov.gr
  com.cy org.cy ac.cy
  com.ru net.ru org.ru msk.ru spb.ru
  co.hu org.hu
  com.ro org.ro
  co.rs org.rs edu.rs
  com.hr
  co.it
  gouv.fr asso.fr com.fr
  ltd.gi co.je co.gg co.im
  # Generic second-level registries commonly used for mail
  us.com uk.com eu.com de.com gb.net uk.net us.org
`;

/** Multi-label public suffixes (ICANN section of the PSL, the ones mail is commonly sent under). */
export const MULTI_LABEL_SUFFIXES: ReadonlySet<string> = new Set(
  SUFFIX_TABLE.split("\n")
    .filter((line) => !line.trim().startsWith("#"))
    .flatMap((line) => line.trim().split(/\s+/))
    .filter((s) => s !== ""),
);

/**
 * The organisational domain of `domain` (ASCII, lower-case), or "" when the domain is invalid.
 * A bare TLD or a known public suffix is its own organisational domain.
 */
export function organisationalDomain(domain: string): string {
  const d = normaliseDomain(domain);
  if (!d) return "";
  const labels = d.split(".");
  if (labels.length <= 2) return d;
  const lastTwo = labels.slice(-2).join(".");
  const keep = MULTI_LABEL_SUFFIXES.has(lastTwo) ? 3 : 2;
  return labels.slice(-keep).join(".");
}

/** Relaxed alignment: both domains share their organisational domain. */
export function relaxedAligned(a: string, b: string, orgDomain = organisationalDomain): boolean {
  const x = orgDomain(a);
  return x !== "" && x === orgDomain(b);
}
