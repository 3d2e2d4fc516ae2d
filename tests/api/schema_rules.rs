//! The rules request schemas carry (slug pattern and length, email and URL formats,
//! the password's length, `include`'s pattern) are the domain's: the served spec's
//! keywords equal the domain constants, and for each keyword a value just past the
//! limit is refused by the API while the value at the limit is accepted, exactly as
//! a JSON Schema validator reading the served spec predicts.

use serde_json::{Value, json};

use dispatch::auth::password;
use dispatch::content::articles::Include;
use dispatch::content::slug;

use crate::helpers::{Resp, TestApp, spawn_app};

/// The spec as the server serves it.
async fn served(app: &TestApp) -> Value {
    let resp = app.get("/openapi.json").await;
    resp.assert_status(200);
    resp.body
}

fn property<'a>(spec: &'a Value, schema: &str, property: &str) -> &'a Value {
    &spec["components"]["schemas"][schema]["properties"][property]
}

/// The schema of the `include` query parameter of `GET path`.
fn include_param<'a>(spec: &'a Value, path: &str) -> &'a Value {
    query_param(spec, path, "include")
}

/// The schema of the query parameter `name` of `GET path`.
fn query_param<'a>(spec: &'a Value, path: &str, name: &str) -> &'a Value {
    spec["paths"][path]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .map(|p| &p["schema"])
        .unwrap_or(&Value::Null)
}

/// Whether `value` is valid against `schema` (one property's OpenAPI schema, which
/// here is plain JSON Schema), formats checked.
fn spec_accepts(schema: &Value, value: &str) -> bool {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|err| panic!("{schema} does not compile: {err}"))
        .is_valid(&json!(value))
}

/// Asserts the API's answer agrees with the spec's verdict on `value`: a 2xx when
/// the spec accepts it, a 400/422 problem naming `field` when it refuses it.
#[track_caller]
fn agree(resp: &Resp, schema: &Value, field: &str, value: &str) {
    let accepted = spec_accepts(schema, value);
    if accepted {
        assert!(
            resp.status.is_success(),
            "the spec accepts {field}={value:?} but the API answered {}: {}",
            resp.status,
            resp.text
        );
    } else {
        let status = resp.status.as_u16();
        assert!(
            status == 400 || status == 422,
            "the spec refuses {field}={value:?} but the API answered {}: {}",
            resp.status,
            resp.text
        );
        resp.assert_problem(status);
        assert!(
            resp.text.contains(field),
            "the problem does not name {field}: {}",
            resp.text
        );
    }
}

#[tokio::test]
async fn spec_keywords_are_the_domain_constants() {
    let app = spawn_app().await;
    let spec = served(&app).await;
    for schema in [
        "ArticleCreate",
        "ArticleUpdate",
        "PublisherCreate",
        "TagUpdate",
    ] {
        let slug_schema = property(&spec, schema, "slug");
        assert_eq!(slug_schema["pattern"], json!(slug::PATTERN), "{schema}");
        assert_eq!(slug_schema["maxLength"], json!(slug::MAX_LEN), "{schema}");
    }
    for schema in ["UserCreate", "UserUpdate"] {
        let pw = property(&spec, schema, "password");
        assert_eq!(pw["minLength"], json!(password::MIN_LENGTH), "{schema}");
        assert_eq!(pw["maxLength"], json!(password::MAX_LENGTH), "{schema}");
    }
    for schema in ["LoginRequest", "UserCreate", "UserUpdate", "CommentCreate"] {
        assert_eq!(property(&spec, schema, "email")["format"], json!("email"));
    }
    assert_eq!(
        property(&spec, "PublisherCreate", "website_url")["format"],
        json!("uri")
    );
    assert_eq!(
        property(&spec, "AuthorUpdate", "avatar_url")["format"],
        json!("uri")
    );
    assert_eq!(
        property(&spec, "ArticleCreate", "canonical_url")["format"],
        json!("uri")
    );
    for path in ["/api/v1/articles", "/api/v1/articles/{id_or_slug}"] {
        assert_eq!(
            include_param(&spec, path)["pattern"],
            json!(Include::pattern()),
            "{path}"
        );
    }
    let sort = query_param(&spec, "/api/v1/articles", "sort");
    assert_eq!(sort["$ref"], json!("#/components/schemas/Sort"));
    let values = spec["components"]["schemas"]["Sort"]["enum"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(values.contains(&json!("-published_at")), "{values:?}");
}

#[tokio::test]
async fn the_api_refuses_what_the_spec_refuses_at_each_limit() {
    let app = spawn_app().await;
    let spec = served(&app).await;

    // Slug: at the length limit, past it, malformed, an id (hyphenated and simple).
    let slug_schema = property(&spec, "TagCreate", "slug").clone();
    let at_limit = "a".repeat(slug::MAX_LEN);
    let past_limit = "b".repeat(slug::MAX_LEN + 1);
    for (n, value) in [
        at_limit.as_str(),
        past_limit.as_str(),
        "city-council-2026",
        "double--hyphen",
        "Upper",
        "0190b1a2-0000-7000-8000-000000000000",
        "0190b1a2000070008000000000000000",
    ]
    .into_iter()
    .enumerate()
    {
        let resp = app
            .post(
                "/api/v1/tags",
                json!({"name": format!("Tag {n}"), "slug": value}),
            )
            .await;
        agree(&resp, &slug_schema, "slug", value);
    }
    assert!(spec_accepts(&slug_schema, &at_limit));
    assert!(!spec_accepts(&slug_schema, &past_limit));

    // Password: at the minimum and one short of it (not a repeated character or a
    // common one, so that only the length decides).
    let pw_schema = property(&spec, "UserCreate", "password").clone();
    let alphabet = "qmzvbtrplkxwhjgnsdfcyueioa";
    let at_min = &alphabet[..password::MIN_LENGTH];
    let short = &alphabet[..password::MIN_LENGTH - 1];
    for (n, value) in [at_min, short].into_iter().enumerate() {
        let resp = app
            .post(
                "/api/v1/users",
                json!({"email": format!("pw{n}@dispatch.test"), "password": value, "role": "contributor"}),
            )
            .await;
        agree(&resp, &pw_schema, "password", value);
    }
    assert!(spec_accepts(&pw_schema, at_min));
    assert!(!spec_accepts(&pw_schema, short));

    // Email format.
    let email_schema = property(&spec, "UserCreate", "email").clone();
    for value in ["jane@dispatch.test", "not-an-email"] {
        let resp = app
            .post(
                "/api/v1/users",
                json!({"email": value, "password": "a long and unusual passphrase", "role": "contributor"}),
            )
            .await;
        agree(&resp, &email_schema, "email", value);
    }

    // URL format.
    let url_schema = property(&spec, "PublisherCreate", "website_url").clone();
    for (n, value) in ["https://ledger.example/", "not a url"]
        .into_iter()
        .enumerate()
    {
        let resp = app
            .post(
                "/api/v1/publishers",
                json!({"name": format!("Publisher {n}"), "website_url": value}),
            )
            .await;
        agree(&resp, &url_schema, "website_url", value);
    }

    // `include`: known names with blanks and empty parts; an unknown one; two names
    // run together.
    let include_schema = include_param(&spec, "/api/v1/articles").clone();
    for value in [
        "authors,tags",
        " publisher , ,syndicated_from,",
        "authors,bogus",
        "authorstags",
    ] {
        let query = value.replace(' ', "%20");
        let resp = app.get(&format!("/api/v1/articles?include={query}")).await;
        agree(&resp, &include_schema, "include", value);
    }
}
