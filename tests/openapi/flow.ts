// flow.ts: the movie flow through a client generated from /api/openapi.json: openapi-typescript's
// types of the document plus openapi-fetch, type-checked by tsc. Sign up, create, read, list,
// update and delete a movie, a refused body, log out. run.sh generates "restpie-api" and runs it:
//   node flow.js <openapi.json> with API_BASE_URL set (deploy/local.sh stack test prints it).
import { readFileSync } from "node:fs";
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "restpie-api";

type Movie = components["schemas"]["Movie"];
type ApiError = components["schemas"]["Error"];

const base = process.env.API_BASE_URL;
const docPath = process.argv[2];
if (!base || !docPath) {
    console.error("usage: API_BASE_URL=http://127.0.0.1:8101 node flow.js openapi.json");
    process.exit(2);
}

// The session cookie's name, as the document's security scheme declares it.
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const cookieName: string = doc.components.securitySchemes.session.name;

// Node's fetch keeps no cookies: this middleware is the client's cookie jar for the one cookie.
let session = "";
const jar: Middleware = {
    onRequest({ request }) {
        if (session) request.headers.set("Cookie", `${cookieName}=${session}`);
        return request;
    },
    onResponse({ response }) {
        for (const c of response.headers.getSetCookie()) {
            const [pair = ""] = c.split(";");
            const eq = pair.indexOf("=");
            if (pair.slice(0, eq).trim() === cookieName) session = pair.slice(eq + 1);
        }
        return response;
    },
};

const api = createClient<paths>({ baseUrl: base });
api.use(jar);

let step = 0;
function check(ok: boolean, what: string, detail?: unknown): void {
    step += 1;
    if (!ok) {
        console.error(`not ok ${step} - ${what}`, detail ?? "");
        process.exit(1);
    }
    console.log(`ok ${step} - ${what}`);
}

function errorText(e: ApiError | undefined): string {
    return e ? e.err : "";
}

const email = `openapi-${Date.now()}-${process.pid}@example.com`;
const signup = await api.POST("/api/signup", {
    body: { email, password: "Openapi123", fname: "Open", lname: "Api", remember: false },
});
check(signup.response.status === 201 && signup.data?.email === email, "sign up", signup.error);
check(session !== "", "the session cookie " + cookieName + " is set");
const me = await api.GET("/api/me");
check(me.data?.me.role === "editor", "GET /api/me: an editor", me.error);

const created = await api.POST("/api/movies/", {
    body: { title: "Matrix", director: "Lana Wachowski" },
});
const movie: Movie | undefined = created.data;
check(created.response.status === 201 && movie?.title === "Matrix", "create a movie", created.error);
if (!movie) process.exit(1);
check(/^[0-9]+$/.test(movie.id) && movie.creator === signup.data?.id, "its id is a string, its creator the caller");

const id = movie.id;
const read = await api.GET("/api/movies/{id}", { params: { path: { id } } });
check(read.data?.director === "Lana Wachowski", "read it", read.error);

const listed = await api.GET("/api/movies/", { params: { query: { search: "matrix", limit: 100 } } });
check((listed.data ?? []).some((m) => m.id === id), "find it in the list", listed.error);

const updated = await api.PUT("/api/movies/{id}", {
    params: { path: { id } },
    body: { title: "The Matrix" },
});
check(updated.data?.title === "The Matrix" && updated.data.director === "Lana Wachowski",
      "update its title", updated.error);

const refused = await api.PUT("/api/movies/{id}", { params: { path: { id } }, body: { title: "" } });
check(refused.response.status === 400 && errorText(refused.error) === "400: title must not be empty",
      "an empty title: 400 in the error shape", refused.error);

const deleted = await api.DELETE("/api/movies/{id}", { params: { path: { id } } });
check(deleted.data?.id === id, "delete it", deleted.error);
const gone = await api.GET("/api/movies/{id}", { params: { path: { id } } });
check(gone.response.status === 404 && errorText(gone.error) === `404: movie ${id}`, "it is gone", gone.error);

const out = await api.POST("/api/logout", { body: {} });
check(out.response.status === 200, "log out", out.error);
const after = await api.GET("/api/me");
check(after.response.status === 401 && errorText(after.error).startsWith("401: "),
      "logged out: /api/me is 401", after.error);
