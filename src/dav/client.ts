/**
 * DavClient: one account on one DAV server (a base URL and credentials) and the WebDAV verbs the
 * discovery, sync and write code need, with multistatus answers parsed.
 */
import { ServerError } from "../errors/index.js";
import { DavHttp, type DavHttpOptions, type DavHttpResponse, bodyExcerpt } from "./http.js";
import { type Multistatus, parseMultistatus } from "./multistatus.js";
import { type QName, propfindBody } from "./xml.js";

export interface DavClientOptions extends DavHttpOptions {
  /**
   * Where the account's DAV service lives: a server root (`http://127.0.0.1:5232/`, discovery then
   * tries `/.well-known/caldav` or `/.well-known/carddav`) or a deeper context path (Stalwart's
   * `https://mail.example.org/dav/cal/<account>/`). Required; http or https.
   */
  baseUrl: string;
}

export class DavClient {
  readonly baseUrl: string;
  readonly http: DavHttp;

  constructor(options: DavClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch (cause) {
      throw new TypeError("DAV base URL is not a URL", { cause });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`DAV base URL must be http or https: ${url.protocol}`);
    }
    if (url.username || url.password) {
      // fetch refuses such URLs, and the URL would carry the secret into logs and errors.
      throw new TypeError("DAV base URL must not contain credentials; pass username and password");
    }
    this.baseUrl = url.toString();
    this.http = new DavHttp(options);
  }

  /** Requests sent so far by this client. */
  get requestCount(): number {
    return this.http.requestCount;
  }

  /** An absolute URL for an href from this server. */
  resolve(href: string, base: string = this.baseUrl): string {
    return new URL(href, base).toString();
  }

  /** PROPFIND (RFC 4918 §9.1); resolves with the parsed multistatus or throws the mapped error. */
  async propfind(
    url: string,
    props: readonly QName[],
    depth: "0" | "1",
    signal?: AbortSignal,
  ): Promise<{ multistatus: Multistatus; url: string }> {
    const res = await this.http.send({ method: "PROPFIND", url, depth, body: propfindBody(props), signal });
    if (res.status !== 207) throw this.http.statusError(res, "PROPFIND");
    return { multistatus: this.parse(res, "PROPFIND"), url: res.url };
  }

  /** REPORT with a prepared body; resolves with any status (the caller reads preconditions). */
  report(url: string, body: string, depth: "0" | "1", signal?: AbortSignal): Promise<DavHttpResponse> {
    return this.http.send({ method: "REPORT", url, depth, body, signal });
  }

  /** Parses a 207 body; a body that is not a multistatus becomes ServerError `DAV_BAD_RESPONSE`. */
  parse(res: DavHttpResponse, method: string): Multistatus {
    try {
      return parseMultistatus(res.body);
    } catch (cause) {
      throw new ServerError(`${method} ${res.url}: unreadable multistatus: ${(cause as Error).message}`, {
        code: "DAV_BAD_RESPONSE",
        stage: this.http.stage,
        status: res.status,
        response: bodyExcerpt(res.body),
        retryable: false,
        cause,
      });
    }
  }
}

/** Creates a client for one account; see DavClientOptions for every option and its default. */
export function createDavClient(options: DavClientOptions): DavClient {
  return new DavClient(options);
}
