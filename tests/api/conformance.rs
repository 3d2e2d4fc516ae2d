//! The spec tells the truth: real responses of every operation, provoked over HTTP,
//! are validated against `openapi.yaml`'s schemas with a JSON Schema validator
//! (`jsonschema`), their status must be one the operation documents, their keys
//! come in the schema's declared order, and every operation of the spec is
//! exercised at least once with success (and swept for the errors all operations
//! of its kind can give).
//!
//! OpenAPI 3.0 schemas become JSON Schema (2020-12) here: `#/components/schemas`
//! references point into `$defs`, `nullable: true` adds `null` to the type, and
//! response objects are closed (`additionalProperties: false`), so a field the spec
//! does not list fails too.
//!
//! An answer to a request choosing fields (`fields=`, `fields[authors]=`, …) is
//! validated against the spec with the chosen schema narrowed to what was chosen:
//! its `required` and `properties` keep only the chosen fields, `id`, and what is
//! not a field to choose (an article's embedded relations), so a missing chosen
//! field fails and so does one not chosen.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Map, Value, json};

use dispatch::media::fixtures;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Resp, TestApp, read, spawn_app_with};

/// The document the server serves and `openapi.yaml` holds.
fn spec() -> Value {
    dispatch::api::spec::document()
}

/// `schema` (an OpenAPI 3.0 schema object) as JSON Schema.
fn convert(schema: &Value) -> Value {
    match schema {
        Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
        Value::Object(object) => {
            let mut out = Map::new();
            for (key, value) in object {
                match key.as_str() {
                    "$ref" => {
                        let target = value.as_str().unwrap_or_default();
                        out.insert(
                            key.clone(),
                            Value::from(target.replace("#/components/schemas/", "#/$defs/")),
                        );
                    }
                    "properties" => {
                        let props = value
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(k, v)| (k.clone(), convert(v)))
                            .collect();
                        out.insert(key.clone(), Value::Object(props));
                    }
                    // An inline member of `allOf` (a union's discriminator, say) checks
                    // only what it names; the `$ref`'d member beside it is strict.
                    "allOf" => {
                        let members = value.as_array().into_iter().flatten().map(|member| {
                            let mut member = convert(member);
                            if let Some(m) = member.as_object_mut()
                                && !m.contains_key("$ref")
                            {
                                m.remove("additionalProperties");
                            }
                            member
                        });
                        out.insert(key.clone(), Value::Array(members.collect()));
                    }
                    "items" | "additionalProperties" | "anyOf" | "oneOf" | "not" => {
                        out.insert(key.clone(), convert(value));
                    }
                    // OpenAPI 3.0's boolean exclusive bounds, documentation-only keys.
                    "exclusiveMinimum" | "exclusiveMaximum" if value.is_boolean() => {}
                    "nullable" | "example" | "deprecated" | "readOnly" | "writeOnly"
                    | "discriminator" | "externalDocs" | "xml" => {}
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            if out.get("type") == Some(&json!("object"))
                && out.contains_key("properties")
                && !out.contains_key("additionalProperties")
            {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            if object.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::Array(values)) = out.get_mut("enum") {
                    values.push(Value::Null);
                }
                match out.get("type").cloned() {
                    Some(Value::String(ty)) => {
                        out.insert("type".into(), json!([ty, "null"]));
                    }
                    _ => return json!({"anyOf": [{"type": "null"}, Value::Object(out)]}),
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// A validator of `schema` (an OpenAPI schema of `spec`, often a `$ref`).
fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
    let defs: Map<String, Value> = spec["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| (name.clone(), convert(s)))
        .collect();
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
    });
    if let (Some(root), Value::Object(schema)) = (root.as_object_mut(), convert(schema)) {
        root.extend(schema);
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|err| panic!("the spec's schema does not compile: {err}"))
}

/// What is wrong with `body` as an instance of `schema`, one line per error.
fn violations(spec: &Value, schema: &Value, body: &Value) -> Vec<String> {
    validator(spec, schema)
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// `schema` with references and `allOf` wrappers followed.
fn resolve<'s>(spec: &'s Value, schema: &'s Value) -> &'s Value {
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return resolve(spec, &spec["components"]["schemas"][name]);
    }
    match schema["allOf"].as_array() {
        Some(parts) if parts.len() == 1 => resolve(spec, &parts[0]),
        _ => schema,
    }
}

/// Keys of objects in `body` that are not in their schema's declared order.
fn misordered(spec: &Value, schema: &Value, body: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    match body {
        Value::Object(object) => {
            let Some(props) = schema["properties"].as_object() else {
                return;
            };
            let declared: Vec<&String> = props.keys().filter(|k| object.contains_key(*k)).collect();
            let sent: Vec<&String> = object.keys().filter(|k| props.contains_key(*k)).collect();
            if declared != sent {
                out.push(format!("{at}: keys {sent:?}, declared {declared:?}"));
            }
            for (key, value) in object {
                if let Some(prop) = props.get(key) {
                    misordered(spec, prop, value, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                misordered(spec, &schema["items"], item, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The spec's path template that `path` (without its query) is an instance of,
/// preferring literal segments over parameters.
fn template<'s>(spec: &'s Value, path: &str) -> Option<&'s str> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    spec["paths"]
        .as_object()?
        .keys()
        .filter(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p.starts_with('{') || p == s)
        })
        .max_by_key(|t| t.split('/').filter(|p| !p.starts_with('{')).count())
        .map(String::as_str)
}

/// One request of the tour.
struct Call {
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<(String, Vec<u8>)>,
    headers: Vec<(&'static str, String)>,
}

impl Call {
    fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            token: None,
            body: None,
            headers: vec![],
        }
    }
    fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }
    fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }
    fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }
    fn json(mut self, body: Value) -> Self {
        self.body = Some(("application/json".into(), body.to_string().into_bytes()));
        self
    }
    fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some((content_type.into(), body.into()));
        self
    }
    fn raw_query(mut self, query: &str) -> Self {
        self.path = format!("{}?{query}", self.path);
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// Sends calls and checks every answer against the spec.
struct Checker {
    spec: Value,
    /// (method, path template, status) of every answer checked.
    seen: BTreeSet<(String, String, String)>,
    failures: Vec<String>,
}

impl Checker {
    fn new() -> Self {
        Self {
            spec: spec(),
            seen: BTreeSet::new(),
            failures: vec![],
        }
    }

    /// Sends `call`, checks the answer, expects `status`.
    async fn expect(&mut self, app: &TestApp, call: Call, status: u16) -> Resp {
        self.expect_one_of(app, call, &[status]).await
    }

    /// Sends `call`, checks the answer, expects one of `statuses`.
    async fn expect_one_of(&mut self, app: &TestApp, call: Call, statuses: &[u16]) -> Resp {
        let mut req = app
            .client
            .request(call.method.clone(), format!("{}{}", app.base, call.path));
        if let Some(token) = &call.token {
            req = req.bearer_auth(token);
        }
        for (name, value) in &call.headers {
            req = req.header(*name, value);
        }
        if let Some((content_type, body)) = call.body.clone() {
            req = req.header("content-type", content_type).body(body);
        }
        let resp = read(req.send().await.expect("request")).await;
        assert!(
            statuses.contains(&resp.status.as_u16()),
            "{} {}: expected {statuses:?}, got {}",
            call.method,
            call.path,
            resp.text
        );
        self.check(call.method.as_str(), &call.path, &resp);
        resp
    }

    /// Checks `resp`, the answer to `method path`, against the spec.
    fn check(&mut self, method: &str, path: &str, resp: &Resp) {
        let method = method.to_lowercase();
        let status = resp.status.as_str().to_string();
        let what = format!("{} {path} → {status}", method.to_uppercase());
        let Some(tpl) = template(&self.spec, path) else {
            self.failures.push(format!("{what}: no path of the spec"));
            return;
        };
        self.seen
            .insert((method.clone(), tpl.to_string(), status.clone()));
        let spec = self.spec.clone();
        let Some(documented) = spec["paths"][tpl][&method]["responses"].get(&status) else {
            self.failures
                .push(format!("{what}: status not documented for {tpl}"));
            return;
        };
        let Some(content) = documented["content"].as_object().filter(|c| !c.is_empty()) else {
            if !resp.text.is_empty() {
                self.failures
                    .push(format!("{what}: a body the spec does not describe"));
            }
            return;
        };
        let sent_type = resp.header("content-type").unwrap_or_default().to_string();
        let Some((_, media)) = content
            .iter()
            .find(|(ct, _)| essence(ct) == essence(&sent_type))
        else {
            self.failures.push(format!(
                "{what}: content type {sent_type} not among {:?}",
                content.keys().collect::<Vec<_>>()
            ));
            return;
        };
        if !essence(&sent_type).ends_with("json") {
            return;
        }
        let body: Value = match serde_json::from_str(&resp.text) {
            Ok(body) => body,
            Err(err) => {
                self.failures.push(format!("{what}: not JSON ({err})"));
                return;
            }
        };
        let spec = narrowed(spec.clone(), &media["schema"], path);
        for error in violations(&spec, &media["schema"], &body) {
            self.failures.push(format!("{what}: {error}"));
        }
        let mut order = vec![];
        misordered(&spec, &media["schema"], &body, "", &mut order);
        for error in order {
            self.failures.push(format!("{what}: key order {error}"));
        }
    }

    /// Provokes, on every operation of the spec, the errors every operation of its
    /// kind can answer: a NUL character in the query (400), no token where one is
    /// required or a bad one where it is optional (401), a body that is not JSON (415)
    /// or too large (413).
    async fn sweep(&mut self, app: &TestApp) {
        let mut calls = vec![];
        for (tpl, ops) in self.spec["paths"].as_object().into_iter().flatten() {
            let path = tpl
                .replace("{id_or_slug}", "nowhere")
                .replace("{id}", "0190a0b0-0000-7000-8000-000000000001")
                .replace("{delivery_id}", "0190a0b0-0000-7000-8000-000000000002")
                .replace("{number}", "1");
            for (method, op) in ops.as_object().into_iter().flatten() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let requirements: Vec<&Value> =
                    op["security"].as_array().into_iter().flatten().collect();
                let optional = requirements.iter().any(|r| r == &&json!({}));
                let call = || Call::new(method.clone(), path.clone());
                calls.push((call().token(&app.admin).raw_query("probe=%00"), vec![400]));
                if !requirements.is_empty() && !optional {
                    calls.push((call(), vec![401]));
                }
                if optional {
                    calls.push((call().token("not-a-token"), vec![401]));
                }
                if op.get("requestBody").is_some() {
                    calls.push((call().token(&app.admin).raw("text/plain", "x"), vec![415]));
                    let big = vec![b' '; 2 << 20];
                    calls.push((
                        call().token(&app.admin).raw("application/json", big),
                        vec![413],
                    ));
                }
            }
        }
        for (call, statuses) in calls {
            self.expect_one_of(app, call, &statuses).await;
        }
    }

    /// Fails with every answer that broke the spec, and every operation never answered
    /// with a success (so a new operation needs its own call in the tour).
    fn finish(self) {
        let mut failures = self.failures;
        for (path, ops) in self.spec["paths"].as_object().into_iter().flatten() {
            for method in ops.as_object().into_iter().flatten().map(|(m, _)| m) {
                // The sweep's errors reach every operation: a success is what counts.
                let succeeded = self.seen.iter().any(|(m, p, status)| {
                    m == method && p == path && (status.starts_with('2') || status.starts_with('3'))
                });
                if !succeeded {
                    failures.push(format!(
                        "{} {path}: never answered with success",
                        method.to_uppercase()
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }
}

/// The schemas each `fields` parameter chooses in: `fields` the one the operation
/// answers (its item, for a page); the others an article's embedded relations.
const FIELD_PARAMS: [(&str, &str); 3] = [
    ("fields[authors]", "Author"),
    ("fields[publishers]", "Publisher"),
    ("fields[tags]", "Tag"),
];

/// `text` percent-decoded (`+` is a blank).
fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = std::str::from_utf8(bytes.get(i + 1..i + 3).unwrap_or_default())
            .ok()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `spec` with each schema the query of `path` chooses fields of narrowed to the
/// chosen fields, `id` and what is not a field to choose (see the module's comment);
/// `spec` itself when the query chooses none.
fn narrowed(mut spec: Value, schema: &Value, path: &str) -> Value {
    let answered = resolve(&spec, schema);
    let item = if answered["properties"]["data"].is_object() {
        &answered["properties"]["data"]["items"]
    } else {
        schema
    };
    let own = item["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(str::to_string);
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or_default();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name), decode(value));
        let target = match FIELD_PARAMS.iter().find(|(param, _)| *param == name) {
            Some((_, schema)) => Some(schema.to_string()),
            None if name == "fields" => own.clone(),
            None => None,
        };
        let Some(target) = target else { continue };
        let mut chosen: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if chosen.is_empty() {
            continue;
        }
        chosen.push("id");
        // An error's problem has no fields to choose.
        let Some((_, allowed)) = dispatch::api::fields::RESOURCES
            .into_iter()
            .find(|(schema, _)| *schema == target)
        else {
            continue;
        };
        let keep = |key: &str| chosen.contains(&key) || !allowed.contains(&key);
        let object = &mut spec["components"]["schemas"][&target];
        if let Some(props) = object["properties"].as_object_mut() {
            props.retain(|key, _| keep(key));
        }
        if let Some(required) = object["required"].as_array_mut() {
            required.retain(|key| keep(key.as_str().unwrap_or_default()));
        }
    }
    spec
}

#[test]
fn a_choice_of_fields_narrows_the_schema_it_chooses_in() {
    let spec = spec();
    let list = json!({"$ref": "#/components/schemas/TagList"});
    let tag = json!({"id": "0190a0b0-0000-7000-8000-000000000001", "name": "T"});
    let page = json!({"data": [tag], "meta": {"limit": 20, "next_cursor": null}});
    let path = "/api/v1/tags?fields=%20name";
    assert_eq!(
        violations(&narrowed(spec.clone(), &list, path), &list, &page).len(),
        0
    );
    // Without the choice, the fields left out are missing; with another, `name` is extra.
    assert_eq!(violations(&spec, &list, &page).len(), 4);
    let other = narrowed(spec.clone(), &list, "/api/v1/tags?fields=slug");
    assert_eq!(violations(&other, &list, &page).len(), 2);
    let article = json!({"$ref": "#/components/schemas/Article"});
    let narrow = narrowed(
        spec,
        &article,
        "/api/v1/articles/x?fields=title&fields%5Bauthors%5D=name",
    );
    let schemas = &narrow["components"]["schemas"];
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&schemas["Article"]["properties"]),
        [
            "id",
            "title",
            "authors",
            "publisher",
            "syndicated_from",
            "tags",
            "featured_media"
        ]
    );
    assert_eq!(schemas["Article"]["required"], json!(["id", "title"]));
    assert_eq!(keys(&schemas["Author"]["properties"]), ["id", "name"]);
    assert_eq!(keys(&schemas["Publisher"]["properties"]).len(), 8);
}

fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

#[test]
fn a_body_that_breaks_its_schema_is_refused() {
    let spec = spec();
    let list = json!({"$ref": "#/components/schemas/TagList"});
    let bogus = json!({"data":[{"anything":1},5],"meta":{"limit":"x","bogus":true}});
    let errors = violations(&spec, &list, &bogus);
    for wrong in ["/data/0", "/data/1", "/meta/limit", "/meta"] {
        assert!(
            errors.iter().any(|e| e.ends_with(&format!(" at {wrong}"))),
            "{wrong} in {errors:#?}"
        );
    }
    let tag = json!({
        "id": "0190a0b0-0000-7000-8000-000000000001", "slug": "t", "name": "T",
        "description": null, "created_at": "2026-11-28T06:00:00+00:00",
        "updated_at": "2026-11-28T06:00:00+00:00",
    });
    let page = json!({"data": [tag], "meta": {"limit": 20, "next_cursor": null}});
    assert_eq!(violations(&spec, &list, &page), Vec::<String>::new());
    // Without `nullable`, the `null` a tag without description is sent with fails.
    let mut strict = spec.clone();
    strict["components"]["schemas"]["Tag"]["properties"]["description"]
        .as_object_mut()
        .unwrap()
        .remove("nullable");
    assert_eq!(violations(&strict, &list, &page).len(), 1);
    // A field left out that the spec says is always sent fails too.
    let mut partial = page.clone();
    partial["data"][0]
        .as_object_mut()
        .unwrap()
        .remove("description");
    assert_eq!(violations(&spec, &list, &partial).len(), 1);
}

#[test]
fn keys_out_of_declared_order_are_found() {
    let spec = spec();
    let schema = json!({"$ref": "#/components/schemas/Problem"});
    let mut out = vec![];
    let body: Value = serde_json::from_str(
        r#"{"detail":"d","request_id":"r","status":400,"title":"t","type":"x"}"#,
    )
    .unwrap();
    misordered(&spec, &schema, &body, "", &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    let body: Value = serde_json::from_str(
        r#"{"type":"x","title":"t","status":400,"detail":"d","request_id":"r"}"#,
    )
    .unwrap();
    out.clear();
    misordered(&spec, &schema, &body, "", &mut out);
    assert!(out.is_empty(), "{out:?}");
}

#[tokio::test]
async fn every_operation_answers_as_the_spec_says() {
    use dispatch::auth::Role;
    // Private webhook addresses are allowed: the tour's webhook points at a loopback
    // port where nothing listens, so that nothing leaves the machine. No delivery
    // worker: the tour's retry of a ping must not meet it in flight (a 409 then).
    // Uploads up to 1 MiB: the sweep's 2 MiB body is too large for every operation.
    let app = spawn_app_with(&[
        ("DISPATCH_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("DISPATCH_WEBHOOK_WORKER", "false"),
        ("DISPATCH_MEDIA_MAX_BYTES", "1048576"),
    ])
    .await;
    let mut c = Checker::new();
    let admin = app.admin.clone();
    let contributor = app.user(Role::Contributor, None).await;
    let v1 = "/api/v1";

    // Health.
    c.expect(&app, Call::get("/health/live"), 200).await;
    c.expect(&app, Call::get("/health/ready"), 200).await;

    // Auth.
    let creds = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let login = c
        .expect(
            &app,
            Call::post(format!("{v1}/auth/login")).json(creds),
            200,
        )
        .await;
    let refresh = login.body["refresh_token"].as_str().unwrap().to_string();
    let wrong = json!({"email": ADMIN_EMAIL, "password": "not the password at all"});
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/login")).json(wrong),
        401,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/login")).json(json!({"email": 5})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/login")).raw("text/plain", "hi"),
        415,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/login")).raw("application/json", vec![b' '; 2 << 20]),
        413,
    )
    .await;
    let rotated = c
        .expect(
            &app,
            Call::post(format!("{v1}/auth/refresh")).json(json!({"refresh_token": refresh})),
            200,
        )
        .await;
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/refresh")).json(json!({"refresh_token": "nope"})),
        401,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/refresh")).json(json!({})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/logout"))
            .json(json!({"refresh_token": rotated.body["refresh_token"]})),
        204,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/logout")).json(json!([])),
        400,
    )
    .await;
    c.expect(&app, Call::get(format!("{v1}/auth/me")).token(&admin), 200)
        .await;
    c.expect(&app, Call::get(format!("{v1}/auth/me")), 401)
        .await;

    // Publishers, authors, tags: the same shapes.
    let mut outlet = String::new();
    for (kind, extra) in [
        (
            "publishers",
            json!({"description": "A wire.", "website_url": "https://wire.example"}),
        ),
        (
            "authors",
            json!({"bio": "Writes.", "avatar_url": "https://img.example/a.png"}),
        ),
        ("tags", json!({"description": "A topic."})),
    ] {
        let base = format!("{v1}/{kind}");
        let mut body = json!({"name": format!("First {kind}")});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let first = c
            .expect(&app, Call::post(&base).token(&admin).json(body), 201)
            .await;
        let bare = c
            .expect(
                &app,
                Call::post(&base)
                    .token(&admin)
                    .json(json!({"name": format!("Bare {kind}"), "slug": format!("bare-{kind}")})),
                201,
            )
            .await;
        if kind == "publishers" {
            outlet = first.id();
        }
        c.expect(
            &app,
            Call::post(&base)
                .token(&admin)
                .json(json!({"name": "Again", "slug": format!("bare-{kind}")})),
            409,
        )
        .await;
        c.expect(
            &app,
            Call::post(&base).token(&admin).json(json!({"nam": "x"})),
            400,
        )
        .await;
        c.expect(&app, Call::post(&base).json(json!({"name": "x"})), 401)
            .await;
        c.expect(
            &app,
            Call::post(&base)
                .token(&contributor.token)
                .json(json!({"name": "x"})),
            403,
        )
        .await;
        c.expect(
            &app,
            Call::post(&base)
                .token(&admin)
                .json(json!({"name": "x", "slug": "Not A Slug"})),
            422,
        )
        .await;
        c.expect(
            &app,
            Call::post(&base).token(&admin).raw("text/plain", "name"),
            415,
        )
        .await;
        c.expect(&app, Call::get(format!("{base}?count=true&limit=1")), 200)
            .await;
        c.expect(&app, Call::get(format!("{base}?limit=0")), 400)
            .await;
        c.expect(&app, Call::get(format!("{base}/{}", first.id())), 200)
            .await;
        c.expect(&app, Call::get(format!("{base}/bare-{kind}")), 200)
            .await;
        c.expect(&app, Call::get(format!("{base}?fields=name,%20slug")), 200)
            .await;
        c.expect(
            &app,
            Call::get(format!("{base}/{}?fields=name", first.id())),
            200,
        )
        .await;
        c.expect(&app, Call::get(format!("{base}?fields=nope")), 400)
            .await;
        c.expect(&app, Call::get(format!("{base}/nowhere")), 404)
            .await;
        c.expect(
            &app,
            Call::patch(format!("{base}/bare-{kind}"))
                .token(&admin)
                .json(json!({"name": "Renamed"})),
            200,
        )
        .await;
        c.expect(
            &app,
            Call::patch(format!("{base}/nowhere"))
                .token(&admin)
                .json(json!({"name": "Renamed"})),
            404,
        )
        .await;
        c.expect(
            &app,
            Call::delete(format!("{base}/{}", bare.body["id"].as_str().unwrap())).token(&admin),
            204,
        )
        .await;
        c.expect(
            &app,
            Call::delete(format!("{base}/nowhere")).token(&admin),
            404,
        )
        .await;
    }

    // Articles.
    let arts = format!("{v1}/articles");
    let author = app.author("Byline").await;
    let tag = app.tag("Topic").await;
    let source = app.publisher("Source").await;
    let full = c
        .expect(
            &app,
            Call::post(&arts).token(&admin).json(json!({
                "title": "Story", "subtitle": "Sub", "body_markdown": "Body *text*.",
                "status": "published", "dateline": "LYON",
                "canonical_url": "https://outlet.example/story", "publisher_id": outlet,
                "syndicated_from_id": source, "author_ids": [author], "tag_ids": [tag],
            })),
            201,
        )
        .await;
    let draft = c
        .expect(
            &app,
            Call::post(&arts)
                .token(&admin)
                .json(json!({"title": "Draft", "publisher_id": outlet, "slug": "draft"})),
            201,
        )
        .await;
    c.expect(
        &app,
        Call::post(&arts)
            .token(&admin)
            .json(json!({"title": "Again", "publisher_id": outlet, "slug": "draft"})),
        409,
    )
    .await;
    c.expect(
        &app,
        Call::post(&arts).token(&admin).json(json!({"title": 5})),
        400,
    )
    .await;
    c.expect(&app, Call::post(&arts).json(json!({"title": "x"})), 401)
        .await;
    c.expect(
        &app,
        Call::post(&arts)
            .token(&contributor.token)
            .json(json!({"title": "x", "publisher_id": outlet, "status": "published"})),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::post(&arts)
            .token(&admin)
            .json(json!({"title": "x", "publisher_id": "0190a0b0-0000-7000-8000-000000000001"})),
        422,
    )
    .await;
    c.expect(
        &app,
        Call::post(&arts).token(&admin).raw("text/plain", "x"),
        415,
    )
    .await;
    for query in [
        "?count=true&include=authors,publisher,syndicated_from,tags",
        "?limit=1",
        "",
    ] {
        c.expect(&app, Call::get(format!("{arts}{query}")).token(&admin), 200)
            .await;
        c.expect(&app, Call::get(format!("{arts}{query}")), 200)
            .await;
    }
    c.expect(&app, Call::get(format!("{arts}?limit=500")), 400)
        .await;
    let picked = "fields=slug,title,excerpt,byline,published_at&fields[authors]=name\
                  &fields%5Bpublishers%5D=name,slug&fields[tags]=slug";
    c.expect(
        &app,
        Call::get(format!(
            "{arts}?include=authors,publisher,syndicated_from,tags&{picked}"
        )),
        200,
    )
    .await;
    c.expect(&app, Call::get(format!("{arts}?fields=headline")), 400)
        .await;
    c.expect(&app, Call::get(&arts).token("not-a-token"), 401)
        .await;
    let story = format!("{arts}/{}", full.id());
    let read = c
        .expect(
            &app,
            Call::get(format!(
                "{story}?include=authors,publisher,syndicated_from,tags"
            )),
            200,
        )
        .await;
    let etag = read.header("etag").unwrap().to_string();
    c.expect(
        &app,
        Call::get(format!(
            "{story}?include=authors,tags&fields=title,body_html&fields[tags]=name"
        )),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!(
            "{story}?include=authors,publisher,syndicated_from,tags"
        ))
        .header("if-none-match", &etag),
        304,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{arts}/{}", draft.id())).token(&admin),
        200,
    )
    .await;
    c.expect(&app, Call::get(format!("{arts}/{}", draft.id())), 404)
        .await;
    c.expect(&app, Call::get(format!("{arts}/a%00b")), 400)
        .await;
    c.expect(
        &app,
        Call::get(format!("{arts}/{}", draft.id())).token("x"),
        401,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&story)
            .token(&admin)
            .json(json!({"slug": "story-renamed"})),
        200,
    )
    .await;
    let old_slug = full.body["slug"].as_str().unwrap();
    c.expect(&app, Call::get(format!("{arts}/{old_slug}")), 301)
        .await;
    c.expect(
        &app,
        Call::patch(&story)
            .token(&admin)
            .header("if-match", "\"0-stale\"")
            .json(json!({"title": "Stale"})),
        412,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&story)
            .token(&admin)
            .json(json!({"slug": "draft"})),
        409,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&story)
            .token(&admin)
            .json(json!({"title": " "})),
        422,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&story).token(&admin).json(json!({"title": 1})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&story)
            .token(&contributor.token)
            .json(json!({"title": "Mine"})),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&story).json(json!({"title": "Mine"})),
        401,
    )
    .await;
    c.expect(
        &app,
        Call::patch(format!("{arts}/nowhere"))
            .token(&admin)
            .json(json!({"title": "x"})),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&story).token(&admin).raw("text/plain", "x"),
        415,
    )
    .await;

    // Revisions.
    c.expect(
        &app,
        Call::get(format!("{story}/revisions?count=true")).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{story}/revisions")).token(&contributor.token),
        403,
    )
    .await;
    c.expect(&app, Call::get(format!("{story}/revisions")), 401)
        .await;
    c.expect(
        &app,
        Call::get(format!("{arts}/nowhere/revisions")).token(&admin),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{story}/revisions/1/restore")).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{story}/revisions/99/restore")).token(&admin),
        404,
    )
    .await;

    // Draft previews.
    let made = c
        .expect(
            &app,
            Call::post(format!("{story}/preview-link"))
                .token(&admin)
                .json(json!({"expires_in": 600})),
            201,
        )
        .await;
    let token = made.body["token"].as_str().unwrap().to_string();
    c.expect(
        &app,
        Call::post(format!("{story}/preview-link")).token(&admin),
        201,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{story}/preview-link"))
            .token(&admin)
            .json(json!({"expires_in": 1})),
        422,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{story}/preview-link"))
            .token(&admin)
            .json(json!({"expires_in": "soon"})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{story}/preview-link")).token(&contributor.token),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{arts}/nowhere/preview-link")).token(&admin),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{v1}/preview/{token}?include=authors,tags")),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{v1}/preview/{token}?fields=title,status")),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{v1}/preview/{token}?fields=nope")),
        400,
    )
    .await;
    c.expect(&app, Call::get(format!("{v1}/preview/not-a-token")), 404)
        .await;
    c.expect(
        &app,
        Call::delete(format!("{story}/preview-links")).token(&contributor.token),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::delete(format!("{arts}/nowhere/preview-links")).token(&admin),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::delete(format!("{story}/preview-links")).token(&admin),
        204,
    )
    .await;
    c.expect(&app, Call::get(format!("{v1}/preview/{token}")), 404)
        .await;

    // Comments.
    let comments = format!("{story}/comments");
    let posted = c
        .expect(
            &app,
            Call::post(&comments).json(
                json!({"author_name": "Reader", "email": "reader@example.com", "body": "Hi.\n\nThere."}),
            ),
            201,
        )
        .await;
    c.expect(
        &app,
        Call::post(&comments).json(json!({"author_name": "R"})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(&comments).json(json!({"author_name": "R", "email": "nope", "body": "x"})),
        422,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{arts}/nowhere/comments"))
            .json(json!({"author_name": "R", "email": "r@example.com", "body": "x"})),
        404,
    )
    .await;
    c.expect(&app, Call::post(&comments).raw("text/plain", "x"), 415)
        .await;
    c.expect(&app, Call::get(format!("{comments}?count=true")), 200)
        .await;
    c.expect(&app, Call::get(format!("{comments}?fields=body_html")), 200)
        .await;
    c.expect(&app, Call::get(format!("{arts}/nowhere/comments")), 404)
        .await;
    // A public operation without security ignores a token, or documents its 401.
    c.expect_one_of(&app, Call::get(&comments).token("not-a-token"), &[200, 401])
        .await;
    c.expect_one_of(
        &app,
        Call::get(format!("{v1}/tags")).token("not-a-token"),
        &[200, 401],
    )
    .await;
    let moderation = format!("{v1}/comments");
    let one = format!("{moderation}/{}", posted.id());
    c.expect(
        &app,
        Call::get(format!("{moderation}?count=true")).token(&admin),
        200,
    )
    .await;
    c.expect(&app, Call::get(&moderation).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::get(&moderation), 401).await;
    c.expect(&app, Call::get(&one).token(&admin), 200).await;
    c.expect(
        &app,
        Call::get(format!("{one}?fields=status,author_name")).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{moderation}?fields=status")).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{moderation}/0190a0b0-0000-7000-8000-000000000001")).token(&admin),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&one)
            .token(&admin)
            .json(json!({"status": "approved"})),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&one)
            .token(&admin)
            .json(json!({"status": "gone"})),
        400,
    )
    .await;
    c.expect(&app, Call::delete(&one).token(&admin), 204).await;
    c.expect(&app, Call::delete(&one).token(&admin), 404).await;

    // Delete, the trash.
    let draft_path = format!("{arts}/{}", draft.id());
    c.expect(
        &app,
        Call::delete(&story)
            .token(&admin)
            .header("if-match", "\"0-stale\""),
        412,
    )
    .await;
    c.expect(&app, Call::delete(&story).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::delete(&draft_path).token(&admin), 204)
        .await;
    c.expect(&app, Call::delete(&draft_path).token(&admin), 404)
        .await;
    let trash = format!("{v1}/trash/articles");
    c.expect(
        &app,
        Call::get(format!("{trash}?count=true")).token(&admin),
        200,
    )
    .await;
    c.expect(&app, Call::get(&trash).token(&contributor.token), 403)
        .await;
    c.expect(
        &app,
        Call::post(format!("{trash}/{}/restore", draft.id())).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{trash}/{}/restore", draft.id())).token(&admin),
        404,
    )
    .await;
    c.expect(&app, Call::delete(&draft_path).token(&admin), 204)
        .await;
    c.expect(
        &app,
        Call::delete(format!("{trash}/{}", draft.id())).token(&admin),
        204,
    )
    .await;
    c.expect(
        &app,
        Call::delete(format!("{trash}/{}", draft.id())).token(&admin),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::delete(format!("{v1}/publishers/{outlet}")).token(&admin),
        409,
    )
    .await;

    // Users.
    let users = format!("{v1}/users");
    let made = c
        .expect(
            &app,
            Call::post(&users).token(&admin).json(json!({
                "email": "new.editor@dispatch.test", "password": "a long enough passphrase",
                "role": "editor",
            })),
            201,
        )
        .await;
    c.expect(
        &app,
        Call::post(&users).token(&admin).json(json!({
            "email": "new.editor@dispatch.test", "password": "a long enough passphrase",
            "role": "editor",
        })),
        409,
    )
    .await;
    c.expect(
        &app,
        Call::post(&users).token(&admin).json(json!({
            "email": "short@dispatch.test", "password": "short", "role": "editor",
        })),
        422,
    )
    .await;
    c.expect(
        &app,
        Call::post(&users)
            .token(&admin)
            .json(json!({"role": "king"})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(&users).token(&contributor.token).json(json!({
            "email": "x@dispatch.test", "password": "a long enough passphrase", "role": "editor",
        })),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{users}?count=true")).token(&admin),
        200,
    )
    .await;
    c.expect(&app, Call::get(&users).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::get(&users), 401).await;
    let user = format!("{users}/{}", made.id());
    c.expect(&app, Call::get(&user).token(&admin), 200).await;
    c.expect(
        &app,
        Call::get(format!("{users}/not-a-uuid")).token(&admin),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{users}/0190a0b0-0000-7000-8000-000000000001")).token(&admin),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&user)
            .token(&admin)
            .json(json!({"disabled": true})),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::patch(format!("{users}/{}", app.admin_id))
            .token(&admin)
            .json(json!({"role": "editor"})),
        409,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{v1}/auth/login")).json(
            json!({"email": "new.editor@dispatch.test", "password": "a long enough passphrase"}),
        ),
        403,
    )
    .await;
    c.expect(&app, Call::delete(&user).token(&admin), 204).await;
    c.expect(
        &app,
        Call::delete(format!("{users}/{}", app.admin_id)).token(&admin),
        409,
    )
    .await;

    // Webhooks.
    let hooks = format!("{v1}/webhooks");
    let nowhere = format!("{hooks}/0190a0b0-0000-7000-8000-000000000001");
    let made = c
        .expect(
            &app,
            Call::post(&hooks).token(&admin).json(json!({
                "url": "http://127.0.0.1:9/hook", "description": "A receiver.",
                "event_types": ["article.*", "tag.deleted"],
            })),
            201,
        )
        .await;
    c.expect(
        &app,
        Call::post(&hooks)
            .token(&admin)
            .json(json!({"url": "ftp://files.example/x"})),
        422,
    )
    .await;
    c.expect(
        &app,
        Call::post(&hooks).token(&admin).json(json!({"url": 5})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(&hooks).json(json!({"url": "http://127.0.0.1:9/"})),
        401,
    )
    .await;
    c.expect(
        &app,
        Call::post(&hooks)
            .token(&contributor.token)
            .json(json!({"url": "http://127.0.0.1:9/"})),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{hooks}?count=true&limit=1")).token(&admin),
        200,
    )
    .await;
    c.expect(&app, Call::get(&hooks).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::get(&hooks), 401).await;
    let hook = format!("{hooks}/{}", made.id());
    c.expect(&app, Call::get(&hook).token(&admin), 200).await;
    c.expect(
        &app,
        Call::get(format!("{hooks}/not-a-uuid")).token(&admin),
        400,
    )
    .await;
    c.expect(&app, Call::get(&nowhere).token(&admin), 404).await;
    c.expect(
        &app,
        Call::patch(&hook)
            .token(&admin)
            .json(json!({"enabled": false, "description": null})),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&hook)
            .token(&admin)
            .json(json!({"event_types": []})),
        422,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&nowhere)
            .token(&admin)
            .json(json!({"enabled": true})),
        404,
    )
    .await;
    c.expect(&app, Call::post(format!("{hook}/test")).token(&admin), 409)
        .await;
    c.expect(
        &app,
        Call::patch(&hook)
            .token(&admin)
            .json(json!({"enabled": true})),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{hook}/secret")).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{hook}/secret"))
            .token(&admin)
            .json(json!({"overlap_seconds": 60})),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{hook}/secret"))
            .token(&admin)
            .json(json!({"overlap_seconds": -1})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{nowhere}/secret")).token(&admin),
        404,
    )
    .await;
    let ping = c
        .expect(&app, Call::post(format!("{hook}/test")).token(&admin), 202)
        .await;
    c.expect(
        &app,
        Call::post(format!("{nowhere}/test")).token(&admin),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{hook}/deliveries?count=true&state=pending")).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{hook}/deliveries?state=lost")).token(&admin),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{nowhere}/deliveries")).token(&admin),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{hook}/deliveries/{}/retry", ping.id())).token(&admin),
        202,
    )
    .await;
    c.expect(
        &app,
        Call::post(format!("{hook}/deliveries/{}/retry", made.id())).token(&admin),
        404,
    )
    .await;
    c.expect(&app, Call::delete(&hook).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::delete(&hook).token(&admin), 204).await;
    c.expect(&app, Call::delete(&hook).token(&admin), 404).await;

    // API keys: made, listed, read, used, refused and revoked.
    let api_keys = format!("{v1}/api-keys");
    let no_key = format!("{api_keys}/0190a0b0-0000-7000-8000-000000000001");
    let made_key = c
        .expect(
            &app,
            Call::post(&api_keys).token(&admin).json(json!({
                "name": "Preview site", "scope": "read:preview",
                "expires_at": "2999-01-01T00:00:00Z", "allowed_origins": ["https://news.example"],
            })),
            201,
        )
        .await;
    let role_key = c
        .expect(
            &app,
            Call::post(&api_keys).token(&admin).json(json!({
                "name": "Desk bot", "scope": "contributor", "user_id": contributor.id,
            })),
            201,
        )
        .await;
    c.expect(
        &app,
        Call::post(&api_keys)
            .token(&admin)
            .json(json!({"name": " ", "scope": "editor"})),
        422,
    )
    .await;
    c.expect(
        &app,
        Call::post(&api_keys)
            .token(&admin)
            .json(json!({"name": "x", "scope": "write:all"})),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(&api_keys).json(json!({"name": "x", "scope": "read:published"})),
        401,
    )
    .await;
    c.expect(
        &app,
        Call::post(&api_keys)
            .token(&contributor.token)
            .json(json!({"name": "x", "scope": "read:published"})),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{api_keys}?count=true&limit=1")).token(&admin),
        200,
    )
    .await;
    c.expect(&app, Call::get(&api_keys).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::get(&api_keys), 401).await;
    let one_key = format!("{api_keys}/{}", made_key.id());
    c.expect(&app, Call::get(&one_key).token(&admin), 200).await;
    c.expect(
        &app,
        Call::get(format!("{api_keys}/not-a-uuid")).token(&admin),
        400,
    )
    .await;
    c.expect(&app, Call::get(&no_key).token(&admin), 404).await;
    // The keys at work: a role key's account, a read key refused its account and a write.
    let role_text = role_key.body["key"].as_str().unwrap().to_string();
    c.expect(
        &app,
        Call::get(format!("{v1}/auth/me")).token(&role_text),
        200,
    )
    .await;
    let read_key = c
        .expect(
            &app,
            Call::post(&api_keys)
                .token(&admin)
                .json(json!({"name": "Site", "scope": "read:published"})),
            201,
        )
        .await;
    let read_text = read_key.body["key"].as_str().unwrap().to_string();
    c.expect(
        &app,
        Call::get(format!("{v1}/auth/me")).token(&read_text),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{v1}/events")).token(&read_text),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{v1}/articles")).token(&read_text),
        200,
    )
    .await;
    c.expect(&app, Call::delete(&one_key).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::delete(&one_key).token(&admin), 204)
        .await;
    c.expect(&app, Call::delete(&one_key).token(&admin), 404)
        .await;
    c.expect(
        &app,
        Call::delete(format!("{api_keys}/{}", read_key.id())).token(&admin),
        204,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{v1}/articles")).token(&read_text),
        401,
    )
    .await;

    // Media: uploads (a form, a raw body, the same bytes again), the library, an
    // asset, its renditions, its metadata changed, and a delete refused while an
    // article features it.
    let media = format!("{v1}/media");
    let (form_type, form_body) = crate::media::form(&[
        crate::media::Part::file("file", "harbour.jpg", fixtures::iptc_sample_jpeg(800, 600)),
        crate::media::Part::text("alt_text", "Boats in the harbour"),
    ]);
    let photo = c
        .expect(
            &app,
            Call::post(&media)
                .token(&contributor.token)
                .raw(&form_type, form_body.clone()),
            201,
        )
        .await;
    c.expect(
        &app,
        Call::post(&media).token(&admin).raw(&form_type, form_body),
        200,
    )
    .await;
    let raw = c
        .expect(
            &app,
            Call::post(&media)
                .token(&admin)
                .raw("image/png", fixtures::sample_png(300, 200)),
            201,
        )
        .await;
    c.expect(
        &app,
        Call::post(&media)
            .token(&admin)
            .raw("image/jpeg", b"plain text".to_vec()),
        415,
    )
    .await;
    c.expect(
        &app,
        Call::post(&media).token(&admin).raw(
            "image/jpeg",
            fixtures::sample_jpeg(400, 300)[..900].to_vec(),
        ),
        422,
    )
    .await;
    let (empty_type, empty_form) = crate::media::form(&[crate::media::Part::text("caption", "x")]);
    c.expect(
        &app,
        Call::post(&media)
            .token(&admin)
            .raw(&empty_type, empty_form),
        400,
    )
    .await;
    c.expect(
        &app,
        Call::post(&media)
            .token(&admin)
            .raw("image/jpeg", vec![0u8; (1 << 20) + 1]),
        413,
    )
    .await;
    let asset = format!("{media}/{}", photo.id());
    c.expect(
        &app,
        Call::get(format!("{media}?q=boats&count=true")).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!(
            "{media}?type=image/png&unused=true&fields=url,srcset"
        ))
        .token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{media}?type=image/tiff")).token(&admin),
        400,
    )
    .await;
    c.expect(&app, Call::get(&asset), 200).await;
    c.expect(&app, Call::get(format!("{asset}?fields=renditions")), 200)
        .await;
    c.expect(
        &app,
        Call::get(format!(
            "{media}/{}",
            "0190a0b0-0000-7000-8000-00000000abcd"
        )),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&asset)
            .token(&contributor.token)
            .header("if-match", "\"1\"")
            .json(json!({"caption": "At dawn", "focal_point": {"x": 0.3, "y": 0.6}})),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&asset)
            .token(&admin)
            .header("if-match", "\"1\"")
            .json(json!({"caption": "Late"})),
        412,
    )
    .await;
    c.expect(
        &app,
        Call::patch(&asset)
            .token(&admin)
            .json(json!({"focal_point": {"x": 1.5, "y": 0}})),
        400,
    )
    .await;
    let other = app.user(Role::Author, None).await;
    c.expect(
        &app,
        Call::patch(&asset)
            .token(&other.token)
            .json(json!({"caption": "Mine"})),
        403,
    )
    .await;
    c.expect(
        &app,
        Call::patch(format!(
            "{media}/{}",
            "0190a0b0-0000-7000-8000-00000000abcd"
        ))
        .token(&admin)
        .json(json!({"caption": "x"})),
        404,
    )
    .await;
    let read = app.get(&asset).await;
    let square = read.body["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "square")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let served = c.expect(&app, Call::get(&square), 200).await;
    let etag = served.header("etag").unwrap().to_string();
    c.expect(&app, Call::get(&square).header("if-none-match", &etag), 304)
        .await;
    c.expect(
        &app,
        Call::get(format!("/media/{}/w9999.webp", photo.id())),
        404,
    )
    .await;
    c.expect(
        &app,
        Call::post(&arts).token(&admin).json(json!({
            "title": "Pictured", "publisher_id": outlet, "featured_media_id": photo.id(),
            "body_markdown": format!("![Boats](media:{})", raw.id()),
        })),
        201,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{arts}?include=featured_media&status=draft")).token(&admin),
        200,
    )
    .await;
    c.expect(&app, Call::delete(&asset).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::delete(&asset).token(&admin), 409)
        .await;
    let spare = c
        .expect(
            &app,
            Call::post(&media)
                .token(&admin)
                .raw("image/gif", fixtures::sample_gif(64, 48)),
            201,
        )
        .await;
    c.expect(
        &app,
        Call::delete(format!("{media}/{}", spare.id())).token(&admin),
        204,
    )
    .await;
    c.expect(
        &app,
        Call::delete(format!("{media}/{}", spare.id())).token(&admin),
        404,
    )
    .await;

    // Feeds: the site's in each format, a publisher's, an author's and a tag's.
    let feed_outlet = app
        .create(&format!("{v1}/publishers"), json!({"name": "Feed Outlet"}))
        .await;
    let feed_author = app
        .create(&format!("{v1}/authors"), json!({"name": "Feed Writer"}))
        .await;
    let feed_tag = app
        .create(&format!("{v1}/tags"), json!({"name": "Feed Topic"}))
        .await;
    app.article(
        feed_outlet["id"].as_str().unwrap(),
        json!({"status": "published", "author_ids": [feed_author["id"]], "tag_ids": [feed_tag["id"]]}),
    )
    .await;
    for ext in ["atom", "rss", "json"] {
        let site = c
            .expect(&app, Call::get(format!("/feeds/articles.{ext}")), 200)
            .await;
        let etag = site.header("etag").unwrap().to_string();
        c.expect(
            &app,
            Call::get(format!("/feeds/articles.{ext}")).header("if-none-match", &etag),
            304,
        )
        .await;
    }
    for (kind, row) in [
        ("publishers", &feed_outlet),
        ("authors", &feed_author),
        ("tags", &feed_tag),
    ] {
        let slug = row["slug"].as_str().unwrap();
        c.expect(&app, Call::get(format!("/feeds/{kind}/{slug}.atom")), 200)
            .await;
        c.expect(&app, Call::get(format!("/feeds/{kind}/nowhere.rss")), 404)
            .await;
    }
    c.expect(&app, Call::get("/feeds/articles.xml"), 404).await;
    c.expect(&app, Call::get("/feeds/articles.json?cursor=x"), 400)
        .await;

    // The events feed: the changes above, each event checked against its type's schema.
    let events = format!("{v1}/events");
    c.expect(
        &app,
        Call::get(format!("{events}?limit=100")).token(&admin),
        200,
    )
    .await;
    c.expect(
        &app,
        Call::get(format!("{events}?after=x")).token(&admin),
        400,
    )
    .await;
    c.expect(&app, Call::get(&events).token(&contributor.token), 403)
        .await;
    c.expect(&app, Call::get(&events), 401).await;

    // The sitemaps: XML documents, a 304 on their tag, a 404 problem past the last page.
    for path in [
        "/sitemap.xml",
        "/sitemaps/articles-1.xml",
        "/sitemap-news.xml",
    ] {
        let served = c.expect(&app, Call::get(path), 200).await;
        let etag = served.header("etag").unwrap().to_string();
        c.expect(&app, Call::get(path).header("if-none-match", &etag), 304)
            .await;
    }
    c.expect(&app, Call::get("/sitemaps/articles-9.xml"), 404)
        .await;

    c.sweep(&app).await;
    c.finish();
}
