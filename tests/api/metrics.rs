//! `/metrics`: the token guard (loopback only without one), requests counted and
//! timed by route template (never the raw path), sign-in failures and rate-limit
//! refusals, the pools' gauges. One recorder serves every app of this test process,
//! so counts are compared before and after, never as absolutes.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, Resp, TestApp, read, spawn_app, spawn_app_with};

const TOKEN: &str = "scrape-me-scrape-me-scrape-me";

async fn scrape(app: &TestApp, token: Option<&str>) -> Resp {
    let mut req = app.client.get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    read(req.send().await.expect("request")).await
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, sample) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| sample.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}

async fn metrics_text(app: &TestApp) -> String {
    let resp = scrape(app, None).await;
    resp.assert_status(200);
    resp.text
}

#[tokio::test]
async fn with_a_token_only_its_bearer_may_read_the_metrics() {
    let app = spawn_app_with(&[("DISPATCH_METRICS_TOKEN", TOKEN)]).await;
    let detail = "Reading the metrics needs `Authorization: Bearer` with the metrics token \
                  (DISPATCH_METRICS_TOKEN).";
    for token in [None, Some("wrong"), Some(&app.admin as &str)] {
        let resp = scrape(&app, token).await;
        resp.assert_problem(401).assert_detail(detail);
        assert_eq!(
            resp.body["type"],
            json!("urn:dispatch:problem:unauthorized"),
            "{}",
            resp.text
        );
    }
    let resp = scrape(&app, Some(TOKEN)).await;
    resp.assert_status(200);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(resp.text.contains("# HELP dispatch_http_requests_total"));
}

#[tokio::test]
async fn without_a_token_only_this_machine_may_read_the_metrics() {
    let app = spawn_app_with(&[("DISPATCH_CLIENT_IP_HEADER", "X-Forwarded-For")]).await;
    scrape(&app, None).await.assert_status(200);
    let resp = read(
        app.client
            .get(format!("{}/metrics", app.base))
            .header("x-forwarded-for", "203.0.113.5")
            .send()
            .await
            .unwrap(),
    )
    .await;
    resp.assert_problem(403).assert_detail(
        "The metrics are served to clients on this machine only; set DISPATCH_METRICS_TOKEN \
         to scrape them from elsewhere.",
    );
    // An address outside the API's spec: GET and HEAD only.
    let post = app.send(Method::POST, "/metrics", None, None).await;
    post.assert_problem(405);
    assert_eq!(post.header("allow"), Some("GET, HEAD, OPTIONS"));
    let head = app.send(Method::HEAD, "/metrics", None, None).await;
    head.assert_status(200);
    assert!(head.text.is_empty());
}

#[tokio::test]
async fn requests_are_counted_and_timed_by_route_template() {
    let app = spawn_app().await;
    let route = [
        ("route", "/api/v1/articles/{id_or_slug}"),
        ("method", "GET"),
        ("status", "4xx"),
    ];
    let before = metrics_text(&app).await;
    for _ in 0..3 {
        app.get("/api/v1/articles/no-such-story-here")
            .await
            .assert_problem(404);
    }
    app.get("/no/such/address").await.assert_problem(404);
    let after = metrics_text(&app).await;
    let counted = |text: &str| value(text, "dispatch_http_requests_total", &route);
    assert!(counted(&after) >= counted(&before) + 3.0, "{after}");
    let timed = |text: &str| value(text, "dispatch_http_request_duration_seconds_count", &route);
    assert!(timed(&after) >= timed(&before) + 3.0, "{after}");
    // Millisecond buckets, up to ten seconds.
    for le in ["0.0005", "0.005", "0.1", "10", "+Inf"] {
        let mut labels = route.to_vec();
        labels.push(("le", le));
        assert!(
            after.lines().any(
                |l| l.starts_with("dispatch_http_request_duration_seconds_bucket{")
                    && labels
                        .iter()
                        .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
            ),
            "no bucket le={le}: {after}"
        );
    }
    assert!(
        value(
            &after,
            "dispatch_http_requests_total",
            &[("route", "unmatched"), ("status", "4xx")]
        ) >= 1.0
    );
    assert!(!after.contains("no-such-story-here"), "a raw path: {after}");
    assert!(!after.contains("/no/such/address"), "a raw path: {after}");
}

#[tokio::test]
async fn sign_in_failures_and_rate_limit_refusals_are_counted() {
    let app = spawn_app_with(&[("DISPATCH_LOGIN_LIMIT_PER_EMAIL", "2")]).await;
    let failures = |t: &str| value(t, "dispatch_login_failures_total", &[]);
    let refusals = |t: &str| value(t, "dispatch_rate_limited_total", &[("limit", "login")]);
    let before = metrics_text(&app).await;
    app.login(ADMIN_EMAIL, "wrong").await.assert_problem(401);
    app.login(ADMIN_EMAIL, "wrong").await.assert_problem(401);
    app.login(ADMIN_EMAIL, "wrong").await.assert_problem(429);
    let after = metrics_text(&app).await;
    assert!(failures(&after) >= failures(&before) + 2.0, "{after}");
    assert!(refusals(&after) >= refusals(&before) + 1.0, "{after}");
}

#[tokio::test]
async fn the_pools_gauges_are_read_at_scrape_time() {
    let app = spawn_app_with(&[("DISPATCH_DB_MAX_CONNECTIONS", "7")]).await;
    let text = metrics_text(&app).await;
    let max = value(&text, "dispatch_db_pool_max", &[("pool", "primary")]);
    // Every app of this process reports its pool as `primary`; this one's is among them.
    assert!(max >= 7.0, "{text}");
    for name in ["dispatch_db_pool_in_use", "dispatch_db_pool_idle"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{name}{{pool=\"primary\"}}"))),
            "no {name}: {text}"
        );
    }
    assert!(text.contains("# HELP dispatch_cache_hits_total"), "{text}");
}
