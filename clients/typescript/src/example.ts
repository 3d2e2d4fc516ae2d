// A small typed client of the Dispatch API, run by CI against a served demo newsroom.
// The types in ./api.d.ts are generated from openapi.yaml (`npm run generate`); every path,
// parameter, body and response below is checked against them by `tsc --noEmit`.
//
//   DISPATCH_URL=http://127.0.0.1:8080 DISPATCH_EMAIL=you@example.com \
//   DISPATCH_PASSWORD='a long passphrase' npm start
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./api.js";

type Problem = components["schemas"]["Problem"];
type Article = components["schemas"]["Article"];

const baseUrl = process.env.DISPATCH_URL ?? "http://127.0.0.1:8080";
const email = process.env.DISPATCH_EMAIL ?? "you@example.com";
const password = process.env.DISPATCH_PASSWORD ?? "a long passphrase";

/** The demo newsroom's fixed ids (`dispatch seed --demo`). */
const HARBOR_CITY_LEDGER = "5eed0001-0000-4000-8000-000000000001";
const TOMAS_REYES_LINDQVIST = "5eed0002-0000-4000-8000-000000000002";
const TRANSPORT = "5eed0003-0000-4000-8000-000000000003";

const api = createClient<paths>({ baseUrl });

/** Every error is an RFC 9457 problem: report its status, detail, fields and request id. */
class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
    super(`${problem.status} ${problem.title}: ${problem.detail}${fields ? ` (${fields})` : ""} [request ${problem.request_id}]`);
  }
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`unexpected: ${what}`);
}

/** Every published article, page by page, following `meta.next_cursor`. */
async function allPublished(): Promise<{ articles: Article[]; pages: number }> {
  const articles: Article[] = [];
  let pages = 0;
  let cursor: string | undefined;
  do {
    const { data, error } = await api.GET("/api/v1/articles", {
      params: { query: { limit: 5, include: "authors,publisher,tags", cursor } },
    });
    if (error) throw new ProblemError(error);
    articles.push(...data.data);
    pages += 1;
    cursor = data.meta.next_cursor ?? undefined;
  } while (cursor);
  return { articles, pages };
}

const { articles: published, pages } = await allPublished();
check(pages > 1, `more than one page of published articles, got ${pages}`);
const first = published[0];
check(first !== undefined, "a first article");
console.log(
  `${published.length} published articles in ${pages} pages; the newest: "${first.title}" by ${first.authors?.map((a) => a.name).join(", ")} ` +
    `in ${first.publisher?.name}, tagged ${first.tags?.map((t) => t.slug).join(", ")}`,
);

// A missing article is a typed 404 problem.
const missing = await api.GET("/api/v1/articles/{id_or_slug}", {
  params: { path: { id_or_slug: "no-such-story" } },
});
check(missing.error !== undefined && missing.response.status === 404, "a 404 for a missing article");
check(missing.response.headers.get("content-type") === "application/problem+json", "a problem+json 404");
console.log(`a missing article: ${new ProblemError(missing.error).message}`);

// Sign in, then send the access token with every request.
const login = await api.POST("/api/v1/auth/login", { body: { email, password } });
if (login.error) throw new ProblemError(login.error);
const token = login.data.access_token;
const bearer: Middleware = {
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};
api.use(bearer);
console.log(`signed in as ${email}; the access token lasts ${login.data.expires_in} s`);

// Write a draft for the Ledger; the slug is made from the title.
const created = await api.POST("/api/v1/articles", {
  body: {
    title: "Ferry fares frozen for 2027",
    body_markdown: "The harbour board **voted** on Tuesday to keep every fare at this year's price.",
    status: "draft",
    dateline: "HARBOR CITY",
    publisher_id: HARBOR_CITY_LEDGER,
    author_ids: [TOMAS_REYES_LINDQVIST],
    tag_ids: [TRANSPORT],
  },
});
if (created.error) throw new ProblemError(created.error);
check(created.response.status === 201, `201 for a create, got ${created.response.status}`);
console.log(`created ${created.data.status} article ${created.data.slug} (${created.data.id}), byline "${created.data.byline}"`);

// An invalid write is a 422 problem naming each field at fault.
const invalid = await api.POST("/api/v1/articles", {
  body: { title: "  ", body_markdown: "", publisher_id: "5eed0001-0000-4000-8000-000000000999" },
});
check(invalid.error !== undefined && invalid.response.status === 422, `a 422 for an invalid article, got ${invalid.response.status}`);
const fields = (invalid.error.errors ?? []).map((e) => e.field);
check(fields.includes("title") && fields.includes("publisher_id"), `title and publisher_id at fault, got ${fields.join(", ")}`);
console.log(`an invalid article: ${new ProblemError(invalid.error).message}`);
console.log("ok: the typed client listed, paged, signed in, wrote and handled problems");
